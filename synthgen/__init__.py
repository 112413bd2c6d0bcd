"""synthgen: synthetic tabular data for lending, judged before it is released.

The public verbs::

    import synthgen
    recipe = synthgen.load_recipe("recipes/german_credit.yaml")
    result = synthgen.generate(recipe, rows=1000)       # train or reuse, sample, judge, write
    model = synthgen.CTGAN(epochs=50).fit(frame)         # or use a generator directly
    rows = model.sample(500, seed=1)
    report = synthgen.evaluate(train, holdout, rows, model.schema_)
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    import pandas as pd

    from synthgen.datasets import load_builtin
    from synthgen.evaluate import EvaluateSettings, EvaluationReport, GateSettings, evaluate, write_report
    from synthgen.models import CTGAN, DDPM, GENERATORS, CTGANConfig, DDPMConfig, Generator, load_model
    from synthgen.pipeline import GenerateResult, split_holdout
    from synthgen.recipe import Recipe, as_recipe, load_recipe
    from synthgen.schema import Column, ColumnKind, ColumnSpec, TableSchema, infer_schema

# Public names and the module each comes from. They are imported on first use, so that `import
# synthgen` (and with it the command line, `synthgen --help`, and a Ctrl-C in its first second) does not
# wait for torch, scikit-learn and XGBoost.
_LAZY: dict[str, str] = {
    "load_builtin": "synthgen.datasets",
    **dict.fromkeys(["EvaluateSettings", "EvaluationReport", "GateSettings", "evaluate", "write_report"], "synthgen.evaluate"),
    **dict.fromkeys(["CTGAN", "DDPM", "GENERATORS", "CTGANConfig", "DDPMConfig", "Generator", "load_model"], "synthgen.models"),
    **dict.fromkeys(["GenerateResult", "split_holdout"], "synthgen.pipeline"),
    **dict.fromkeys(["Recipe", "as_recipe", "load_recipe"], "synthgen.recipe"),
    **dict.fromkeys(["Column", "ColumnKind", "ColumnSpec", "TableSchema", "infer_schema"], "synthgen.schema"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'synthgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """``synthgen.evaluate`` is the verb, although a subpackage has the same name: importing the
    subpackage would otherwise rebind the attribute to the module (``from synthgen.evaluate import``
    still finds the subpackage, through ``sys.modules``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "evaluate" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def generate(recipe: Recipe | str | Path, **options: object) -> GenerateResult:
    """Train (or reuse) a recipe's model, sample, judge, and write the data if the gate passes.

    Options: ``rows``, ``out``, ``seed``, ``device``, ``epochs``, ``retrain``, ``force_release``,
    ``progress``. Raises `GateFailedError` (nothing written) when the release gate fails.
    """
    from synthgen.pipeline import generate as run
    from synthgen.recipe import as_recipe

    return run(as_recipe(recipe), **options)  # type: ignore[arg-type]


def train(recipe: Recipe | str | Path, out: str | Path | None = None, **overrides: object) -> Generator:
    """Fit a recipe's model on its training split and save it; returns the fitted generator."""
    from synthgen.pipeline import apply_overrides, train_model
    from synthgen.recipe import as_recipe

    loaded = apply_overrides(as_recipe(recipe), **overrides)  # type: ignore[arg-type]
    model, *_ = train_model(loaded, out=Path(out) if out is not None else None)
    return model


def sample(model: Generator | str | Path, rows: int, seed: int | None = None, device: str | None = None) -> pd.DataFrame:
    """Rows from a fitted generator or a saved model directory."""
    from synthgen.models import Generator, load_model

    generator = model if isinstance(model, Generator) else load_model(model, device=device)
    return generator.sample(rows, seed=seed)


__all__ = [
    "CTGAN",
    "CTGANConfig",
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
    "Recipe",
    "RecipeError",
    "SynthgenError",
    "TableSchema",
    "__version__",
    "evaluate",
    "generate",
    "infer_schema",
    "load_builtin",
    "load_model",
    "load_recipe",
    "sample",
    "split_holdout",
    "train",
    "write_report",
]
