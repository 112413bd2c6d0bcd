"""Local worker processes: the one pool that sharded sampling and the sharded release gate both use.

Spawned, not forked (a forked child would inherit torch's threads and locks mid-state), each started
once by an initializer that receives its share of the cores as the last argument, and results taken
in submission order. On a failure or Ctrl-C, queued work is dropped and running work finishes before
the error propagates, so that no worker writes into a folder its caller is about to remove.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any


def local_pool(workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> ProcessPoolExecutor:
    """``workers`` spawned processes, each started by ``initializer(*initargs, threads)`` with ``threads`` its
    share of the cores this process may use."""
    import multiprocessing

    from synthgen.threads import available_cores

    threads = max(1, available_cores() // workers)
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=(*initargs, threads),
    )


def in_order(pool: ProcessPoolExecutor, futures: Iterable[Future]) -> Iterator[Any]:
    """Each future's result in order, then the pool shut down; on an error, queued futures are cancelled and
    running ones awaited before it is raised."""
    try:
        for future in list(futures):
            yield future.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
