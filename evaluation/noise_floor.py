"""What real data scores against real data: the sampling-noise floor of the fidelity figures.

    python -m evaluation.noise_floor [--recipes recipes/german_credit.yaml ...] [--repeats 3]
        [--out evaluation/results/noise_floor.json]

The shape and pair-trend scores compare two finite tables, so they fall short of 1 even when both
tables come from the same population: a synthetic table of n rows is scored against n training rows,
and each side carries its own sampling error. A target such as "trend error at most 1 %" only means
something above that floor. Per recipe (its training split, as `synthgen generate` makes it), per seed:

- **copies**: n rows drawn with replacement from the training rows, scored against them. A generator
  that releases its own training rows (which the release gate refuses) scores this; no sampler of n
  rows does better except by returning the training table itself, row for row.
- **independent rows**: the training rows cut in two halves A and B; A is the reference and the first
  n/8, n/4 and n/2 rows of B the "synthetic" table. Each error (1 - score) is fitted to
  ``c * sqrt(1/n_A + 1/n_B)``, the law of two independent samples, and extrapolated to (n, n): what a
  generator that had learned the population exactly would score on average. The residuals of the fit
  are kept, so the law is checked, not assumed. Detection AUC of A against B (equal halves) is the
  detector's own floor (0.5 in expectation).

Figures go to ``--out`` (benchmark ``noise_floor``; `evaluation.report` renders them).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RECIPES = ("recipes/german_credit.yaml", "recipes/credit_risk.yaml", "recipes/lending_club.yaml")
FRACTIONS = (1 / 8, 1 / 4, 1 / 2)  # sizes of B's prefix, as shares of the training rows


def shape_trend(reference, other, holdout, schema, settings) -> tuple[float, float]:
    """The judge's shape and pair-trend scores of ``other`` against ``reference`` (nothing else computed)."""
    from synthgen.judge.fidelity import column_shapes, pair_trends, summarise_trends
    from synthgen.judge.inputs import prepare

    tables = prepare(reference, holdout, other, schema)
    scores = [c.score for c in column_shapes(tables) if c.score is not None]
    trend = summarise_trends(pair_trends(tables, settings))[0]
    return float(np.mean(scores)), float(trend)


def fit_law(points: list[tuple[int, int, float]]) -> tuple[float, list[float]]:
    """Least-squares ``c`` of ``error = c * sqrt(1/n_a + 1/n_b)`` through the origin, and each point's
    relative residual (fitted / measured - 1)."""
    x = np.array([math.sqrt(1 / a + 1 / b) for a, b, _ in points])
    y = np.array([e for _, _, e in points])
    c = float(x @ y / (x @ x))
    return c, [round(float(c * xi / yi - 1), 4) if yi > 0 else 0.0 for xi, yi in zip(x, y, strict=True)]


def one_recipe(recipe_path: str, repeats: int) -> dict[str, Any]:
    from synthgen import EvaluateSettings, evaluate, load_recipe
    from synthgen.pipeline import prepare_data

    recipe = load_recipe(ROOT / recipe_path)
    train, holdout, schema = prepare_data(recipe)
    settings = EvaluateSettings()
    n = len(train)
    runs = []
    for seed in range(repeats):
        rng = np.random.default_rng(seed)
        copies = train.iloc[rng.integers(0, n, n)].reset_index(drop=True)
        copy_shape, copy_trend = shape_trend(train, copies, holdout, schema, settings)
        order = rng.permutation(n)
        half = n // 2
        a = train.iloc[order[:half]].reset_index(drop=True)
        b = train.iloc[order[half:]].reset_index(drop=True)
        sweep = []
        for fraction in FRACTIONS:
            rows = int(n * fraction)
            shape, trend = shape_trend(a, b.iloc[:rows].reset_index(drop=True), holdout, schema, settings)
            sweep.append({"reference_rows": half, "other_rows": rows, "shape": shape, "trend": trend})
        halves = evaluate(a, holdout, b.iloc[:half], schema, settings, device="cpu").summary()
        runs.append(
            {
                "seed": seed,
                "copies": {"shape": copy_shape, "trend": copy_trend},
                "independent": sweep,
                "halves_detection_auc": halves["detection_auc"],
            }
        )
        print(f"{recipe_path} seed {seed}: copies trend {copy_trend:.4f}, halves trend {sweep[-1]['trend']:.4f}")
    floor: dict[str, Any] = {}
    for figure in ("shape", "trend"):
        points = [(p["reference_rows"], p["other_rows"], 1 - p[figure]) for r in runs for p in r["independent"]]
        c, residuals = fit_law(points)
        floor[figure] = {
            "law_c": round(c, 4),
            "residuals": residuals,
            "independent_at_train_size": round(1 - c * math.sqrt(2 / n), 4),
            "copies": round(statistics.median(r["copies"][figure] for r in runs), 4),
        }
    return {
        "train_rows": n,
        "columns": len(schema.modelled),
        "floor": floor,
        "halves_detection_auc": round(statistics.median(r["halves_detection_auc"] for r in runs), 4),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evaluation.noise_floor", description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=list(DEFAULT_RECIPES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "noise_floor.json")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    from evaluation.results import command_line, write_results

    started = time.perf_counter()
    body: dict[str, Any] = {"benchmark": "noise_floor", "repeats": args.repeats, "recipes": {}}
    for recipe in args.recipes:
        body["recipes"][recipe] = one_recipe(recipe, args.repeats)
    body["seconds"] = round(time.perf_counter() - started, 1)
    write_results(args.out, body, command=command_line("evaluation.noise_floor", argv))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
