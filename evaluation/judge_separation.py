"""Does the judge separate good synthetic data from poor? credit_risk, our CTGAN vs SDV's GaussianCopula.

    python -m evaluation.judge_separation [--epochs 300] [--out evaluation/results/judge_credit_risk.json]

Both generators learn the training split of `recipes/credit_risk.yaml` (80/20, seed 0) and sample as
many rows; each sample is scored by `synthgen.evaluate` with the recipe's gates. Needs `pip install sdv` for the copula.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import pandas as pd

from synthgen import CTGAN, evaluate, load_recipe
from synthgen.pipeline import prepare_data

ROOT = Path(__file__).resolve().parents[1]


def score(name: str, train, holdout, synthetic, schema, recipe, seconds: float) -> dict:
    start = time.perf_counter()
    report = evaluate(train, holdout, synthetic, schema, settings=recipe.evaluate, gates=recipe.gates, device="cpu")
    figures = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in report.summary().items()}
    figures.update(
        generator=name,
        fit_seconds=round(seconds, 1),
        evaluate_seconds=round(time.perf_counter() - start, 1),
        gate_passed=report.passed,
        failing=report.gate.failing,
        tstr={m.model: m.tstr for m in report.utility.models},
        trtr={m.model: m.trtr for m in report.utility.models},
    )
    print(json.dumps(figures))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "judge_credit_risk.json")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    recipe = load_recipe(ROOT / "recipes" / "credit_risk.yaml")
    train, holdout, schema = prepare_data(recipe)
    rows = []

    start = time.perf_counter()
    model = CTGAN(recipe.model.model_copy(update={"epochs": args.epochs, "device": "cpu"})).fit(train, schema)
    ctgan_rows = model.sample(len(train), seed=1)
    rows.append(score(f"synthgen.ctgan ({args.epochs} epochs)", train, holdout, ctgan_rows, schema, recipe, time.perf_counter() - start))

    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    start = time.perf_counter()
    metadata = Metadata.load_from_dict(
        {"tables": {"t": {"columns": {c.name: {"sdtype": "categorical" if c.kind.is_discrete else "numerical"} for c in schema.columns}}}}
    )
    copula = GaussianCopulaSynthesizer(metadata)
    copula.fit({"t": train})  # SDV 2.0 takes {table_name: frame}
    copula_rows = copula.sample(len(train))
    if isinstance(copula_rows, dict):
        copula_rows = copula_rows["t"]
    rows.append(score("sdv.gaussian_copula", train, holdout, copula_rows, schema, recipe, time.perf_counter() - start))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"dataset": "credit_risk", "train_rows": len(train), "holdout_rows": len(holdout), "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
