"""`generate`: recipe -> data -> schema -> split -> model (trained or reused) -> sample -> judge -> write.

Nothing else lives here. The holdout is cut before training and never seen by the model, so the
judge can compare members with non-members. Output is written only after the gate passes (or when
the caller explicitly forces a release, which the sidecar then records as NOT RELEASED).
Command-line overrides enter through `apply_overrides`, once, before any of these functions sees the
recipe; the sampling seed is decided by `sampling_seed`.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from synthgen._version import __version__
from synthgen.artifacts import ModelFiles, check_model_target, load_model_dir
from synthgen.constraints import ConstraintSet
from synthgen.datacheck import MIN_HOLDOUT_ROWS, check_learnable, clean_non_finite
from synthgen.datasets import builtin_path
from synthgen.errors import DataError, GateFailedError, InputError, ModelFileError
from synthgen.files import ensure_writable, ensure_writable_dir, file_sha256
from synthgen.io import read_table, write_json, write_table
from synthgen.models.configs import generator_type
from synthgen.progress import FitProgress, ProgressCallback, Stage, open_progress
from synthgen.recipe import Recipe, RecipeWarning
from synthgen.schema import TableSchema, infer_schema
from synthgen.sources import SAMPLE_ROWS, ParquetSource, Part, is_glob, is_streamed
from synthgen.threads import use_threads

if TYPE_CHECKING:
    from synthgen.distributed import Dist
    from synthgen.models.base import Generator


# -- data ----------------------------------------------------------------------------------------
def source_path(recipe: Recipe) -> Path:
    if recipe.source.builtin is not None:
        return builtin_path(recipe.source.builtin)
    return recipe.resolve(recipe.source.path or "")


def is_streamed_source(recipe: Recipe) -> bool:
    """Whether the recipe's source is a Parquet dataset read in record batches (`synthgen.sources.is_streamed`:
    a directory, a glob, or a Parquet file over `synthgen.sources.STREAM_FILE_BYTES`) rather than whole."""
    return recipe.source.path is not None and is_streamed(source_path(recipe))


def open_source(recipe: Recipe) -> ParquetSource:
    """The recipe's streamed source, each batch checked for non-finite numbers as `load_source` checks a table."""
    path = source_path(recipe)
    declared = recipe.schema_.columns
    return ParquetSource(path, prepare=lambda frame: clean_non_finite(frame, declared, str(path)))


def sample_rows(recipe: Recipe) -> int:
    """Rows of the uniform sample of a streamed source's training part that the schema, the column statistics
    and the judge see (``source.sample_rows``, default `synthgen.sources.SAMPLE_ROWS`)."""
    return recipe.source.sample_rows or SAMPLE_ROWS


def stream_parts(recipe: Recipe) -> tuple[Part, Part]:
    """(training part, holdout part) of a streamed source: a seeded per-row draw (`synthgen.sources.Part`)."""
    share, seed = recipe.split.holdout, recipe.split.seed
    return Part(share, seed, holdout=False), Part(share, seed, holdout=True)


def load_source(recipe: Recipe) -> pd.DataFrame:
    """The source table, with non-finite numbers refused (or made missing where the recipe says so). For a
    streamed source, a seeded uniform sample of `synthgen.sources.SAMPLE_ROWS` rows of it."""
    path = source_path(recipe)
    if is_streamed_source(recipe):
        return open_source(recipe).reservoir(sample_rows(recipe), seed=recipe.split.seed)
    if not path.exists():
        raise DataError(f"{recipe.label}: source file {path} not found")
    return clean_non_finite(read_table(path), recipe.schema_.columns, str(path))


def resolve_schema(recipe: Recipe, data: pd.DataFrame) -> TableSchema:
    return infer_schema(
        data, declared=recipe.schema_.columns, target=recipe.schema_.target, source=str(source_path(recipe))
    )


