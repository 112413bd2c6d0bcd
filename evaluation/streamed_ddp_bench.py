"""Distributed training on a streamed source (issue 16): `synthgen train` on the 1,000,000-row x 50-column
Parquet folder of `evaluation.scale_table`, in one process and as ``--nproc 2`` gloo ranks.

    python -m evaluation.streamed_ddp_bench [--rows 1000000] [--parts 8] [--steps 100] [--workdir DIR]
        [--out evaluation/results/streamed_ddp_bench.json]

Each run is ``synthgen -q train RECIPE --out MODEL [--nproc 2]`` under a fresh wrapper process that reports
the largest peak resident memory of its descendants (``getrusage(RUSAGE_CHILDREN).ru_maxrss``: the
largest of the CLI, the torchrun agent and the ranks, not their sum). Figures: wall seconds of the whole
command (the two reservoir samples, the level count, the encoding pass, the steps, the save), the training
loop's seconds and steps (``train_seconds`` / ``steps_done`` of the saved model), and the mean loss over its
last 5 logged intervals. Under DDP each rank reads every file and keeps every other row, and the global
batch is split between the ranks: on 2 shared cores this is a check that the job runs and what it holds,
not a speed-up (`evaluation/results/ddp_bench.json` has the per-step figures).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "evaluation" / "results" / "streamed_ddp_bench.json"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def run(recipe: Path, model: Path, nproc: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "synthgen.cli", "-q", "train", str(recipe), "--out", str(model)]
    if nproc > 1:
        command += ["--nproc", str(nproc)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-3000:]}")
    state = json.loads((model / "state.json").read_text())
    history = state["history"]
    return {
        "processes": nproc,
        "wall_seconds": round(wall, 1),
        "largest_process_peak_mib": round(int(done.stdout.strip().splitlines()[-1]) / 1024, 1),
        "train_seconds": round(state["train_seconds"], 1),
        "steps": state["steps_done"],
        "ms_per_step": round(1000 * state["train_seconds"] / state["steps_done"], 1),
        "final_loss": round(sum(h["loss"] for h in history[-5:]) / len(history[-5:]), 4),
        "rows_trained": state["metadata"]["rows_trained"],
    }


def main(argv: list[str] | None = None) -> None:
    from evaluation.results import command_line, write_results
    from evaluation.scale_table import run_phase, write_recipe

    parser = argparse.ArgumentParser(
        prog="python -m evaluation.streamed_ddp_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=None, help="keep (and reuse) the table here")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    runs = []
    with tempfile.TemporaryDirectory(prefix="synthgen-ddp-") as tmp:
        folder = args.workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "parts").is_dir():
            run_phase(["build", str(folder), str(args.rows), str(args.parts)])
        recipe = write_recipe(folder, args.steps)
        for nproc in (1, 2):
            runs.append(run(recipe, Path(tmp) / f"model_{nproc}", nproc))
            print(json.dumps(runs[-1]), flush=True)
    body = {
        "benchmark": "streamed_ddp_bench",
        "rows": args.rows,
        "columns": 50,
        "runs": runs,
        "notes": f"2 CPU cores, load average at start {load[0]:.1f}; gloo on the CPU.",
    }
    write_results(args.out, body, command=command_line("evaluation.streamed_ddp_bench", argv))
    print(json.dumps(body, indent=1))


if __name__ == "__main__":
    main()
