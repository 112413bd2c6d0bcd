"""Absurd values in the source: how many does each generator put back, and does the gate see them? (issue 10)

    python -m evaluation.extreme_values [--label after] [--ctgan-epochs 300] [--seed 0]
                                        [--out evaluation/results/extreme_values.json]
    (or: python -m evaluation.run --job extreme-values [the same options])

An issue replay the benchmark runner does not do: it perturbs the source itself and compares code versions.

german_credit (the demo table, 1,000 rows) with 0.7 % of its rows' ``credit_amount`` multiplied up to
about 1e300 (and, as a variant, 1e12: the multiplier is the scale times a uniform 0.1-1), split as
the recipe splits it (80/20, seed 0). Each generator is trained at its default budget on the 800
training rows (the diffusion model's 6,000 steps capped at 350 passes; CTGAN's 300 epochs) and
samples 1,000 rows, as the demo does. Measured per generator and scale:

- the share of synthetic rows beyond 1e6 (every real amount is below 20,000; the source's absurd
  rows are all beyond), beyond the real train's 99.5th percentile and beyond its largest ordinary
  value, against the train's own shares; whether every value is finite;
- the judge's verdict at the default gates: passed or not, the failing checks, shape and trend, and
  the extreme-value check (when the judge has it);
- with the clean table too: shape and trend, for the fidelity on ordinary columns.

Results are stored under ``runs[label]`` of the output file, so that the same script run on two
versions of the code (``--label before`` on the old tree via PYTHONPATH, ``--label after``) fills one file.
``--save DIR`` keeps each synthetic table as CSV; ``--judge-only DIR`` trains nothing and judges the
tables saved there instead (the old generators' output judged by the new gate). The recorded runs:

    PYTHONPATH=<tree at 9e4a9b1> python evaluation/extreme_values.py --label before --save /tmp/ev_before
    python -m evaluation.extreme_values --label after
    python -m evaluation.extreme_values --label "before, judged by the new gate" --judge-only /tmp/ev_before
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

import synthgen
from evaluation.results import command_line, write_results
from synthgen.schema import infer_schema

ROOT = Path(__file__).resolve().parents[1]
ABSURD = 1e6
SHARE = 0.007
SCALES = {"clean": None, "1e12": 1e12, "1e300": 1e300}


def with_absurd_amounts(frame: pd.DataFrame, scale: float | None, seed: int) -> pd.DataFrame:
    """``frame`` with ``SHARE`` of its amounts multiplied by ``scale`` x uniform(0.1, 1)."""
    frame = frame.copy()
    if scale is None:
        return frame
    frame["credit_amount"] = frame["credit_amount"].astype(float)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(frame), int(round(SHARE * len(frame))), replace=False)
    frame.loc[rows, "credit_amount"] = frame.loc[rows, "credit_amount"] * scale * rng.uniform(0.1, 1.0, rows.size)
    return frame


def shares(train: pd.Series, synthetic: pd.Series) -> dict[str, Any]:
    """Synthetic shares beyond the absurd threshold, the train's 99.5th percentile and its largest ordinary value."""
    real, fake = train.to_numpy(dtype=float), pd.to_numeric(synthetic, errors="coerce").to_numpy(dtype=float)
    p995 = float(np.quantile(real, 0.995))
    ordinary_max = float(real[real < ABSURD].max())
    present = fake[~np.isnan(fake)]

    def share(values: np.ndarray, threshold: float) -> float | None:  # None: no value to count (all missing)
        return float(np.mean(values > threshold)) if values.size else None

    return {
        "train_share_absurd": share(real, ABSURD),
        "synthetic_share_absurd": share(present, ABSURD),
        "train_p995": p995,
        "train_share_beyond_p995": share(real, p995),
        "synthetic_share_beyond_p995": share(present, p995),
        "train_ordinary_max": ordinary_max,
        "synthetic_share_beyond_ordinary_max": share(present, ordinary_max),
        "synthetic_missing": int(np.isnan(fake).sum()),
        "synthetic_all_finite": bool(np.isfinite(fake).all()),
        "synthetic_max": float(np.nanmax(fake)) if present.size else None,
    }


