"""`generate_shards`: `generate` for releases too large for one table in memory, as gated Parquet parts.

recipe -> data -> split -> model (trained or reused) -> parts drawn by (seed, shard) into a staging
folder (`synthgen.shards`) -> every part judged against the training rows, the rest of the gate on a
seeded sample (`synthgen.judge.release_gate`) -> the folder published with its manifest only if the
gate passed. A refused release leaves nothing but its report; ``force_release`` publishes it marked
NOT RELEASED, as `generate` does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthgen._version import __version__
from synthgen.errors import GateFailedError, InputError
from synthgen.files import ensure_writable_dir
from synthgen.io import read_table
from synthgen.pipeline import (
    check_targets,
    exclude_real_pii,
    fit_model,
    prepare_data,
    refuse_torchrun,
    release_rows,
    reusable_model,
    sampling_seed,
)
from synthgen.progress import ProgressCallback, Stage, open_progress
from synthgen.recipe import Recipe
from synthgen.shards import release_target, sample_shards
from synthgen.streamed_judging import real_hashes
from synthgen.threads import use_threads

if TYPE_CHECKING:
    from synthgen.judge.report import EvaluationReport
    from synthgen.schema import TableSchema


def sharded_report_dir(output: Path) -> Path:
    """``<folder>_report`` beside the release folder, from its whole name (``release.v1`` and ``release.v2``
    get reports of their own, and none is the report of a CSV release ``release.csv``)."""
    return output.parent / f"{output.name}_report"


def refuse_pii_on_ray(schema: TableSchema, label: str) -> None:
    """A release drawn on Ray actors cannot keep real PII out of its rows (`synthgen.shards.sample_shards`
    never sends those values off this machine): refuse a table that has any, naming the columns."""
    from synthgen.unmodelled import pii_columns

    columns = pii_columns(schema)
    if columns:
        raise InputError(
            f"{label}: column(s) {', '.join(map(repr, columns))} hold PII or random ids whose real values no released "
            "row may repeat; synthgen keeps those values on this machine and does not send them to Ray actors: "
            "draw this release with --workers instead of --ray"
        )


@dataclass
class ShardedResult:
    """What `generate_shards` did; returned only when the folder was published (a refused gate raises
    `GateFailedError` unless ``force_release``). ``manifest`` is the published ``manifest.json``."""

    output: Path
    rows: int
    shards: int
    model_path: Path
    reused_model: bool
    released: bool
    fit_seconds: float
    sample_seconds: float
    evaluate_seconds: float
    report: EvaluationReport
    report_dir: Path
    manifest: dict[str, Any]


def generate_shards(
    recipe: Recipe,
    shards: int,
    rows: int | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    seed: int | None = None,
    retrain: bool = False,
    force_release: bool = False,
    progress: bool | ProgressCallback | None = None,
    conditions: dict[str, Any] | None = None,
    sample_rows: int | None = None,
    ray: bool | str | None = None,
) -> ShardedResult:
    """Train (or reuse) the recipe's model, draw ``rows`` rows as ``shards`` Parquet parts on ``workers``
    processes, judge them, and publish the folder ``out`` (default: the recipe's output path with ``_shards``
    in place of its suffix: ``out/x.csv`` -> ``out/x_shards``) only if the gate passes.

    Every released row goes through the record checks (verbatim records, near-copies, exposed records),
    part by part and merged; fidelity, utility, the attacks and the share checks judge ``sample_rows``
    rows (default: as many as the real rows judged against) drawn uniformly over the release. The report
    goes to ``<out>_report`` (from the folder's whole name: ``release.v1`` -> ``release.v1_report``); the
    manifest's ``gate`` section holds the verdict, each part's record figures and the sample's seed and size.

    ``ray`` draws the parts on ``workers`` Ray actors (`synthgen.ray_shards`: True or "local", or a cluster's
    address); the parts come back to this machine, which judges them. A table with PII or random-id columns
    is refused there, before any training: their real values, which no released row may repeat, stay on this
    machine and are never sent to actors.
    """
    from synthgen.judge.release_gate import evaluate_release
    from synthgen.judge.report import write_report

    refuse_torchrun("generate --shards")
    if recipe.generate.rebalance:
        raise InputError(
            f"{recipe.label}: generate.rebalance is not supported with shards; draw the release with conditions "
            "(--where) or without shards"
        )
    for name, value in (("shards", shards), ("workers", workers), ("sample_rows", sample_rows)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    output = Path(out) if out is not None else recipe.output_path.with_name(f"{recipe.output_path.stem}_shards")
    if output.suffix.lower() in (".csv", ".parquet"):
        raise InputError(f"--out {output}: a sharded release is a folder of parts; give a folder, not a file name")
    check_targets(recipe, recipe.model_path, output)
    release_target(output)  # a folder of the user's is refused before any work, not after training
    report_dir = ensure_writable_dir(sharded_report_dir(output))
    if ray is not None and ray is not False:
        from synthgen.ray_shards import import_ray

        import_ray()  # a missing Ray is refused before any work
    train, holdout, schema = prepare_data(recipe)
    if ray is not None and ray is not False:
        refuse_pii_on_ray(schema, recipe.label)
    n_rows = release_rows(recipe, rows, len(train) + len(holdout))
    if shards > n_rows:
        raise InputError(f"{shards} shards for {n_rows} rows would leave shards empty; give at most {n_rows} shards")
    threads = use_threads(recipe.threads)
    wanted = {**recipe.generate.conditions, **(conditions or {})}
    early = None if wanted else real_hashes(recipe, schema)  # before training, as `generate` does
    timings = {"sample": 0.0, "evaluate": 0.0}
    kept: dict[str, Any] = {}
    with open_progress(progress) as emit:
        started = time.perf_counter()
        model = None if retrain else reusable_model(recipe, recipe.model_path)
        reused = model is not None
        if model is None:
            model, _ = fit_model(recipe, train, schema, progress=emit if emit is not None else False)
        fit_seconds = time.perf_counter() - started
        # The source's real PII values, which no released row may carry (`generate` does the same); the
        # workers get them in memory, never on disk.
        exclude_real_pii(recipe, model, train, holdout)
        hashes = early  # a streamed source: every real row's record (those meeting the conditions)
        if wanted:
            train, holdout = (frame[model.meets(frame, wanted)].reset_index(drop=True) for frame in (train, holdout))
            hashes = real_hashes(recipe, schema, wanted, model)
        judged_rows = sample_rows or len(train) + len(holdout)  # as many as the real rows it is judged against
        sample_seed = sampling_seed(recipe, seed)
        drawing = None if emit is None else Stage(emit, "sample", "sample", "rows", total=n_rows)
        started = time.perf_counter()
        settings = recipe.evaluate.model_copy(update={"n_jobs": recipe.evaluate.n_jobs or threads})

        def judge(staging: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
            timings["sample"] = time.perf_counter() - started
            if drawing is not None:
                drawing.finish()
            begun = time.perf_counter()
            stage = None if emit is None else Stage(emit, "evaluate", "gate", "parts", total=len(records) + 1)
            evaluation = evaluate_release(
                train,
                holdout,
                [(record["rows"], partial(read_table, staging / record["file"])) for record in records],
                schema,
                settings=settings,
                gates=recipe.gates,
                device=recipe.generator.device,
                sample_rows=judged_rows,
                sample_seed=settings.seed,
                workers=workers,
                real_hashes=hashes,
                on_part=None if stage is None else lambda verdict: stage.update(verdict.index + 1, detail="records"),
            )
            for record, verdict in zip(records, evaluation.parts):
                record["gate"] = {"passed": verdict.passed, "failing": verdict.failing, **verdict.figures}
            passed = evaluation.passed
            metadata = {
                "synthgen_version": __version__,
                "recipe": str(recipe.path) if recipe.path else recipe.name,
                "recipe_fingerprint": recipe.fingerprint(),
                "model": str(recipe.model_path),
                "release": str(output),
                "rows": n_rows,
                "shards": len(records),
                "seed": sample_seed,
                "released": passed,
                "status": "released" if passed else "NOT RELEASED: gate failed",
            }
            write_report(evaluation.report, report_dir, extra_metadata=metadata)
            kept["report"] = evaluation.report
            timings["evaluate"] = time.perf_counter() - begun
            gate = evaluation.report.gate
            if stage is not None:
                stage.finish(detail="gate passed" if passed else "gate failed: " + ", ".join(gate.failing))
            if not passed and not force_release:
                raise GateFailedError(
                    f"release gate failed for {recipe.label} ({', '.join(gate.failing)}); nothing was published to "
                    f"{output}; report: {report_dir}",
                    report=evaluation.report,
                )
            return {
                "status": "passed" if passed else "failed",
                "released": passed,
                "published_by": "release gate" if passed else "force_release (NOT RELEASED)",
                "failing": list(gate.failing),
                "parts_failing": evaluation.failing_parts,
                "record_checks": "every released row, part by part against the training rows, merged",
                "sample": {"rows": evaluation.sample_rows, "seed": settings.seed, "checks": "all other checks"},
                "checks": [
                    {"name": c.name, "value": c.value, "threshold": c.threshold, "status": c.status}
                    for c in gate.checks
                ],
                "report": str(report_dir / "report.json"),
            }

        manifest = sample_shards(
            recipe.model_path,
            n_rows,
            shards,
            output,
            seed=sample_seed,
            workers=workers,
            device=recipe.generator.device,
            conditions=wanted,
            on_shard=None if drawing is None else lambda record: drawing.advance(record["rows"]),
            gate=judge,
            exclude_pii=model.pii_exclude_,
            ray=ray,
        )
    return ShardedResult(
        output=output,
        rows=manifest["rows"],
        shards=manifest["shards"],
        model_path=recipe.model_path,
        reused_model=reused,
        released=manifest["gate"]["released"],
        fit_seconds=fit_seconds,
        sample_seconds=timings["sample"],
        evaluate_seconds=timings["evaluate"],
        report=kept["report"],
        report_dir=report_dir,
        manifest=manifest,
    )