def split_holdout(
    data: pd.DataFrame, fraction: float, seed: int, schema: TableSchema
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded split, stratified on a discrete target so both parts keep its class balance."""
    rng = np.random.default_rng(seed)
    target = schema.target
    if target is not None and schema[target].kind.is_discrete:
        groups = data.groupby(data[target].astype(str), sort=True).indices.values()
    else:
        groups = [np.arange(len(data))]
    held: list[np.ndarray] = []
    for rows in groups:
        rows = rng.permutation(rows)
        held.append(rows[: int(round(len(rows) * fraction))])
    holdout_rows = np.sort(np.concatenate(held))
    mask = np.zeros(len(data), dtype=bool)
    mask[holdout_rows] = True
    train, holdout = data[~mask].reset_index(drop=True), data[mask].reset_index(drop=True)
    if len(train) < 2 or len(holdout) < 1:
        raise DataError(f"the table has {len(data)} rows: too few to hold out {fraction:.0%} and still train")
    return train, holdout


# -- models --------------------------------------------------------------------------------------
def apply_overrides(recipe: Recipe, epochs: int | None = None, device: str | None = None) -> Recipe:
    """The recipe with command-line overrides of its generator block: the one route by which the
    command line (and the keyword options of `synthgen.generate` / `synthgen.train`) change a recipe."""
    update: dict[str, Any] = {}
    if epochs is not None:
        fields = type(recipe.generator).model_fields
        # CTGAN counts epochs; the diffusion model counts steps, capped at max_epochs passes.
        key = "epochs" if "epochs" in fields else "max_epochs" if "max_epochs" in fields else None
        if key is None:
            raise InputError(f"--epochs does not apply to generator type {recipe.generator.type!r}")
        update[key] = epochs
    if device is not None:
        update["device"] = device
    if not update:
        return recipe
    try:
        generator = type(recipe.generator).model_validate({**recipe.generator.model_dump(), **update})
    except ValidationError as exc:
        problems = "; ".join(
            f"--{'.'.join(map(str, e['loc'])).replace('max_epochs', 'epochs')}: {e['msg']}" for e in exc.errors()
        )
        raise InputError(f"invalid command-line override: {problems}") from None
    changed = recipe.model_copy(update={"generator": generator})
    changed._path = recipe.path
    return changed


def sampling_seed(recipe: Recipe, seed: int | None = None) -> int:
    """The seed a release is sampled with: the caller's, else the recipe's ``generate.seed``, else the
    generator's training seed. Decided here only, and recorded in the release's sidecar."""
    if seed is not None:
        return int(seed)
    return recipe.generate.seed if recipe.generate.seed is not None else recipe.generator.seed


def model_fingerprint(recipe: Recipe) -> str:
    """What a saved model must match to be reused: the recipe's training inputs (`Recipe.fingerprint`,
    which leaves out the device and sampling-only settings), the source file's bytes and the version."""
    streamed = is_streamed_source(recipe)
    data_digest = (open_source(recipe).digest() if streamed else file_sha256(source_path(recipe)))[:16]
    return hashlib.sha256(f"{recipe.fingerprint()}|{data_digest}|{__version__}".encode()).hexdigest()[:16]


def exclude_real_pii(recipe: Recipe, model: Generator, *frames: pd.DataFrame) -> Generator:
    """Keep the source's real PII and random-id values out of ``model``'s rows (`Generator.exclude_source_pii`):
    those of ``frames``, or, for a streamed source, of all its rows (``frames`` are then samples, which
    would miss most of them; `ParquetSource.pii_values` reads those columns only)."""
    if is_streamed_source(recipe):
        return model.exclude_source_pii(open_source(recipe))
    for frame in frames:
        model.exclude_source_pii(frame)
    return model


