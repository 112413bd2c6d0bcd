"""The generators the benchmark runner compares: synthgen's own and its peers, each behind one call.

Every adapter takes the training split, its schema and a `Budget`, trains, and returns a `Fitted`
whose `sample(n, seed)` gives a frame the judge can score: synthgen's models give the training split's
columns; peers learn and give the schema's modelled columns only (ids and PII are never learned; the
judge scores modelled columns only), told each column's kind as synthgen and the judge see it
(discrete: categorical; numeric and integer: numerical; datetime: a datetime, parsed from the recipe's
text). A numeric or integer column whose numbers are written as text (`Column.format`: "83.70%",
"36 months") is read in its format for the peer, and the peer's numbers are written back in it
(`peer_output`), as synthgen writes its own rows, so the judge reads both the same way. Peers come from
their own packages, installed with `pip install 'synthgen[bench]'`; they are imported only when used,
so the runner works (on synthgen's models) without them.

Budgets: epoch-based models (CTGAN, TVAE, MOSTLY AI's TabularARGN) take `epochs`; the diffusion
model takes `seconds` (its wall-clock budget, with the learning-rate decay fitted to it) or, with
`epochs`, a cap on passes over the data. SDV's GaussianCopula has no budget. A budget left unset
means the model's own default, or for synthgen's model of the recipe's generator type, the recipe's.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen import CTGAN, DDPM
from synthgen.models import CTGANConfig, DDPMConfig
from synthgen.schema import Column, ColumnKind, TableSchema
from synthgen.transforms.values import ValueCodec


@dataclass(frozen=True)
class Budget:
    epochs: int | None = None
    seconds: float | None = None
    device: str = "cpu"
    seed: int = 0
    quick: bool = False  # smallest settings that still run every code path (the test suite's smoke run)
    # The recipe's generator block (with its `type`): synthgen's model of that type starts from its settings.
    generator: dict[str, Any] = field(default_factory=dict)

    def options(self, kind: str, fields: Any) -> dict[str, Any]:
        """The recipe's settings for synthgen's model ``kind`` (none when the recipe names another type)."""
        if self.generator.get("type") != kind:
            return {}
        return {k: v for k, v in self.generator.items() if k in fields and k not in ("type", "device", "seed")}


@dataclass
class Fitted:
    sample: Callable[[int, int], pd.DataFrame]
    epochs: float | None = None  # passes over the training rows actually made
    steps: int | None = None  # optimiser steps actually made
    cleanup: Callable[[], None] = lambda: None


def _synthgen_ctgan(train: pd.DataFrame, schema: TableSchema, budget: Budget) -> Fitted:
    options = {"epochs": 300, "batch_size": 500, "pac": 10, **budget.options("ctgan", CTGANConfig.model_fields)}
    if budget.quick:
        options.update(epochs=1, batch_size=100, pac=10)
    if budget.epochs:
        options["epochs"] = budget.epochs
    epochs = options["epochs"]
    model = CTGAN(**options, device=budget.device, seed=budget.seed)
    model.fit(train, schema)
    steps = epochs * max(1, len(train) // model.config.batch_size)
    return Fitted(lambda n, seed: model.sample(n, seed=seed), epochs=epochs, steps=steps)


def _synthgen_ddpm(train: pd.DataFrame, schema: TableSchema, budget: Budget) -> Fitted:
    options = budget.options("ddpm", DDPMConfig.model_fields)
    options.update(device=budget.device, seed=budget.seed)
    if budget.quick:
        options.update(steps=30, width=32, depth=2, sampling_steps=5, batch_size=256)
    if budget.seconds is not None:
        options.update(max_minutes=budget.seconds / 60.0, steps=10**9, max_epochs=None)
    elif budget.epochs is not None:
        options.update(max_epochs=budget.epochs)
    model = DDPM(**options).fit(train, schema)
    batch = min(model.config.batch_size, len(train))
    return Fitted(
        lambda n, seed: model.sample(n, seed=seed),
        epochs=model.steps_done_ * batch / len(train),
        steps=model.steps_done_,
    )


def peer_table(train: pd.DataFrame, schema: TableSchema) -> tuple[pd.DataFrame, dict[str, str]]:
    """What a peer learns: the schema's modelled columns (datetimes parsed, numbers as numbers: text in a
    column's number format read with it), and each column's kind as synthgen and the judge see it:
    ``categorical``, ``numerical`` or ``datetime``."""
    columns: dict[str, pd.Series] = {}
    kinds: dict[str, str] = {}
    for column in schema.modelled:
        values = train[column.name].reset_index(drop=True)
        if column.kind is ColumnKind.DATETIME:
            kinds[column.name] = "datetime"
            if not pd.api.types.is_datetime64_any_dtype(values) or getattr(values.dt, "tz", None) is not None:
                # As the judge reads them: any ISO-like text, offsets converted to UTC, then naive.
                values = pd.to_datetime(values, errors="coerce", format="mixed", utc=True).dt.tz_localize(None)
        elif column.kind.is_discrete:
            kinds[column.name] = "categorical"
        else:
            kinds[column.name] = "numerical"
            if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                # As synthgen reads them: "83.70%" in its number format is 83.7, not the NaN of to_numeric.
                values = pd.Series(ValueCodec(column).to_float(values), dtype="float64")
        columns[column.name] = values
    return pd.DataFrame(columns, index=pd.RangeIndex(len(train))), kinds


_NUMBER_KINDS = (ColumnKind.NUMERIC, ColumnKind.INTEGER)


def peer_output(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """A peer's sampled rows in the source's representation, as synthgen's own output is: the numbers of a
    column with a number format rounded to the column's precision and written back as text in the format
    (missing values stay missing); every other column as the peer gave it."""
    frame = frame.reset_index(drop=True)
    out = {name: frame[name] for name in frame.columns}
    for column in schema.modelled:
        if column.name in out and column.format is not None and column.kind in _NUMBER_KINDS:
            out[column.name] = _written_back(frame[column.name], column)
    return pd.DataFrame(out, index=frame.index)


def _written_back(values: pd.Series, column: Column) -> pd.Series:
    """Numbers as text in the column's format, rounded to its precision as synthgen writes its own (an
    unfitted `ValueCodec`: the peer's values are not clipped to a range it never learned from us)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return ValueCodec(column).from_float(numbers).rename(values.name)


