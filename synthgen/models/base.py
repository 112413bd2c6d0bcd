"""What every generator is: a configuration, `fit`, `sample`, `save` and `load`.

The constructor is configuration (scikit-learn style): keyword hyperparameters validated into a
frozen pydantic config (`synthgen.models.configs`), which is also the recipe's ``generator:`` block
and the ``config.json`` of a saved model. Learned state ends in ``_``. What every generator needs is
done here, once: ids and PII (subclasses learn and sample only the modelled columns), the seeded
random stream of training, the checking of sampling options, and the saving and loading of the
networks' weights (each subclass names its networks in `_networks`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from pydantic import ValidationError

from synthgen.artifacts import ModelFiles, load_model_dir, save_model_dir
from synthgen.device import StepObserver, resolve_device
from synthgen.errors import InputError, ModelFileError, NotFittedError
from synthgen.models.configs import REGISTRY, GeneratorConfig
from synthgen.schema import TableSchema, infer_schema, modelled_frame
from synthgen.unmodelled import fill_unmodelled, learn_unmodelled, pii_exclusions, upgrade_unmodelled

SAMPLE_CHUNK_ROWS = 32_768
"""Rows drawn per random stream when sampling. Fixed, so that the rows of a seed do not depend on how
they are consumed: `sample` concatenates exactly the chunks `iter_sample` streams to a file."""

Progress = Callable[[int, int, dict[str, float]], None]
"""Called after each epoch (or logging interval) with (done, total, named losses)."""


class Generator(ABC):
    """Base class of synthgen's generators. See `synthgen.models.CTGAN` for a complete one."""

    config_class: ClassVar[type[GeneratorConfig]]

    @classmethod
    def training_memory(cls, rows: int, width: int) -> float:
        """Bytes of memory training is expected to take on a table of ``rows`` x ``width`` encoded columns
        (the measured figures of the generator's entry in `synthgen.models.configs.REGISTRY`)."""
        entry = next(entry for entry in REGISTRY.values() if entry.config is cls.config_class)
        return entry.training_memory(rows, width)

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
        self,
        data: pd.DataFrame,
        schema: TableSchema | None = None,
        progress: Progress | None = None,
        step_hook: StepObserver | None = None,
    ) -> Generator:
        """Learn ``data``. Without a schema, one is inferred.

        Training draws from torch's global random stream seeded with the config's ``seed``, forked so
        the caller's stream is left as it was. ``step_hook`` observes the training steps: it is the
        ``on_step`` of the `synthgen.device.GraphedStep` that runs them (profiling; see there).
        """
        schema = schema or infer_schema(data)
        if not schema.modelled:
            raise InputError("the schema has no column a generator can learn (only ids and PII)")
        self.schema_ = schema
        self.unmodelled_ = learn_unmodelled(data, schema, seed=self.config.seed)
        self.exclude_source_pii(data)
        device = self.device_
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
            torch.manual_seed(self.config.seed)
            self._fit(modelled_frame(data, schema), schema, progress, step_hook)
        return self

    def exclude_source_pii(self, data: pd.DataFrame) -> Generator:
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

        ``options`` are the generator's own sampling options, listed in its class docstring and
        checked by its `_sample_options`; a generator without any refuses every option (`InputError`).
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
            yield fill_unmodelled(sampled, schema, self.unmodelled_, seed=seed, offset=start, exclude=self.pii_exclude_)

    def _sample_options(self, **options: Any) -> dict[str, Any]:
        """The keyword arguments of `_sample` from the options of `sample`, checked once before any chunk
        is drawn. A generator with options overrides it and passes what it does not know here."""
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
    def from_files(
        cls, files: ModelFiles, device: str | None = None, sampling: dict[str, Any] | None = None
    ) -> Generator:
        """The saved generator; ``device`` and ``sampling`` (values of the config's `sampling_fields`)
        replace what it was trained with, since they change how it samples, not what it learned."""
        config = dict(files.config)
        if device is not None:
            config["device"] = device
        for name, value in (sampling or {}).items():
            if name not in cls.config_class.sampling_fields:
                raise InputError(f"{cls.__name__}: {name!r} is not a sampling setting; it changes the trained model")
            config[name] = value
        try:
            model = cls(cls.config_class(**config))
        except ValidationError as exc:
            raise ModelFileError(f"{files.path}: model config does not validate: {exc}") from None
        model.schema_ = files.schema
        try:
            model.unmodelled_ = upgrade_unmodelled(files.state.get("unmodelled", {}))
            model._restore(files.transforms, files.state)
            model._load_weights(files.weights)
        except ModelFileError as exc:
            raise ModelFileError(f"{files.path}: {exc}") from None
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError, IndexError) as exc:
            raise ModelFileError(f"{files.path}: model files do not match {cls.__name__}: {_first_line(exc)}") from None
        return model

    def _weights(self) -> dict[str, torch.Tensor]:
        """The tensors saved in ``weights.safetensors``: ``<network>.<state_dict key>`` for each of `_networks`."""
        return {
            f"{name}.{key}": tensor
            for name, network in self._networks().items()
            for key, tensor in network.state_dict().items()
        }

    def _load_weights(self, weights: dict[str, torch.Tensor]) -> None:
        """Load saved tensors into the networks `_restore` built, all of them and nothing else."""
        wanted = self._weights()
        for problem, names in (
            (f"holds tensor(s) {type(self).__name__} does not have", sorted(set(weights) - set(wanted))),
            (f"lacks tensor(s) {type(self).__name__} needs", sorted(set(wanted) - set(weights))),
        ):
            if names:
                more = f" and {len(names) - 5} more" if len(names) > 5 else ""
                raise ModelFileError(f"weights file {problem}: {', '.join(names[:5])}{more}")
        for name, network in self._networks().items():
            prefix = f"{name}."
            own = {key[len(prefix) :]: value for key, value in weights.items() if key.startswith(prefix)}
            network.load_state_dict(own)
            network.eval()

    @property
    def is_fitted(self) -> bool:
        return self.schema_ is not None

    def _require_fitted(self) -> TableSchema:
        if self.schema_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(data) first")
        return self.schema_

    # -- what a generator implements ------------------------------------------------------------
    @abstractmethod
    def _fit(
        self, data: pd.DataFrame, schema: TableSchema, progress: Progress | None, step_hook: StepObserver | None
    ) -> None:
        """Learn the modelled columns of ``data`` (torch's random stream is already seeded); run the
        training steps through a `synthgen.device.GraphedStep` with ``on_step=step_hook``."""

    @abstractmethod
    def _sample(self, rows: int, seed: int, **options: Any) -> pd.DataFrame:
        """``rows`` rows of the modelled columns, from one random stream seeded by ``seed``."""

    @abstractmethod
    def _transforms_state(self) -> dict[str, Any]: ...

    @abstractmethod
    def _extra_state(self) -> dict[str, Any]: ...

    @abstractmethod
    def _networks(self) -> dict[str, torch.nn.Module]:
        """The networks whose weights are saved, by name (the prefix of their tensors on disk)."""

    @abstractmethod
    def _restore(self, transforms: dict[str, Any], state: dict[str, Any]) -> None:
        """Rebuild the fitted state from a model directory, with untrained `_networks`: the base class
        loads their weights next."""


def load_model(path: str | Path, device: str | None = None) -> Generator:
    """Load any saved generator; ``device`` overrides the one it was trained with."""
    return model_from_files(load_model_dir(path), device=device)


def model_from_files(files: ModelFiles, device: str | None = None, sampling: dict[str, Any] | None = None) -> Generator:
    """The generator a model directory already read holds (`synthgen.artifacts.load_model_dir`)."""
    by_class = {entry.class_name: entry for entry in REGISTRY.values()}
    if files.class_name not in by_class:
        raise ModelFileError(
            f"{files.path}: unknown model class {files.class_name!r}; this synthgen knows {', '.join(sorted(by_class))}"
        )
    return by_class[files.class_name].load().from_files(files, device=device, sampling=sampling)


def chunk_seed(seed: int, index: int) -> int:
    """The seed of chunk ``index``: the first chunk uses ``seed`` itself, so a small sample is unchanged
    by chunking; later chunks get independent streams derived from (seed, index)."""
    if index == 0:
        return seed
    return int(np.random.SeedSequence([seed & 0xFFFFFFFFFFFFFFFF, index]).generate_state(1, dtype=np.uint64)[0] >> 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
