"""CTGAN (Xu et al., NeurIPS 2019): a conditional WGAN-GP over mode-specific normalised tables.

Read top to bottom: the two networks, the critic's losses with the gradient penalty, then the
generator class, whose `_train` holds the training loop. The config (the paper's defaults) is
`CTGANConfig` in `synthgen.models.configs`. The encoded table lives on the device as one tensor;
batches are index gathers chosen by the vectorised `ConditionSampler`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from synthgen.checkpoint import resume_training, save_training
from synthgen.device import GraphedStep, StepObserver, autocast, torch_generator
from synthgen.models.base import Generator, Progress
from synthgen.models.configs import CTGANConfig
from synthgen.models.gan import ConditionSampler, SpanActivation
from synthgen.models.optim import FusedAdam
from synthgen.sampling import Guide
from synthgen.schema import TableSchema
from synthgen.transforms import TableTransformer


class Residual(nn.Module):
    """Linear + BatchNorm + ReLU whose output is concatenated to its input."""

    def __init__(self, width_in: int, width_out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(width_in, width_out)
        self.bn = nn.BatchNorm1d(width_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)


class GeneratorNet(nn.Module):
    def __init__(self, width_in: int, hidden: tuple[int, ...], width_out: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = width_in
        for size in hidden:
            layers.append(Residual(width, size))
            width += size
        layers.append(nn.Linear(width, width_out))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Discriminator(nn.Module):
    """Judges ``pac`` rows at once, which makes mode collapse visible to it (PacGAN)."""

    def __init__(self, width_in: int, hidden: tuple[int, ...], pac: int) -> None:
        super().__init__()
        self.pac = pac
        layers: list[nn.Module] = []
        width = width_in * pac
        for size in hidden:
            layers += [nn.Linear(width, size), nn.LeakyReLU(0.2), nn.Dropout(0.5)]
            width = size
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(-1, x.shape[1] * self.pac))


def critic_losses(
    discriminator: Discriminator, real: torch.Tensor, fake: torch.Tensor, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Wasserstein loss, WGAN-GP penalty) from one pass of the critic over fake, real and interpolated packs.

    The penalty pushes the critic's gradient norm to 1 on points between real and fake packs. One
    forward over the three stacked batches replaces three: the critic's matrix products at CTGAN's
    sizes are small, so larger ones and a third of the kernel launches make the step cheaper, with the
    same losses (the critic has no batch statistics). ``fake`` must be detached. The critic runs in
    float32 on every device, so the penalty's second-order gradients are never taken in bfloat16.
    """
    pac, width = discriminator.pac, real.shape[1]
    alpha = torch.rand(real.shape[0] // pac, 1, 1, device=real.device).expand(-1, pac, width).reshape(-1, width)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = discriminator(torch.cat([fake, real, mixed])).float()
    scores_fake, scores_real, scores_mixed = scores.split(real.shape[0] // pac)
    (grads,) = torch.autograd.grad(scores_mixed.sum(), mixed, create_graph=True)
    norms = grads.reshape(-1, pac * width).norm(2, dim=1)
    return scores_fake.mean() - scores_real.mean(), lam * ((norms - 1) ** 2).mean()


@contextlib.contextmanager
def _quiet_ddp(active: bool) -> Iterator[None]:
    """Under DDP, silence one warning: the gradient penalty's double backward leaves the critic's last
    weight gradient transposed, which DDP reports on every step although the result is right."""
    if not active:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Grad strides do not match bucket view strides")
        yield


class CTGAN(Generator):
    """Conditional tabular GAN. Every hyperparameter of `CTGANConfig` is a keyword argument.

    `sample` takes no options of its own. Unconditioned, the conditional vector is drawn with the training
    data's category frequencies; with conditions, rebalancing or seed rows, one restricted discrete
    column goes into the vector and the rest is checked and redrawn (`synthgen.sampling`). Continuous
    values cannot be held, so seed rows may give only discrete columns.
    """

    config_class = CTGANConfig
    config: CTGANConfig

    def __init__(self, config: CTGANConfig | None = None, **params: Any) -> None:
        super().__init__(config, **params)
        self.transformer_: TableTransformer | None = None
        self.sampler_: ConditionSampler | None = None
        self.generator_: GeneratorNet | None = None
        self.activation_: SpanActivation | None = None
        self.history_: list[dict[str, float]] = []
        self.cuda_graph_ = False

    def _build(self, data_width: int, cond_width: int) -> None:
        cfg = self.config
        self.generator_ = GeneratorNet(cfg.embedding_dim + cond_width, cfg.generator_dim, data_width).to(self.device_)
        self.activation_ = SpanActivation(self.transformer_.spans).to(self.device_)

    def _fit(
        self, data: pd.DataFrame, schema: TableSchema, progress: Progress | None, step_hook: StepObserver | None
    ) -> None:
        cfg, dist = self.config, self.dist_
        fresh = TableTransformer(cfg.max_modes, cfg.transformer_fit_rows, seed=cfg.seed)
        if not dist.active:
            self.transformer_ = fresh.fit(data, schema)
            encoded = self.transformer_.transform(data, device=self.device_)
        else:  # DDP: rank 0 fits the transformer on its bounded sample; each rank encodes its own rows
            self.transformer_ = dist.shared_fit(lambda: fresh.fit(data, schema), TableTransformer.from_state)
            shard = data.iloc[dist.shard(len(data))]
            encoded = self.transformer_.transform(shard, device=self.device_, seed=dist.seed(cfg.seed))
        self.sampler_ = ConditionSampler(encoded, self.transformer_.spans, cfg.log_frequency)
        if dist.active and self.sampler_.n_columns:  # sampling frequencies from the whole table
            counts = dist.sum_counts(self.sampler_.counts.cpu().numpy().astype(np.int64))
            self.sampler_.share_counts(torch.as_tensor(counts, dtype=torch.float32, device=self.device_))
        self._build(encoded.shape[1], self.sampler_.width)
        self._train(encoded, progress, step_hook)

    def _train(self, encoded: torch.Tensor, progress: Progress | None, step_hook: StepObserver | None) -> None:
        """The WGAN-GP loop: ``discriminator_steps`` critic steps, then one generator step, per batch.

        Under DDP (`synthgen.distributed`) ``encoded`` is this rank's shard of the rows, and both networks
        are wrapped in `DistributedDataParallel`: each rank draws its share of the global ``batch_size``
        (whole packs of ``pac`` rows, the remainder to the first ranks) with its own random stream and
        weights its losses by its share (`Dist.batch_weight`), the gradients are averaged. The
        generator's step calls the critic unwrapped, and the critic's step the generator unwrapped, so
        each backward all-reduces only the network that steps. Batch norm keeps per-rank batch
        statistics (gloo has no SyncBatchNorm); its running statistics are rank 0's at the end, so the
        saved generator is the same on every rank. CUDA graphs are off under DDP, as in `DDPM._train`.
        """
        cfg, device, dist = self.config, self.device_, self.dist_
        sampler, generator, activate = self.sampler_, self.generator_, self.activation_
        discriminator = Discriminator(encoded.shape[1] + sampler.width, cfg.discriminator_dim, cfg.pac).to(device)
        generate, critic = generator, discriminator
        if dist.active:
            ids = [device.index] if device.type == "cuda" else None
            generate = DistributedDataParallel(generator, device_ids=ids)
            critic = DistributedDataParallel(discriminator, device_ids=ids)
            critic.pac = discriminator.pac  # read by critic_losses
            torch.manual_seed(dist.seed(cfg.seed))  # per-rank batches and noise; the weights are rank 0's
        betas = (0.5, 0.9)
        opt_g = FusedAdam(generator.parameters(), cfg.generator_lr, betas=betas, weight_decay=cfg.generator_decay)
        opt_d = FusedAdam(
            discriminator.parameters(), cfg.discriminator_lr, betas=betas, weight_decay=cfg.discriminator_decay
        )
        rows = int(dist.sum_counts(np.array([encoded.shape[0]]))[0])
        batch = min(cfg.batch_size, max(cfg.pac, rows // cfg.pac * cfg.pac))
        steps = max(1, rows // batch)
        weight = 1.0
        if dist.active:  # this rank's share in whole packs (the packs' remainder to the first ranks)
            packs = batch // cfg.pac
            batch, weight = dist.local_batch(packs) * cfg.pac, dist.batch_weight(packs)
        amp = cfg.mixed_precision
        generator.train()
        discriminator.train()
        # Per-epoch loss sums, updated in place by every step so a captured graph can write them.
        total_g = torch.zeros((), device=device)
        total_d = torch.zeros((), device=device)

        def draw() -> tuple[torch.Tensor, ...]:
            noise = torch.randn(batch, cfg.embedding_dim, device=device)
            if sampler.n_columns == 0:
                rows = torch.randint(encoded.shape[0], (batch,), device=device)
                empty = torch.zeros(batch, 0, device=device)
                return noise, empty, None, None, rows
            cond, column, category, rows = sampler.sample_train(batch)
            return noise, cond, column, category, rows

        def step() -> None:
            for _ in range(cfg.discriminator_steps):
                noise, cond, _, _, rows = draw()
                # The critic's step needs no gradient through the generator.
                with torch.no_grad(), autocast(device, amp):
                    fake = activate(generator(torch.cat([noise, cond], dim=1)), cfg.tau)
                fake_in = torch.cat([fake.float(), cond], dim=1)
                real_in = torch.cat([encoded[rows], cond], dim=1)
                loss_d, penalty = critic_losses(critic, real_in, fake_in, cfg.gradient_penalty)
                if weight != 1.0:  # unequal shares: this rank's part of the means over the global batch
                    loss_d, penalty = loss_d * weight, penalty * weight
                opt_d.zero_grad()
                (loss_d + penalty).backward()
                opt_d.step()
            noise, cond, column, category, _ = draw()
            with autocast(device, amp):
                logits = generate(torch.cat([noise, cond], dim=1))
                fake = activate(logits, cfg.tau)
                loss_g = -discriminator(torch.cat([fake, cond], dim=1)).float().mean()
                if column is not None:
                    loss_g = loss_g + sampler.condition_loss(logits.float(), column, category)
                if weight != 1.0:
                    loss_g = loss_g * weight
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            total_g.add_(loss_g.detach())
            total_d.add_(loss_d.detach())

        run = GraphedStep(step, device, enabled=cfg.cuda_graphs and not dist.active, on_step=step_hook)
        networks = {"generator": generator, "discriminator": discriminator}
        optimizers = {"opt_g": opt_g, "opt_d": opt_d}
        saved = resume_training(self, rows, networks, optimizers, {})
        first = 0 if saved is None else int(saved["step"]) // steps
        if saved is not None:
            self.history_ = list(saved["history"])
        plan = self.checkpointing_
        with _quiet_ddp(dist.active):
            for epoch in range(first, cfg.epochs):
                total_g.zero_()
                total_d.zero_()
                for _ in range(steps):
                    run()
                losses = {"loss_g": float(dist.mean(total_g)) / steps, "loss_d": float(dist.mean(total_d)) / steps}
                self.history_.append(losses)
                if progress is not None:
                    progress(epoch + 1, cfg.epochs, losses)
                # a checkpoint at the end of an epoch in which a multiple of ``every`` steps was passed
                crossed = (
                    plan is not None and plan.every and (epoch + 1) * steps // plan.every > epoch * steps // plan.every
                )
                if crossed and epoch + 1 < cfg.epochs:
                    state = {"history": self.history_}
                    save_training(self, rows, (epoch + 1) * steps, networks, optimizers, {}, state)
        self.cuda_graph_ = run.captured
        dist.broadcast_tensors(list(generator.buffers()))  # batch-norm statistics: rank 0's on every rank
        generator.eval()

    def _steered_conditions(self, guide: Guide, rng: torch.Generator) -> torch.Tensor | None:
        """Conditional vectors for a guide: one restricted discrete column goes into the vector (the one
        whose allowed categories are rarest, where steering helps most), each row's category drawn from
        the training frequencies among its allowed ones; other restrictions are checked afterwards."""
        sampler, device = self.sampler_, self.device_
        positions = [span.column for span in self.transformer_.spans if span.discrete]
        best, best_mass = None, 2.0
        for name, allowed in guide.allowed.items():
            if name not in positions:
                continue
            j = positions.index(name)
            probs = sampler.sample_probs[j, : allowed.patterns.shape[1]].cpu().numpy()
            mass = float((allowed.patterns @ probs)[allowed.which].mean())
            if mass < best_mass:
                best, best_mass = (j, allowed), mass
        if best is None:
            return None
        j, allowed = best
        width = allowed.patterns.shape[1]
        weights = sampler.sample_probs[j, :width][None, :] * torch.as_tensor(allowed.rows(), device=device)
        category = torch.multinomial(weights, 1, generator=rng).squeeze(1)
        cond = torch.zeros(guide.rows, sampler.width, device=device)
        cond[torch.arange(guide.rows, device=device), sampler.cond_offsets[j] + category] = 1.0
        return cond

    @torch.no_grad()
    def _sample(self, rows: int, seed: int, guide: Guide | None = None) -> pd.DataFrame:
        cfg, device = self.config, self.device_
        rng = torch_generator(seed, device)
        steered = None if guide is None or not self.sampler_.n_columns else self._steered_conditions(guide, rng)
        chunk = 50_000 if device.type == "cuda" else 10_000
        blocks = []
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            noise = torch.randn(n, cfg.embedding_dim, device=device, generator=rng)
            if steered is not None:
                cond = steered[start : start + n]
            elif self.sampler_.n_columns:
                cond = self.sampler_.sample_original(n, rng)
            else:
                cond = torch.zeros(n, 0, device=device)
            with autocast(device, cfg.mixed_precision):
                logits = self.generator_(torch.cat([noise, cond], dim=1))
            # Decoded on the device: the host receives one number per column, not every one-hot.
            blocks.append(self.transformer_.compact(self.activation_(logits, cfg.tau, generator=rng)).cpu())
        return self.transformer_.inverse_compact(torch.cat(blocks))

    # -- persistence -------------------------------------------------------------------------------
    def _transforms_state(self) -> dict[str, Any]:
        return self.transformer_.get_state()

    def _extra_state(self) -> dict[str, Any]:
        return {"conditions": self.sampler_.get_state(), "history": self.history_}

    def _networks(self) -> dict[str, torch.nn.Module]:
        return {"generator": self.generator_}

    def _restore(self, transforms: dict[str, Any], state: dict[str, Any]) -> None:
        self.transformer_ = TableTransformer.from_state(transforms)
        self.sampler_ = ConditionSampler.from_state(state["conditions"], self.device_)
        self.history_ = list(state.get("history", []))
        self._build(self.transformer_.width, self.sampler_.width)
