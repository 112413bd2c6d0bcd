"""Conditioned sampling under constraints: speed against plain sampling, and fidelity against the real rows
that meet the same conditions (issue 13).

    python -m evaluation.conditional_bench [--recipes recipes/credit_risk_ddpm.yaml recipes/lending_club.yaml]
        [--rows 20000] [--minutes 3] [--out evaluation/results/conditional_bench.json]
    (or: python -m evaluation.run --job conditional ...)

Per recipe, on any table: the diffusion model is trained on the recipe's training split (its settings,
training capped at ``--minutes``) with the recipe's constraints, or, where it has none, the first two
inequalities `synthgen inspect` proposes. The conditions are generic: the target's rarest class and the
top quartile of the numeric column with the most distinct values that no constraint names. Figures,
measured in one process:

- rows/s of plain sampling (constraints decoded and checked), of the generator's raw draw (nothing
  decoded or checked), of the conditioned sample, of the target condition alone, and of seed rows
  holding that column at real values: the median of ``--repeats`` runs of each, interleaved;
- sdmetrics' shape and trend of the conditioned rows against the real training rows meeting the same
  conditions, beside the same figures for plain rows filtered to the conditions afterwards (what
  rejection sampling of the model gives, the exact conditional of the model);
- each constraint's violation rate in the real rows and in every output;
- with `sdv` installed (``pip install 'synthgen[bench]'``; ``--sdv none`` skips it), the same in one run
  for SDV's ``sample_from_conditions``: its GaussianCopula (SDV's default synthesizer) fitted with the
  equivalent constraints (inequality -> ``Inequality``, fixed_combinations -> ``FixedCombinations``;
  expression and unique have no SDV equivalent and are listed as left out). SDV conditions hold exact
  values only, so the target condition goes to ``sample_from_conditions`` and the numeric range is
  reached the way an SDV user must: more conditioned batches, filtered, until enough rows (at most
  `SDV_ROUNDS` rounds); synthgen's target-only conditioned rows/s are measured beside it.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from evaluation.results import command_line, write_results

ROOT = Path(__file__).resolve().parents[1]


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, schema) -> dict[str, float]:
    from evaluation.bench_ctgan import quality as sdmetrics_quality

    columns = [c.name for c in schema.modelled]
    return {k: round(v, 4) for k, v in sdmetrics_quality(real[columns], synthetic[columns], schema).items()}


def proposed(train: pd.DataFrame, schema, count: int = 2) -> list[dict]:
    """The first ``count`` inequalities `synthgen inspect` proposes, as recipe specs."""
    from synthgen.proposals import propose_constraints

    specs = []
    for line in propose_constraints(train, schema):
        spec = yaml.safe_load(line.lstrip("#").strip().split("   #")[0].lstrip("- "))
        if spec.get("type") == "inequality":
            specs.append(spec)
    return specs[:count]


def timed(fn) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


SDV_ROUNDS = 20


def sdv_constraints(specs: list[dict]) -> tuple[list, list[dict]]:
    """The recipe's constraints as SDV 2 CAG objects, and the ones SDV has no equivalent for."""
    from sdv.cag import FixedCombinations, Inequality

    objects, left_out = [], []
    for spec in specs:
        if spec["type"] == "inequality":
            objects.append(Inequality(spec["low"], spec["high"], strict_boundaries=bool(spec.get("strict"))))
        elif spec["type"] == "fixed_combinations":
            objects.append(FixedCombinations(list(spec["columns"])))
        else:
            left_out.append(spec)
    return objects, left_out


