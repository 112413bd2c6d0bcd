"""Peak memory of training on a 1,000,000-row x 50-column Parquet dataset and of sampling 100k to 10M rows
from it (issue 16: sources larger than memory).

    python -m evaluation.scale_table [--rows 1000000] [--parts 8] [--steps 200] [--sample 100000 1000000 10000000]
        [--no-in-memory] [--workdir DIR] [--out evaluation/results/scale_table.json]

The table (`build_part`) is credit_risk (recipes/data/credit_risk.csv, 32,581 rows, 11 columns) resampled
and perturbed, written as ``--parts`` Parquet files of equal size into a temporary folder (``--workdir``
keeps it). Part ``p`` is drawn with ``numpy.random.default_rng([2024, p])``:

- the 11 columns: rows bootstrapped (drawn with replacement); ages, employment lengths and credit history
  lengths moved by -1, 0 or +1 (clipped at their minimums: 18, 0, 2); incomes and loan amounts times a
  log-normal factor (sigma 0.05; amounts rounded to 25); interest rates plus a normal (sd 0.25, 2
  decimals); the percent of income recomputed from the two; each categorical cell (home ownership,
  intent, default on file) replaced by the column's value in another bootstrapped row with probability
  1 %; missing employment lengths and rates stay missing; the target loan_status is kept;
- 25 derived numbers ``f01``-``f25``: ``w1 * z_i + w2 * z_j + 0.5 * N(0, 1)`` (3 decimals) of two of the
  7 numeric columns' z-scores (the pair and the weights in [-1, 1] drawn once, with seed 7, the same for
  every part), every fifth of them with 2 % of its cells missing;
- 14 derived categories ``c01``-``c14``: ``c01``-``c08`` bucket ``f01``-``f08`` into 4 to 11 levels; ``c09`` is
  intent x home ownership (24 levels), ``c10`` a 50-level region and ``c11`` a 1,000-level branch (Zipf-like
  weights 1 / rank^0.8), ``c12`` the age band (8 levels), ``c13`` whether the loan is over 30 % of income,
  ``c14`` the term (36 or 60 months, 60 more likely for larger loans).

That is 11 + 25 + 14 = 50 columns: 32 numeric (4 of them with missing values) and 18 categorical.

Each phase runs in a fresh child process that reports its own peak resident memory (VmHWM, as
`evaluation.bench_sample_memory`), so the figures include the interpreter, torch and pyarrow:

1. ``build``: the Parquet dataset, part by part;
2. ``train_streamed``: ``synthgen train`` on a recipe whose source is the folder (a streamed source:
   reservoir sample of 200,000 training rows for the schema and the transformer, a pass counting the
   levels, then the 800,000 training rows encoded batch by batch into compact arrays, ``--steps`` steps);
3. ``fit_in_memory`` (unless ``--no-in-memory``): the same table read whole into a DataFrame, split and
   fitted with ``DDPM.fit``, the same config: what a single-file source does;
4. ``sample``: ``synthgen sample MODEL --rows N --out rows.parquet`` for each ``--sample`` N, chunk by chunk
   to the file. The model samples with 2 respaced steps (``sampling_steps: 2``) and a smaller denoiser
   (width 128, depth 3) than the default, so that 10M rows of 50 columns take minutes on 2 cores: the
   memory of sampling does not depend on either (it is one block of ``sample_batch`` rows at a time).

The machine is shared: timings were taken under load from other jobs (recorded in the JSON); peak memory
is the figure that matters.
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
RESULTS = ROOT / "evaluation" / "results" / "scale_table.json"
if str(ROOT) not in sys.path:  # run as a file (python evaluation/...py): the evaluation package
    sys.path.insert(0, str(ROOT))

from evaluation.results import PEAK_REPORT  # noqa: E402  (after the path, when run as a file)

NUMERIC = [
    "person_age",
    "person_income",
    "person_emp_length",
    "loan_amnt",
    "loan_int_rate",
    "loan_percent_income",
    "cb_person_cred_hist_length",
]
CATEGORICAL = ["person_home_ownership", "loan_intent", "cb_person_default_on_file"]
GENERATOR = {
    "type": "ddpm",
    "batch_size": 1024,
    "width": 128,
    "depth": 3,
    "sampling_steps": 2,
    "device": "cpu",
    "seed": 0,
}

_CHILD = (
    PEAK_REPORT
    + """if sys.argv[1] == "synthgen":
    sys.argv = sys.argv[1:]
    from synthgen._entry import main
    main()
else:
    from evaluation.scale_table import child
    child(sys.argv[1:])