def reusable_model(recipe: Recipe, path: Path) -> Generator | None:
    """The saved model at ``path`` if it was trained from this very recipe, data and version, set to
    sample with the recipe's device and sampling settings. The folder is read once."""
    from synthgen.models.base import model_from_files

    try:
        files: ModelFiles = load_model_dir(path)
    except ModelFileError:
        return None
    if files.state.get("metadata", {}).get("fingerprint") != model_fingerprint(recipe):
        return None
    config = recipe.generator
    sampling = {name: getattr(config, name) for name in config.sampling_fields if name != "device"}
    return model_from_files(files, device=config.device, sampling=sampling)


def prepare_data(recipe: Recipe) -> tuple[pd.DataFrame, pd.DataFrame, TableSchema]:
    """Read the source, resolve its schema, run every check that needs no training and cut the
    holdout: (train, holdout, schema). `synthgen validate` runs exactly this, so what it passes
    `generate` accepts.

    A streamed source (`is_streamed_source`) is never read whole: train and holdout are seeded uniform
    samples (`ParquetSource.reservoir`) of its two parts (`stream_parts`), `sample_rows` training rows
    and holdout rows in the split's proportion. The schema is inferred and the checks run
    on those rows, the judge scores them, and `fit_model` trains on the whole training part."""
    if is_streamed_source(recipe):
        return _prepare_stream(recipe)
    if recipe.source.sample_rows is not None:
        warnings.warn(
            f"{recipe.label}: source.sample_rows applies to a streamed source (a Parquet folder or glob); "
            f"{source_path(recipe)} is read whole and judged on every row",
            RecipeWarning,
            stacklevel=2,
        )
    data = load_source(recipe)
    schema = resolve_schema(recipe, data)
    memory = generator_type(recipe.generator.type).training_memory
    check_learnable(data, schema, str(source_path(recipe)), recipe.split.holdout, training_memory=memory)
    train, holdout = split_holdout(data, recipe.split.holdout, recipe.split.seed, schema)
    if recipe.constraints:  # a constraint naming a missing column or a column of the wrong kind fails here
        ConstraintSet(recipe.constraints, schema, source=recipe.label).fit(train)
    return train, holdout, schema


def _prepare_stream(recipe: Recipe) -> tuple[pd.DataFrame, pd.DataFrame, TableSchema]:
    if recipe.constraints:  # refused before a row is read
        raise InputError(
            f"{recipe.label}: constraints are not supported with a streamed source ({source_path(recipe)}); "
            "sample the table to one file to use them"
        )
    source, (train_part, holdout_part) = open_source(recipe), stream_parts(recipe)
    share = recipe.split.holdout
    size = sample_rows(recipe)
    train = source.reservoir(size, seed=recipe.split.seed, part=train_part)
    holdout = source.reservoir(max(1, round(size * share / (1 - share))), recipe.split.seed, holdout_part)
    both = pd.concat([train, holdout], ignore_index=True)
    schema = resolve_schema(recipe, both)
    check_learnable(both, schema, source.path, share)  # compact arrays: memory follows rows x columns, not levels
    return train, holdout, schema


def release_rows(recipe: Recipe, rows: int | None, source_rows: int) -> int:
    """The number of rows `generate` will release, refused up front when the judge cannot score so few."""
    n_rows = rows or recipe.generate.rows or source_rows
    if n_rows < MIN_HOLDOUT_ROWS:
        where = "--rows" if rows else "generate.rows"
        raise InputError(
            f"{recipe.label}: {where} is {n_rows}; the release gate needs at least {MIN_HOLDOUT_ROWS} rows to judge "
            "(`synthgen sample` draws any number of rows from a trained model, without the gate)"
        )
    return n_rows


def report_dir_for(output: Path) -> Path:
    return output.parent / f"{output.stem}_report"


def meta_path_for(output: Path) -> Path:
    return output.with_name(output.name + ".meta.json")


