"""Sharded sampling: a release of any size as numbered Parquet parts, the same bytes for any number of workers.

Shard ``s`` of ``S`` draws its rows from its own random stream, keyed by (seed, s) (`shard_seed`), and the
rows are cut into shards by ``S`` alone (`shard_rows`). Which worker draws a shard, and how many workers
there are, therefore changes nothing: the union of the parts is byte-identical for 1 worker or 40, and
a shard can be redrawn alone. Workers are local processes (``workers``), or Ray actors on a local instance
or a cluster (``ray``: `synthgen.ray_shards`); each loads the model once and computes with its share of
the cores. The bytes are the same as long as the numeric kernels give the same
results at those thread counts (measured so on 2 cores for 1, 2 and 4 workers: evaluation/shard_bench.py);
another device or BLAS build may differ in the last bits of a float.

Nothing is half-written: the parts and then ``manifest.json`` go into a staging folder beside the output,
which is moved into place only when every part is complete (a folder holding a manifest is a whole
release). An output folder is replaced only when it is empty or an earlier sharded release (a manifest
and its parts); anything else of the user's is refused before any work.

The manifest records what decides the rows (the model's digest, the seed, the rows and shards, the
conditions) and each part's rows and SHA-256, so a consumer can check the release it was handed, and
the release gate's verdict (``gate``: "not run" for `sample_shards` alone; `synthgen.sharded_release.generate_shards`
judges every part before the folder is published).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from synthgen._version import __version__
from synthgen.errors import InputError
from synthgen.files import file_sha256

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
_PART = "part-{:05d}.parquet"


def shard_rows(rows: int, shards: int) -> list[int]:
    """Rows per shard: as even as possible, the first ``rows % shards`` shards one row more."""
    base, extra = divmod(rows, shards)
    return [base + (1 if s < extra else 0) for s in range(shards)]


def shard_seed(seed: int, shard: int) -> int:
    """The seed of shard ``shard``: an independent stream derived from (seed, shard), apart from the
    per-chunk streams a sample draws inside it (`synthgen.models.base.chunk_seed`)."""
    state = np.random.SeedSequence([seed & 0xFFFFFFFFFFFFFFFF, shard, 0x5A4D]).generate_state(1, dtype=np.uint64)
    return int(state[0] >> 1)


def model_digest(model_dir: Path) -> str:
    """SHA-256 over the model directory's files, in name order: which model drew the rows."""
    from synthgen.artifacts import FILES

    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode())
        digest.update((Path(model_dir) / name).read_bytes())
    return digest.hexdigest()


