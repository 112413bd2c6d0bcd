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
        # Which column each logit belongs to, and where each column's logits start: the loss reduces
        # every column at once by these, instead of one cross-entropy (and its backward) per column.
        segment = torch.repeat_interleave(
            torch.arange(len(starts) - 1), torch.tensor(self.cardinalities, dtype=torch.long)
        )
        self.register_buffer("segment", segment, persistent=False)
        self.register_buffer("first", torch.tensor(starts[:-1], dtype=torch.long), persistent=False)

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
        if not self.n_columns:
            return logits.new_zeros(x0.shape[0], dtype=torch.float32)
        logits = logits.float()
        rows, segment = logits.shape[0], self.segment.expand(logits.shape[0], -1)
        # Each column's log-sum-exp, shifted by the column's largest logit (no gradient needed through
        # the shift: the log-sum-exp does not depend on it), so no column underflows beside another.
        peak = logits.new_full((rows, self.n_columns), float("-inf"))
        peak = peak.scatter_reduce(1, segment, logits.detach(), "amax")
        sums = logits.new_zeros(rows, self.n_columns).scatter_add(1, segment, (logits - peak.gather(1, segment)).exp())
        ce = sums.log() + peak - logits.gather(1, x0 + self.first)
        return (ce * mask).sum(dim=1) / self.mask_prob(t).squeeze(-1) / self.n_columns

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
