"""One rank of a small distributed fit, for `tests/test_distributed.py` and `evaluation/ddp_bench.py`.

Run as ``python -m tests.ddp_worker SPEC_JSON`` with the torchrun variables set (``launch`` sets them
without torchrun's agent, which saves a second or two per run), or call `fit` in the test process for
the single-process run. A spec names the generator's config, the table's rows, the checkpoint and an
optional crash: the rank ``die_rank`` leaves with ``os._exit`` after ``die_after`` steps, the way a
killed process does (no clean-up, no exception).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def table(rows: int, seed: int = 0) -> pd.DataFrame:
    """A small lending-like table: two numbers that follow a grade, a category, a binary target."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(list("ABCD"), rows, p=[0.4, 0.3, 0.2, 0.1])
    level = pd.Series(grade).map({"A": 0.0, "B": 1.0, "C": 2.0, "D": 3.0}).to_numpy()
    rate = 5 + 3 * level + rng.normal(0, 1, rows)
    amount = np.exp(9 + 0.2 * level + rng.normal(0, 0.5, rows))
    default = np.where(rng.random(rows) < 0.05 + 0.08 * level, "yes", "no")
    return pd.DataFrame({"rate": rate, "amount": amount.round(0), "grade": grade, "default": default})


def digest(module: Any) -> str:
    """SHA-256 of a module's state dict (names and bytes): equal digests, equal weights."""
    sha = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        sha.update(name.encode())
        sha.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return sha.hexdigest()


def fit(spec: dict[str, Any]) -> dict[str, Any]:
    """Fit the spec's generator in this process (one rank of a job, or a single process)."""
    import torch

    from synthgen.checkpoint import Checkpointing
    from synthgen.distributed import current
    from synthgen.models import CTGAN, DDPM
    from synthgen.schema import infer_schema

    torch.set_num_threads(1)
    if "parquet" in spec:
        data = pd.read_parquet(spec["parquet"])
    elif "csv" in spec:
        data = pd.read_csv(spec["csv"])
        data = data.sample(n=min(len(data), spec.get("rows", len(data))), random_state=0).reset_index(drop=True)
    else:
        data = table(spec.get("rows", 1200))
    schema = infer_schema(data, target=spec.get("target", "default"))
    cls = CTGAN if spec.get("type") == "ctgan" else DDPM
    model = cls(**spec["config"])
    checkpoint = None
    if spec.get("checkpoint"):
        checkpoint = Checkpointing(
            Path(spec["checkpoint"]), every=spec.get("every", 20), resume=spec.get("resume", False)
        )
    die_rank, die_after = spec.get("die_rank"), spec.get("die_after")
    calls = [0]

    def hook(step: Any) -> None:
        calls[0] = step.calls
        if die_after is not None and step.calls == die_after and int(os.environ.get("RANK", 0)) == die_rank:
            os._exit(17)

    started = time.perf_counter()
    encoded: list[int] = []
    if spec.get("parquet"):  # a streamed source: `DDPM.fit_source` on its training part
        from synthgen.sources import ParquetSource, Part

        source, encode = ParquetSource(spec["parquet"], batch_rows=256), model._encode_source

        def spy(source, part, schema, rows, *rest):  # noqa: ANN001, ANN202 - records this rank's share
            encoded.append(rows)
            return encode(source, part, schema, rows, *rest)

        model._encode_source = spy
        model.fit_source(
            source,
            schema,
            part=Part(0.2, 0, holdout=False),
            sample_rows=500,
            step_hook=hook,
            checkpoint=checkpoint,
            distributed=current(),
        )
    else:
        model.fit(data, schema, step_hook=hook, checkpoint=checkpoint, distributed=current())
    seconds = time.perf_counter() - started
    networks = model._networks()
    out = {
        "rank": model.dist_.rank,
        "world": model.dist_.world,
        "digest": {name: digest(net) for name, net in networks.items()},
        "history": model.history_,
        "steps": getattr(model, "steps_done_", None),
        "calls": calls[0],  # the steps this process ran (fewer than ``steps`` when it resumed)
        "seconds": seconds,
        "train_seconds": getattr(model, "train_seconds_", None),
        "encoded_rows": encoded,
        "levels": {  # each one-hot column's categories, in the model's order
            e.column.name: e.categories_
            for e in getattr(getattr(model, "transformer_", None), "encoders_", [])
            if hasattr(e, "categories_")
        },
    }
    if spec.get("save") and model.dist_.is_main:
        model.save(spec["save"])
    model.dist_.barrier()
    return out


def probe_from_main() -> dict[str, Any]:
    """What each rank raises when rank 0's part of `Dist.from_main` fails with a non-input error."""
    import torch

    from synthgen.distributed import current

    dist = current()
    dist.init(torch.device("cpu"))

    def broken() -> None:
        raise ValueError("rank 0 broke")

    try:
        dist.from_main(broken)
    except Exception as exc:  # the probe reports whatever came out
        from synthgen.errors import is_forwarded

        return {"raised": type(exc).__name__, "message": str(exc), "forwarded": is_forwarded(exc)}
    return {"raised": None}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(spec: dict[str, Any], world: int, folder: Path, timeout: float = 120) -> list[dict[str, Any] | None]:
    """Run ``spec`` in ``world`` processes with the torchrun variables set; each rank's result (None for
    a rank that died or was stopped). When a rank dies the others are given a few seconds to notice,
    then stopped, as torchrun's agent would stop them."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    procs = []
    for rank in range(world):
        env = {
            **os.environ,
            "WORLD_SIZE": str(world),
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "OMP_NUM_THREADS": "1",
        }
        result = folder / f"rank{rank}.json"
        result.unlink(missing_ok=True)
        command = [sys.executable, "-m", "tests.ddp_worker", json.dumps(spec), str(result)]
        procs.append(subprocess.Popen(command, env=env, cwd=ROOT))
    deadline = time.monotonic() + timeout
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        if any(p.poll() not in (None, 0) for p in procs):  # a rank died: the job is over
            deadline = min(deadline, time.monotonic() + 10)
        time.sleep(0.05)
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
    results = []
    for rank in range(world):
        path = folder / f"rank{rank}.json"
        results.append(json.loads(path.read_text()) if path.exists() else None)
    return results


def main(spec: dict[str, Any]) -> Any:
    """One fit, or each of ``spec["jobs"]`` in turn in one process group (one start-up for several fits)."""
    from synthgen.distributed import current

    try:
        if "jobs" in spec:
            return [probe_from_main() if job.get("probe") else fit(job) for job in spec["jobs"]]
        return fit(spec)
    finally:
        current().close()


if __name__ == "__main__":
    outcome = main(json.loads(sys.argv[1]))
    Path(sys.argv[2]).write_text(json.dumps(outcome))
