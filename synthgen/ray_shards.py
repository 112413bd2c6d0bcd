"""Sharded sampling on Ray: the shards of `synthgen.shards.sample_shards` drawn by Ray Data actors.

Ray Data holds one row per shard (index, rows). ``map_batches`` hands them, one at a time, to a fixed pool
of actors (`_ShardActor`), each of which loads the model once from the model directory's files and draws
a shard with the same `synthgen.shards.write_shard` and the same per-shard seed as the local process pool,
so the parts are byte-identical to the pool's on the same kind of device (a GPU draws other last bits).

The model directory's files travel to the actors (small beside a release; each actor writes them into a
temporary folder on its node and loads them as from disk: never a pickled model), and the parts' bytes
come back through the driver: an actor writes its part into a temporary folder on its own node, then
returns the file in chunks of `CHUNK` bytes, and the driver writes each chunk at its offset into the
staging folder and checks the part's SHA-256 once it is whole. Why not let the actors write into the
staging folder directly? That needs a filesystem every node sees at the same path, which a Ray cluster
does not promise (a missing mount would fail late, or worse, write parts nobody collects); and only the
driver ever writing into the staging folder means a given-up release cannot be written into afterwards by
a straggling actor. The price: every byte crosses the network to the driver, so the driver's link and
disk bound the release's rate on a big cluster (Parquet is compact: 12 bytes a row for the credit-risk
recipe in parts of 25,000 rows); memory stays bounded because parts travel in chunks, whatever their
size, and Ray Data's streaming executor applies back-pressure.

Ray is optional (``pip install 'synthgen[ray]'``) and imported only here, only when asked for.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from synthgen.errors import InputError
from synthgen.files import file_sha256

CHUNK = 8 << 20
"""Bytes of a part per Ray Data block: small enough for the object store, big enough to be cheap."""


def import_ray() -> Any:
    """Ray, or an `InputError` that says how to install it (Ray is never a runtime dependency)."""
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is the ``data`` extra; ``ray`` alone lacks its dependencies)
    except ImportError as exc:
        raise InputError(f"--ray needs Ray Data, which is not installed ({exc}); pip install 'synthgen[ray]'") from None
    return ray


def public_address(address: str) -> str:
    """``address`` as the manifest may show it: no user name or password (``ray://user:token@head:10001``)."""
    if "@" not in address:
        return address
    parts = urllib.parse.urlsplit(address if "://" in address else f"//{address}")
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return shown if "://" in address else shown.removeprefix("//")


def actor_cpus(node_cpus: list[float], actors: int) -> float:
    """CPUs per actor so that ``actors`` actors fit on nodes with ``node_cpus`` CPUs each: the largest whole
    number that packs, else an equal fraction of the cores (more actors than cores share them)."""
    for cpus in range(int(max(node_cpus, default=1)), 0, -1):
        if sum(int(n // cpus) for n in node_cpus) >= actors:
            return float(cpus)
    total = sum(node_cpus) or 1.0
    return max(0.01, int(100 * total / actors) / 100)


class _ShardActor:
    """One Ray actor: loads the model once, then draws whole shards and returns their parts' bytes."""

    def __init__(
        self, model_files: dict[str, bytes], device: str, threads: int, seed: int, conditions: dict[str, Any]
    ) -> None:
        from synthgen.models import load_model
        from synthgen.threads import use_threads

        use_threads(threads)
        with tempfile.TemporaryDirectory(prefix="synthgen-model-") as folder:
            for name, data in model_files.items():  # the files, not a pickled model: loaded as from disk
                (Path(folder) / name).write_bytes(data)
            self.model = load_model(folder, device=device)
        self.seed, self.conditions = seed, conditions or None

    def __call__(self, batch: Any) -> Iterator[Any]:
        import pyarrow as pa

        from synthgen import shards

        for shard, rows in zip(batch.column("index").to_pylist(), batch.column("rows").to_pylist()):
            with tempfile.TemporaryDirectory(prefix="synthgen-shard-") as folder:
                # looked up on the module at call time, so a test can make one shard fail
                record = shards.write_shard(self.model, Path(folder), shard, rows, self.seed, self.conditions)
                path = Path(folder) / record["file"]
                size = path.stat().st_size
                with open(path, "rb") as handle:
                    offset = 0
                    while True:
                        data = handle.read(CHUNK)
                        last = offset + len(data) >= size
                        yield pa.table(
                            {
                                "index": pa.array([shard], pa.int64()),
                                "offset": pa.array([offset], pa.int64()),
                                "size": pa.array([size], pa.int64()),
                                "data": pa.array([data], pa.large_binary()),
                                "record": pa.array([json.dumps(record) if last else None], pa.string()),
                            }
                        )
                        offset += len(data)
                        if last:
                            break


def _connect(ray: Any, address: str) -> bool:
    """Connect to Ray at ``address`` ("local": a new local instance on this machine's cores); True if this
    call started the connection (and so must shut it down). An existing connection is used as it is."""
    if ray.is_initialized():
        return False
    from synthgen.threads import available_cores

    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if address == "local":
        options["num_cpus"] = available_cores()
    try:
        ray.init(address=address, **options)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise InputError(f"--ray {public_address(address)}: cannot connect to Ray: {exc}") from None
    return True


def draw_on_ray(
    model_dir: Path,
    staging: Path,
    sizes: list[int],
    seed: int,
    conditions: Mapping[str, Any] | None,
    *,
    address: str,
    actors: int,
    device: str,
    on_shard: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Draw shards ``0..len(sizes)-1`` (``sizes[s]`` rows each) on ``actors`` Ray actors into the folder
    ``staging``; return the parts' records in shard order and the manifest's description of the engine.

    ``address`` is Ray's: "local" starts a local instance (shut down afterwards), "auto" joins the cluster
    this machine belongs to, "ray://head:10001" a remote one; an existing ``ray.init`` connection is used
    as it is. Actors ask for one GPU each when the cluster has GPUs (unless ``device`` is "cpu"; then at most
    one actor per GPU, and the engine's ``actors`` says how many ran), and otherwise the cluster's cores
    shared out between them, which is also their torch thread count."""
    ray = import_ray()
    started_here = _connect(ray, address)
    try:
        from ray.data import ActorPoolStrategy, DataContext

        from synthgen.artifacts import FILES

        gpus = int(ray.cluster_resources().get("GPU", 0)) if device != "cpu" else 0
        if device.startswith("cuda") and not gpus:
            raise InputError(f"--device {device}: the Ray cluster at {public_address(address)} has no GPUs")
        if gpus:
            actors = min(actors, gpus)  # one GPU each: an actor more than the GPUs would wait for ever
        node_cpus = [n["Resources"].get("CPU", 0.0) for n in ray.nodes() if n.get("Alive")]
        cpus = 1.0 if gpus else actor_cpus(node_cpus, actors)
        context = DataContext.get_current()
        context.enable_progress_bars = False  # synthgen's own display counts the parts
        context.print_on_execution_start = False
        specs = ray.data.from_items(
            [{"index": s, "rows": n} for s, n in enumerate(sizes)], override_num_blocks=len(sizes)
        )
        parts = specs.map_batches(
            _ShardActor,
            batch_size=1,
            batch_format="pyarrow",
            compute=ActorPoolStrategy(size=actors),
            fn_constructor_kwargs={
                "model_files": {name: (Path(model_dir) / name).read_bytes() for name in FILES},
                "device": "cuda" if gpus else device,
                "threads": max(1, int(cpus)),
                "seed": seed,
                "conditions": dict(conditions or {}),
            },
            num_cpus=cpus,
            num_gpus=1 if gpus else None,
        )
        quiet = logging.getLogger("ray.data")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # Ray Data's progress lines; its errors still raise
        try:
            records = _collect(parts, staging, len(sizes), on_shard)
        finally:
            quiet.setLevel(level)
    finally:
        if started_here:
            ray.shutdown()  # also stops any actor still drawing: nothing writes into ``staging`` after this
    engine = {
        "address": public_address(address),
        "actors": actors,
        "cpus_per_actor": cpus,
        "gpus_per_actor": 1 if gpus else 0,
    }
    return records, engine


def _collect(
    parts: Any, staging: Path, shards: int, on_shard: Callable[[dict[str, Any]], None] | None
) -> list[dict[str, Any]]:
    """Write the chunks streaming in from the actors at their offsets; a part is done when its last chunk
    arrived and its bytes hash as the actor's record says."""
    records: dict[int, dict[str, Any]] = {}
    pending: dict[int, dict[str, Any]] = {}
    # shard -> offset -> bytes. Ray Data restarts an actor lost with its node and retries its shard, which
    # then sends its chunks again from the start: the same bytes at the same offsets, counted once.
    chunks: dict[int, dict[int, int]] = {}
    for block in parts.iter_batches(batch_size=None, batch_format="pyarrow"):
        columns = [block.column(name).to_pylist() for name in ("index", "offset", "size", "data", "record")]
        for index, offset, size, data, record in zip(*columns):
            if index in records:
                continue
            path = staging / f"part-{index:05d}.parquet"
            handle = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
            try:
                os.pwrite(handle, data, offset)
            finally:
                os.close(handle)
            chunks.setdefault(index, {})[offset] = len(data)
            if record is not None:
                pending[index] = json.loads(record)
            if index in pending and sum(chunks[index].values()) == size:  # chunks may arrive in any order
                records[index] = pending.pop(index)
                _check(path, records[index])
                if on_shard is not None:
                    on_shard(records[index])
    missing = sorted(set(range(shards)) - set(records))
    if missing:
        raise RuntimeError(f"Ray returned no part for shards {missing[:5]}; nothing is written")
    return [records[s] for s in range(shards)]


def _check(path: Path, record: Mapping[str, Any]) -> None:
    if file_sha256(path) != record["sha256"]:
        raise RuntimeError(f"{path.name}: the bytes from Ray do not hash as the actor wrote them; nothing is written")
