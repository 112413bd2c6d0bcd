"""A TabDDPM-class diffusion generator: Gaussian diffusion on numerics, masked diffusion on categories.

Read top to bottom: the table layout (which encoded span feeds which process), then the generator,
whose `_train` and `_sample` hold the two loops. The config (CPU defaults, a GPU preset) is
`DDPMConfig` in `synthgen.models.configs`.

- Numeric, integer and datetime columns are quantile-normalised (`QuantileNormalizer`) and noised by
  `GaussianDiffusion` (epsilon-prediction, cosine schedule, T = ``timesteps``, 1000 by default).
- Categorical and boolean columns (and the missing-value flags of numeric ones) are integer codes
  noised by `MaskedDiffusion` (absorbing state).
- With a discrete target and ``condition_on_target`` (the default), the target is not diffused: it is
  drawn from its training shares (or from shares the caller asks for) and enters the `Denoiser` as a
  class embedding, as in TabDDPM.
- AdamW with a linear learning-rate decay fitted to the budget (``steps``, capped at ``max_epochs``
  passes over the data, and optionally ``max_minutes``, whichever ends first); an exponential moving
  average of the weights is what samples.
- Sampling walks ``sampling_steps`` respaced steps in batches of ``sample_batch`` rows, so memory
  stays flat for any row count.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from synthgen.device import GraphedStep, StepObserver, autocast, torch_generator
from synthgen.errors import InputError
from synthgen.models.base import Generator, Progress
from synthgen.models.configs import DDPMConfig
from synthgen.models.diffusion import Denoiser, GaussianDiffusion, MaskedDiffusion, respaced_timesteps
from synthgen.models.optim import FusedAdam
from synthgen.schema import TableSchema
from synthgen.transforms import OneHotEncoder, TableTransformer
from synthgen.transforms.discrete import to_json_value


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


class DDPM(Generator):
    """Diffusion generator. Every hyperparameter of `DDPMConfig` is a keyword argument.

    Sampling options, keywords of `sample` and `iter_sample`:

    - ``target``: a class of the schema's target, or a mapping class -> share, to choose the target's
      balance (needs a discrete target and ``condition_on_target``); default: the training shares.
    - ``sampling_steps``: respaced denoising steps, instead of the config's ``sampling_steps``.
    """

    config_class = DDPMConfig
    config: DDPMConfig

    def __init__(self, config: DDPMConfig | None = None, **params: Any) -> None:
        super().__init__(config, **params)
        self.transformer_: TableTransformer | None = None
        self.layout_: Layout | None = None
        self.denoiser_: Denoiser | None = None  # the EMA weights: what samples
        self.class_shares_: list[float] | None = None
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

    def _build(self) -> None:
        cfg, layout = self.config, self.layout_
        self.gaussian_ = GaussianDiffusion(cfg.timesteps).to(self.device_)
        self.masked_ = MaskedDiffusion(list(layout.cardinalities), cfg.timesteps).to(self.device_)
        self.denoiser_ = Denoiser(
            layout.n_numeric,
            list(layout.cardinalities),
            layout.n_classes,
            cfg.width,
            cfg.depth,
            cfg.time_dim,
            cfg.dropout,
        ).to(self.device_)

    # -- training ----------------------------------------------------------------------------------
    def _fit(
        self, data: pd.DataFrame, schema: TableSchema, progress: Progress | None, step_hook: StepObserver | None
    ) -> None:
        cfg, device = self.config, self.device_
        self.transformer_ = TableTransformer(
            max_fit_rows=cfg.quantile_fit_rows, seed=cfg.seed, continuous="quantile"
        ).fit(data, schema)
        self.layout_ = Layout.of(self.transformer_, self._target_for(schema))
        compact = self.transformer_.compact(self.transformer_.transform(data)).numpy()
        numeric, codes, target = self.layout_.split(compact)
        if target is not None:
            counts = np.bincount(target, minlength=self.layout_.n_classes)
            self.class_shares_ = (counts / counts.sum()).tolist()
        self._build()
        self._train(
            torch.from_numpy(numeric).to(device),
            torch.from_numpy(codes).to(device),
            None if target is None else torch.from_numpy(target).to(device),
            progress,
            step_hook,
        )

    def _train(
        self,
        numeric: torch.Tensor,
        codes: torch.Tensor,
        target: torch.Tensor | None,
        progress: Progress | None,
        step_hook: StepObserver | None,
    ) -> None:
        cfg, device = self.config, self.device_
        net, gaussian, masked = self.denoiser_, self.gaussian_, self.masked_
        ema = copy.deepcopy(net).requires_grad_(False)
        opt = FusedAdam(net.parameters(), cfg.lr, weight_decay=cfg.weight_decay, decoupled=True)
        net_params, ema_params = list(net.parameters()), list(ema.parameters())
        budget_s = cfg.max_minutes * 60 if cfg.max_minutes else None
        rows, batch = numeric.shape[0], min(cfg.batch_size, numeric.shape[0])
        total = cfg.steps
        if cfg.max_epochs is not None:
            total = max(1, min(total, math.ceil(cfg.max_epochs * rows / batch)))
        log_every = max(1, min(100, total // 20))
        # The loss sum and the EMA's update weight live on the device, written in place, so the step
        # can be captured once as a CUDA graph and replayed with the values of each step.
        running = torch.zeros((), device=device)
        ema_weight = torch.zeros((), device=device)

        def train_step() -> None:
            loss = self._loss(net, gaussian, masked, numeric, codes, target, rows, batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():  # ema += w * (net - ema)
                drift = torch._foreach_sub(net_params, ema_params)
                torch._foreach_mul_(drift, ema_weight)
                torch._foreach_add_(ema_params, drift)
            running.add_(loss.detach())

        run = GraphedStep(train_step, device, enabled=cfg.cuda_graphs, on_step=step_hook)
        net.train()
        start = time.perf_counter()
        step = 0
        for step in range(total):
            done = step / total
            if budget_s is not None:
                done = max(done, (time.perf_counter() - start) / budget_s)
                if done >= 1.0:
                    break
            opt.set_lr(cfg.lr * (1.0 - done))
            ema_weight.fill_(1.0 - min(cfg.ema_decay, (1 + step) / (10 + step)))
            run()
            if (step + 1) % log_every == 0:
                entry = {"step": step + 1, "loss": float(running) / log_every, "seconds": time.perf_counter() - start}
                self.history_.append(entry)
                running.zero_()
                if progress is not None:  # with a time budget, progress is the share of it spent
                    progress(max(step + 1, int(done * total)), total, {"loss": entry["loss"]})
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
        with autocast(device, self.config.mixed_precision):
            eps, logits = net(x_num, x_cat, t, None if target is None else target[idx])
        loss = torch.zeros(batch, device=device)
        if x0_num.shape[1]:
            loss = loss + gaussian.loss(eps, noise)
        if masked.n_columns:
            loss = loss + masked.loss(logits, x0_cat, mask, t)
        return loss.mean()

    # -- sampling ----------------------------------------------------------------------------------
    def _sample_options(
        self, target: Mapping[Any, float] | Any | None = None, sampling_steps: int | None = None, **unknown: Any
    ) -> dict[str, Any]:
        """DDPM's sampling options (see the class docstring) -> `_sample`'s ``shares`` (of the target
        classes, None without a conditioned target) and ``steps`` (None: the config's)."""
        super()._sample_options(**unknown)
        if sampling_steps is not None and (
            not isinstance(sampling_steps, int) or isinstance(sampling_steps, bool) or sampling_steps < 1
        ):
            raise InputError(f"sampling_steps must be a positive integer, got {sampling_steps!r}")
        return {"shares": self._shares_for(target), "steps": sampling_steps}

    def _shares_for(self, target: Mapping[Any, float] | Any | None) -> list[float] | None:
        if target is None:
            return self.class_shares_
        if self.class_shares_ is None:
            raise InputError(
                "this model is not conditioned on a discrete target; train with a target and condition_on_target"
            )
        name = self.schema_.target
        encoder = next(e for e in self.transformer_.encoders_ if isinstance(e, OneHotEncoder) and e.column.name == name)
        wanted = dict(target) if isinstance(target, Mapping) else {target: 1.0}
        index = {str(c): i for i, c in enumerate(encoder.categories_)}
        shares = [0.0] * len(encoder.categories_)
        for value, share in wanted.items():
            key = str(to_json_value(value))
            if key not in index or share < 0:
                raise InputError(
                    f"target {self.schema_.target!r}: unknown class {value!r} or negative share; classes: {list(index)}"
                )
            shares[index[key]] = float(share)
        if sum(shares) <= 0:
            raise InputError("target shares must add up to more than 0")
        return [s / sum(shares) for s in shares]

    @torch.no_grad()
    def _sample(
        self, rows: int, seed: int, shares: list[float] | None = None, steps: int | None = None
    ) -> pd.DataFrame:
        cfg, device, layout = self.config, self.device_, self.layout_
        rng = torch_generator(seed, device)
        timesteps = respaced_timesteps(cfg.timesteps, steps or cfg.sampling_steps).to(device)
        weights = None if shares is None else torch.tensor(shares, dtype=torch.float32, device=device)
        blocks = []
        for begin in range(0, rows, cfg.sample_batch):
            n = min(cfg.sample_batch, rows - begin)
            y = None if weights is None else torch.multinomial(weights, n, replacement=True, generator=rng)
            x_num = torch.randn(n, layout.n_numeric, device=device, generator=rng)
            x_cat = self.masked_.all_masked(n, device)
            for i in reversed(range(len(timesteps))):
                t = timesteps[i].expand(n)
                t_prev = (timesteps[i - 1] if i else torch.tensor(-1, device=device)).expand(n)
                with autocast(device, cfg.mixed_precision):
                    eps, logits = self.denoiser_(x_num, x_cat, t, y)
                x_num = self.gaussian_.p_sample(x_num, eps.float(), t, t_prev, cfg.eta, rng)
                x_cat = self.masked_.p_sample(x_cat, logits, t, t_prev, rng)
            blocks.append(layout.join(x_num.cpu().numpy(), x_cat.cpu().numpy(), None if y is None else y.cpu().numpy()))
        return self.transformer_.inverse_compact(np.concatenate(blocks))

    # -- persistence -------------------------------------------------------------------------------
    def _transforms_state(self) -> dict[str, Any]:
        return self.transformer_.get_state()

    def _extra_state(self) -> dict[str, Any]:
        return {
            "class_shares": self.class_shares_,
            "history": self.history_,
            "train_seconds": self.train_seconds_,
            "steps_done": self.steps_done_,
        }

    def _networks(self) -> dict[str, torch.nn.Module]:
        return {"denoiser": self.denoiser_}

    def _restore(self, transforms: dict[str, Any], state: dict[str, Any]) -> None:
        self.transformer_ = TableTransformer.from_state(transforms)
        self.class_shares_ = state["class_shares"]
        self.history_ = list(state.get("history", []))
        self.train_seconds_ = float(state.get("train_seconds", 0.0))
        self.steps_done_ = int(state.get("steps_done", 0))
        self.layout_ = Layout.of(self.transformer_, self._target_for(self.schema_) if self.class_shares_ else None)
        self._build()
