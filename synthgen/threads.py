"""CPU threads that share a machine politely.

Test suites run beside other work (pytest-xdist workers, CI runners, a notebook). Torch's CPU build runs
its operators on an OpenMP pool with one thread per core, and by default a thread that reaches the end
of a parallel region first keeps spinning until the others arrive. When another process holds one of
the cores, every region waits for the thread that was descheduled, while its partner burns the other
core spinning: a diffusion fit measured at 1.9 steps/s instead of about 60 beside other CPU-bound work.

Two settings fix that (figures: `evaluation/threads_bench.py`):

- passive waits (``OMP_WAIT_POLICY=PASSIVE``): an idle OpenMP thread sleeps instead of spinning. OpenMP
  reads it once, when torch's library loads, so `prefer_passive_waits` runs when synthgen is imported,
  before torch; a value the user set is kept, and a program that imported torch first keeps its
  runtime's defaults;
- the thread count: the recipe's ``threads``, else ``SYNTHGEN_THREADS``, else the cores this process may
  run on (CPU affinity and a cgroup CPU quota, as containers and CI runners set them).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from synthgen.errors import InputError

ENV = "SYNTHGEN_THREADS"


def prefer_passive_waits() -> None:
    """Idle OpenMP threads sleep rather than spin (see the module docstring); only takes effect before
    torch is first imported, and never overrides a value already set."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by a cgroup v2 CPU quota when one is set."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.floor(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def resolve_threads(setting: int | str | None = None) -> int:
    """The thread count: ``setting`` (an integer, or "auto"), else ``SYNTHGEN_THREADS``, else every available
    core. A bad value is an `InputError` naming where it came from."""
    source = "threads"
    if setting is None or setting == "auto":
        setting, source = os.environ.get(ENV) or "auto", ENV
    if setting == "auto":
        return available_cores()
    count = 0
    if isinstance(setting, int) and not isinstance(setting, bool):
        count = setting
    elif isinstance(setting, str) and setting.strip().isdigit():
        count = int(setting)
    if count < 1:
        raise InputError(f"{source} must be a positive integer or 'auto', got {setting!r}")
    return count


def use_threads(setting: int | str | None = None) -> int:
    """Set torch's intra-op threads to `resolve_threads` (``setting``) and return the count."""
    import torch

    count = resolve_threads(setting)
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count
