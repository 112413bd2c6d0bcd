"""Peak memory and speed of `synthgen sample` against the row count (issue 10: memory flat in rows).

For each generator, a small model is trained on credit_risk and saved; then each row count is sampled
in a fresh process, twice: streamed (`synthgen sample`, chunk by chunk to the file) and in memory
(`model.sample(n)` then one write: what `sample` did before). Each child reports its own peak
resident memory (VmHWM), so the figures include the interpreter, torch and the model.

    python -m evaluation.bench_sample_memory [--rows 200000 2000000] [--models ddpm ctgan] [--out FILE]
    (or: python -m evaluation.run --job sample-memory [the same options])

Writes evaluation/results/sample_memory.json (`--out`). Memory against the row count of one trained
model: nothing here that the benchmark runner (one sample of the training split's size) measures.
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

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "evaluation" / "results" / "sample_memory.json"
if str(ROOT) not in sys.path:  # run as a file (python evaluation/...py): the evaluation package
    sys.path.insert(0, str(ROOT))

from evaluation.results import PEAK_REPORT  # noqa: E402  (after the path, when run as a file)

_CHILD = (
    PEAK_REPORT
    + """mode, model, rows, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
if mode == "streamed":
    sys.argv = ["synthgen", "sample", model, "--rows", str(rows), "--out", out, "--seed", "1"]
    from synthgen._entry import main
    main()
else:
    from synthgen.io import write_table
    from synthgen.models import load_model
    write_table(load_model(model, device="cpu").sample(rows, seed=1), out)
"""
)


def train(kind: str, folder: Path) -> Path:
    import pandas as pd

    import synthgen

    data = pd.read_csv(ROOT / "recipes" / "data" / "credit_risk.csv")
    schema = synthgen.infer_schema(data, target="loan_status")
    # Five respaced sampling steps instead of 50: memory does not depend on them, and 2M rows at 50 steps
    # take about ten minutes on 2 cores.
    if kind == "ddpm":
        model = synthgen.DDPM(steps=300, sampling_steps=5, device="cpu")
    else:
        model = synthgen.CTGAN(epochs=3, device="cpu")
    path = folder / kind
    model.fit(data, schema).save(path)
    return path


def measure(mode: str, model: Path, rows: int, out: Path) -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(model), str(rows), str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - started
    line = next((text for text in done.stderr.splitlines() if text.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"{mode} {rows} failed ({done.returncode}): {done.stderr[-2000:]}")
    peak_kib, seconds = line.split()[1:]
    size = out.stat().st_size
    out.unlink()
    return {
        "mode": mode,
        "rows": rows,
        "peak_rss_mib": round(int(peak_kib) / 1024, 1),
        "process_seconds": float(seconds),
        "wall_seconds": round(wall, 2),
        "rows_per_second": round(rows / float(seconds)),
        "file_mib": round(size / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> None:
    from evaluation.results import command_line, write_results

    parser = argparse.ArgumentParser(
        prog="python -m evaluation.bench_sample_memory", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 2_000_000])
    parser.add_argument("--models", nargs="+", default=["ddpm", "ctgan"])
    parser.add_argument("--modes", nargs="+", default=["streamed", "in_memory"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in args.models:
            model = train(kind, folder)
            for mode in args.modes:
                for rows in args.rows:
                    entry = {"model": kind, **measure(mode, model, rows, folder / "rows.csv")}
                    print(json.dumps(entry), flush=True)
                    results.append(entry)
    flat = {}
    for kind in args.models:
        streamed = [r["peak_rss_mib"] for r in results if r["model"] == kind and r["mode"] == "streamed"]
        if len(streamed) >= 2:
            flat[kind] = round(max(streamed) / min(streamed) - 1, 3)
    body = {"benchmark": "sample_memory", "streamed_peak_growth": flat, "results": results}
    write_results(args.out, body, command=command_line("evaluation.bench_sample_memory", argv))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