def _sdv(kind: str) -> Callable[[pd.DataFrame, TableSchema, Budget], Fitted]:
    def fit(train: pd.DataFrame, schema: TableSchema, budget: Budget) -> Fitted:
        from sdv.metadata import Metadata
        from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer, TVAESynthesizer

        train, kinds = peer_table(train, schema)
        # Declared, not detected: detection guesses ids, PII and primary keys from the values, which would
        # have SDV drop or regenerate a column synthgen learns.
        metadata = Metadata.load_from_dict(
            {"tables": {"table": {"columns": {name: {"sdtype": sdtype} for name, sdtype in kinds.items()}}}}
        )
        if kind == "gaussian_copula":
            model = GaussianCopulaSynthesizer(metadata)
            epochs = None
        else:
            epochs = budget.epochs or (1 if budget.quick else 300)
            cls = CTGANSynthesizer if kind == "ctgan" else TVAESynthesizer
            model = cls(metadata, epochs=epochs, batch_size=500, enable_gpu=budget.device == "cuda")
        _seed_everything(budget.seed)
        model.fit({"table": train})

        def sample(n: int, seed: int) -> pd.DataFrame:
            _seed_everything(seed)
            out = model.sample(n)
            return peer_output((out["table"] if isinstance(out, dict) else out)[list(train.columns)], schema)

        return Fitted(sample, epochs=epochs, steps=None if epochs is None else epochs * max(1, len(train) // 500))

    return fit


MOSTLY_ENCODING = {
    "categorical": "TABULAR_CATEGORICAL",
    "numerical": "TABULAR_NUMERIC_AUTO",
    "datetime": "TABULAR_DATETIME",
}


def _mostly_argn(train: pd.DataFrame, schema: TableSchema, budget: Budget) -> Fitted:
    from mostlyai import engine

    train, kinds = peer_table(train, schema)
    workspace = Path(tempfile.mkdtemp(prefix="mostly-"))
    engine.set_random_state(budget.seed)
    encoding = {name: MOSTLY_ENCODING[kind] for name, kind in kinds.items()}
    engine.split(tgt_data=train, workspace_dir=workspace, model_type="TABULAR", tgt_encoding_types=encoding)
    engine.analyze(workspace_dir=workspace)
    engine.encode(workspace_dir=workspace)
    options: dict[str, Any] = {}
    if budget.epochs is not None or budget.quick:
        options["max_epochs"] = budget.epochs or 1
    if budget.seconds is not None:
        options["max_training_time"] = budget.seconds / 60.0
    engine.train(workspace_dir=workspace, device=budget.device, **options)

    def sample(n: int, seed: int) -> pd.DataFrame:
        engine.set_random_state(seed)
        engine.generate(workspace_dir=workspace, sample_size=n, device=budget.device)
        frame = pd.concat(pd.read_parquet(p) for p in sorted((workspace / "SyntheticData").glob("*.parquet")))
        return peer_output(frame[list(train.columns)], schema)

    epochs, steps = _mostly_progress(workspace)
    return Fitted(sample, epochs=epochs, steps=steps, cleanup=lambda: shutil.rmtree(workspace, ignore_errors=True))


def _mostly_progress(workspace: Path) -> tuple[float | None, int | None]:
    """(epochs, steps) the engine actually trained: it stops early, so its epoch cap is not the count."""
    progress = workspace / "ModelStore" / "model-data" / "progress-messages.csv"
    if not progress.exists():
        return None, None
    last = pd.read_csv(progress).iloc[-1]
    return float(last["epoch"]), int(last["steps"])


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    np.random.seed(seed)
    torch.manual_seed(seed)


ADAPTERS: dict[str, Callable[[pd.DataFrame, TableSchema, Budget], Fitted]] = {
    "synthgen.ctgan": _synthgen_ctgan,
    "synthgen.ddpm": _synthgen_ddpm,
    "sdv.ctgan": _sdv("ctgan"),
    "sdv.tvae": _sdv("tvae"),
    "sdv.gaussian_copula": _sdv("gaussian_copula"),
    "mostly.argn": _mostly_argn,
}
PACKAGES = {"sdv": "sdv", "mostly": "mostlyai.engine"}
# What each model's training budget is counted in, for the time-to-quality ladder.
BUDGET_UNIT = {
    "synthgen.ctgan": "epochs",
    "synthgen.ddpm": "seconds",
    "sdv.ctgan": "epochs",
    "sdv.tvae": "epochs",
    "sdv.gaussian_copula": None,
    "mostly.argn": "epochs",
}


def missing_package(model: str) -> str | None:
    """The package a peer needs when it is not installed, else None."""
    module = PACKAGES.get(model.split(".", 1)[0])
    if module is None:
        return None
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    return None if found else module
