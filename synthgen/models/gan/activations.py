"""Output activations of a generator over an encoded table: tanh for scalars, Gumbel-softmax per block.

One vectorised pass over the whole row instead of a Python loop over column blocks: each softmax
block is a segment, and segment maxima and sums are a scatter and two small matrix products.
"""

from __future__ import annotations

import torch

from synthgen.transforms.base import Span


class SpanActivation(torch.nn.Module):
    def __init__(self, spans: list[Span]) -> None:
        super().__init__()
        segment, is_tanh = [], []
        for index, span in enumerate(spans):
            segment += [index] * span.width
            is_tanh += [span.activation == "tanh"] * span.width
        n_segments = len(spans)
        segment_t = torch.tensor(segment, dtype=torch.long)
        members = torch.zeros(len(segment), n_segments)
        members[torch.arange(len(segment)), segment_t] = 1.0
        self.n_segments = n_segments
        self.register_buffer("segment", segment_t, persistent=False)
        self.register_buffer("members", members, persistent=False)
        self.register_buffer("is_tanh", torch.tensor(is_tanh, dtype=torch.bool), persistent=False)

    def forward(self, logits: torch.Tensor, tau: float = 0.2, generator: torch.Generator | None = None) -> torch.Tensor:
        logits = logits.float()
        uniform = torch.rand(logits.shape, device=logits.device, generator=generator).clamp_(1e-10, 1.0 - 1e-7)
        scores = (logits - torch.log(-torch.log(uniform))) / tau
        index = self.segment.expand_as(scores)
        seg_max = torch.full((scores.shape[0], self.n_segments), float("-inf"), device=scores.device)
        seg_max = seg_max.scatter_reduce(1, index, scores.detach(), reduce="amax", include_self=True)
        exp = torch.exp(scores - seg_max.gather(1, index))
        denominator = (exp @ self.members) @ self.members.T
        return torch.where(self.is_tanh, torch.tanh(logits), exp / denominator)
