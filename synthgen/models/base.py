"""What every generator is: a configuration, `fit`, `sample`, `save` and `load`.

The constructor is configuration (scikit-learn style): keyword hyperparameters validated into a
frozen pydantic config, which is also the recipe's ``model:`` block and the ``config.json`` of a
saved model. Learned state ends in ``_``. Ids and PII are handled here, once, for every generator:
subclasses learn and sample only the modelled columns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, ClassVar, Literal

import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synthgen.artifacts import ModelFiles, load_model_dir, save_model_dir
from synthgen.device import resolve_device
from synthgen.errors import InputError, ModelFileError, NotFittedError
from synthgen.sampling import fill_unmodelled, learn_unmodelled
from synthgen.schema import TableSchema, infer_schema, modelled_frame

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
        self._fit(modelled_frame(data, schema), schema, progress)
        return self

    def sample(self, rows: int, seed: int | None = None) -> pd.DataFrame:
        """``rows`` synthetic rows with every schema column; the same seed gives the same rows."""
        schema = self._require_fitted()
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
            raise InputError(f"rows must be a positive integer, got {rows!r}")
        seed = self.config.seed if seed is None else int(seed)
        sampled = self._sample(rows, seed).reset_index(drop=True)
        return fill_unmodelled(sampled, schema, self.unmodelled_, seed=seed)

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
            raise ModelFileError(f"model config does not validate: {exc}") from None
        model.schema_ = files.schema
        model.unmodelled_ = dict(files.state.get("unmodelled", {}))
        try:
            model._restore(files.transforms, files.state, files.weights)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise ModelFileError(f"model files do not match {cls.__name__}: {exc}") from None
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
    def _sample(self, rows: int, seed: int) -> pd.DataFrame: ...

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
