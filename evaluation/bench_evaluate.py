"""Wall time of the whole evaluation (fidelity, utility, privacy, gate) on a 30,000 x 25 table.

    python -m evaluation.bench_evaluate [--threads 2] [--rows 30000] [--out evaluation/results/evaluate_speed.json]
                                        [--report DIR]
    (or: python -m evaluation.run --job judge-speed [the same options])

`evaluation.run` records the judge's seconds of every run too (``evaluate_s``); this job times it on a
wider table than the bundled ones, part by part, with a stand-in generator.

The table is credit_risk (11 columns; 30,000 of its 32,581 rows, seed 0) with 14 columns derived from
it so it looks like a wider lending table: ratios and logs of the numerics, bands and grades as
categories, a monthly payment, an application date, a region and a channel drawn per row (seeded,
the region tied to income), an account count tied to credit history, and a boolean flag. 80/20
split: 24,000 train rows, 6,000 holdout rows. The "synthetic" table is a cheap stand-in generator,
so that every part of the judge has realistic work: 24,000 train rows resampled with replacement,
numerics jittered by 5 % (integers rounded), and each categorical cell replaced by a draw from its
column's marginal with probability 0.1. Default EvaluateSettings, seed 0, torch and models on
``--threads`` CPU threads. Target: under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from evaluation.results import command_line, write_results

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "recipes" / "data" / "credit_risk.csv"


def wide_table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = pd.read_csv(DATA)
    df = base.iloc[np.sort(rng.choice(len(base), min(rows, len(base)), replace=False))].reset_index(drop=True)
    n = len(df)
    income = df["person_income"].astype(float)
    df["income_log"] = np.log1p(income).round(4)
    df["loan_to_income"] = (df["loan_amnt"] / income).round(4)
    age_bands = ["<25", "25-34", "35-44", "45-54", "55+"]
    df["age_band"] = pd.cut(df["person_age"], [0, 25, 35, 45, 55, 200], labels=age_bands).astype(str)
    df["rate_grade"] = pd.qcut(df["loan_int_rate"].rank(method="first"), 7, labels=list("ABCDEFG")).astype(str)
    emp_bands = ["0-1", "2-3", "4-6", "7-10", "10+"]
    df["emp_band"] = pd.cut(df["person_emp_length"].fillna(0), [-1, 1, 3, 6, 10, 1000], labels=emp_bands).astype(str)
    r = df["loan_int_rate"].fillna(df["loan_int_rate"].median()) / 1200
    df["monthly_payment"] = (df["loan_amnt"] * r / (1 - (1 + r) ** -36)).round(2)
    df["hist_to_age"] = (df["cb_person_cred_hist_length"] / df["person_age"]).round(4)
    df["income_per_emp_year"] = (income / (1 + df["person_emp_length"].fillna(0))).round(2)
    start = np.datetime64("2020-01-01")
    df["application_date"] = pd.to_datetime(start + rng.integers(0, 4 * 365, n).astype("timedelta64[D]"))
    regions = np.array(["north", "south", "east", "west", "central", "coast", "mountain", "islands"])
    df["region"] = regions[np.clip((np.log(income) - 9) * 2 + rng.normal(0, 1.5, n), 0, 7).astype(int)]
    df["open_accounts"] = rng.poisson(1 + df["cb_person_cred_hist_length"] / 3)
    df["debt_to_income"] = (df["loan_percent_income"] + rng.gamma(2.0, 0.05, n)).round(3)
    df["channel"] = rng.choice(["online", "branch", "broker"], n, p=[0.6, 0.3, 0.1])
    df["prior_default_high_rate"] = (df["cb_person_default_on_file"] == "Y") & (df["loan_int_rate"] > 15)
    return df


def stand_in_synthetic(train: pd.DataFrame, schema, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = train.iloc[rng.integers(0, len(train), len(train))].reset_index(drop=True)
    for c in schema.modelled:
        col = out[c.name]
        if c.kind.value in ("numeric", "integer"):
            jittered = col * rng.normal(1.0, 0.05, len(col))
            out[c.name] = jittered.round() if c.kind.value == "integer" else jittered.round(c.rounding or 4)
        elif c.kind.is_discrete:
            swap = rng.random(len(col)) < 0.1
            values = col.to_numpy(copy=True)
            values[swap] = rng.choice(train[c.name].to_numpy(), int(swap.sum()))
            out[c.name] = values
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evaluation.bench_evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "evaluate_speed.json")
    parser.add_argument("--report", type=Path, default=None, help="also write report.json / report.html here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from synthgen.judge import EvaluateSettings, evaluate
    from synthgen.schema import infer_schema

    table = wide_table(args.rows)
    schema = infer_schema(table, target="loan_status")
    order = np.random.default_rng(0).permutation(len(table))
    n_hold = int(0.2 * len(table))
    holdout = table.iloc[order[:n_hold]].reset_index(drop=True)
    train = table.iloc[order[n_hold:]].reset_index(drop=True)
    synthetic = stand_in_synthetic(train, schema)
    settings = EvaluateSettings(seed=0, n_jobs=args.threads, backend="sklearn")

    start = time.perf_counter()
    report = evaluate(train, holdout, synthetic, schema, settings, device="cpu")
    wall = time.perf_counter() - start

    breakdown = {
        "parts": report.run.timings_s,
        "fidelity": report.fidelity.timings_s,
        "utility": report.utility.timings_s,
        "privacy": report.privacy.timings_s,
    }
    kinds = sorted({c.kind.value for c in schema.columns})
    summary = report.summary()
    result = {
        "benchmark": "evaluate, whole evaluation wall time",
        "table": {
            "rows": len(table),
            "columns": len(table.columns),
            "train": len(train),
            "holdout": len(holdout),
            "synthetic": len(synthetic),
            "kinds": {k: sum(c.kind.value == k for c in schema.columns) for k in kinds},
        },
        "threads": args.threads,
        "judge_versions": report.run.versions,
        "wall_s": round(wall, 2),
        "target_s": 60,
        "breakdown_s": breakdown,
        "summary": summary,
        "gate_passed": summary["gate_passed"],
        "gate_failing": summary["gate_failing"],
    }
    write_results(args.out, result, command=command_line("evaluation.bench_evaluate", argv))
    print(
        f"evaluate: {len(table):,} x {len(table.columns)} table, {args.threads} threads: {wall:.1f} s (target < 60 s)"
    )
    for part, seconds in report.run.timings_s.items():
        print(f"  {part:<10} {seconds:7.2f} s")
        sub = breakdown.get(part, {})
        for name, s in sub.items():
            print(f"      {name:<18} {s:7.2f} s")
    print(f"wrote {args.out}")
    if args.report is not None:
        from synthgen.judge import write_report

        start = time.perf_counter()
        paths = write_report(report, args.report, extra_metadata={"benchmark": "bench_evaluate"})
        print(f"wrote {paths['html']} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
