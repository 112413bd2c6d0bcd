"""What every generator is: a configuration, `fit`, `sample`, `save` and `load`.

The constructor is configuration (scikit-learn style): keyword hyperparameters validated into a
frozen pydantic config (`synthgen.models.configs`), which is also the recipe's ``generator:`` block
and the ``config.json`` of a saved model. Learned state ends in ``_``. What every generator needs is
done here, once: ids and PII (subclasses learn and sample only the modelled columns), the seeded
random stream of training, the checking of sampling options, and the saving and loading of the
networks' weights (each subclass names its networks in `_networks`).
"""

from __future__ import annotations

import difflib
import inspect
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from pydantic import ValidationError

from synthgen.artifacts import ModelFiles, load_model_dir, save_model_dir
from synthgen.checkpoint import Checkpointing
from synthgen.constraints import ConstraintSet, ConstraintSpec
from synthgen.device import StepObserver, resolve_device
from synthgen.distributed import SINGLE, Dist
from synthgen.errors import InputError, ModelFileError, NotFittedError
from synthgen.models.configs import (
    REGISTRY,
    BudgetWarning,
    GeneratorConfig,
    constructor_signature,
    hyperparameter_lines,
)
from synthgen.sampling import Columns, Guide, SamplePlan, describe_columns, described_column, draw
from synthgen.schema import TableSchema, infer_schema, modelled_frame
from synthgen.sources import ParquetSource
from synthgen.unmodelled import fill_unmodelled, learn_unmodelled, pii_exclusions, upgrade_unmodelled

SAMPLE_CHUNK_ROWS = 32_768
"""Rows drawn per random stream when sampling. Fixed, so that the rows of a seed do not depend on how
they are consumed: `sample` concatenates exactly the chunks `iter_sample` streams to a file."""

Progress = Callable[[int, int, dict[str, float]], None]
"""Called after each epoch (or logging interval) with (done, total, named losses)."""


