"""What every generator is: a configuration, `fit`, `sample`, `save` and `load`.

The constructor is configuration (scikit-learn style): keyword hyperparameters validated into a
frozen pydantic config, which is also the recipe's ``model:`` block and the ``config.json`` of a
saved model. Learned state ends in ``_``. Ids and PII are handled here, once, for every generator:
subclasses learn and sample only the modelled columns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Literal

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synthgen.artifacts import ModelFiles, load_model_dir, save_model_dir
from synthgen.device import resolve_device
from synthgen.errors import InputError, ModelFileError, NotFittedError
from synthgen.sampling import fill_unmodelled, learn_unmodelled, pii_exclusions, upgrade_unmodelled
from synthgen.schema import TableSchema, infer_schema, modelled_frame

SAMPLE_CHUNK_ROWS = 32_768
"""Rows drawn per random stream when sampling. Fixed, so that the rows of a seed do not depend on how
they are consumed: `sample` concatenates exactly the chunks `iter_sample` streams to a file."""

Progress = Callable[[int, int, dict[str, float]], None]
"""Called after each epoch (or logging interval) with (done, total, named losses)."""


class GeneratorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="CUDA when present, else CPU.")
    seed: int = Field(default=0, description="Seeds training and, unless overridden, sampling.")
    mixed_precision: bool = Field(default=True, description="bfloat16 autocast on CUDA (ignored on the CPU).")
    cuda_graphs: bool = Field(
        default=True, description="Replay each training step as a captured CUDA graph on CUDA (ignored on the CPU)."
    )


class Generator(ABC):
    """Base class of synthgen's generators. See `synthgen.models.CTGAN` for a complete one."""

    config_class: ClassVar[type[GeneratorConfig]]
    supports_conditions: ClassVar[bool] = False
    # Training memory on the CPU, measured (evaluation/bench_training_memory.py): bytes per encoded cell
    # (rows x one-hot width) and per encoded column (weights, gradients and optimiser state that grow
    # with the width). A subclass states its own; the check before training uses them.
    memory_per_cell: ClassVar[float] = 16.0
    memory_per_column: ClassVar[float] = 0.0

    @classmethod
    def training_memory(cls, rows: int, width: int) -> float:
        """Bytes of memory training is expected to take on a table of ``rows`` x ``width`` encoded columns."""
        return rows * width * cls.memory_per_cell + width * cls.memory_per_column

    def __init__(self, config: GeneratorConfig | None = None, **params: Any) -> None:
        if config is not None and params:
            raise TypeError("pass either a config object or keyword parameters, not both")
        if config is None:
            try:
                config = self.config_class(**params)
            except ValidationError as exc:
                raise InputError(f"{type(self).__name__}: invalid parameters: {exc}") from None
        self.config = config
        self.schema_: TableSchema | None = None
        self.unmodelled_: dict[str, Any] = {}
        self.pii_exclude_: dict[str, set[str]] = {}
        self.device_ = resolve_device(config.device)

    # -- public API ---------------------------------------------------------------------------
    def fit(
        self, data: pd.DataFrame, schema: TableSchema | None = None, progress: Progress | None = None
    ) -> "Generator":
        """Learn ``data``. Without a schema, one is inferred."""
        schema = schema or infer_schema(data)
        if not schema.modelled:
            raise InputError("the schema has no column a generator can learn (only ids and PII)")
        self.schema_ = schema
        self.unmodelled_ = learn_unmodelled(data, schema, seed=self.config.seed)
        self.exclude_source_pii(data)
        self._fit(modelled_frame(data, schema), schema, progress)
        return self

    def exclude_source_pii(self, data: pd.DataFrame) -> "Generator":
        """Never emit a PII value that occurs in ``data``.

        PII is regenerated from masked patterns, so a real value comes out only by coincidence (a short
        one such as 'Li' easily). The values are held in memory for this object only and are never
        saved: a model directory must not contain them. `fit` calls this with the training rows; the
        pipeline calls it with the whole source table, which a reused model has not seen.
        """
        for name, values in pii_exclusions(data, self._require_fitted()).items():
            self.pii_exclude_.setdefault(name, set()).update(values)
        return self

    def sample(self, rows: int, seed: int | None = None, **options: Any) -> pd.DataFrame:
        """``rows`` synthetic rows with every schema column; the same seed gives the same rows.

        ``options`` are the generator's own sampling options (see its ``sample`` docstring).
        """
        return pd.concat(list(self.iter_sample(rows, seed, **options)), ignore_index=True)

    def iter_sample(self, rows: int, seed: int | None = None, **options: Any) -> Iterator[pd.DataFrame]:
        """The rows of `sample`, in chunks of `SAMPLE_CHUNK_ROWS`, so that a caller writing them to a file
        holds one chunk at a time whatever the row count."""
        schema = self._require_fitted()
        if not isinstance(rows, (int, np.integer)) or isinstance(rows, bool) or rows < 1:
            raise InputError(f"rows must be a positive integer, got {rows!r}")
        rows = int(rows)
        seed = self.config.seed if seed is None else int(seed)
        prepared = self._sample_options(**options)
        for index, start in enumerate(range(0, rows, SAMPLE_CHUNK_ROWS)):
            n = min(SAMPLE_CHUNK_ROWS, rows - start)
            sampled = self._sample(n, chunk_seed(seed, index), **prepared).reset_index(drop=True)
            yield fill_unmodelled(
                sampled, schema, self.unmodelled_, seed=seed, offset=start, exclude=self.pii_exclude_
            )

    def _sample_options(self, **options: Any) -> dict[str, Any]:
        """Check the sampling options once, before any chunk is drawn; a generator with options overrides it."""
        if options:
            raise InputError(f"{type(self).__name__}.sample takes no option(s) {', '.join(sorted(options))}")
        return {}

    def save(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Write a model directory (JSON + safetensors); ``metadata`` is kept in ``state.json``."""
        schema = self._require_fitted()
        return save_model_dir(
            path,
            ModelFiles(
                class_name=type(self).__name__,
                config=self.config.model_dump(mode="json"),
                schema=schema,
                transforms=self._transforms_state(),
                state={"unmodelled": self.unmodelled_, "metadata": metadata or {}, **self._extra_state()},
                weights=self._weights(),
                synthgen_version="",
            ),
        )

    @classmethod
    def from_files(cls, files: ModelFiles, device: str | None = None) -> "Generator":
        config = dict(files.config)
        if device is not None:
            config["device"] = device
        try:
            model = cls(cls.config_class(**config))
        except ValidationError as exc:
            raise ModelFileError(f"{files.path}: model config does not validate: {exc}") from None
        model.schema_ = files.schema
        try:
            model.unmodelled_ = upgrade_unmodelled(files.state.get("unmodelled", {}))
            model._restore(files.transforms, files.state, files.weights)
        except ModelFileError as exc:
            raise ModelFileError(f"{files.path}: {exc}") from None
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError, IndexError) as exc:
            raise ModelFileError(f"{files.path}: model files do not match {cls.__name__}: {_first_line(exc)}") from None
        extra = sorted(set(files.weights) - set(model._weights()))
        if extra:
            raise ModelFileError(
                f"{files.path}: weights file holds tensor(s) {cls.__name__} does not have: {', '.join(extra[:5])}"
                + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
            )
        return model

    @property
    def is_fitted(self) -> bool:
        return self.schema_ is not None

    def _require_fitted(self) -> TableSchema:
        if self.schema_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(data) first")
        return self.schema_

    # -- what a generator implements ------------------------------------------------------------
    @abstractmethod
    def _fit(self, data: pd.DataFrame, schema: TableSchema, progress: Progress | None) -> None: ...

    @abstractmethod
    def _sample(self, rows: int, seed: int, **options: Any) -> pd.DataFrame:
        """``rows`` rows of the modelled columns, from one random stream seeded by ``seed``."""

    @abstractmethod
    def _transforms_state(self) -> dict[str, Any]: ...

    @abstractmethod
    def _extra_state(self) -> dict[str, Any]: ...

    @abstractmethod
    def _weights(self) -> dict[str, torch.Tensor]: ...

    @abstractmethod
    def _restore(self, transforms: dict[str, Any], state: dict[str, Any], weights: dict[str, torch.Tensor]) -> None: ...


def load_model(path: str | Path, device: str | None = None) -> Generator:
    """Load any saved generator; ``device`` overrides the one it was trained with."""
    from synthgen.models import GENERATORS  # the registry imports every model module

    files = load_model_dir(path)
    by_class = {cls.__name__: cls for cls in GENERATORS.values()}
    if files.class_name not in by_class:
        raise ModelFileError(
            f"{path}: unknown model class {files.class_name!r}; this synthgen knows {', '.join(sorted(by_class))}"
        )
    return by_class[files.class_name].from_files(files, device=device)


def chunk_seed(seed: int, index: int) -> int:
    """The seed of chunk ``index``: the first chunk uses ``seed`` itself, so a small sample is unchanged
    by chunking; later chunks get independent streams derived from (seed, index)."""
    if index == 0:
        return seed
    return int(np.random.SeedSequence([seed & 0xFFFFFFFFFFFFFFFF, index]).generate_state(1, dtype=np.uint64)[0] >> 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