def check_targets(recipe: Recipe, model_dir: Path, output: Path | None = None) -> None:
    """Refuse, before any work, a run whose writes would destroy the source data or each other.

    The model directory is replaced whole when a model is saved, so it must not hold the source, the
    output or the report; the output, its sidecar and its report must not be the source. A source that
    is a folder or a glob (`streamed_root`) reads every Parquet file under its folder, so none of them may
    be inside that folder (a later run would train on the release) or hold it.
    """
    source = source_path(recipe).resolve()
    model = Path(model_dir).resolve()
    if _inside(source, model):
        raise InputError(
            f"model directory {model_dir} holds the source data {source}; saving a model replaces the whole folder"
        )
    if output is None:
        return
    out = output.resolve()
    report = report_dir_for(out)
    written = {
        "output": out,
        "sidecar": meta_path_for(out),
        "report": report / "report.json",
        "html report": report / "report.html",
    }
    for role, path in written.items():
        if path == source:
            raise InputError(f"the {role} {path} is the source data file; refusing to overwrite the real data")
    root = streamed_root(recipe)
    if root is not None:
        for role, path in (("output", out), ("sidecar", written["sidecar"]), ("report folder", report)):
            if _inside(path, root) or _inside(root, path):
                raise InputError(
                    f"the {role} {path} {'is inside' if _inside(path, root) else 'holds'} the folder of the source "
                    f"{source_path(recipe)}, every Parquet file of which is read as real rows; write it elsewhere"
                )
    for role, path in (("output", out), ("report folder", report)):
        if _inside(path, model) or _inside(model, path):
            raise InputError(
                f"the {role} {path} and the model directory {model_dir} overlap; give them separate places"
            )
    if out == report:
        raise InputError(f"the output {out} is its own report folder")


def streamed_root(recipe: Recipe) -> Path | None:
    """The folder whose Parquet files a source that is a directory or a glob reads (a glob's folder is
    its path up to the first part with a wildcard), resolved; None for a file or a built-in table."""
    if recipe.source.path is None:
        return None
    path = source_path(recipe)
    if is_glob(path):
        parts = path.parts
        return Path(*parts[: next(i for i, part in enumerate(parts) if is_glob(part))]).resolve()
    return path.resolve() if path.is_dir() else None


def check_model_dir(recipe: Recipe, out: Path | None = None) -> Path:
    """The model directory to save to (``out`` or the recipe's), refused before training if saving
    there would destroy the source or a folder that is not a synthgen model."""
    path = Path(out) if out is not None else recipe.model_path
    check_targets(recipe, path)
    return check_model_target(path)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def fit_model(
    recipe: Recipe,
    train: pd.DataFrame,
    schema: TableSchema,
    out: Path | None = None,
    progress: bool | ProgressCallback | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    distributed: Dist | None = None,
) -> tuple[Generator, Path]:
    """Fit the recipe's model on the training split and save it (to ``out`` or the recipe's model dir).

    ``progress`` as in `generate`: the fit is one "fit" stage, its time left measured on the steps (or
    epochs) done and, under ``max_minutes``, bounded by the budget left. ``checkpoint_every``: write a
    training checkpoint beside the model directory every that many steps (`synthgen.checkpoint`);
    ``resume``: continue from it (refused when another recipe or config wrote it). The checkpoint is
    removed once the model is saved. ``distributed`` (`synthgen.distributed.Dist`, as `synthgen train`
    passes under torchrun): every rank fits its shard and only rank 0 reports progress, writes
    checkpoints and saves the model; without it, one process."""
    from synthgen.checkpoint import Checkpointing, checkpoint_path, remove_checkpoint
    from synthgen.distributed import SINGLE

    path = check_model_dir(recipe, out)
    dist = SINGLE if distributed is None else distributed
    checkpointing = None
    if checkpoint_every or resume:
        checkpointing = Checkpointing(
            checkpoint_path(path), every=checkpoint_every or 0, resume=resume, fingerprint=model_fingerprint(recipe)
        )
    if not dist.is_main:
        progress = False
    constraints = (
        ConstraintSet(recipe.constraints, schema, source=recipe.label).fit(train) if recipe.constraints else None
    )
    model = generator_type(recipe.generator.type).load()(recipe.generator)
    use_threads(dist.threads(recipe.threads))  # ranks on one machine share its cores
    source, part = streamed_training(recipe, model)
    rows = len(train) if source is None else source.part_rows(part)
    with open_progress(progress) as emit:
        tracker = None if emit is None else _fit_tracker(recipe, emit, rows)
        if source is not None:  # the whole training part, batch by batch (`DDPM.fit_source`); ``train`` is a sample
            model.fit_source(
                source,
                schema,
                part=part,
                sample=train,
                progress=tracker,
                step_hook=None if tracker is None else tracker.step_hook,
                checkpoint=checkpointing,
                distributed=dist,
            )
        else:
            model.fit(
                train,
                schema,
                progress=tracker,
                step_hook=None if tracker is None else tracker.step_hook,
                constraints=constraints,
                checkpoint=checkpointing,
                distributed=dist,
            )
        if dist.is_main:
            model.save(
                path,
                metadata={"fingerprint": model_fingerprint(recipe), "recipe": recipe.name, "rows_trained": rows},
            )
            if checkpointing is not None:
                remove_checkpoint(checkpointing.path)  # the model is saved: nothing left to resume
        dist.barrier()  # the other ranks return once the model is on disk
        if tracker is not None:
            tracker.finish()
    return model, path


