"""The denoiser: an MLP that sees noisy numerics, partly masked categories, the time and the class.

Inputs are summed into one hidden vector: a linear map of the numeric scores, one embedding per
categorical token (mask tokens included; an embedding sum equals a linear map of the one-hots), the
sinusoidal time embedding through Linear-SiLU-Linear, and an embedding of the target class when the
model is conditioned. Outputs: the predicted Gaussian noise, then the category logits of every column.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float().unsqueeze(-1) * freqs
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)


class Denoiser(nn.Module):
    def __init__(
        self,
        n_numeric: int,
        cardinalities: list[int],
        n_classes: int = 0,
        width: int = 256,
        depth: int = 4,
        time_dim: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.n_numeric = n_numeric
        self.time_dim = time_dim
        tokens = [k + 1 for k in cardinalities]  # every column has its mask token
        offsets = (
            torch.tensor([0] + tokens[:-1], dtype=torch.long).cumsum(0) if tokens else torch.zeros(0, dtype=torch.long)
        )
        self.register_buffer("offsets", offsets, persistent=False)
        self.numeric_in = nn.Linear(n_numeric, width) if n_numeric else None
        # A bag sums a row's token embeddings in one kernel, forward and backward: a third faster per
        # training step on the CPU than embedding every token and summing (rows x columns x width).
        self.tokens_in = nn.EmbeddingBag(sum(tokens), width, mode="sum") if tokens else None
        self.label_in = nn.Embedding(n_classes, width) if n_classes else None
        self.time_in = nn.Sequential(nn.Linear(time_dim, width), nn.SiLU(), nn.Linear(width, width))
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [nn.Linear(width, width), nn.SiLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
        self.blocks = nn.Sequential(*layers)
        self.out = nn.Linear(width, n_numeric + sum(cardinalities))

    def forward(
        self, x_num: torch.Tensor, x_cat: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.out(self.hidden(x_num, x_cat, t, y))
        return out[:, : self.n_numeric], out[:, self.n_numeric :]

    def hidden(
        self, x_num: torch.Tensor, x_cat: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The last hidden layer, before the output heads: sampling on the CPU reads the category
        logits of only the rows that reveal a category at a step (`head`)."""
        rows = x_num.shape[0]
        # ``t`` per row (training), or one time for all rows (sampling): embedded once and broadcast
        h = self.time_in(sinusoidal_embedding(t.reshape(-1), self.time_dim))
        if self.numeric_in is not None:  # time and bias added by the matrix product itself: one pass fewer
            h = torch.addmm(h + self.numeric_in.bias, x_num, self.numeric_in.weight.t())
        else:
            h = h.expand(rows, -1)
        if self.tokens_in is not None:
            h = h + self._tokens(x_cat + self.offsets)
        if self.label_in is not None and y is not None:
            h = h + self.label_in(y)
        x = nn.functional.silu(h)
        if torch.is_grad_enabled():
            return self.blocks(x)
        # sampling: each activation overwrites the layer output it reads, which no backward needs
        for layer in self.blocks:
            x = nn.functional.silu(x, inplace=True) if isinstance(layer, nn.SiLU) else layer(x)
        return x

    def head(self, hidden: torch.Tensor, begin: int, end: int) -> torch.Tensor:
        """Outputs ``begin:end`` of `forward`'s (numeric noise first, then every column's logits) for the
        rows of ``hidden``: one slice of the output layer, so that outputs no one reads are not computed."""
        return torch.addmm(self.out.bias[begin:end], hidden, self.out.weight[begin:end].t())

    def _tokens(self, index: torch.Tensor) -> torch.Tensor:
        """The sum of each row's token embeddings. In training, with no more tokens than the hidden
        width, as a multi-hot row times the table: its backward is one small matrix product, where the
        bag's sorts the indices (a tenth of a CPU training step on a 20-column table)."""
        weight = self.tokens_in.weight
        if weight.shape[0] > weight.shape[1] or not torch.is_grad_enabled():  # no backward: the bag is cheaper
            return self.tokens_in(index)
        hot = torch.zeros(index.shape[0], weight.shape[0], dtype=weight.dtype, device=index.device)
        return hot.scatter_(1, index, 1.0) @ weight
