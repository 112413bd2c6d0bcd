"""CTGAN's conditional vector and training-by-sampling, vectorised on the device.

A condition picks one discrete column uniformly, then one of its categories (by log-frequency while
training, so rare categories are seen; by true frequency when sampling), then a real row that has
it. Everything is an index gather on precomputed tensors: per column, the row indices sorted by
category, with each category's offset and count. No per-row Python, so a GPU stays busy.

Categories are drawn by inverting each column's cumulative distribution, not by `torch.multinomial`:
multinomial checks its probabilities on the host (a device sync) whenever it draws one sample, which
would stall every training step and forbid capturing the step as a CUDA graph.
"""

from __future__ import annotations

import torch

from synthgen.transforms.base import Span


class ConditionSampler:
    def __init__(self, data: torch.Tensor, spans: list[Span], log_frequency: bool = True) -> None:
        device = data.device
        starts, widths = [], []
        position = 0
        for span in spans:
            if span.discrete:
                starts.append(position)
                widths.append(span.width)
            position += span.width
        self.n_columns = len(starts)
        self.width = sum(widths)
        if self.n_columns == 0:
            return
        max_width = max(widths)
        start = torch.tensor(starts, device=device)
        width = torch.tensor(widths, device=device)
        slots = torch.arange(max_width, device=device)
        valid = slots[None, :] < width[:, None]
        # Data column of each (discrete column, category); padded slots point at column 0, masked out.
        self.data_positions = torch.where(valid, start[:, None] + slots[None, :], torch.zeros_like(slots)[None, :])
        self.valid = valid
        self.cond_offsets = torch.cumsum(width, 0) - width
        codes = torch.stack([data[:, s : s + w].argmax(dim=1) for s, w in zip(starts, widths)], dim=1)
        counts = torch.zeros(self.n_columns, max_width, device=device)
        counts.scatter_add_(1, codes.T.contiguous(), torch.ones_like(codes.T, dtype=torch.float32))
        self.counts = counts
        train_weight = torch.log1p(counts) if log_frequency else counts.clone()
        self.train_probs = train_weight / train_weight.sum(dim=1, keepdim=True)
        self.sample_probs = counts / counts.sum(dim=1, keepdim=True)
        self.train_cdf = _cdf(self.train_probs)
        self.sample_cdf = _cdf(self.sample_probs)
        # Row indices of each column sorted by category: rows of (column j, category k) are
        # sorted_rows[j, first[j, k] : first[j, k] + counts[j, k]].
        self.sorted_rows = torch.argsort(codes.T, dim=1, stable=True)
        self.first = (torch.cumsum(counts, 1) - counts).long()

    def share_counts(self, counts: torch.Tensor) -> None:
        """Take the sampling frequencies (what is saved and samples) from ``counts``: the whole table's,
        summed over the shards of a distributed fit. Training keeps drawing from this shard's own rows
        and categories, so a category a shard lacks is never asked of it."""
        self.sample_probs = counts / counts.sum(dim=1, keepdim=True)
        self.sample_cdf = _cdf(self.sample_probs)

    def _draw(
        self, batch: int, cdf: torch.Tensor, generator: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        device = cdf.device
        column = torch.randint(self.n_columns, (batch,), device=device, generator=generator)
        uniform = torch.rand(batch, 1, device=device, generator=generator)
        # u < 1 and each row of the cdf ends at exactly 1, so the count stops at a category of nonzero weight.
        category = (cdf[column] <= uniform).sum(dim=1)
        cond = torch.zeros(batch, self.width, device=device)
        cond.scatter_(1, (self.cond_offsets[column] + category).unsqueeze(1), 1.0)
        return cond, column, category

    def sample_train(
        self, batch: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(cond, column, category, real row indices matching the condition)."""
        cond, column, category = self._draw(batch, self.train_cdf, generator)
        count = self.counts[column, category]
        device = cond.device
        offset = (torch.rand(batch, device=device, generator=generator) * count).long().clamp_max(count.long() - 1)
        rows = self.sorted_rows[column, self.first[column, category] + offset]
        return cond, column, category, rows

    def sample_original(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Conditions drawn with the data's own category frequencies, for unconditional sampling."""
        cond, _, _ = self._draw(batch, self.sample_cdf, generator)
        return cond

    def condition_loss(self, logits: torch.Tensor, column: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the generator's raw output for the conditioned column against its category."""
        chosen = logits.gather(1, self.data_positions[column])
        chosen = chosen.masked_fill(~self.valid[column], float("-inf"))
        return torch.nn.functional.cross_entropy(chosen.float(), category)

    # -- state: only what sampling needs ----------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "n_columns": self.n_columns,
            "width": self.width,
            "sample_probs": self.sample_probs.tolist() if self.n_columns else [],
            "cond_offsets": self.cond_offsets.tolist() if self.n_columns else [],
        }

    @classmethod
    def from_state(cls, state: dict, device: torch.device) -> ConditionSampler:
        sampler = cls.__new__(cls)
        sampler.n_columns = int(state["n_columns"])
        sampler.width = int(state["width"])
        if sampler.n_columns:
            sampler.sample_probs = torch.tensor(state["sample_probs"], device=device)
            sampler.cond_offsets = torch.tensor(state["cond_offsets"], device=device, dtype=torch.long)
            sampler.sample_cdf = _cdf(sampler.sample_probs)
        return sampler


def _cdf(probs: torch.Tensor) -> torch.Tensor:
    """Row-wise cumulative sums scaled so each row ends at exactly 1.0 (padding repeats the last value)."""
    cdf = torch.cumsum(probs.double(), dim=1)
    return (cdf / cdf[:, -1:]).float()