def streamed_training(recipe: Recipe, model: Generator) -> tuple[ParquetSource | None, Part | None]:
    """(the streamed source, its training part) when the recipe's source is streamed, else (None, None);
    refused for a generator that cannot train on one."""
    if not is_streamed_source(recipe):
        return None, None
    if not hasattr(model, "fit_source"):
        raise InputError(
            f"{recipe.label}: the {recipe.generator.type} generator cannot train on a streamed source "
            f"({source_path(recipe)}); use type: ddpm, or a single file"
        )
    return open_source(recipe), stream_parts(recipe)[0]


def _fit_tracker(recipe: Recipe, emit: ProgressCallback, rows: int) -> FitProgress:
    """The "fit" stage of a recipe's generator: CTGAN counts epochs; DDPM counts steps, expected to be
    ``steps`` capped at ``max_epochs`` passes over ``rows`` (its own rule; it reports the exact total
    after its first few dozen steps) and ends early if ``max_minutes`` runs out first."""
    config = recipe.generator
    label = f"fit {config.type}"
    if "epochs" in type(config).model_fields:
        return FitProgress(emit, label, "epochs", total=config.epochs)
    total = config.training_steps(rows) if hasattr(config, "training_steps") and rows > 0 else None
    minutes = getattr(config, "max_minutes", None)
    return FitProgress(emit, label, "steps", total=total, budget_s=minutes * 60 if minutes else None, per_step=True)


def train_model(
    recipe: Recipe,
    out: Path | None = None,
    progress: bool | ProgressCallback | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    distributed: Dist | None = None,
) -> tuple[Generator, Path, pd.DataFrame, pd.DataFrame, TableSchema]:
    """`prepare_data` then `fit_model` (``checkpoint_every``, ``resume`` and ``distributed`` are its).
    With a ``distributed`` of several ranks (`synthgen train` under torchrun) the fit is DDP, and the
    process group it created is left at the end."""
    from synthgen.distributed import SINGLE

    dist = SINGLE if distributed is None else distributed
    check_model_dir(recipe, out)
    train, holdout, schema = prepare_data(recipe)
    try:
        model, path = fit_model(
            recipe,
            train,
            schema,
            out=out,
            progress=progress,
            checkpoint_every=checkpoint_every,
            resume=resume,
            distributed=dist,
        )
    finally:
        dist.close()
    return model, path, train, holdout, schema


# -- the whole flow ----------------------------------------------------------------------------------
def refuse_torchrun(verb: str) -> None:
    """A release is sampled, judged and written once: under torchrun every rank would do it."""
    from synthgen.distributed import in_torchrun

    if in_torchrun():
        raise InputError(
            f"synthgen {verb} runs in one process, not under torchrun: train with `synthgen train RECIPE --nproc N`, "
            f"then `synthgen {verb}` reuses the saved model"
        )


@dataclass
class GenerateResult:
    """What `generate` did. Returned only when rows were written: a refused gate raises `GateFailedError`
    instead, unless ``force_release`` was given.

    Fields:
        output: the CSV or Parquet file the rows were written to (beside it, ``<output>.meta.json``).
        rows: the number of rows written.
        model_path: the model directory used (trained and saved by this run, or reused).
        reused_model: True when an up-to-date saved model was reused instead of training.
        released: True when the release gate passed. False only with ``force_release``: the rows were
            written anyway and their sidecar and report say NOT RELEASED.
        fit_seconds, sample_seconds, evaluate_seconds: wall time of each stage (fit is ~0 when reused).
        report_seconds: wall time of writing ``report.json`` and ``report.html`` (its figures).
        report: the judge's `synthgen.judge.EvaluationReport` (``report.gate.failing`` says why a gate failed).
        report_dir: the folder holding ``report.json`` and ``report.html``.
        constraints: per recipe constraint, the share of rows breaking it in the real data and the output.

    ``data`` reads the written rows back as a DataFrame, on first use (the rows are not held in memory
    meanwhile, so a large release costs nothing until asked for), the way synthgen reads any table.
    When ``released`` is False the rows are still given, as written, and ``data.attrs["released"]`` is
    False too: check ``released`` before passing them on.
    """

    output: Path | None
    rows: int
    model_path: Path
    reused_model: bool
    released: bool
    fit_seconds: float
    sample_seconds: float
    evaluate_seconds: float
    report: Any = None
    report_dir: Path | None = None
    constraints: list[dict[str, Any]] | None = None
    report_seconds: float = 0.0

    @cached_property
    def data(self) -> pd.DataFrame:
        """The rows written to ``output``, read back (once) as a DataFrame; ``attrs["released"]`` says
        whether the gate passed. A file deleted since raises `DataError` naming it."""
        if self.output is None:
            raise DataError("no rows were written by this run, so there is no data to read")
        frame = read_table(self.output)
        frame.attrs["released"] = self.released
        return frame


def with_shares(frame: pd.DataFrame, column: str, shares: dict[Any, float], seed: int = 0) -> pd.DataFrame:
    """The largest subset of real rows whose ``column`` has the rebalanced shares (the named categories at
    their shares, the others together at the rest, in their own mix): what a rebalanced release is judged
    against. Rows are dropped, never repeated, so no real row counts twice in the privacy checks."""
    keys = frame[column].astype(str)
    named = {str(k): float(v) for k, v in shares.items()}
    groups = {k: np.flatnonzero((keys == k).to_numpy()) for k in named}
    rest_share = max(0.0, 1.0 - sum(named.values()))
    rest = np.flatnonzero(~keys.isin(list(named)).to_numpy())
    limits = [len(groups[k]) / v for k, v in named.items() if v > 0]
    if rest_share > 1e-9:
        limits.append(len(rest) / rest_share)
    total = int(min(limits)) if limits else 0
    rng = np.random.default_rng(seed)
    keep = [rng.choice(groups[k], int(round(total * v)), replace=False) for k, v in named.items() if v > 0]
    if rest_share > 1e-9:
        keep.append(rng.choice(rest, min(len(rest), int(round(total * rest_share))), replace=False))
    rows = np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)
    return frame.iloc[rows].reset_index(drop=True)


