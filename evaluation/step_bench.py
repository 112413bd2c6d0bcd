"""The diffusion model's CPU cost per training step and per sampled row, on the shared recipes, with an
older checkout beside it in the same run.

    python -m evaluation.step_bench [--recipes recipes/german_credit.yaml recipes/credit_risk_ddpm.yaml]
        [--steps 150] [--rows 5000] [--repeats 3] [--baseline DIR] [--out evaluation/results/step_bench.json]
    (or: python -m evaluation.run --job step ...)

Each measurement is a fresh interpreter that fits the recipe's generator settings for ``--steps`` steps
on its training split (``train_seconds_ / steps_done_``: the training loop only, no preparation), then
samples ``--rows`` rows (rows/s, at the recipe's sampling steps). ``--baseline DIR`` names another
checkout (``git worktree add DIR COMMIT``) run the same way, alternating with this one, so that the
ratio of the two is measured under the same load; medians of ``--repeats`` are reported. One-off
timings on a 2-core VM vary by a third: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RECIPES = ("recipes/german_credit.yaml", "recipes/credit_risk_ddpm.yaml")


def child(recipe: str, steps: int, rows: int) -> dict[str, Any]:
    """In a fresh process: one fit of ``steps`` steps and one draw of ``rows`` rows, timed."""
    import time

    import synthgen
    from synthgen.pipeline import apply_overrides, prepare_data
    from synthgen.recipe import load_recipe

    loaded = apply_overrides(load_recipe(ROOT / recipe), device="cpu")
    train, _, schema = prepare_data(loaded)
    config = loaded.generator.model_copy(update={"steps": steps, "max_epochs": None, "max_minutes": None})
    model = synthgen.DDPM(config).fit(train, schema)
    started = time.perf_counter()
    model.sample(rows, seed=0)
    sample_s = time.perf_counter() - started
    return {
        "source": str(Path(synthgen.__file__).parents[1]),
        "ms_per_step": round(model.train_seconds_ / model.steps_done_ * 1000, 2),
        "sample_rows_per_s": round(rows / sample_s),
        "train_rows": len(train),
        "sampling_steps": config.sampling_steps,
    }


def run_child(source: Path, recipe: str, steps: int, rows: int) -> dict[str, Any]:
    from evaluation.results import run_checkout

    return run_checkout(__file__, source, ["--child", "--recipes", recipe, "--steps", steps, "--rows", rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evaluation.step_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=list(DEFAULT_RECIPES))
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="Another checkout, timed alternately with this one.")
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "step_bench.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.recipes[0], args.steps, args.rows)))
        return

    from evaluation.results import command_line, write_results

    sources = {"current": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    body: dict[str, Any] = {"steps": args.steps, "rows": args.rows, "repeats": args.repeats, "recipes": {}}
    for recipe in args.recipes:
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
        for _ in range(args.repeats):
            for name, source in sources.items():
                runs[name].append(run_child(source, recipe, args.steps, args.rows))
        figures = {
            name: {
                "ms_per_step": statistics.median(run["ms_per_step"] for run in done),
                "sample_rows_per_s": statistics.median(run["sample_rows_per_s"] for run in done),
                "runs": done,
            }
            for name, done in runs.items()
        }
        if "baseline" in figures:
            current, baseline = figures["current"], figures["baseline"]
            figures["step_time_ratio"] = round(current["ms_per_step"] / baseline["ms_per_step"], 3)
            figures["sampling_speed_ratio"] = round(current["sample_rows_per_s"] / baseline["sample_rows_per_s"], 3)
        body["recipes"][recipe] = figures
        print(recipe, json.dumps({k: v for k, v in figures.items() if k not in ("current", "baseline")}))
    body["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    write_results(args.out, body, command=command_line("evaluation.step_bench", argv))


if __name__ == "__main__":
    main()