def judge(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema) -> dict[str, Any]:
    """The judge's headline figures (`summary()`), ``failing`` as earlier runs named it, and the extreme-value check."""
    report = synthgen.evaluate(train, holdout, synthetic, schema, device="cpu")
    checks = {c.name: c for c in report.gate.checks}
    extreme = checks.get("extreme_values")
    summary = report.summary()
    return {
        **summary,
        "failing": summary["gate_failing"],
        "extreme_values_check": None
        if extreme is None
        else {
            "status": extreme.status,
            "value": extreme.value,
            "threshold": extreme.threshold,
            "detail": extreme.detail,
        },
    }


def model_for(name: str, seed: int, ctgan_epochs: int):
    if name == "ddpm":
        return synthgen.DDPM(device="cpu", seed=seed)
    return synthgen.CTGAN(device="cpu", seed=seed, epochs=ctgan_epochs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.extreme_values",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--label", default="after", help="key of this run in the output file (e.g. before / after)")
    parser.add_argument("--note", default="", help="what code ran (stored with the run)")
    parser.add_argument("--seed", type=int, default=0, help="model seed (sampling uses seed + 1)")
    parser.add_argument("--ctgan-epochs", type=int, default=300)
    parser.add_argument("--generators", default="ddpm,ctgan")
    parser.add_argument("--scales", default=",".join(SCALES))
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--save", type=Path, default=None, help="write each synthetic table to DIR/<generator>_<scale>.csv"
    )
    parser.add_argument(
        "--judge-only", type=Path, default=None, help="judge the tables saved in DIR instead of training"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "extreme_values.json")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    base = synthgen.load_builtin("german_credit")
    results = []
    for scale_name in args.scales.split(","):
        data = with_absurd_amounts(base, SCALES[scale_name], seed=0)
        schema = infer_schema(data, target="creditability")
        train, holdout = synthgen.split_holdout(data, 0.2, 0, schema)
        for generator in args.generators.split(","):
            start = time.perf_counter()
            name = f"{generator}_{scale_name}.csv"
            if args.judge_only is not None:
                synthetic = pd.read_csv(args.judge_only / name)
            else:
                model = model_for(generator, args.seed, args.ctgan_epochs).fit(train, schema)
                synthetic = model.sample(args.rows, seed=args.seed + 1)
            if args.save is not None:
                args.save.mkdir(parents=True, exist_ok=True)
                synthetic.to_csv(args.save / name, index=False)
            seconds = time.perf_counter() - start
            row = {
                "generator": generator,
                "scale": scale_name,
                "seconds": round(seconds, 1),
                **shares(train["credit_amount"], synthetic["credit_amount"]),
                **judge(train, holdout, synthetic, schema),
            }
            results.append(row)
            print(json.dumps(row), flush=True)
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    runs = existing.get("runs", {})
    command = command_line("evaluation.extreme_values", argv)
    runs[args.label] = {
        "note": args.note,
        "command": command,
        "synthgen": synthgen.__version__,
        "torch": torch.__version__,
        "seed": args.seed,
        "ctgan_epochs": args.ctgan_epochs,
        "rows": args.rows,
        "judged_from": None if args.judge_only is None else str(args.judge_only),
        "results": results,
    }
    payload = {
        "benchmark": "extreme_values",
        "dataset": "german_credit",
        "column": "credit_amount",
        "absurd_share": SHARE,
        "absurd_threshold": ABSURD,
        "runs": runs,
    }
    json.dumps(payload, allow_nan=False)  # refuse NaN or infinity before writing
    # The header describes the latest run (a label's run keeps its own command and versions).
    write_results(args.out, payload, command=command)
    print(f"wrote {args.out} [{args.label}]")


if __name__ == "__main__":
    main()
