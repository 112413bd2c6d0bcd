"""A TabDDPM-class diffusion generator: Gaussian diffusion on numerics, masked diffusion on categories.

Read top to bottom: the table layout (which encoded span feeds which process), then the generator,
whose `_train` and `_sample` hold the two loops. The config (CPU defaults, a GPU preset) is
`DDPMConfig` in `synthgen.models.configs`.

- Numeric, integer and datetime columns are quantile-normalised (`QuantileNormalizer`) and noised by
  `GaussianDiffusion` (epsilon-prediction, cosine schedule, T = ``timesteps``, 1000 by default).
- Categorical and boolean columns (and the missing-value flags of numeric ones) are integer codes
  noised by `MaskedDiffusion` (absorbing state). Levels seen in fewer than ``rare_level_rows`` rows
  are one token to the model and drawn back by their shares (`RareLevels`).
- With a discrete target and ``condition_on_target`` (the default), the target is not diffused: it is
  drawn from its training shares (or from shares the caller asks for) and enters the `Denoiser` as a
  class embedding, as in TabDDPM. With ``label_dropout`` a share of training rows sees a "no class"
  embedding instead, and sampling with ``guidance`` w uses (1 + w) x the class's prediction - w x the
  class-free one (classifier-free guidance, Ho & Salimans 2022), on the noise and on the logits.
- AdamW with a linear learning-rate decay fitted to the budget (``steps``, capped at ``max_epochs``
  passes over the data, and optionally ``max_minutes``, whichever ends first); an exponential moving
  average of the weights is what samples.
- `fit` is three steps: `_fit_transformer` (per-column statistics, which a bounded sample serves),
  `_encode` into compact arrays (`Encoded`) and `_fit_encoded`; `fit_source` runs the same three on a
  Parquet dataset larger than memory, encoding it batch by batch.
- Sampling walks ``sampling_steps`` respaced steps in batches of ``sample_batch`` rows, so memory
  stays flat for any row count; the numbers by ``solver`` (DPM-Solver++(2M) SDE by default, 15 steps),
  the categories by unmasking.
"""

from __future__ import annotations

import copy
import json
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.special import ndtr, ndtri
from torch.nn.parallel import DistributedDataParallel

from synthgen.checkpoint import Checkpointing, resume_training, save_training
from synthgen.device import GraphedStep, StepObserver, autocast, torch_generator
from synthgen.distributed import SINGLE, Dist
from synthgen.errors import DataError, InputError
from synthgen.models.base import Generator, Progress
from synthgen.models.configs import BudgetWarning, DDPMConfig
from synthgen.models.diffusion import SOLVERS, Denoiser, GaussianDiffusion, MaskedDiffusion, respaced_timesteps
from synthgen.models.diffusion.masked import ColumnLogits
from synthgen.models.diffusion.rare_levels import RareLevels
from synthgen.models.optim import FusedAdam
from synthgen.sampling import Allowed, Guide
from synthgen.schema import TableSchema
from synthgen.sources import SAMPLE_ROWS, ParquetSource, Part, RankShard
from synthgen.transforms import TableTransformer
from synthgen.transforms.base import NumericEncoder
from synthgen.transforms.discrete import OneHotEncoder, to_json_value