def sdv_conditional(
    train: pd.DataFrame,
    real: pd.DataFrame,
    schema,
    specs: list[dict],
    conditions: dict,
    rows: int,
    meets,
    seed: int = 0,
) -> dict:
    """SDV's GaussianCopula with the equivalent constraints: fit, then conditioned sampling (see module doc)."""
    from sdv.metadata import Metadata
    from sdv.sampling import Condition
    from sdv.single_table import GaussianCopulaSynthesizer

    data = train[[c.name for c in schema.modelled]].copy()
    numbers = [c.name for c in schema.modelled if c.kind.value in ("numeric", "integer")]
    for name in numbers:  # plain numbers kept as source text (to be written back exactly) given as numbers,
        parsed = pd.to_numeric(data[name], errors="coerce")  # as pandas reads them for an SDV user
        if parsed.isna().sum() == data[name].isna().sum():
            data[name] = parsed
    metadata = Metadata.detect_from_dataframes({"table": data})
    for column in schema.modelled:  # SDV guesses (numbers as categories, zip prefixes as PII): our kinds
        if column.name in numbers and pd.api.types.is_numeric_dtype(data[column.name]):
            metadata.update_column(column_name=column.name, table_name="table", sdtype="numerical")
        elif column.kind.value in ("categorical", "boolean"):
            metadata.update_column(column_name=column.name, table_name="table", sdtype="categorical")
    synthesizer = GaussianCopulaSynthesizer(metadata)
    objects, left_out = sdv_constraints(specs)
    if objects:
        synthesizer.add_constraints(objects)
    np.random.seed(seed)
    fit_s, _ = timed(lambda: synthesizer.fit({"table": data}))  # SDV 2: one named table
    target = schema.target
    exact = {target: real[target].iloc[0]}  # the condition's class, as the real rows spell it
    out: dict = {"synthesizer": "sdv GaussianCopulaSynthesizer", "fit_s": round(fit_s, 1), "left_out": left_out}

    def conditioned(n: int) -> pd.DataFrame:
        out = synthesizer.sample_from_conditions([Condition(column_values=exact, num_rows=n)])
        return out["table"] if isinstance(out, dict) else out

    speed = []
    s, frame = timed(lambda: conditioned(rows))
    speed.append(
        {"case": "target condition", "rows": len(frame), "seconds": round(s, 2), "rows_per_s": round(len(frame) / s)}
    )

    def with_range() -> tuple[pd.DataFrame, int]:
        kept, rounds = [], 0
        while sum(len(k) for k in kept) < rows and rounds < SDV_ROUNDS:
            batch = conditioned(rows)
            kept.append(batch[meets(batch, conditions)])
            rounds += 1
        return pd.concat(kept, ignore_index=True).head(rows), rounds

    s, (full, rounds) = timed(with_range)
    speed.append(
        {
            "case": "all conditions (range by filtering conditioned batches)",
            "rows": len(full),
            "rounds": rounds,
            "seconds": round(s, 2),
            "rows_per_s": round(len(full) / s),
        }
    )
    out["speed"] = speed
    if len(full):
        out["fidelity_vs_real_meeting_conditions"] = quality(real, full, schema) | {"rows": len(full)}
    return out