def write_shard(
    model: Any, folder: Path, shard: int, rows: int, seed: int, conditions: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Draw shard ``shard`` (``rows`` rows from its own stream) into its part file in ``folder``."""
    from synthgen.tablewriter import TableWriter

    folder = Path(folder)
    if not folder.is_dir():  # a release given up (its staging folder removed): never recreate it
        raise InputError(f"{folder}: the folder of the parts is gone; shard {shard} is not written")
    path = folder / _PART.format(shard)
    started = time.perf_counter()
    with TableWriter(path) as writer:
        for chunk in model.iter_sample(rows, seed=shard_seed(seed, shard), conditions=conditions):
            writer.write(chunk)
    return {
        "index": shard,
        "file": path.name,
        "rows": writer.rows,
        "sha256": file_sha256(path),
        "seconds": round(time.perf_counter() - started, 3),
    }


# -- worker processes ----------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _start_worker(model_dir: str, device: str, exclude_pii: Mapping[str, set[str]], threads: int) -> None:
    """Each worker process loads the model once and uses its share of the cores."""
    from synthgen.models import load_model
    from synthgen.threads import use_threads

    use_threads(threads)
    _WORKER["model"] = _excluding(load_model(model_dir, device=device), exclude_pii)


def _excluding(model: Any, exclude_pii: Mapping[str, set[str]] | None) -> Any:
    """``model`` never emitting the real PII values ``exclude_pii`` (held in memory only)."""
    for name, values in (exclude_pii or {}).items():
        model.pii_exclude_.setdefault(name, set()).update(values)
    return model


def _worker_shard(folder: str, shard: int, rows: int, seed: int, conditions: Mapping[str, Any] | None) -> dict:
    return write_shard(_WORKER["model"], Path(folder), shard, rows, seed, conditions)


def release_target(path: Path) -> None:
    """Refuse to replace a folder that is not an earlier sharded release (or empty)."""
    if not path.exists():
        return
    if not path.is_dir():
        raise InputError(f"--out {path} is a file; sharded sampling writes a folder of parts")
    names = {entry.name for entry in path.iterdir()}
    ours = not names or (MANIFEST in names and all(n == MANIFEST or _is_part(n) for n in names))
    if not ours:
        raise InputError(
            f"--out {path} holds files that are not a sharded release of synthgen's "
            f"({', '.join(sorted(names)[:3])}{', ...' if len(names) > 3 else ''}); give a new or empty folder"
        )


def _is_part(name: str) -> bool:
    return name.startswith("part-") and name.endswith(".parquet") and name[5:-8].isdigit()


def sample_shards(
    model_dir: str | os.PathLike[str],
    rows: int,
    shards: int,
    out: str | os.PathLike[str],
    *,
    seed: int | None = None,
    workers: int = 1,
    device: str = "auto",
    conditions: Mapping[str, Any] | None = None,
    on_shard: Callable[[dict[str, Any]], None] | None = None,
    gate: Callable[[Path, list[dict[str, Any]]], dict[str, Any]] | None = None,
    exclude_pii: Mapping[str, set[str]] | None = None,
    ray: bool | str | None = None,
) -> dict[str, Any]:
    """Sample ``rows`` rows from the saved model in ``model_dir`` as ``shards`` Parquet parts in the folder
    ``out``, on ``workers`` local processes, and return the manifest (also written as ``out/manifest.json``).

    ``seed`` defaults to the model's; ``conditions`` are those of `Generator.sample`; ``on_shard`` is
    called with each part's record as it completes (a progress display's hook). ``ray`` draws the shards on
    ``workers`` Ray actors instead (`synthgen.ray_shards`): True or "local" on a local Ray instance, else
    Ray's address of a cluster ("auto", "ray://head:10001"); the parts are the same bytes.

    ``exclude_pii`` (column -> real values, `synthgen.unmodelled.pii_exclusions`) are PII values no row may
    carry: a model loaded from its folder knows none, since they are never saved. They are handed to local
    worker processes in memory; Ray actors are not given them (refused).

    ``gate`` judges the release before anything is published: it is called with the staging folder and
    the parts' records once every part is written, and returns the manifest's ``gate`` section or raises
    to refuse the release, which then leaves nothing behind (`synthgen.sharded_release.generate_shards` passes
    the release gate here)."""
    from synthgen.artifacts import load_model_dir
    from synthgen.files import make_staging_dir, replace_directory
    from synthgen.io import write_json
    from synthgen.models.base import model_from_files
    from synthgen.threads import use_threads

    for name, value, least in (("rows", rows, 1), ("shards", shards, 1), ("workers", workers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    if shards > rows:
        raise InputError(f"{shards} shards for {rows} rows would leave shards empty; give at most {rows} shards")
    model_dir, out = Path(model_dir), Path(out)
    if out.resolve() == model_dir.resolve() or model_dir.resolve() in out.resolve().parents:
        raise InputError(f"--out {out} is inside the model directory {model_dir}; write the parts elsewhere")
    release_target(out)
    digest = model_digest(model_dir)  # which model draws: checked again once every part is written
    files = load_model_dir(model_dir)  # refuses a bad model before any work
    model = _excluding(model_from_files(files, device=device), exclude_pii)
    seed = model.config.seed if seed is None else int(seed)
    if conditions:
        model.meets(model.sample(1, seed=seed, conditions=conditions), conditions)  # refuse bad conditions early
    sizes = shard_rows(rows, shards)
    workers = min(workers, shards)
    address = None if ray is None or ray is False else "local" if ray is True else str(ray)
    engine: dict[str, Any] = {"engine": "processes"}
    if address is not None:
        from synthgen.ray_shards import draw_on_ray, import_ray

        if exclude_pii:
            raise InputError("real PII values to exclude are not sent to Ray actors; draw this release on processes")
        import_ray()  # refuse a missing Ray before any work
    staging = make_staging_dir(out)
    started = time.perf_counter()
    try:
        records: list[dict[str, Any]] = []
        if address is not None:
            records, on_ray = draw_on_ray(
                model_dir,
                staging,
                sizes,
                seed,
                conditions,
                address=address,
                actors=workers,
                device=device,
                on_shard=on_shard,
            )
            engine = {"engine": "ray", "ray": on_ray}
        elif workers == 1:
            import torch

            threads = torch.get_num_threads()
            use_threads()
            try:
                for shard, size in enumerate(sizes):
                    records.append(write_shard(model, staging, shard, size, seed, conditions))
                    if on_shard is not None:
                        on_shard(records[-1])
            finally:
                torch.set_num_threads(threads)  # the caller's setting, as it was
        else:
            from synthgen.workers import in_order, local_pool

            pool = local_pool(workers, _start_worker, (str(model_dir), device, dict(exclude_pii or {})))
            futures = [
                pool.submit(_worker_shard, str(staging), shard, size, seed, dict(conditions or {}))
                for shard, size in enumerate(sizes)
            ]
            # a failed shard or Ctrl-C: queued shards are dropped, running ones finish before the staging folder
            # is removed (so that none writes into it afterwards)
            for record in in_order(pool, futures):
                records.append(record)
                if on_shard is not None:
                    on_shard(record)
        if model_digest(model_dir) != digest:
            raise InputError(f"{model_dir}: the model changed while the release was drawn; nothing is written")
        release = hashlib.sha256("".join(r["sha256"] for r in records).encode()).hexdigest()
        verdict = (
            {"status": "not run", "why": "sampled without the release gate (`synthgen generate --shards` gates)"}
            if gate is None
            else gate(staging, records)
        )
        manifest = {
            "format": MANIFEST_FORMAT,
            "synthgen_version": __version__,
            "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "model": {
                "path": str(model_dir),
                "class": type(model).__name__,
                "sha256": digest,
                "recipe_fingerprint": files.state.get("metadata", {}).get("fingerprint"),
            },
            "seed": seed,
            "rows": sum(r["rows"] for r in records),
            "shards": len(records),
            "conditions": json.loads(json.dumps(dict(conditions or {}), default=str)),
            "columns": [{"name": c.name, "kind": c.kind.value} for c in model.schema_.columns],
            "release_sha256": release,
            "parts": records,
            "workers": workers,
            **engine,
            "seconds": round(time.perf_counter() - started, 3),
            "gate": verdict,
        }
        write_json(manifest, staging / MANIFEST)
        replace_directory(staging, out, guard=release_target)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest
