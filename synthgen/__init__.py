"""synthgen: synthetic tabular data for lending, judged before it is released.

The public verbs::

    import synthgen
    recipe = synthgen.load_recipe("recipes/german_credit.yaml")
    result = synthgen.generate(recipe, rows=1000)       # train or reuse, sample, judge, write
    model = synthgen.DDPM(seed=0).fit(frame)             # or use a generator directly; help(synthgen.DDPM)
                                                         # lists every hyperparameter with its default
    rows = model.sample(500, seed=1)
    report = synthgen.evaluate(train, holdout, rows, model.schema_)
    audit = synthgen.audit(recipe, shadows=8, epochs=30)  # shadow-model membership attacks (expensive)
    manifest = synthgen.sample_shards("model/", rows=10**7, shards=100, out="release/", workers=4)
    synthgen.generate_shards(synthgen.load_recipe("r.yaml"), shards=100, rows=10**7, out="release/")  # gated
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthgen._lazy import lazy_names
from synthgen._version import __version__
from synthgen.errors import (
    DataError,
    GateFailedError,
    InputError,
    ModelFileError,
    NotFittedError,
    RecipeError,
    SynthgenError,
)
from synthgen.threads import prefer_passive_waits, use_threads

prefer_passive_waits()  # before torch loads, so that idle OpenMP threads sleep: see synthgen.threads

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.audit import audit
    from synthgen.checkpoint import Checkpointing
    from synthgen.datasets import load_builtin
    from synthgen.judge import EvaluateSettings, EvaluationReport, GateSettings, evaluate, write_report
    from synthgen.models import CTGAN, DDPM, GENERATORS, CTGANConfig, DDPMConfig, Generator, load_model
    from synthgen.pipeline import GenerateResult, split_holdout
    from synthgen.recipe import Recipe, RecipeWarning, as_recipe, load_recipe
    from synthgen.schema import Column, ColumnKind, ColumnSpec, TableSchema, infer_schema
    from synthgen.sharded_release import generate_shards
    from synthgen.shards import sample_shards
    from synthgen.sources import ParquetSource, Part

# Public names and the module each comes from. They are imported on first use, so that `import
# synthgen` (and with it the command line, `synthgen --help`, and a Ctrl-C in its first second) does not
# wait for torch, scikit-learn and XGBoost.
_LAZY: dict[str, str] = {
    "audit": "synthgen.audit",  # shadow-model membership attacks (the module is callable too: see there)
    "load_builtin": "synthgen.datasets",
    "Checkpointing": "synthgen.checkpoint",  # fit(..., checkpoint=Checkpointing(path, every, resume))
    **dict.fromkeys(
        ["EvaluateSettings", "EvaluationReport", "GateSettings", "evaluate", "write_report"], "synthgen.judge"
    ),
    **dict.fromkeys(
        ["CTGAN", "DDPM", "GENERATORS", "CTGANConfig", "DDPMConfig", "Generator", "load_model"], "synthgen.models"
    ),
    **dict.fromkeys(["GenerateResult", "split_holdout"], "synthgen.pipeline"),
    **dict.fromkeys(["Recipe", "RecipeWarning", "as_recipe", "load_recipe"], "synthgen.recipe"),
    **dict.fromkeys(["Column", "ColumnKind", "ColumnSpec", "TableSchema", "infer_schema"], "synthgen.schema"),
    "sample_shards": "synthgen.shards",  # a release as Parquet parts, the same bytes for any number of workers
    "generate_shards": "synthgen.sharded_release",  # the same, judged part by part and published if the gate passes
    **dict.fromkeys(["ParquetSource", "Part"], "synthgen.sources"),  # tables larger than memory: DDPM.fit_source
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)


def generate(
    recipe: Recipe | str | Path, *, device: str | None = None, epochs: int | None = None, **options: Any
) -> GenerateResult:
    """Train (or reuse) a recipe's model, sample, judge, and write the data if the gate passes.

    ``device`` and ``epochs`` override the recipe's generator block, as ``--device`` and ``--epochs``
    do. Options: ``rows``, ``out``, ``seed``, ``retrain``, ``force_release``, ``progress``. Raises
    `GateFailedError` (nothing written) when the release gate fails.
    """
    from synthgen.pipeline import apply_overrides, generate as run
    from synthgen.recipe import as_recipe

    return run(apply_overrides(as_recipe(recipe), epochs=epochs, device=device), **options)


def train(
    recipe: Recipe | str | Path,
    out: str | Path | None = None,
    *,
    device: str | None = None,
    epochs: int | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> Generator:
    """Fit a recipe's generator on its training split and save it; returns the fitted generator.

    ``device`` and ``epochs`` override the recipe's generator block, as on the command line;
    ``checkpoint_every`` and ``resume`` are ``--checkpoint-every`` and ``--resume`` (none by default
    here). Run under torchrun with several ranks, the fit is distributed (DDP) and rank 0 saves."""
    from synthgen.pipeline import apply_overrides, train_model
    from synthgen.recipe import as_recipe

    loaded = apply_overrides(as_recipe(recipe), epochs=epochs, device=device)
    out_path = Path(out) if out is not None else None
    model, *_ = train_model(loaded, out=out_path, checkpoint_every=checkpoint_every, resume=resume)
    return model


def sample(
    model: Generator | str | Path, rows: int, seed: int | None = None, device: str | None = None
) -> pd.DataFrame:
    """Rows from a fitted generator or a saved model directory."""
    from synthgen.models import Generator, load_model

    generator = model if isinstance(model, Generator) else load_model(model, device=device)
    return generator.sample(rows, seed=seed)


__all__ = [
    "CTGAN",
    "CTGANConfig",
    "Checkpointing",
    "DDPM",
    "DDPMConfig",
    "Column",
    "ColumnKind",
    "ColumnSpec",
    "DataError",
    "EvaluateSettings",
    "EvaluationReport",
    "GENERATORS",
    "GateFailedError",
    "GateSettings",
    "GenerateResult",
    "Generator",
    "InputError",
    "ModelFileError",
    "NotFittedError",
    "ParquetSource",
    "Part",
    "Recipe",
    "RecipeError",
    "RecipeWarning",
    "SynthgenError",
    "TableSchema",
    "__version__",
    "as_recipe",
    "audit",
    "evaluate",
    "generate",
    "generate_shards",
    "infer_schema",
    "load_builtin",
    "load_model",
    "load_recipe",
    "sample",
    "sample_shards",
    "split_holdout",
    "train",
    "use_threads",
    "write_report",
]
