"""Masked (absorbing-state) diffusion over categorical columns (Austin et al., 2021; MDLM; TabDiff).

Each categorical column j has K_j categories and one extra token, K_j, meaning "masked". At time t
every category is independently masked with probability m(t) = (t + 1) / T, so the last training step
hides everything. The reverse step unmasks each still-masked entry with probability
(m(t) - m(t_prev)) / m(t), drawing its category from the denoiser's prediction; unmasked entries
never change. The loss is the cross-entropy on masked entries, weighted by 1 / m(t) (the ELBO).

Logits of all columns sit side by side in one (n, sum K_j) tensor, never padded to the widest.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MaskedDiffusion(nn.Module):
    def __init__(self, cardinalities: list[int], timesteps: int = 1000) -> None:
        super().__init__()
        self.cardinalities = list(cardinalities)
        self.timesteps = timesteps
        self.register_buffer("mask_token", torch.tensor(self.cardinalities, dtype=torch.long), persistent=False)
        starts = [0]
        for k in self.cardinalities:
            starts.append(starts[-1] + k)
        self.starts = starts

    @property
    def n_columns(self) -> int:
        return len(self.cardinalities)

    def mask_prob(self, t: torch.Tensor) -> torch.Tensor:
        """m(t) as a column; t = -1 (before the first step) gives 0."""
        return ((t.float() + 1) / self.timesteps).unsqueeze(-1)

    def q_sample(
        self, x0: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mask each entry of the codes ``x0`` (n, C) with probability m(t); returns (x_t, mask)."""
        draws = torch.rand(x0.shape, device=x0.device, generator=generator)
        mask = draws < self.mask_prob(t)
        return torch.where(mask, self.mask_token.expand_as(x0), x0), mask

    def all_masked(self, rows: int, device: torch.device) -> torch.Tensor:
        return self.mask_token.to(device).expand(rows, -1).clone()

    def column_logits(self, logits: torch.Tensor, j: int) -> torch.Tensor:
        return logits[:, self.starts[j] : self.starts[j + 1]].float()

    def loss(self, logits: torch.Tensor, x0: torch.Tensor, mask: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Per row: mean over columns of the 1/m(t)-weighted cross-entropy on masked entries."""
        total = logits.new_zeros(x0.shape[0], dtype=torch.float32)
        for j in range(self.n_columns):
            ce = F.cross_entropy(self.column_logits(logits, j), x0[:, j], reduction="none")
            total = total + ce * mask[:, j]
        return total / self.mask_prob(t).squeeze(-1) / max(self.n_columns, 1)

    def p_sample(
        self,
        x_t: torch.Tensor,
        logits: torch.Tensor,
        t: torch.Tensor,
        t_prev: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """One reverse step from ``t`` to ``t_prev``; at t_prev = -1 nothing stays masked."""
        m, m_prev = self.mask_prob(t), self.mask_prob(t_prev)
        reveal = torch.rand(x_t.shape, device=x_t.device, generator=generator) < (m - m_prev) / m
        reveal &= x_t == self.mask_token
        out = x_t.clone()
        if x_t.is_cuda:
            # No boolean indexing on the GPU: each `rows.any()` would wait for the device. Draw every
            # row by Gumbel-max and keep the revealed ones; the extra draws cost less than the waits.
            for j in range(self.n_columns):
                column = self.column_logits(logits, j)
                u = torch.rand(column.shape, device=column.device, generator=generator)
                draw = (column - torch.log(-torch.log(u.clamp_min(1e-20)))).argmax(dim=1)
                out[:, j] = torch.where(reveal[:, j], draw, out[:, j])
            return out
        for j in range(self.n_columns):
            rows = reveal[:, j]
            if rows.any():
                probs = torch.softmax(self.column_logits(logits[rows], j), dim=1)
                out[rows, j] = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        return out