def constraint_rates(constraints: ConstraintSet | None, real: pd.DataFrame, synthetic: pd.DataFrame) -> list[dict]:
    """Each constraint's violation rate in the real training rows and in the output (zero by construction);
    a warning names the constraints the real data itself breaks."""
    if constraints is None:
        return []
    in_real, in_output = constraints.violation_rates(real), constraints.violation_rates(synthetic)
    broken = [f"{label} ({rate:.3%} of rows)" for label, rate in in_real.items() if rate > 0]
    if broken:
        warnings.warn(
            f"the real training rows break constraint(s) {'; '.join(broken)}: the output obeys them, so it "
            "differs from the real data there",
            RecipeWarning,
            stacklevel=2,
        )
    return [{"constraint": label, "real": in_real[label], "output": in_output[label]} for label in in_real]


def generate(
    recipe: Recipe,
    rows: int | None = None,
    out: str | Path | None = None,
    seed: int | None = None,
    retrain: bool = False,
    force_release: bool = False,
    progress: bool | ProgressCallback | None = None,
    conditions: dict[str, Any] | None = None,
) -> GenerateResult:
    """Train (or reuse) the recipe's model, sample, judge, and write the data only if the gate passes.

    ``conditions`` are added to the recipe's ``generate.conditions`` (the command line's ``--where``).
    A conditioned release is judged against the real rows that meet the same conditions, a rebalanced
    one against real rows with the same mix (`with_shares`): fidelity, utility and privacy compare like
    with like. Overrides of the recipe (device, epochs) are applied by the caller with `apply_overrides`.

    ``progress``: None (the default) shows bars for the fit, the sampling and the evaluation on stderr
    when stderr is a terminal, and nothing otherwise; True shows them anyway (plain lines when stderr
    is not a terminal); False shows nothing; a callable receives every `synthgen.progress.ProgressEvent`
    instead (stage, counts, share done, seconds elapsed and left)."""
    from synthgen.judge import evaluate as judge, write_report
    from synthgen.judge.evaluation import PARTS as JUDGE_PARTS
    from synthgen.streamed_judging import frame_hashes, real_hashes

    if rows is not None and rows < 1:
        raise InputError(f"rows must be a positive integer, got {rows}")
    refuse_torchrun("generate")
    output = Path(out) if out is not None else recipe.output_path
    # Everything that can be refused is refused before anything is trained or created.
    check_targets(recipe, recipe.model_path, output)
    check_model_target(recipe.model_path)
    ensure_writable(output)
    ensure_writable_dir(report_dir_for(output))
    train, holdout, schema = prepare_data(recipe)
    n_rows = release_rows(recipe, rows, len(train) + len(holdout))
    threads = use_threads(recipe.threads)
    wanted = {**recipe.generate.conditions, **(conditions or {})}
    # A streamed source's every real row is hashed for the exact checks before any training when no condition
    # needs the model to pick the rows: a row the judge cannot read fails the run now, not after training.
    early = None if wanted else real_hashes(recipe, schema)
    with open_progress(progress) as emit:
        started = time.perf_counter()
        model = None if retrain else reusable_model(recipe, recipe.model_path)
        reused = model is not None
        if model is None:
            model, _ = fit_model(recipe, train, schema, progress=emit if emit is not None else False)
        if reused:  # a model fitted here already holds its training values (a streamed source's: every row's)
            exclude_real_pii(recipe, model, train, holdout)
        elif not is_streamed_source(recipe):
            model.exclude_source_pii(holdout)
        fit_seconds = time.perf_counter() - started

        sample_seed = sampling_seed(recipe, seed)
        started = time.perf_counter()
        synthetic = _sample(model, n_rows, sample_seed, wanted, recipe.generate.rebalance, emit)
        sample_seconds = time.perf_counter() - started
        constraint_report = constraint_rates(model.constraints_, train, synthetic)
        if wanted:
            train, holdout = (frame[model.meets(frame, wanted)].reset_index(drop=True) for frame in (train, holdout))
        started = time.perf_counter()
        stage = (
            None
            if emit is None
            else Stage(emit, "evaluate", "evaluate", "parts", total=len(JUDGE_PARTS) + 2, estimate=False)
        )

        def part(name: str, done: int, total: int = 0) -> None:
            if stage is not None:
                stage.update(done, detail=name)

        # The exact checks read every real row the model could have copied: a streamed source's every row
        # (meeting the conditions), and the rows a rebalancing leaves out of the distribution checks.
        hashes = early
        if wanted and is_streamed_source(recipe):
            part("hash every real row", 0)
            hashes = real_hashes(recipe, schema, wanted, model)
        if hashes is None and recipe.generate.rebalance:
            hashes = frame_hashes(train, holdout, schema)
        for column, shares in recipe.generate.rebalance.items():
            train, holdout = (with_shares(frame, column, shares, seed=recipe.split.seed) for frame in (train, holdout))

        report = judge(
            train,
            holdout,
            synthetic,
            schema,
            settings=recipe.evaluate.model_copy(update={"n_jobs": recipe.evaluate.n_jobs or threads}),
            gates=recipe.gates,
            device=recipe.generator.device,
            progress=part,
            real_hashes=hashes,
        )
        evaluate_seconds = time.perf_counter() - started
        released = bool(report.passed)
        metadata = {
            "synthgen_version": __version__,
            "recipe": str(recipe.path) if recipe.path else recipe.name,
            "recipe_fingerprint": recipe.fingerprint(),
            "model": str(recipe.model_path),
            "model_type": recipe.generator.type,
            "generator": recipe.generator.model_dump(mode="json"),
            "rows": n_rows,
            "seed": sample_seed,
            "conditions": {
                k: v if isinstance(v, (str, int, float, bool, list, dict)) else str(v) for k, v in wanted.items()
            },
            "rebalance": recipe.generate.rebalance,
            "constraints": constraint_report,
            "released": released,
            "status": "released" if released else "NOT RELEASED: gate failed",
        }
        verdict = "gate passed" if released else "gate failed: " + (", ".join(report.gate.failing) or "see the report")
        report_dir = report_dir_for(output)
        part("report", len(JUDGE_PARTS))
        started = time.perf_counter()
        write_report(report, report_dir, extra_metadata=metadata)
        report_seconds = time.perf_counter() - started
        if not released and not force_release:
            if stage is not None:
                stage.finish(len(JUDGE_PARTS) + 1, detail=verdict)
            raise GateFailedError(
                f"release gate failed for {recipe.label}; nothing was written to {output}; report: {report_dir}",
                report=report,
            )
        part("write", len(JUDGE_PARTS) + 1)
        write_table(synthetic, output)
        write_json(metadata, meta_path_for(output))
        if stage is not None:
            stage.finish(detail=verdict if released else verdict + " (written: force_release)")
    return GenerateResult(
        output=output,
        rows=n_rows,
        model_path=recipe.model_path,
        reused_model=reused,
        released=released,
        fit_seconds=fit_seconds,
        sample_seconds=sample_seconds,
        evaluate_seconds=evaluate_seconds,
        report=report,
        report_dir=report_dir,
        constraints=constraint_report,
        report_seconds=report_seconds,
    )


def _sample(
    model: Generator,
    rows: int,
    seed: int,
    conditions: dict[str, Any],
    rebalance: dict[str, dict[Any, float]],
    emit: ProgressCallback | None,
) -> pd.DataFrame:
    """`Generator.sample`, chunk by chunk (the same rows: `sample` concatenates these very chunks), so that
    the "sample" stage can count the rows drawn."""
    stage = None if emit is None else Stage(emit, "sample", "sample", "rows", total=rows)
    chunks = []
    for chunk in model.iter_sample(rows, seed=seed, conditions=conditions, rebalance=rebalance):
        chunks.append(chunk)
        if stage is not None:
            stage.advance(len(chunk))
    if stage is not None:
        stage.finish()
    return pd.concat(chunks, ignore_index=True)
