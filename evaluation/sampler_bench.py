"""The diffusion model's sampling trade-off: quality and rows/s per solver, step count and guidance (issue 15).

    python -m evaluation.sampler_bench [--recipes recipes/german_credit.yaml recipes/credit_risk_ddpm.yaml]
        [--settings ddim:50 dpm++2m-sde:10 ...] [--minutes 3] [--speed-rows 20000] [--seeds 0]
        [--device cpu|cuda] [--sample-batch ROWS] [--set NAME=VALUE ...]
        [--out evaluation/results/sampler_bench.json]
    (or: python -m evaluation.run --job sampler ...)

Per recipe and seed, one model is trained on the recipe's training split with the recipe's generator
settings (``max_minutes`` at most ``--minutes``; constraints and conditions left out: plain sampling is
what is measured; ``--set`` changes any generator setting, e.g. ``--set rare_level_rows=10``
or ``--set label_dropout=0.1``), then every setting
``SOLVER:STEPS[:GUIDANCE]`` samples from that same model (GUIDANCE: classifier-free guidance weight, 0 by
default; a weight above 0 needs ``--set label_dropout=...``):

- as many rows as the training split, judged by synthgen's evaluation suite with its default settings
  (shape, trend, detection AUC, TSTR against TRTR, DCR share, MIA AUC upper bound, gate);
- ``--speed-rows`` rows timed alone (rows/s, the whole `Generator.sample` call: denoising and decoding).

So a row of the table differs from another only by how the model was sampled.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SETTINGS = ("ddim:50", "ddim:10", "dpm++2m-sde:15", "dpm++2m-sde:10", "dpm++2m-sde:8", "dpm++2m-sde:5")
FIGURES = (
    "shape",
    "trend",
    "detection_auc",
    "tstr_ratio",
    "tstr_auc",
    "dcr_share",
    "mia_auc_upper",
    "gate_passed",
    "gate_failing",
)


def run_recipe(
    recipe: Path,
    settings: list[str],
    minutes: float,
    speed_rows: int,
    seed: int,
    device: str = "cpu",
    sample_batch: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    import synthgen
    from synthgen.pipeline import apply_overrides, prepare_data
    from synthgen.recipe import load_recipe

    loaded = apply_overrides(load_recipe(recipe), device=device)
    train, holdout, schema = prepare_data(loaded)
    budget = min(minutes, loaded.generator.max_minutes or minutes)
    update = {"max_minutes": budget, "seed": seed}
    if sample_batch is not None:
        update["sample_batch"] = sample_batch
    # validated as a recipe's generator block would be
    config = type(loaded.generator).model_validate({**loaded.generator.model_dump(), **update, **(overrides or {})})
    started = time.perf_counter()
    model = synthgen.DDPM(config).fit(train, schema)
    result: dict[str, Any] = {
        "seed": seed,
        "fit_s": round(time.perf_counter() - started, 1),
        "steps_done": model.steps_done_,
        "train_rows": len(train),
        "device": device,
        "sample_batch": config.sample_batch,
        "overrides": overrides or {},
        "settings": {},
    }
    for setting in settings:
        solver, steps, *guidance = setting.split(":")
        options = {"solver": solver, "sampling_steps": int(steps), "guidance": float(guidance[0]) if guidance else 0.0}
        rows = model.sample(len(train), seed=seed + 1, **options)
        summary = synthgen.evaluate(train, holdout, rows, schema, device="cpu").summary()
        with _Stopwatch(model) as watch:
            model.sample(speed_rows, seed=seed + 2, **options)
        figures = {name: summary.get(name) for name in FIGURES}
        result["settings"][setting] = {**figures, "sample_rows_per_s": round(speed_rows / watch.total), **watch.split()}
        print(recipe.name, seed, setting, json.dumps(result["settings"][setting]), flush=True)
    return result


class _Stopwatch:
    """Times one `sample` call and, inside it, the denoising and the decoding (`inverse_compact`), by wrapping
    the two on this model instance while the block runs. The rest is what `sample` does around them: the
    columns not modelled (PII, constants), constraints, the row checks."""

    def __init__(self, model: Any) -> None:
        self.model, self.total, self.inner, self.decode = model, 0.0, 0.0, 0.0

    def __enter__(self) -> _Stopwatch:
        transformer = self.model.transformer_
        self.model._sample = self._timed(self.model._sample, "inner")
        transformer.inverse_compact = self._timed(transformer.inverse_compact, "decode")
        self.started = time.perf_counter()
        return self

    def _timed(self, function: Any, slot: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                setattr(self, slot, getattr(self, slot) + time.perf_counter() - started)

        return timed

    def __exit__(self, *exc: Any) -> None:
        self.total = time.perf_counter() - self.started
        del self.model._sample, self.model.transformer_.inverse_compact

    def split(self) -> dict[str, float]:
        """Seconds of the call: denoising, decoding to the table's values, and everything else."""
        return {
            "sample_s": round(self.total, 3),
            "denoise_s": round(self.inner - self.decode, 3),
            "decode_s": round(self.decode, 3),
            "other_s": round(self.total - self.inner, 3),
        }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m evaluation.sampler_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["recipes/german_credit.yaml", "recipes/credit_risk_ddpm.yaml"])
    parser.add_argument(
        "--settings",
        nargs="+",
        default=list(DEFAULT_SETTINGS),
        help="SOLVER:STEPS[:GUIDANCE], e.g. dpm++2m-sde:10 or dpm++2m-sde:15:1.0",
    )
    parser.add_argument("--minutes", type=float, default=3.0, help="Training budget per model (at most).")
    parser.add_argument("--speed-rows", type=int, default=20_000)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--sample-batch", type=int, help="Rows denoised at once (default: the recipe's).")
    parser.add_argument(
        "--set", nargs="+", default=[], metavar="NAME=VALUE", help="Other generator settings (YAML values)."
    )
    parser.add_argument("--out", type=Path, default=ROOT / "evaluation" / "results" / "sampler_bench.json")
    args = parser.parse_args(argv)

    import yaml

    from evaluation.results import command_line, write_results

    overrides = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set takes NAME=VALUE, got {item!r}")
        overrides[name] = yaml.safe_load(value)

    body: dict[str, Any] = {"settings": args.settings, "speed_rows": args.speed_rows, "recipes": {}}
    for recipe in args.recipes:
        runs = body["recipes"][recipe] = []
        for seed in args.seeds:  # written after each model, so a run cut short keeps what it measured
            runs.append(
                run_recipe(
                    ROOT / recipe,
                    args.settings,
                    args.minutes,
                    args.speed_rows,
                    seed,
                    args.device,
                    args.sample_batch,
                    overrides,
                )
            )
            write_results(args.out, body, command=command_line("evaluation.sampler_bench", argv))
    return body


if __name__ == "__main__":
    main()
