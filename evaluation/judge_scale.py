"""Wall time of the whole judge (`synthgen.evaluate`, default settings) as the release grows (issue 12).

    python -m evaluation.judge_scale [--recipe recipes/credit_risk_ddpm.yaml] [--sizes 26000 260000 1500000]
        [--device cpu|cuda] [--release DIR | --save-release DIR] [--out evaluation/results/judge_scale.json]
    (or: python -m evaluation.run --job judge-scale ...)

The release is the recipe's own generator (trained once on the recipe's training split, or reused from
its model folder) sampled at the largest size with one seed; each smaller size is the first rows of it.
``--save-release DIR`` writes it as Parquet parts (to judge the very same rows on another machine) and
``--release DIR`` reads them instead of sampling. Per size: wall time of `evaluate`, its parts and the
privacy laps (the release-wide nearest-neighbour pass among them), the gate's verdict and the figures
of the memorisation checks: the honest generator's false-alarm evidence at every size.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from evaluation.results import command_line, write_results
from synthgen.judge.console import MEMORISATION_CHECKS

ROOT = Path(__file__).resolve().parents[1]
PART_ROWS = 500_000


def release(recipe, rows: int, seed: int, folder: Path | None, save: Path | None) -> tuple[pd.DataFrame, dict]:
    """The release to judge and how it was made (sampled here, or read from ``folder``)."""
    if folder is not None:
        parts = sorted(folder.glob("part-*.parquet"))
        frame = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        return frame.iloc[:rows].reset_index(drop=True), {"read_from": str(folder), "parts": len(parts)}
    from synthgen.pipeline import fit_model, prepare_data, reusable_model

    info: dict = {}
    model = reusable_model(recipe, recipe.model_path)
    if model is None:
        train, _, schema = prepare_data(recipe)
        start = time.perf_counter()
        model, _ = fit_model(recipe, train, schema)
        info["fit_s"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    frame = model.sample(rows, seed=seed)
    info["sample_s"] = round(time.perf_counter() - start, 1)
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        for i, begin in enumerate(range(0, rows, PART_ROWS)):
            part = frame.iloc[begin : begin + PART_ROWS]
            part.to_parquet(save / f"part-{i:03d}.parquet", compression="zstd", index=False)
    return frame, info


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m evaluation.judge_scale", description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", default=str(ROOT / "recipes" / "credit_risk_ddpm.yaml"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[26_000, 260_000, 1_500_000])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--release", type=Path, default=None, help="Read the release from these Parquet parts.")
    parser.add_argument("--save-release", type=Path, default=None, help="Write the sampled release here.")
    parser.add_argument("--out", default=str(ROOT / "evaluation" / "results" / "judge_scale.json"))
    args = parser.parse_args(argv)

    from synthgen.judge import evaluate
    from synthgen.pipeline import apply_overrides, prepare_data
    from synthgen.recipe import load_recipe

    recipe = apply_overrides(load_recipe(args.recipe), device=args.device)
    train, holdout, schema = prepare_data(recipe)
    synthetic, made = release(recipe, max(args.sizes), args.seed, args.release, args.save_release)
    runs = []
    for size in sorted(args.sizes):
        start = time.perf_counter()
        report = evaluate(
            train, holdout, synthetic.iloc[:size], schema, recipe.evaluate, recipe.gates, device=args.device
        )
        wall = time.perf_counter() - start
        checks = {c.name: [c.status, c.value, c.threshold] for c in report.gate.checks if c.name in MEMORISATION_CHECKS}
        row = {
            "released_rows": size,
            "evaluate_s": round(wall, 1),
            "parts_s": report.run.timings_s,
            "privacy_laps_s": report.privacy.timings_s,
            "passed": report.passed,
            "failing": report.gate.failing,
            "checks": checks,
        }
        print(row, flush=True)
        runs.append(row)
    body = {
        "recipe": args.recipe,
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "release": made,
        "runs": runs,
    }
    write_results(args.out, body, command=command_line("evaluation.judge_scale", argv), device=args.device)
    return body


if __name__ == "__main__":
    main()