@dataclass(frozen=True)
class Layout:
    """Where each encoded span goes: a numeric score, a categorical code, or the target class.

    It works on the transformer's compact form (one column per span: a scalar or a category index),
    so neither training data nor samples pass through one-hot blocks.
    """

    roles: tuple[tuple[str, int], ...]  # (role, index within its role), one per span, in span order
    cardinalities: tuple[int, ...]
    n_numeric: int
    n_classes: int

    @classmethod
    def of(cls, transformer: TableTransformer, target: str | None) -> Layout:
        roles, cardinalities, n_numeric, n_classes = [], [], 0, 0
        for span in transformer.spans:
            if span.activation == "identity":
                roles.append(("numeric", n_numeric))
                n_numeric += 1
            elif span.column == target and span.discrete:
                roles.append(("target", 0))
                n_classes = span.width
            else:
                roles.append(("categorical", len(cardinalities)))
                cardinalities.append(span.width)
        return cls(tuple(roles), tuple(cardinalities), n_numeric, n_classes)

    def _columns(self, role: str) -> list[int]:
        return [i for i, (r, _) in enumerate(self.roles) if r == role]

    def split(self, compact: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(numeric scores, categorical codes, target classes) from `TableTransformer.compact`'s output."""
        target = self._columns("target")
        return (
            compact[:, self._columns("numeric")].astype(np.float32),
            compact[:, self._columns("categorical")].astype(np.int64),
            compact[:, target[0]].astype(np.int64) if target else None,
        )

    def join(self, numeric: np.ndarray, codes: np.ndarray, target: np.ndarray | None) -> np.ndarray:
        """The compact form (for `TableTransformer.inverse_compact`) of denoised numerics, codes and classes."""
        out = np.zeros((numeric.shape[0], len(self.roles)), np.float32)
        out[:, self._columns("numeric")] = numeric
        out[:, self._columns("categorical")] = codes
        if target is not None:
            out[:, self._columns("target")[0]] = target
        return out


@dataclass(frozen=True)
class Encoded:
    """A training table in the model's terms (`Layout.split`): numeric scores (rows x numeric, float32),
    categorical codes in their full levels (rows x categorical, int64) and target classes (int64, or
    None). Held in memory, or memory-mapped when a streamed source's table is too large for it."""

    numeric: np.ndarray
    codes: np.ndarray
    target: np.ndarray | None

    def __len__(self) -> int:
        return self.numeric.shape[0]


STREAM_MEMORY_BYTES = 4 << 30
"""A streamed source's encoded arrays (`Encoded`) larger than this are memory-mapped from a temporary
folder instead of held in memory (`DDPM.fit_source`)."""
ENCODE_BLOCK_ROWS = 65_536

HARMONISE_PASSES = 2
"""Re-denoising passes from a quarter of the chain when numbers are held (seed rows, exact values, rare
ranges); each costs a quarter of a plain pass. On a test table whose grade follows the amount (97 % of
the model's own high-amount rows are not grade A), rows completed around a held high amount were not
grade A in 79 % with plain inpainting, 88 % after 2 passes, 90 % after 3 and 92 % after 4. On
credit_risk (the rarer class and a top-quartile interest rate held), shape against the real rows
meeting the conditions was 0.950 / 0.952 / 0.953 after 1 / 2 / 3 passes, trend 0.992 / 0.991 / 0.993.
Two keep conditioned sampling above half the speed of plain sampling
(`evaluation/conditional_bench.py`)."""
INPAINT_BELOW = 0.45
"""A range holding less than this share of a column's values is drawn (truncated normal scores) and
inpainted; a wider one is left to the check and redraws, which cost about 1 / share plain passes and
keep the model's exact conditional."""
CLASS_REFERENCE_ROWS = 2048
CLASS_NEIGHBOURS = 32


@dataclass
class Steering:
    """A `synthgen.sampling.Guide` as the denoiser's tensors need it, per block of rows."""

    rows: int
    rare: RareLevels = field(default_factory=RareLevels)
    target: Allowed | None = None
    categorical: dict[int, Allowed] = field(default_factory=dict)  # categorical index -> allowed codes
    numeric: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # index -> (held, scores)

    def categories(
        self, x_cat: torch.Tensor, block: slice, masked: MaskedDiffusion, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Fixed codes written into the all-masked start, and a logit bias (-inf on disallowed categories)."""
        if not self.categorical:
            return x_cat, None
        bias = torch.zeros(x_cat.shape[0], masked.starts[-1], device=device)
        for j, allowed in self.categorical.items():
            pooled = Allowed(self.rare.pool_patterns(j, allowed.patterns), allowed.which)  # the model's codes
            single = torch.as_tensor(pooled.take(np.arange(self.rows)[block]).single(), device=device)
            x_cat[:, j] = torch.where(single >= 0, single, x_cat[:, j])
            ok = torch.as_tensor(pooled.rows(block), device=device)
            part = torch.where(ok, 0.0, float("-inf"))
            if j in self.rare.columns:  # the token weighs only the rare levels the row may take
                share = self.rare.token_log_share(j, allowed.patterns)[allowed.which[block]]
                part[:, -1] = torch.as_tensor(share, dtype=part.dtype, device=device)
            bias[:, masked.starts[j] : masked.starts[j + 1]] = part
        return x_cat, bias

    def full_levels(self, block: slice) -> dict[int, np.ndarray]:
        """The allowed full levels of the block's rows, per steered column the model pools."""
        return {j: a.rows(block) for j, a in self.categorical.items() if j in self.rare.columns}

    def numbers(self, block: slice, width: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(held, scores) over the ``width`` numeric columns of the block's rows; None when nothing is held."""
        if not self.numeric:
            return None
        n = len(range(self.rows)[block])
        mask = np.zeros((n, width), dtype=bool)
        scores = np.zeros((n, width), dtype=np.float32)
        for j, (held, values) in self.numeric.items():
            mask[:, j], scores[:, j] = held[block], values[block]
        return torch.as_tensor(mask, device=device), torch.as_tensor(scores, device=device)


def _summed_profile(
    dist: Dist, counts: dict[str, pd.Series], missing: dict[str, int]
) -> tuple[dict[str, pd.Series], dict[str, int]]:
    """`ParquetSource.profile` counts of every rank's shard, summed, on every rank. Levels cross as JSON
    values keyed by their JSON text (so 1, "1" and True stay apart), summed in rank order."""
    mine = {
        "counts": {c: [[to_json_value(v), int(n)] for v, n in series.items()] for c, series in counts.items()},
        "missing": missing,
    }
    summed: dict[str, dict[str, int]] = {c: {} for c in counts}
    total = dict.fromkeys(missing, 0)
    for rank in dist.gather_json(mine):
        for c, pairs in rank["counts"].items():
            for value, n in pairs:
                key = json.dumps(value)
                summed[c][key] = summed[c].get(key, 0) + n
        for c, n in rank["missing"].items():
            total[c] += n
    series = {
        c: pd.Series([n for n in found.values()], index=pd.Index([json.loads(k) for k in found], dtype=object))
        for c, found in summed.items()
    }
    return series, total


class DDPM(Generator):
    """Diffusion generator. Every hyperparameter of `DDPMConfig` is a keyword argument.

    Sampling options, keywords of `sample` and `iter_sample` (besides the conditions, rebalancing,
    seed rows and ``target`` every generator takes):

    - ``sampling_steps``: respaced denoising steps, instead of the config's ``sampling_steps``;
    - ``solver``: ``ddim`` or ``dpm++2m-sde``, instead of the config's ``solver``;
    - ``guidance``: the classifier-free guidance weight, instead of the config's ``guidance`` (a model
      trained with ``label_dropout`` > 0 only).

    Conditions and seed rows are held during denoising: given categories are never masked, allowed
    ones are the only ones drawn, given numbers are inpainted; only ranges and constraints are checked
    and redrawn.
    """

    steers_numbers = True

    config_class = DDPMConfig
    config: DDPMConfig

    def __init__(self, config: DDPMConfig | None = None, **params: Any) -> None:
        super().__init__(config, **params)
        self.transformer_: TableTransformer | None = None
        self.layout_: Layout | None = None
        self.denoiser_: Denoiser | None = None  # the EMA weights: what samples
        self.class_shares_: list[float] | None = None
        self.rare_ = RareLevels()
        self.history_: list[dict[str, float]] = []
        self.train_seconds_: float = 0.0
        self.steps_done_: int = 0
        self.cuda_graph_ = False

    # -- building ----------------------------------------------------------------------------------
    def _target_for(self, schema: TableSchema) -> str | None:
        target = schema.target
        if self.config.condition_on_target and target in schema and schema[target].kind.is_discrete:
            return target
        return None

    @property
    def null_class(self) -> int | None:
        """The index of the "no class" embedding (the last one), when the model learned one."""
        layout = self.layout_
        if layout is None or not layout.n_classes or self.config.label_dropout == 0:
            return None
        return layout.n_classes

    def _build(self) -> None:
        cfg, layout = self.config, self.layout_
        self.gaussian_ = GaussianDiffusion(cfg.timesteps).to(self.device_)
        cardinalities = self.rare_.cardinalities(list(layout.cardinalities))
        self.masked_ = MaskedDiffusion(cardinalities, cfg.timesteps).to(self.device_)
        self.denoiser_ = Denoiser(
            layout.n_numeric,
            cardinalities,
            layout.n_classes + (self.null_class is not None),
            cfg.width,
            cfg.depth,
            cfg.time_dim,
            cfg.dropout,
        ).to(self.device_)

    # -- training ----------------------------------------------------------------------------------
    def _fit(
        self, data: pd.DataFrame, schema: TableSchema, progress: Progress | None, step_hook: StepObserver | None
    ) -> None:
        dist = self.dist_
        if not dist.active:
            self._fit_transformer(data, schema)
            self._fit_encoded(self._encode(data), schema, progress, step_hook)
            return
        self._share_transformer(data, schema)  # DDP: one transformer for all ranks; each encodes its own rows
        shard = data.iloc[dist.shard(len(data))]
        self._fit_encoded(self._encode(shard, seed=dist.seed(self.config.seed)), schema, progress, step_hook)

    def _share_transformer(self, data: pd.DataFrame, schema: TableSchema) -> None:
        """DDP: rank 0 fits the transformer (on its bounded sample) and sends its JSON state; the other
        ranks restore it, so all encode with the same quantiles, mixtures and category maps. An input
        error on rank 0 is raised on every rank (instead of leaving them waiting)."""

        def fit() -> TableTransformer:
            self._fit_transformer(data, schema)
            return self.transformer_

        self.transformer_ = self.dist_.shared_fit(fit, TableTransformer.from_state)
        self.layout_ = Layout.of(self.transformer_, self._target_for(schema))

    def _fit_transformer(self, data: pd.DataFrame, schema: TableSchema) -> None:
        """Fit the transformer and the layout on ``data``: the training table, or a bounded sample of it
        (a streamed source's reservoir, `fit_source`), since everything fitted here is a per-column
        statistic (quantiles on at most ``quantile_fit_rows`` rows, the levels) and not the network."""
        cfg = self.config
        self.transformer_ = TableTransformer(
            max_fit_rows=cfg.quantile_fit_rows, seed=cfg.seed, continuous="quantile"
        ).fit(data, schema)
        self.layout_ = Layout.of(self.transformer_, self._target_for(schema))
        if cfg.label_dropout > 0 and not self.layout_.n_classes:
            raise InputError(
                "label_dropout (and guidance) need a discrete target the model is conditioned on: the schema's "
                f"target is {schema.target!r}" + ("" if cfg.condition_on_target else " and condition_on_target is off")
            )

    def _encode(self, data: pd.DataFrame, seed: int | None = None) -> Encoded:
        """``data`` in the model's terms (`Encoded`); ``seed`` seeds the dequantisation draws (None: the
        transformer's own seed, which the in-memory fit uses)."""
        return Encoded(*self.layout_.split(self.transformer_.transform_compact(data, seed)))

    def _fit_encoded(
        self, encoded: Encoded, schema: TableSchema, progress: Progress | None, step_hook: StepObserver | None
    ) -> None:
        """Learn the class shares and rare levels from the whole encoded table, build the networks and
        train on it. The arrays may be memory-mapped (`fit_source`): on the CPU the tensors share them."""
        device, dist = self.device_, self.dist_  # under DDP the arrays are this rank's shard: counts are summed
        numeric, codes, target = encoded.numeric, encoded.codes, encoded.target
        if target is not None:
            counts = dist.sum_counts(np.bincount(target, minlength=self.layout_.n_classes))
            self.class_shares_ = (counts / counts.sum()).tolist()
        categorical = [
            span for span, (role, _) in zip(self.transformer_.spans, self.layout_.roles) if role == "categorical"
        ]
        self.rare_ = RareLevels.from_counts(  # a categorical column's levels; a number's spikes and missing flags stay
            [dist.sum_counts(np.bincount(codes[:, j], minlength=w)) for j, w in enumerate(self.layout_.cardinalities)],
            self.config.rare_level_rows,
            [schema[span.column].kind.is_discrete for span in categorical],
        )
        self._build()
        self._pool_in_place(codes)
        self._train(
            torch.from_numpy(numeric).to(device),
            torch.from_numpy(codes).to(device),
            None if target is None else torch.from_numpy(target).to(device),
            progress,
            step_hook,
        )

    def _pool_in_place(self, codes: np.ndarray) -> None:
        """`RareLevels.pool` written back into ``codes``, a block of rows at a time, so a memory-mapped
        table is not copied whole."""
        if not self.rare_:
            return
        for begin in range(0, codes.shape[0], ENCODE_BLOCK_ROWS):
            block = codes[begin : begin + ENCODE_BLOCK_ROWS]
            block[:] = self.rare_.pool(torch.from_numpy(np.ascontiguousarray(block))).numpy()

    def fit_source(
        self,
        source: ParquetSource,
        schema: TableSchema | None = None,
        part: Part | None = None,
        progress: Progress | None = None,
        step_hook: StepObserver | None = None,
        sample_rows: int = SAMPLE_ROWS,
        memory_bytes: int = STREAM_MEMORY_BYTES,
        sample: pd.DataFrame | None = None,
        checkpoint: Checkpointing | None = None,
        distributed: Dist | None = None,
    ) -> DDPM:
        """Learn a table larger than memory: ``part`` (all rows for None) of a `synthgen.sources.ParquetSource`.

        Three passes over the record batches, none holding more than a batch of raw rows: a seeded
        reservoir sample of ``sample_rows`` rows (the schema is inferred on it when none is given; the
        transformer's quantiles, value formats and id/PII patterns are fitted on it); the count of every
        level of the categorical columns and of the missing values of the numeric ones over the whole
        part (levels and missing values a sample would miss); then the encoding, batch by batch, into
        the compact arrays training draws from (`Encoded`: 4 bytes per number, 8 per category). Those
        are held in memory up to ``memory_bytes``, and memory-mapped in a temporary folder above it.

        Each batch's dequantisation draws are seeded by (``seed``, the batch's first row), so the model
        is deterministic for a seed and a table but not bit-identical to `fit` on the same rows. The
        constraints `fit` takes are not supported here. ``sample``: a uniform sample of ``part`` the caller
        already drew (the pipeline's, which the judge also scores), used instead of drawing one. The real
        values of the PII and random-id columns kept out of the rows sampled are those of the whole source,
        every part (`ParquetSource.pii_values`, a pass reading those columns only).

        ``checkpoint`` and ``distributed`` are `fit`'s. Under DDP every rank reads the same sample; rank 0
        fits the transformer on it and sends its JSON state (`Dist.shared_fit`); each rank then counts the
        levels of its own shard of ``part`` (every ``world``-th row of it by global row index, `RankShard`),
        the ranks' counts are summed, and each encodes only its shard: the ranks read the files side by
        side and hold a ``world``-th of the arrays each, memory-mapped above ``memory_bytes`` shared by the
        ranks of a machine. No rank waits on a pass over the whole table by another."""
        from synthgen.schema import infer_schema, modelled_frame
        from synthgen.unmodelled import learn_unmodelled

        cfg = self.config
        if schema is not None:
            source.require_columns([c.name for c in schema.modelled])
        if sample is None:
            sample = source.reservoir(sample_rows, seed=cfg.seed, part=part)
        schema = schema or infer_schema(sample, source=source.path)
        if not schema.modelled:
            raise InputError(f"{source.path}: the schema has no column a generator can learn (only ids and PII)")
        self.schema_ = schema
        self.unmodelled_ = learn_unmodelled(sample, schema, seed=cfg.seed)
        self.exclude_source_pii(source)  # every row's real PII, not the sample's: one pass over those columns
        self.constraints_, self.constraint_columns_ = None, {}
        for note in cfg.budget_notes(source.part_rows(part)):
            warnings.warn(f"{type(self).__name__}: {note}", BudgetWarning, stacklevel=2)
        self.dist_ = SINGLE if distributed is None else distributed
        self.device_ = device = self.dist_.init(self.device_)
        self.checkpointing_ = checkpoint
        shard = RankShard(part, self.dist_.rank, self.dist_.world) if self.dist_.active else part
        with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
            torch.manual_seed(cfg.seed)
            fit = partial(self._fitted_transformer, modelled_frame(sample, schema), schema)
            del sample
            self.transformer_ = self.dist_.shared_fit(fit, TableTransformer.from_state)  # rank 0's, under DDP
            self.layout_ = Layout.of(self.transformer_, self._target_for(schema))
            del fit  # and the sample with it
            self._complete_levels(source, shard, schema)  # each rank counts its own shard; the counts are summed
            with tempfile.TemporaryDirectory(prefix="synthgen-encoded-") as folder:
                rows = source.part_rows(shard)
                held = memory_bytes // self.dist_.local_world  # the ranks on a machine share its memory
                encoded = self._encode_source(source, shard, schema, rows, held, Path(folder))
                self._fit_encoded(encoded, schema, progress, step_hook)
                del encoded
        return self

    def _fitted_transformer(self, data: pd.DataFrame, schema: TableSchema) -> TableTransformer:
        self._fit_transformer(data, schema)
        return self.transformer_

    def _complete_levels(self, source: ParquetSource, part: Part | RankShard | None, schema: TableSchema) -> None:
        """Give the transformer, fitted on a sample, every level of each categorical column and the
        missing-value flag of each numeric column with missing values anywhere in ``part``. Under DDP
        ``part`` is this rank's shard: every rank counts its own rows in one pass, side by side, and the
        counts of all ranks are summed (`_summed_profile`), so every rank completes the same transformer."""
        encoders = self.transformer_.encoders_
        levels = [e.column.name for e in encoders if isinstance(e, OneHotEncoder)]
        numeric = [e.column.name for e in encoders if isinstance(e, NumericEncoder) and not e.has_null_]
        counts, missing = source.profile(levels, numeric, part)
        if self.dist_.active:
            counts, missing = _summed_profile(self.dist_, counts, missing)
        for encoder in encoders:
            name = encoder.column.name
            if isinstance(encoder, OneHotEncoder):  # the order `OneHotEncoder.fit` gives: most frequent first
                ordered = sorted(counts[name].items(), key=lambda item: (-item[1], str(item[0])))
                encoder.categories_ = [to_json_value(value) for value, _ in ordered]
            elif name in missing and missing[name] > 0:
                encoder.has_null_ = True
        self.layout_ = Layout.of(self.transformer_, self._target_for(schema))

    def _encode_source(
        self,
        source: ParquetSource,
        part: Part | RankShard | None,
        schema: TableSchema,
        rows: int,
        memory_bytes: int,
        folder: Path,
    ) -> Encoded:
        """``part`` of ``source`` encoded batch by batch into arrays of ``rows`` rows, memory-mapped files
        in ``folder`` when they would take more than ``memory_bytes``."""
        layout = self.layout_
        shapes = {
            "numeric": ((rows, layout.n_numeric), np.float32),
            "codes": ((rows, len(layout.cardinalities)), np.int64),
        }
        if layout.n_classes:
            shapes["target"] = ((rows,), np.int64)
        size = sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in shapes.values())
        mapped = size > memory_bytes
        arrays = {
            name: np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+", dtype=dtype, shape=shape)
            if mapped
            else np.empty(shape, dtype)
            for name, (shape, dtype) in shapes.items()
        }
        names, at = [c.name for c in schema.modelled], 0
        for start, frame in source.batches(names, part):
            seed = int(np.random.SeedSequence([self.config.seed, start]).generate_state(1)[0])
            block = self._encode(frame[names], seed=seed)
            n = len(block)
            arrays["numeric"][at : at + n] = block.numeric
            arrays["codes"][at : at + n] = block.codes
            if block.target is not None:
                arrays["target"][at : at + n] = block.target
            at += n
        if at != rows:
            raise DataError(f"{source.path}: read {at:,} rows of the {rows:,} the metadata and the split announce")
        self.encoded_mapped_ = mapped
        return Encoded(arrays["numeric"], arrays["codes"], arrays.get("target"))

    def _train(
        self,
        numeric: torch.Tensor,
        codes: torch.Tensor,
        target: torch.Tensor | None,
        progress: Progress | None,
        step_hook: StepObserver | None,
    ) -> None:
        """The training loop: AdamW on random batches, an EMA of the weights, checkpoints every N steps.

        Under DDP (`synthgen.distributed`, several ranks) the arrays are this rank's shard of the rows
        and the denoiser is wrapped in `DistributedDataParallel` (which sends rank 0's initial weights
        to all): each rank draws its share of the global ``batch_size`` from its shard with its own
        random stream (seeded from (seed, rank)) and weights its mean loss by its share
        (`Dist.batch_weight`); DDP averages the gradients, so the step is one process's on the mean
        loss over ``batch_size`` rows, and the optimiser steps, the EMA and the loss log are the same
        on every rank. CUDA graphs are off under DDP: capturing
        DDP's gradient all-reduce needs NCCL prepared for capture (no asynchronous error handling,
        buckets built before capture, a static graph), which no test here can check; the step runs
        eagerly instead, on one GPU per rank.
        """
        cfg, device, dist = self.config, self.device_, self.dist_
        net, gaussian, masked = self.denoiser_, self.gaussian_, self.masked_
        model: torch.nn.Module = net
        if dist.active:
            model = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
            torch.manual_seed(dist.seed(cfg.seed))  # per-rank batches and noise; the weights are rank 0's
        ema = copy.deepcopy(net).requires_grad_(False)
        opt = FusedAdam(net.parameters(), cfg.lr, weight_decay=cfg.weight_decay, decoupled=True)
        net_params, ema_params = list(net.parameters()), list(ema.parameters())
        budget_s = cfg.max_minutes * 60 if cfg.max_minutes else None
        local_rows = numeric.shape[0]
        rows = int(dist.sum_counts(np.array([local_rows]))[0])
        batch = min(cfg.batch_size, rows)
        local_batch = dist.local_batch(batch)  # the remainder of batch / world goes to the first ranks
        weight = dist.batch_weight(batch)  # 1.0 unless the shares differ
        total = cfg.training_steps(rows)
        log_every = max(1, min(100, total // 20))
        # The loss sum and the EMA's update weight live on the device, written in place, so the step
        # can be captured once as a CUDA graph and replayed with the values of each step.
        running = torch.zeros((), device=device)
        ema_weight = torch.zeros((), device=device)
        networks, optimizers = {"net": net, "ema": ema}, {"opt": opt}
        saved = resume_training(self, rows, networks, optimizers, {"running": running})
        first, elapsed = (0, 0.0) if saved is None else (int(saved["step"]), float(saved["seconds"]))
        if saved is not None:
            self.history_ = list(saved["history"])

        def train_step() -> None:
            loss = self._loss(model, gaussian, masked, numeric, codes, target, local_rows, local_batch)
            if weight != 1.0:  # unequal shares: this rank's part of the mean over the global batch
                loss = loss * weight
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():  # ema += w * (net - ema)
                drift = torch._foreach_sub(net_params, ema_params)
                torch._foreach_mul_(drift, ema_weight)
                torch._foreach_add_(ema_params, drift)
            running.add_(loss.detach())

        run = GraphedStep(train_step, device, enabled=cfg.cuda_graphs and not dist.active, on_step=step_hook)
        net.train()
        start = time.perf_counter() - elapsed
        checkpointing = self.checkpointing_
        step = first
        for step in range(first, total):
            done = step / total
            if budget_s is not None:  # rank 0's clock decides, so every rank sets the same rate and stops together
                done = dist.broadcast_float(max(done, (time.perf_counter() - start) / budget_s))
                if done >= 1.0:
                    break
            opt.set_lr(cfg.lr * (1.0 - done))
            ema_weight.fill_(1.0 - min(cfg.ema_decay, (1 + step) / (10 + step)))
            run()
            if (step + 1) % log_every == 0:
                loss = float(dist.mean(running)) / log_every
                entry = {"step": step + 1, "loss": loss, "seconds": time.perf_counter() - start}
                self.history_.append(entry)
                running.zero_()
                if progress is not None:  # with a time budget, progress is the share of it spent
                    progress(max(step + 1, int(done * total)), total, {"loss": entry["loss"]})
            if checkpointing is not None and checkpointing.due(step + 1, total):
                state = {"seconds": time.perf_counter() - start, "history": self.history_}
                save_training(self, rows, step + 1, networks, optimizers, {"running": running}, state)
        else:
            step = total
        if progress is not None and self.history_:
            progress(total, total, {"loss": self.history_[-1]["loss"]})
        self.cuda_graph_ = run.captured
        self.steps_done_ = step
        self.train_seconds_ = time.perf_counter() - start
        ema.eval()
        self.denoiser_ = ema

    def _loss(self, net, gaussian, masked, numeric, codes, target, rows: int, batch: int) -> torch.Tensor:
        device = numeric.device
        idx = torch.randint(rows, (batch,), device=device)
        t = torch.randint(self.config.timesteps, (batch,), device=device)
        x0_num, x0_cat = numeric[idx], codes[idx]
        noise = torch.randn_like(x0_num)
        x_num = gaussian.q_sample(x0_num, t, noise)
        x_cat, mask = masked.q_sample(x0_cat, t)
        y = None if target is None else target[idx]
        if y is not None and self.null_class is not None:  # hidden classes: the class-free prediction
            hide = torch.rand(batch, device=device) < self.config.label_dropout
            y = torch.where(hide, self.null_class, y)
        with autocast(device, self.config.mixed_precision):
            eps, logits = net(x_num, x_cat, t, y)
        loss = torch.zeros(batch, device=device)
        if x0_num.shape[1]:
            loss = loss + gaussian.loss(eps, noise)
        if masked.n_columns:
            loss = loss + masked.loss(logits, x0_cat, mask, t)
        return loss.mean()

    # -- sampling ----------------------------------------------------------------------------------
    def _sample_options(
        self,
        sampling_steps: int | None = None,
        solver: str | None = None,
        guidance: float | None = None,
        **unknown: Any,
    ) -> dict[str, Any]:
        """DDPM's sampling options (see the class docstring) -> `_sample`'s ``steps``, ``solver`` and
        ``guidance`` (None: the config's)."""
        super()._sample_options(**unknown)
        if sampling_steps is not None and (
            not isinstance(sampling_steps, int) or isinstance(sampling_steps, bool) or sampling_steps < 1
        ):
            raise InputError(f"sampling_steps must be a positive integer, got {sampling_steps!r}")
        if solver is not None and solver not in SOLVERS:
            raise InputError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
        if guidance is not None:
            if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not 0 <= guidance < float("inf"):
                raise InputError(f"guidance must be a number >= 0, got {guidance!r}")
            if guidance > 0 and self.null_class is None:
                raise InputError(
                    f"guidance={guidance:g} needs a model trained with label_dropout > 0 and a discrete target; "
                    f"this one has label_dropout={self.config.label_dropout:g}"
                    + ("" if self.layout_.n_classes else " and no target class")
                )
        return {"steps": sampling_steps, "solver": solver, "guidance": guidance}

    def _steering(self, guide: Guide, rng: np.random.Generator) -> Steering:
        """The guide in the denoiser's terms: fixed codes and allowed-category masks per categorical
        column, the target's allowed classes, and the quantile scores of the numbers to hold (given, or
        drawn inside a range)."""
        layout, encoders = self.layout_, {e.column.name: e for e in self.transformer_.encoders_}
        steering = Steering(rows=guide.rows, rare=self.rare_)
        spans = {}
        for span, (role, index) in zip(self.transformer_.spans, layout.roles):
            spans.setdefault(span.column, []).append((role, index))
        for name, allowed in guide.allowed.items():
            role, index = spans[name][0]
            if role == "target":
                steering.target = allowed
            else:
                steering.categorical[index] = allowed
        for name, numbers in guide.known.items():
            fixed = ~np.isnan(numbers)
            encoder = encoders[name]
            if not fixed.any():
                continue
            (_, index), *which = spans[name]
            codes = np.full(guide.rows, -1)
            codes[fixed] = encoder.choices(numbers[fixed])
            continuous = codes == 0
            if encoder.quantiles_ is not None and continuous.any():
                scores = np.zeros(guide.rows, dtype=np.float32)
                scores[continuous] = encoder.to_normal(numbers[continuous])
                steering.numeric[index] = (continuous, scores)
            if which:  # a held value is present: continuous, or the spike it equals
                width = encoder.n_choices
                patterns = np.vstack([np.eye(width, dtype=bool), np.ones((1, width), dtype=bool)])
                steering.categorical[which[0][1]] = Allowed(patterns, np.where(fixed, codes, width))
        for name, (low, high) in guide.ranges.items():
            encoder = encoders[name]
            (_, index), *which = spans[name]
            if index in steering.numeric:
                continue
            allowed = encoder.choices_within(low, high)
            if which and allowed.any():  # only the spikes inside the range, the continuous part if it reaches in
                steering.categorical[which[0][1]] = Allowed(allowed[None, :], np.zeros(guide.rows, int))
            if encoder.quantiles_ is None or not allowed[0] or allowed[1:].any():
                continue  # a spike may fill the range: the scalar cannot be held; the check settles it
            # The continuous part's quantile scores are standard normal: its values inside the range are
            # the normal truncated to the range's scores. Draw them and hold them like given numbers, so
            # a rare range costs no more than a common one; the check settles rounding at the ends.
            ends = [encoder.to_normal(np.array([x], dtype=float))[0] if x is not None else None for x in (low, high)]
            p_low = 0.0 if ends[0] is None else float(ndtr(ends[0]))
            p_high = 1.0 if ends[1] is None else float(ndtr(ends[1]))
            if p_high - p_low >= INPAINT_BELOW:
                continue
            u = rng.random(guide.rows)
            scores = ndtri(np.clip(p_low + u * (p_high - p_low), 1e-12, 1 - 1e-12)).astype(np.float32)
            steering.numeric[index] = (np.ones(guide.rows, dtype=bool), scores)
        return steering

    @torch.no_grad()
    def _sample(
        self,
        rows: int,
        seed: int,
        guide: Guide | None = None,
        steps: int | None = None,
        solver: str | None = None,
        guidance: float | None = None,
    ) -> pd.DataFrame:
        """Denoise ``rows`` rows. With a guide: categories a row may not take get no probability (fixed
        ones are never masked), the target's class is drawn among the allowed ones, and held numbers
        are written back, clean, before every step (inpainting; the denoiser reads little from a
        forward-noised value)."""
        cfg, device, layout = self.config, self.device_, self.layout_
        rng = torch_generator(seed, device)
        solver = solver or cfg.solver
        guidance = cfg.guidance if guidance is None else float(guidance)
        timesteps = respaced_timesteps(cfg.timesteps, steps or cfg.sampling_steps).to(device)
        weights = None if self.class_shares_ is None else torch.tensor(self.class_shares_, device=device)
        steering = None if guide is None else self._steering(guide, np.random.default_rng(seed))
        reference = None
        blocks = []
        # guidance runs each row beside its class-free copy: half the rows per block keep memory bounded
        batch = cfg.sample_batch if guidance == 0 else max(1, cfg.sample_batch // 2)
        for begin in range(0, rows, batch):
            n = min(batch, rows - begin)
            block = slice(begin, begin + n)
            y = None
            held = None if steering is None else steering.numbers(block, layout.n_numeric, device)
            if weights is not None and held is not None:
                if reference is None:  # drawn once per call, not once per block
                    reference = self._class_reference(timesteps, rng, solver, guidance)
                row_weights = self._class_weights(held, reference)
                if steering.target is not None:
                    row_weights = row_weights * torch.as_tensor(steering.target.rows(block), device=device)
                y = torch.multinomial(row_weights, 1, generator=rng).squeeze(1)
            elif weights is not None and steering is not None and steering.target is not None:
                allowed = torch.as_tensor(steering.target.rows(block), device=device)
                y = torch.multinomial(weights[None, :] * allowed, 1, generator=rng).squeeze(1)
            elif weights is not None:
                y = torch.multinomial(weights, n, replacement=True, generator=rng)
            x_num = torch.randn(n, layout.n_numeric, device=device, generator=rng)
            x_cat = self.masked_.all_masked(n, device)
            bias = None
            if steering is not None:
                x_cat, bias = steering.categories(x_cat, block, self.masked_, device)
            fixed = x_cat != self.masked_.mask_token  # given categories: never re-masked
            x_num, x_cat = self._denoise(x_num, x_cat, y, timesteps, bias, held, rng, solver, guidance)
            if held is not None:
                # Harmonise: categories revealed early (when the numbers carried little signal) are
                # re-masked and the free numbers re-noised to a quarter of the chain, then denoised again
                # beside the held numbers (resampling, as in RePaint); each pass pulls the row to them.
                mid = len(timesteps) // 4
                t_mid = timesteps[mid].expand(n)
                for _ in range(HARMONISE_PASSES):
                    remasked, _ = self.masked_.q_sample(x_cat, t_mid, rng)
                    x_cat = torch.where(fixed, x_cat, remasked)
                    noise = torch.randn(x_num.shape, device=device, generator=rng)
                    x_num = self.gaussian_.q_sample(x_num, t_mid, noise)
                    x_num, x_cat = self._denoise(
                        x_num, x_cat, y, timesteps[: mid + 1], bias, held, rng, solver, guidance
                    )
            if self.rare_:
                x_cat = self.rare_.restore(x_cat, {} if steering is None else steering.full_levels(block), rng)
            blocks.append(layout.join(x_num.cpu().numpy(), x_cat.cpu().numpy(), None if y is None else y.cpu().numpy()))
        return self.transformer_.inverse_compact(np.concatenate(blocks))

    def _class_reference(self, timesteps, rng, solver: str, guidance: float) -> tuple[torch.Tensor, torch.Tensor]:
        """`CLASS_REFERENCE_ROWS` of the model's own unconditional rows: (numeric scores, classes)."""
        device, m = self.device_, CLASS_REFERENCE_ROWS
        y_ref = torch.multinomial(torch.tensor(self.class_shares_, device=device), m, replacement=True, generator=rng)
        x_num = torch.randn(m, self.layout_.n_numeric, device=device, generator=rng)
        x_ref, _ = self._denoise(
            x_num, self.masked_.all_masked(m, device), y_ref, timesteps, None, None, rng, solver, guidance
        )
        return x_ref, y_ref

    def _class_weights(
        self, held: tuple[torch.Tensor, torch.Tensor], reference: tuple[torch.Tensor, torch.Tensor]
    ) -> torch.Tensor:
        """Per row, weights of the target's classes given the row's held numbers. The class embedding is
        chosen before denoising, so it cannot follow the numbers the way the other columns do; the
        model's own unconditional rows (``reference``, `_class_reference`) show how the classes vary
        with them: the classes of the `CLASS_NEIGHBOURS` nearest reference rows (in the held columns'
        quantile scores), smoothed by the training shares."""
        device, mask, scores = self.device_, held[0], held[1]
        shares = torch.tensor(self.class_shares_, device=device)
        x_ref, y_ref = reference
        k = min(CLASS_NEIGHBOURS, len(y_ref))
        weights = shares.expand(len(scores), -1).clone()  # rows holding nothing: the training shares
        # Rows hold different columns (seed rows): one distance pass per pattern of held columns, as
        # matrix products (cdist) rather than a rows x reference x columns difference tensor.
        patterns, which = torch.unique(mask, dim=0, return_inverse=True)
        for p, pattern in enumerate(patterns):
            columns = pattern.nonzero().squeeze(1)
            if len(columns) == 0:
                continue
            members = (which == p).nonzero().squeeze(1)
            reference_part = x_ref[:, columns]
            for begin in range(0, len(members), 4096):
                rows = members[begin : begin + 4096]
                d = torch.cdist(scores[rows][:, columns], reference_part)
                nearest = d.topk(k, dim=1, largest=False).indices
                counts = torch.nn.functional.one_hot(y_ref[nearest], len(self.class_shares_)).sum(1).float()
                weights[rows] = counts + shares[None, :]
        return weights

    def _denoise(
        self, x_num, x_cat, y, timesteps, bias, held, rng, solver: str, guidance: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Walk ``timesteps`` down to a clean row: the reverse steps of both processes, with disallowed
        categories at -inf and held numbers given clean at each step (``guidance``: `_outputs`)."""
        cfg, device = self.config, self.device_
        chain = self.gaussian_.solver(solver, cfg.eta)
        for i in reversed(range(len(timesteps))):
            # one time for every row, as a 0-d tensor: schedules are read once per step, not once per row
            t = timesteps[i]
            t_prev = timesteps[i - 1] if i else torch.tensor(-1, device=device)
            if held is not None:  # the clean value: the denoiser reads little from a forward-noised one
                x_num = torch.where(held[0], held[1], x_num)
            eps, logits = self._outputs(x_num, x_cat, t, y, bias, guidance)
            x_num = chain.step(x_num, eps.float(), t, t_prev, rng, final=i <= 1)
            x_cat = self.masked_.p_sample(x_cat, logits, t, t_prev, rng)
        if held is not None:
            x_num = torch.where(held[0], held[1], x_num)
        return x_num, x_cat

    def _outputs(
        self, x_num, x_cat, t, y, bias, guidance: float = 0.0
    ) -> tuple[torch.Tensor, torch.Tensor | ColumnLogits]:
        """The denoiser's predicted noise, and its category logits (disallowed categories at -inf). On
        the GPU every logit, computed in one product; on the CPU a function that computes a column's
        logits for the rows that reveal it (`MaskedDiffusion.p_sample`), the output layer's largest part
        when a column has hundreds of levels.

        With ``guidance`` w > 0 each output is ``(1 + w) * conditional - w * class-free``: the rows are
        run beside a copy of themselves with the "no class" embedding. On the logits this equals the
        same mix of log-probabilities (each column's normalising constants only shift a row's logits)."""
        net, n_numeric, starts = self.denoiser_, self.layout_.n_numeric, self.masked_.starts
        guided, n = guidance > 0 and y is not None, x_num.shape[0]
        if guided:
            x_num, x_cat = torch.cat([x_num, x_num]), torch.cat([x_cat, x_cat])
            y = torch.cat([y, torch.full_like(y, self.null_class)])

        def mix(out: torch.Tensor) -> torch.Tensor:  # (conditional rows; class-free rows) -> guided rows
            if not guided:
                return out
            half = out.shape[0] // 2
            return torch.lerp(out[half:], out[:half], 1.0 + guidance)

        if self.device_.type == "cuda":
            with autocast(self.device_, self.config.mixed_precision):
                eps, logits = net(x_num, x_cat, t, y)
            if guided:  # unguided, each column's logits are cast where they are read, for the revealed rows only
                eps, logits = mix(eps.float()), mix(logits.float())
            return eps, logits if bias is None else logits.float() + bias
        hidden = net.hidden(x_num, x_cat, t, y)

        def column_logits(rows: torch.Tensor, j: int) -> torch.Tensor:
            both = torch.cat([rows, rows + n]) if guided else rows
            logits = mix(net.head(hidden[both], n_numeric + starts[j], n_numeric + starts[j + 1]))
            return logits if bias is None else logits + bias[rows, starts[j] : starts[j + 1]]

        return mix(net.head(hidden, 0, n_numeric)), column_logits

    # -- persistence -------------------------------------------------------------------------------
    def _transforms_state(self) -> dict[str, Any]:
        return self.transformer_.get_state()

    def _extra_state(self) -> dict[str, Any]:
        return {
            "class_shares": self.class_shares_,
            "rare_levels": self.rare_.get_state(),
            "history": self.history_,
            "train_seconds": self.train_seconds_,
            "steps_done": self.steps_done_,
        }

    def _networks(self) -> dict[str, torch.nn.Module]:
        return {"denoiser": self.denoiser_}

    def _restore(self, transforms: dict[str, Any], state: dict[str, Any]) -> None:
        self.transformer_ = TableTransformer.from_state(transforms)
        self.class_shares_ = state["class_shares"]
        self.rare_ = RareLevels.from_state(state.get("rare_levels"))  # none in a model saved before pooling
        self.history_ = list(state.get("history", []))
        self.train_seconds_ = float(state.get("train_seconds", 0.0))
        self.steps_done_ = int(state.get("steps_done", 0))
        self.layout_ = Layout.of(self.transformer_, self._target_for(self.schema_) if self.class_shares_ else None)
        self._build()
