"""Where a CTGAN fit spends its time on a GPU: start-up, the first epoch, and the replayed steps.

    python -m evaluation.profile_ctgan_gpu [--epochs 10] [--batch-sizes 500,10000]
        [--out evaluation/results/ctgan_gpu_profile.json]

Run in a fresh process, so the first figures include what every new process pays: the CUDA context,
cuBLAS and cuDNN start-up, and the loading of each kernel on its first launch (and, last, what
building a `torch.optim` optimiser would add: the import of torch._dynamo). Then, per batch size,
two fits of credit_risk in the same process (the second shows what is left once the process is
warm), with a synchronised timestamp after each of the first training steps (taken by the
``step_hook`` passed to `fit`) and after each epoch. Last, the captured step alone: wall seconds per
replay, and the share of that time the GPU spends inside kernels (from the profiler), which is the
utilisation a step of this size can reach.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from evaluation.results import write_results
from synthgen import CTGAN, infer_schema, split_holdout
from synthgen.device import GraphedStep
from synthgen.models.optim import FusedAdam

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "recipes" / "data" / "credit_risk.csv"


def synced() -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter()


def start_up() -> dict[str, float]:
    """Seconds for the first use of each library a CTGAN step touches, in this fresh process."""
    figures, last = {}, time.perf_counter()
    torch.zeros(1, device="cuda")
    stages = {
        "cuda_context": lambda: None,
        "first_fp32_matmul": lambda: torch.ones(64, 64, device="cuda") @ torch.ones(64, 64, device="cuda"),
        "first_bf16_autocast_matmul": lambda: _bf16(),
        "first_batchnorm_train": lambda: _batchnorm(),
        "first_fused_adam_step": lambda: _adam(),
    }
    for name, stage in stages.items():
        stage()
        now = synced()
        figures[name] = now - last
        last = now
    return figures


def _bf16() -> None:
    with torch.autocast("cuda", dtype=torch.bfloat16):
        torch.nn.Linear(64, 64).cuda()(torch.ones(8, 64, device="cuda"))


def _batchnorm() -> None:
    layer = torch.nn.BatchNorm1d(64).cuda()
    layer(torch.randn(8, 64, device="cuda", requires_grad=True)).sum().backward()


def _adam() -> None:
    weight = torch.nn.Parameter(torch.ones(64, device="cuda"))
    weight.grad = torch.ones(64, device="cuda")
    FusedAdam([weight], 1e-3).step()


def torch_optim_first_build() -> float:
    """Seconds to build the first `torch.optim` optimiser in this process (it imports torch._dynamo),
    the start-up cost synthgen's own fused Adam avoids; SDV's CTGAN pays it."""
    start = time.perf_counter()
    torch.optim.Adam([torch.nn.Parameter(torch.ones(4, device="cuda"))])
    return time.perf_counter() - start


class StepTimer:
    """A `fit(..., step_hook=...)` observer: a synchronised timestamp when the training step is built
    and after each of its first calls; it keeps the step, for `replay_profile`."""

    def __init__(self) -> None:
        self.run: GraphedStep | None = None
        self.stamps: list[tuple[str, float]] = []

    def __call__(self, run: GraphedStep) -> None:
        if run.calls == 0:
            self.run, self.stamps = run, [("start", synced())]
        elif run.calls <= run.warmup + 2:
            self.stamps.append(("capture+replay" if run.last == "capture" else f"call {run.calls}", synced()))


def fit(train: pd.DataFrame, schema, epochs: int, batch: int, device: str, timer: StepTimer) -> dict[str, Any]:
    epoch_stamps: list[float] = []
    model = CTGAN(epochs=epochs, batch_size=batch, pac=10, device=device, seed=0)
    start = synced()
    model.fit(train, schema, progress=lambda *_: epoch_stamps.append(time.perf_counter()), step_hook=timer)
    stamps = timer.stamps
    steps = [(label, b - a) for (label, b), (_, a) in zip(stamps[1:], stamps[:-1])]
    return {
        "fit_s": epoch_stamps[-1] - start,
        "before_training_s": stamps[0][1] - start,
        "first_epoch_s": epoch_stamps[0] - stamps[0][1],
        "first_calls_s": steps,
        "steady_epoch_s": float(np.median(np.diff(epoch_stamps))) if len(epoch_stamps) > 2 else None,
        "cuda_graph": model.cuda_graph_,
    }


def replay_profile(run: GraphedStep | None, replays: int = 200) -> dict[str, Any]:
    """Per-replay wall time, and kernel time over wall time, for a captured training step."""
    if run is None or not run.captured:
        return {"captured": False}
    run()
    start = synced()
    for _ in range(replays):
        run()
    wall = (synced() - start) / replays
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        t0 = synced()
        for _ in range(50):
            run()
        profiled_wall = synced() - t0
    kernels = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    busy = sum(e.time_range.elapsed_us() for e in kernels) / 1e6
    return {
        "captured": True,
        "s_per_step": wall,
        "kernels_per_step": len(kernels) / 50,
        "kernel_s_per_step": busy / 50,
        "gpu_busy_share": busy / profiled_wall if profiled_wall else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-sizes", default="500,10000")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu only checks the script")
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "ctgan_gpu_profile.json")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "ctgan_gpu_profile",
        "start_up_s": start_up() if args.device == "cuda" else {},
        "fits": {},
    }
    if args.device == "cuda":  # before the profiler, which imports torch._dynamo itself
        results["start_up_s"]["torch_optim_first_build"] = torch_optim_first_build()
    data = pd.read_csv(DATA)
    schema = infer_schema(data, target="loan_status")
    train, _ = split_holdout(data, 0.2, 0, schema)
    results["train_rows"] = len(train)
    for batch in [int(b) for b in args.batch_sizes.split(",")]:
        timer = StepTimer()
        entry = {
            name: fit(train, schema, args.epochs, batch, args.device, timer) for name in ("first_fit", "second_fit")
        }
        try:
            entry["replay"] = replay_profile(timer.run)
        except Exception as exc:  # the profiler is optional: keep the timings
            entry["replay"] = {"error": repr(exc)}
        results["fits"][str(batch)] = entry
        print(batch, json.dumps(entry, default=float))
    write_results(
        args.out,
        results,
        command="python -m evaluation.profile_ctgan_gpu " + " ".join(sys.argv[1:]),
        device=args.device,
    )
    print(json.dumps(results["start_up_s"]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