def run_recipe(path: Path, rows: int, minutes: float, sdv: bool = True, repeats: int = 3) -> dict:
    from synthgen.constraints import ConstraintSet
    from synthgen.models.configs import generator_type
    from synthgen.pipeline import prepare_data
    from synthgen.recipe import load_recipe
    from synthgen.sampling import Columns

    recipe = load_recipe(path)
    train, holdout, schema = prepare_data(recipe)
    specs = [c.model_dump(mode="json") for c in recipe.constraints] or proposed(train, schema)
    constraints = ConstraintSet(_specs(specs), schema).fit(train)
    config = recipe.generator.model_copy(update={"max_minutes": minutes, "device": "cpu"})
    seconds, model = timed(
        lambda: generator_type(config.type).load()(config).fit(train, schema, constraints=constraints)
    )
    constrained = {n for spec in specs for n in (spec.get("low"), spec.get("high"), *spec.get("columns", [])) if n}
    free = [c.name for c in schema.modelled if c.kind.value in ("numeric", "integer") and c.name not in constrained]
    numeric = max(free, key=lambda name: train[name].nunique())  # the most continuous column the rules leave free
    target = schema.target
    rare = train[target].value_counts().idxmin()
    numbers = Columns(schema, model._encoders()).codec(numeric).to_float(train[numeric].reset_index(drop=True))
    low = float(np.nanquantile(numbers, 0.75))
    conditions = {target: rare, numeric: {"min": low}}
    wanted = model.meets(train, conditions)
    real = train[wanted].reset_index(drop=True)

    model.sample(500, seed=0)  # warm-up
    out: dict = {
        "recipe": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
        "train_rows": len(train),
        "fit_s": round(seconds, 1),
        "constraints": specs,
        "conditions": {target: str(rare), numeric: {"min": low}},
        "real_rows_meeting_conditions": len(real),
        "real_violation_rates": constraints.violation_rates(train),
    }
    cases = {
        "plain": lambda: model.sample(rows, seed=1),
        "raw draw (no decoding or checks)": lambda: model._sample(rows, 1),
        "conditioned": lambda: model.sample(rows, seed=1, conditions=conditions),
        "target condition only": lambda: model.sample(rows, seed=1, conditions={target: rare}),
        "seed rows (holding the column)": lambda: model.sample(
            holdout[[numeric]].sample(rows, replace=True, random_state=0).reset_index(drop=True), seed=1
        ),
    }
    frames, seconds = {}, {name: [] for name in cases}
    for _ in range(repeats):  # interleaved, so that a slow spell of a shared machine hits every case alike
        for name, fn in cases.items():
            s, frames[name] = timed(fn)
            seconds[name].append(s)
    speed = []
    for name, times in seconds.items():
        s = statistics.median(times)
        speed.append(
            {
                "case": name,
                "rows": len(frames[name]),
                "seconds": round(s, 2),
                "seconds_each_repeat": [round(t, 2) for t in times],
                "rows_per_s": round(len(frames[name]) / s),
            }
        )
        print(path.stem, speed[-1], flush=True)
    plain = speed[0]["rows_per_s"]
    for row in speed:
        row["ratio_to_plain"] = round(row["rows_per_s"] / plain, 3)
    out["speed"] = speed
    out["output_violation_rates"] = {
        name: constraints.violation_rates(frame) for name, frame in frames.items() if name.startswith(("plain", "cond"))
    }
    filtered = frames["plain"][model.meets(frames["plain"], conditions)].reset_index(drop=True)
    out["fidelity_vs_real_meeting_conditions"] = {
        "conditioned sample": quality(real, frames["conditioned"], schema),
        "plain sample filtered to the conditions": quality(real, filtered, schema) | {"rows": len(filtered)},
    }
    print(path.stem, out["fidelity_vs_real_meeting_conditions"], flush=True)
    if sdv:
        try:
            out["sdv"] = sdv_conditional(train, real, schema, specs, conditions, rows, model.meets)
        except Exception as exc:  # a peer failing must not cost synthgen's figures
            out["sdv"] = {"error": f"{type(exc).__name__}: {exc}"}
            print(path.stem, out["sdv"], flush=True)
            return out
        ours = {row["case"]: row["rows_per_s"] for row in speed}
        same = {"target condition": "target condition only", "all conditions": "conditioned"}
        for row in out["sdv"]["speed"]:
            row["synthgen_rows_per_s"] = ours[same[row["case"].split(" (")[0]]]
        print(path.stem, out["sdv"], flush=True)
    return out


def _specs(specs: list[dict]) -> list:
    from pydantic import TypeAdapter

    from synthgen.constraints import ConstraintSpec

    return [TypeAdapter(ConstraintSpec).validate_python(spec) for spec in specs]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m evaluation.conditional_bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--recipes",
        type=Path,
        nargs="+",
        default=[ROOT / "recipes" / "credit_risk_ddpm.yaml", ROOT / "recipes" / "lending_club.yaml"],
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--minutes", type=float, default=3.0, help="Training budget per model (CPU).")
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs of each case (median reported).")
    parser.add_argument("--out", default=str(ROOT / "evaluation" / "results" / "conditional_bench.json"))
    parser.add_argument(
        "--sdv", choices=["auto", "none"], default="auto", help="Compare with SDV when it is installed (default)."
    )
    args = parser.parse_args(argv)
    sdv = args.sdv == "auto" and importlib.util.find_spec("sdv") is not None
    body = {
        "rows": args.rows,
        "minutes": args.minutes,
        "sdv": sdv,
        "repeats": args.repeats,
        "recipes": [run_recipe(p, args.rows, args.minutes, sdv=sdv, repeats=args.repeats) for p in args.recipes],
    }
    write_results(args.out, body, command=command_line("evaluation.conditional_bench", argv))
    return body


if __name__ == "__main__":
    main()
