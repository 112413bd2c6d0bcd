"""Gaussian diffusion with epsilon-prediction (Ho et al., 2020) on a cosine schedule (Nichol & Dhariwal, 2021).

Training time runs over ``T`` discrete steps; sampling walks a respaced subset of them (a few dozen
instead of a thousand), taking DDIM-style steps whose noise ``eta`` interpolates between the
deterministic DDIM update (0) and the DDPM posterior of the respaced chain (1).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def cosine_alpha_bar(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """alpha_bar[t] for t = 0..T-1: the share of signal variance left after step t."""
    grid = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    f = torch.cos((grid + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1 - f[1:] / f[:-1]).clamp(max=max_beta)
    return torch.cumprod(1 - betas, dim=0)


def respaced_timesteps(timesteps: int, steps: int) -> torch.Tensor:
    """``steps`` training timesteps, evenly spread from 0 to T - 1, ascending and distinct."""
    steps = max(1, min(steps, timesteps))
    return torch.unique(torch.linspace(0, timesteps - 1, steps).round().long())


class GaussianDiffusion(nn.Module):
    """The forward process q(x_t | x_0) and the reverse step, with the schedule kept as buffers."""

    def __init__(self, timesteps: int = 1000) -> None:
        super().__init__()
        self.timesteps = timesteps
        self.register_buffer("alpha_bar", cosine_alpha_bar(timesteps).float(), persistent=False)

    def _alpha_bar(self, t: torch.Tensor) -> torch.Tensor:
        """alpha_bar at ``t`` as a column; t = -1 (before the first step) gives 1."""
        padded = torch.cat([self.alpha_bar.new_ones(1), self.alpha_bar])
        return padded[t + 1].unsqueeze(-1)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise."""
        ab = self._alpha_bar(t)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def predict_x0(
        self, x_t: torch.Tensor, eps: torch.Tensor, t: torch.Tensor, clip: float | None = 6.0
    ) -> torch.Tensor:
        ab = self._alpha_bar(t)
        x0 = (x_t - (1 - ab).sqrt() * eps) / ab.sqrt()
        return x0 if clip is None else x0.clamp(-clip, clip)

    def p_sample(
        self,
        x_t: torch.Tensor,
        eps: torch.Tensor,
        t: torch.Tensor,
        t_prev: torch.Tensor,
        eta: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """One reverse step from ``t`` to ``t_prev`` (< t; -1 returns the clean estimate of x_0)."""
        ab, ab_prev = self._alpha_bar(t), self._alpha_bar(t_prev)
        x0 = self.predict_x0(x_t, eps, t)
        eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()  # consistent with the clipped x_0
        sigma = eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).clamp(min=0).sqrt()
        noise = torch.randn(x_t.shape, device=x_t.device, generator=generator)
        direction = (1 - ab_prev - sigma**2).clamp(min=0).sqrt()
        return ab_prev.sqrt() * x0 + direction * eps + sigma * noise

    def loss(self, eps_pred: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Mean squared error of the predicted noise, per row."""
        return (eps_pred.float() - noise).pow(2).mean(dim=1)