class Generator(ABC):
    """Base class of synthgen's generators. See `synthgen.models.CTGAN` for a complete one."""

    config_class: ClassVar[type[GeneratorConfig]]
    steers_numbers: ClassVar[bool] = False
    """Whether `_sample` holds continuous values given in its guide (inpainting); if not, seed rows and
    exact-value conditions on continuous columns are refused, since no drawn row would ever meet them."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give each generator class the signature and docstring of its hyperparameters, built once from its
        config: ``__init__`` takes ``**params`` (validated by the config), which ``help()`` would show bare."""
        super().__init_subclass__(**kwargs)
        config_class = getattr(cls, "config_class", None)
        if config_class is None:
            return
        cls.__signature__ = constructor_signature(config_class)
        own = inspect.cleandoc(cls.__doc__ or "")
        cls.__doc__ = f"{own}\n\n{hyperparameter_lines(config_class)}" if own else hyperparameter_lines(config_class)

    @classmethod
    def training_memory(cls, rows: int, width: int, columns: int = 0) -> float:
        """Bytes of memory training is expected to take on a table of ``rows`` x ``width`` encoded columns
        from ``columns`` modelled columns (the measured figures of the generator's entry in
        `synthgen.models.configs.REGISTRY`)."""
        entry = next(entry for entry in REGISTRY.values() if entry.config is cls.config_class)
        return entry.training_memory(rows, width, columns)

    def __init__(self, config: GeneratorConfig | None = None, **params: Any) -> None:
        if config is not None and params:
            raise TypeError("pass either a config object or keyword parameters, not both")
        if config is None:
            _refuse_unknown(type(self), params)
            try:
                config = self.config_class(**params)
            except ValidationError as exc:
                raise InputError(f"{type(self).__name__}: invalid parameters: {exc}") from None
        self.config = config
        self.schema_: TableSchema | None = None
        self.unmodelled_: dict[str, Any] = {}
        self.pii_exclude_: dict[str, set[str]] = {}
        self.constraints_: ConstraintSet | None = None
        self.constraint_columns_: dict[str, Any] = {}  # reparametrised columns as the user sees them
        self.device_ = resolve_device(config.device)
        self.dist_ = SINGLE  # the ranks of a distributed fit (`fit`'s ``distributed``)
        self.checkpointing_: Checkpointing | None = None

    # -- public API ---------------------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame,
        schema: TableSchema | None = None,
        progress: Progress | None = None,
        step_hook: StepObserver | None = None,
        constraints: Sequence[ConstraintSpec] | ConstraintSet | None = None,
        checkpoint: Checkpointing | None = None,
        distributed: Dist | None = None,
    ) -> Generator:
        """Learn ``data``. Without a schema, one is inferred.

        ``constraints`` (`synthgen.constraints`) hold in every sampled row: those that can be are learned
        reparametrised (an inequality as a non-negative gap, a fixed combination as one category), the
        others are checked and their failing rows redrawn. Training draws from torch's global random
        stream seeded with the config's ``seed``, forked so the caller's stream is left as it was.
        ``step_hook`` observes the training steps: it is the ``on_step`` of the
        `synthgen.device.GraphedStep` that runs them (profiling; see there).

        ``checkpoint`` (`synthgen.checkpoint.Checkpointing`): write training checkpoints every N steps,
        and with ``resume`` continue from the last one. ``distributed`` (a `synthgen.distributed.Dist` of
        several ranks, e.g. ``synthgen.distributed.current()`` under torchrun): the fit is distributed
        (DDP): every rank calls ``fit`` with the same table and each trains on its shard of the rows; the
        fitted model is the same on every rank. Without it the fit is one process's, even inside a
        torchrun job (a model per rank).
        """
        schema = schema or infer_schema(data)
        if not schema.modelled:
            raise InputError("the schema has no column a generator can learn (only ids and PII)")
        self.schema_ = schema
        self.unmodelled_ = learn_unmodelled(data, schema, seed=self.config.seed)
        self.exclude_source_pii(data)
        learned, learned_schema = data, schema
        self.constraints_, self.constraint_columns_ = None, {}
        if constraints is not None and len(constraints):
            fitted = constraints if isinstance(constraints, ConstraintSet) else ConstraintSet(constraints, schema)
            self.constraints_ = fitted if isinstance(constraints, ConstraintSet) else fitted.fit(data)
            self.constraint_columns_ = describe_columns(data, schema, self.constraints_.reparametrised)
            learned, learned_schema = self.constraints_.encode(data), self.constraints_.model_schema(schema)
        for note in self.config.budget_notes(len(learned)):
            warnings.warn(f"{type(self).__name__}: {note}", BudgetWarning, stacklevel=2)
        self.dist_ = SINGLE if distributed is None else distributed
        self.device_ = device = self.dist_.init(self.device_)
        self.checkpointing_ = checkpoint
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
            torch.manual_seed(self.config.seed)
            self._fit(modelled_frame(learned, learned_schema), learned_schema, progress, step_hook)
        return self

    def exclude_source_pii(self, data: pd.DataFrame | ParquetSource) -> Generator:
        """Never emit a PII value that occurs in ``data``.

        PII is regenerated from masked patterns, so a real value comes out only by coincidence (a short
        one such as 'Li' easily). The values are held in memory for this object only and are never
        saved: a model directory must not contain them. `fit` calls this with the training rows; the
        pipeline calls it with the whole source table, which a reused model has not seen. A streamed
        source (`synthgen.sources.ParquetSource`) gives the values of all its rows, read column by column
        (`ParquetSource.pii_values`), not those of a sample.
        """
        schema = self._require_fitted()
        found = data.pii_values(schema) if isinstance(data, ParquetSource) else pii_exclusions(data, schema)
        for name, values in found.items():
            self.pii_exclude_.setdefault(name, set()).update(values)
        return self

    def sample(
        self,
        rows: int | pd.DataFrame,
        seed: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        rebalance: Mapping[str, Mapping[Any, float]] | None = None,
        **options: Any,
    ) -> pd.DataFrame:
        """``rows`` synthetic rows with every schema column; the same seed gives the same rows.

        - ``rows`` may be a DataFrame of *seed rows*: partial rows (any schema columns; a missing entry
          is free), each completed by the model; the result has one row per seed row, in order.
        - ``conditions``: ``{column: value | [values] | {"min": a, "max": b} | (a, b)}``; every row meets
          all of them, e.g. ``{"loan_status": "Charged Off", "addr_state": ["CA", "TX"],
          "annual_inc": (50_000, None)}``.
        - ``rebalance``: ``{column: {category: share}}`` on discrete columns; the named categories take
          their share of the rows, the rest keep the model's mix of the other categories.
        - ``target``: a class of the schema's target (a condition) or ``{class: share}`` (a rebalancing).

        What the generator cannot steer is checked and redrawn (`synthgen.sampling`); rows too rare to
        draw raise `InputError` naming the acceptance rate, never fewer rows. ``options`` are the
        generator's own sampling options (its class docstring); unknown ones are refused.
        """
        return pd.concat(
            list(self.iter_sample(rows, seed, conditions=conditions, rebalance=rebalance, **options)),
            ignore_index=True,
        )

    def iter_sample(
        self,
        rows: int | pd.DataFrame,
        seed: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        rebalance: Mapping[str, Mapping[Any, float]] | None = None,
        **options: Any,
    ) -> Iterator[pd.DataFrame]:
        """The rows of `sample`, in chunks of `SAMPLE_CHUNK_ROWS`, so that a caller writing them to a file
        holds one chunk at a time whatever the row count."""
        schema = self._require_fitted()
        seed_rows = rows if isinstance(rows, pd.DataFrame) else None
        if seed_rows is not None:
            rows = len(seed_rows)
        if not isinstance(rows, (int, np.integer)) or isinstance(rows, bool) or rows < 1:
            raise InputError(f"rows must be a positive integer or a DataFrame of seed rows, got {rows!r}")
        rows = int(rows)
        seed = self.config.seed if seed is None else int(seed)
        conditions, rebalance = self._target_option(options.pop("target", None), conditions, rebalance)
        prepared = self._sample_options(**options)
        plan = SamplePlan(
            Columns(schema, self._encoders()), conditions, rebalance, seed_rows, seed, **self._constraint_checks()
        )
        if plan.active:
            self._check_steerable(plan)
        for index, start in enumerate(range(0, rows, SAMPLE_CHUNK_ROWS)):
            n = min(SAMPLE_CHUNK_ROWS, rows - start)
            chunk = chunk_seed(seed, index)
            if plan.active:
                sampled = draw(
                    plan,
                    n,
                    start,
                    chunk,
                    lambda m, s, guide: self._sample(m, s, guide=self._model_guide(guide), **prepared),
                )
            else:
                sampled = self._sample(n, chunk, **prepared).reset_index(drop=True)
            filled = fill_unmodelled(
                sampled, schema, self.unmodelled_, seed=seed, offset=start, exclude=self.pii_exclude_
            )
            yield plan.give_unmodelled(filled, start)

    def meets(self, frame: pd.DataFrame, conditions: Mapping[str, Any]) -> np.ndarray:
        """Which rows of ``frame`` (real or synthetic) meet ``conditions``, read as `sample` reads them:
        the real rows a conditioned sample is judged against."""
        return SamplePlan(Columns(self._require_fitted(), self._encoders()), conditions).meets_conditions(frame)

    def _target_option(
        self, target: Any, conditions: Mapping[str, Any] | None, rebalance: Mapping[str, Mapping[Any, float]] | None
    ) -> tuple[dict[str, Any], dict[str, Mapping[Any, float]]]:
        """``target=`` as a condition (one class) or a rebalancing (``{class: share}``, shares normalised)."""
        conditions, rebalance = dict(conditions or {}), dict(rebalance or {})
        if target is None:
            return conditions, rebalance
        name = self.schema_.target
        if name is None or not self.schema_[name].kind.is_discrete:
            raise InputError("target= needs a model trained with a discrete target; use conditions={column: value}")
        if name in conditions or name in rebalance:
            raise InputError(f"target= and a condition or rebalancing of {name!r} both given; choose one")
        if isinstance(target, Mapping):
            shares = {k: v for k, v in target.items()}
            bad = [v for v in shares.values() if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0]
            total = sum(v for v in shares.values() if v not in bad)
            if bad or total <= 0:
                raise InputError(f"target {name!r}: shares must be non-negative numbers adding up to more than 0")
            rebalance[name] = {k: v / total for k, v in shares.items()}
        else:
            conditions[name] = target
        return conditions, rebalance

    def _encoders(self) -> list[Any]:
        """What guided sampling reads of each column (categories, value codecs), in the user's terms: the
        model's own encoders, and for reparametrised columns their description from the training data."""
        own = [e for e in self.transformer_.encoders_ if e.column.name not in self.constraint_columns_]
        return own + [described_column(self.schema_[name], state) for name, state in self.constraint_columns_.items()]

    def _constraint_checks(self) -> dict[str, Any]:
        """The plan's ``decode``, ``row_check`` and ``unique`` from the model's constraints."""
        if self.constraints_ is None:
            return {}
        c = self.constraints_
        return {"decode": c.decode, "row_check": c.valid, "unique": c.unique}

    def _model_guide(self, guide: Guide) -> Guide:
        """The guide without the columns the model learns as something else (gaps, merged combinations):
        those are checked on the decoded rows, not steered."""
        if not self.constraint_columns_:
            return guide
        skip = set(self.constraint_columns_)
        return Guide(
            guide.rows,
            allowed={k: v for k, v in guide.allowed.items() if k not in skip},
            known={k: v for k, v in guide.known.items() if k not in skip},
            ranges={k: v for k, v in guide.ranges.items() if k not in skip},
        )

    def _check_steerable(self, plan: SamplePlan) -> None:
        """Refuse what rejection cannot deliver: a continuous value fixed exactly, for a generator that
        cannot hold one while it samples (no drawn row would ever equal it)."""
        if self.steers_numbers:
            return
        fixed = [c.column for c in plan.conditions if c.values is not None and not plan.columns.discrete(c.column)]
        if plan.seed_rows is not None:
            fixed += [
                str(name)
                for name in plan.seed_rows.columns
                if plan.columns.schema[name].kind.is_continuous and plan.seed_rows[name].notna().any()
            ]
        if fixed:
            raise InputError(
                f"{type(self).__name__} cannot hold the {', '.join(sorted(set(fixed)))} column(s) at given values "
                "while it samples; give a range instead, or use the diffusion generator (type: ddpm), which does"
            )

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
                state={
                    "unmodelled": self.unmodelled_,
                    "metadata": metadata or {},
                    **self._extra_state(),
                    **self._constraints_state(),
                },
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
            if files.state.get("constraints") is not None:
                model.constraints_ = ConstraintSet.from_state(files.state["constraints"], model.schema_)
                model.constraint_columns_ = dict(files.state.get("constraint_columns", {}))
            model._restore(files.transforms, files.state)
            model._load_weights(files.weights)
        except ModelFileError as exc:
            raise ModelFileError(f"{files.path}: {exc}") from None
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError, IndexError) as exc:
            raise ModelFileError(f"{files.path}: model files do not match {cls.__name__}: {_first_line(exc)}") from None
        return model

    def _constraints_state(self) -> dict[str, Any]:
        if self.constraints_ is None:
            return {}
        return {"constraints": self.constraints_.get_state(), "constraint_columns": self.constraint_columns_}

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
    def _sample(self, rows: int, seed: int, guide: Guide | None = None, **options: Any) -> pd.DataFrame:
        """``rows`` rows of the modelled columns, from one random stream seeded by ``seed``, steered by
        ``guide`` (`synthgen.sampling.Guide`) as far as the generator can: the rows are checked after."""

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


def _refuse_unknown(cls: type[Generator], params: Mapping[str, Any]) -> None:
    """One error naming every keyword the generator does not take, with the closest hyperparameter name."""
    known = list(cls.config_class.model_fields)
    unknown = [name for name in params if name not in known]
    if not unknown:
        return
    named = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, 1)
        named.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    raise InputError(
        f"{cls.__name__}: unknown parameter(s) {', '.join(named)}; help(synthgen.{cls.__name__}) lists them"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