"""
)


# -- the table ----------------------------------------------------------------------------------------
def _base():
    import pandas as pd

    return pd.read_csv(ROOT / "recipes" / "data" / "credit_risk.csv")


def _derivations(base) -> dict[str, Any]:
    """What every part shares: the numeric columns' means and spreads, and each derived number's pair and weights."""
    import numpy as np

    rng = np.random.default_rng(7)
    pairs = [tuple(rng.choice(len(NUMERIC), 2, replace=False)) for _ in range(25)]
    weights = rng.uniform(-1, 1, (25, 2))
    return {
        "mean": base[NUMERIC].mean().to_numpy(),
        "std": base[NUMERIC].std().to_numpy(),
        "pairs": pairs,
        "weights": weights,
    }


def build_part(base, rows: int, part: int, shared: dict[str, Any]):
    """Part ``part`` of the table (the module docstring says how)."""
    import numpy as np

    rng = np.random.default_rng([2024, part])
    frame = base.iloc[rng.integers(len(base), size=rows)].reset_index(drop=True)
    step = lambda: rng.integers(-1, 2, rows)  # noqa: E731
    frame["person_age"] = np.maximum(frame["person_age"] + step(), 18)
    frame["person_emp_length"] = np.maximum(frame["person_emp_length"] + step(), 0)
    frame["cb_person_cred_hist_length"] = np.maximum(frame["cb_person_cred_hist_length"] + step(), 2)
    frame["person_income"] = np.round(frame["person_income"] * rng.lognormal(0, 0.05, rows)).astype("int64")
    frame["loan_amnt"] = (np.round(frame["loan_amnt"] * rng.lognormal(0, 0.05, rows) / 25) * 25).astype("int64")
    frame["loan_amnt"] = np.maximum(frame["loan_amnt"], 25)
    frame["loan_int_rate"] = (frame["loan_int_rate"] + rng.normal(0, 0.25, rows)).round(2)
    frame["loan_percent_income"] = (frame["loan_amnt"] / frame["person_income"]).round(2)
    for name in CATEGORICAL:
        swap = rng.random(rows) < 0.01
        donors = base[name].to_numpy()[rng.integers(len(base), size=int(swap.sum()))]
        values = frame[name].to_numpy(dtype=object)
        values[swap] = donors
        frame[name] = values
    z = (frame[NUMERIC].to_numpy(dtype=float) - shared["mean"]) / shared["std"]
    z = np.nan_to_num(z)
    for k, ((i, j), (w1, w2)) in enumerate(zip(shared["pairs"], shared["weights"])):
        values = (w1 * z[:, i] + w2 * z[:, j] + 0.5 * rng.standard_normal(rows)).round(3)
        if k % 5 == 4:
            values[rng.random(rows) < 0.02] = np.nan
        frame[f"f{k + 1:02d}"] = values
    for k in range(8):
        levels = 4 + k
        edges = np.linspace(-1.5, 1.5, levels - 1)
        codes = np.digitize(np.nan_to_num(frame[f"f{k + 1:02d}"].to_numpy()), edges)
        frame[f"c{k + 1:02d}"] = np.array([f"b{i}" for i in range(levels)], dtype=object)[codes]
    frame["c09"] = frame["loan_intent"].astype(str) + "/" + frame["person_home_ownership"].astype(str)
    for name, levels in (("c10", 50), ("c11", 1000)):
        p = 1.0 / np.arange(1, levels + 1) ** 0.8
        labels = np.array([f"{name}_{i:04d}" for i in range(levels)], dtype=object)
        frame[name] = labels[rng.choice(levels, rows, p=p / p.sum())]
    bands = np.array(["18-24", "25-29", "30-34", "35-39", "40-49", "50-59", "60-69", "70+"], dtype=object)
    frame["c12"] = bands[np.digitize(frame["person_age"].to_numpy(), [25, 30, 35, 40, 50, 60, 70])]
    frame["c13"] = np.where(frame["loan_percent_income"] > 0.3, "Y", "N")
    long = rng.random(rows) < 1 / (1 + np.exp(-(frame["loan_amnt"].to_numpy() - 15_000) / 5_000))
    frame["c14"] = np.where(long, "60 months", "36 months")
    return frame


def build(folder: Path, rows: int, parts: int) -> dict[str, Any]:
    """Write the table as ``parts`` Parquet files into ``folder``/parts; returns its shape and size."""
    base = _base()
    shared = _derivations(base)
    out = folder / "parts"
    out.mkdir(parents=True, exist_ok=True)
    sizes = [rows // parts + (p < rows % parts) for p in range(parts)]
    columns = 0
    for p, n in enumerate(sizes):
        frame = build_part(base, n, p, shared)
        columns = frame.shape[1]
        tmp = out / f".part-{p:03d}.parquet"
        frame.to_parquet(tmp, index=False, row_group_size=65_536)
        tmp.rename(out / f"part-{p:03d}.parquet")  # write-then-rename: a listed part is whole
    disk = sum(f.stat().st_size for f in out.glob("*.parquet"))
    return {"rows": rows, "columns": columns, "files": parts, "parquet_mib": round(disk / 2**20, 1)}


def write_recipe(folder: Path, steps: int, sample_rows: int | None = None) -> Path:
    import yaml

    recipe = {
        "name": "scale_table",
        "source": "parts/" if sample_rows is None else {"path": "parts/", "sample_rows": sample_rows},
        "schema": {"target": "loan_status", "columns": {"loan_status": {"kind": "categorical"}}},
        "generator": {**GENERATOR, "steps": steps},
        "split": {"holdout": 0.2, "seed": 0},
    }
    path = folder / "scale_table.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


# -- the phases, each in a child process ----------------------------------------------------------------
def child(argv: list[str]) -> None:
    """What a child process runs besides the command line: ``build FOLDER ROWS PARTS`` or
    ``fit_in_memory FOLDER STEPS``; prints one JSON line of its own figures."""
    phase, folder = argv[0], Path(argv[1])
    if phase == "build":
        print(json.dumps(build(folder, int(argv[2]), int(argv[3]))))
        return
    import pandas as pd

    import synthgen
    from synthgen.pipeline import split_holdout

    started = time.perf_counter()
    data = pd.read_parquet(folder / "parts")
    from synthgen.schema import ColumnSpec

    declared = {"loan_status": ColumnSpec(kind="categorical")}
    schema = synthgen.infer_schema(data, target="loan_status", declared=declared)
    train, _ = split_holdout(data, 0.2, 0, schema)
    del data
    read_s = time.perf_counter() - started
    config = {k: v for k, v in GENERATOR.items() if k != "type"}
    model = synthgen.DDPM(**config, steps=int(argv[2])).fit(train, schema)
    print(json.dumps({"rows_trained": len(train), "read_seconds": round(read_s, 1), "steps": model.steps_done_}))


def run_phase(args: list[str], script: str | None = None) -> dict[str, Any]:
    """Run ``script`` (default: this module's child script) with ``args`` in a fresh interpreter: its peak
    memory and seconds, and the figures of its last output line."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script or _CHILD, *args], capture_output=True, text=True, env=env, check=False, cwd=ROOT
    )
    wall = time.perf_counter() - started
    line = next((text for text in done.stderr.splitlines() if text.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"{args[:2]} failed ({done.returncode}): {done.stderr[-3000:]}")
    peak_kib, seconds = line.split()[1:]
    figures: dict[str, Any] = {
        "peak_rss_mib": round(int(peak_kib) / 1024, 1),
        "process_seconds": float(seconds),
        "wall_seconds": round(wall, 1),
    }
    last = done.stdout.strip().splitlines()[-1:] if done.stdout.strip() else []
    if last and last[0].startswith("{"):
        figures.update(json.loads(last[0]))
    return figures


def main(argv: list[str] | None = None) -> None:
    from evaluation.results import command_line, write_results

    parser = argparse.ArgumentParser(prog="python -m evaluation.scale_table", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--sample", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--no-in-memory", dest="in_memory", action="store_false")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the table and model here")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    phases: list[dict[str, Any]] = []

    def record(name: str, figures: dict[str, Any]) -> None:
        entry = {"phase": name, **figures}
        print(json.dumps(entry), flush=True)
        phases.append(entry)

    with tempfile.TemporaryDirectory(prefix="synthgen-scale-") as tmp:
        folder = args.workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        record("build", run_phase(["build", str(folder), str(args.rows), str(args.parts)]))
        recipe, model = write_recipe(folder, args.steps), folder / "model"
        record("train_streamed", run_phase(["synthgen", "-q", "train", str(recipe), "--out", str(model)]))
        state = json.loads((model / "state.json").read_text())
        phases[-1].update(rows_trained=state["metadata"]["rows_trained"], steps=state["steps_done"])
        if args.in_memory:
            record("fit_in_memory", run_phase(["fit_in_memory", str(folder), str(args.steps)]))
        for rows in args.sample:
            out = folder / "rows.parquet"
            figures = run_phase(["synthgen", "-q", "sample", str(model), "--rows", str(rows), "--out", str(out)])
            figures.update(rows=rows, file_mib=round(out.stat().st_size / 2**20, 1))
            figures["rows_per_second"] = round(rows / figures["process_seconds"])
            out.unlink()
            record("sample", figures)
    sampled = [p["peak_rss_mib"] for p in phases if p["phase"] == "sample"]
    body = {
        "benchmark": "scale_table",
        "table": phases[0],
        "generator": {**GENERATOR, "steps": args.steps},
        "sample_peak_growth": round(max(sampled) / min(sampled) - 1, 3) if len(sampled) >= 2 else None,
        "notes": (
            "2 shared CPU cores; other jobs ran at the same time (load average at start "
            f"{load[0]:.1f}), so the seconds are slow and noisy; peak memory (VmHWM of each fresh child "
            "process) is the figure. Sampling with 2 respaced steps and a width-128 depth-3 denoiser. "
            f"{args.steps} training steps are a memory measurement, not a trained model: its numbers pile up at "
            "the ends of their ranges (as the in-memory fit's do after as many steps). train_streamed is the "
            "whole `synthgen train` (the judge's samples of both parts, the fingerprint, the fit); fit_in_memory "
            "is the read, the split and `DDPM.fit` alone."
        ),
        "phases": phases,
    }
    write_results(args.out, body, command=command_line("evaluation.scale_table", argv))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
