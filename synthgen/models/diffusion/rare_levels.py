"""Rare levels of a categorical column pooled into one token for training, drawn back by their shares.

A zip prefix seen in three loans cannot be learned jointly with the rest of a row: the denoiser can only
memorise those three rows (a privacy risk the release gate then has to catch) while it spends an output
logit per level on it every step. So the levels seen in fewer than ``min_rows`` training rows are one
token to the model; a sampled row that draws it gets one of them by their training shares, independently
of the rest of the row. The column's shares are kept (rare levels appear as often as in the data); what
is given up is how a rare level goes with the other columns, which a handful of rows does not show.

Steering works in the column's full levels (`synthgen.sampling.Allowed`): a row allowed some rare levels
may draw the pooled token, and then gets one of those allowed levels only; a row fixed to one rare level
gets exactly that level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch

from synthgen.models.diffusion.masked import draw_categories


@dataclass(frozen=True, eq=False)
class PooledColumn:
    """One column's pooling: ``to_pooled[level]`` is the level's code for the model (the rare ones share
    the last code, ``pooled_width - 1``); ``rare`` the pooled levels and ``shares`` their training shares
    among themselves."""

    levels: int
    rare: np.ndarray
    shares: np.ndarray

    @property
    def pooled_width(self) -> int:
        return self.levels - len(self.rare) + 1

    @cached_property
    def kept(self) -> np.ndarray:
        """The levels the model keeps, in order: model code i is level ``kept[i]``; the token comes last."""
        return np.setdiff1d(np.arange(self.levels), self.rare)

    @cached_property
    def to_pooled(self) -> np.ndarray:
        out = np.empty(self.levels, dtype=np.int64)
        out[self.kept] = np.arange(len(self.kept))
        out[self.rare] = len(self.kept)
        return out


class RareLevels:
    """The pooled columns of a model's categorical inputs (index among them -> `PooledColumn`)."""

    def __init__(self, columns: dict[int, PooledColumn] | None = None) -> None:
        self.columns = dict(columns or {})
        self._maps = {j: torch.from_numpy(c.to_pooled) for j, c in self.columns.items()}

    @classmethod
    def from_counts(
        cls, counts_by_column: list[np.ndarray], min_rows: int, eligible: list[bool] | None = None
    ) -> RareLevels:
        """Pool, per column that is ``eligible`` (all by default), the levels counted in fewer than ``min_rows``
        rows, when there are at least two (one rare level pooled alone changes nothing). ``counts_by_column``:
        each column's level counts (summed over the shards of a distributed fit)."""
        columns = {}
        if min_rows > 0:
            for j, counts in enumerate(counts_by_column):
                if eligible is not None and not eligible[j]:
                    continue
                rare = np.flatnonzero(counts < min_rows)
                if len(rare) >= 2:
                    seen = counts[rare].astype(np.float64)
                    total = seen.sum()
                    shares = seen / total if total > 0 else np.full(len(rare), 1.0 / len(rare))
                    columns[j] = PooledColumn(len(counts), rare, shares)
        return cls(columns)

    def __bool__(self) -> bool:
        return bool(self.columns)

    def cardinalities(self, full: list[int]) -> list[int]:
        """The model's widths: a pooled column's kept levels and its one pooled token."""
        return [self.columns[j].pooled_width if j in self.columns else width for j, width in enumerate(full)]

    def pool(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes in the columns' full levels -> the model's codes (``codes`` itself when nothing is pooled)."""
        if not self.columns:
            return codes
        out = codes.clone()
        for j, mapping in self._maps.items():
            out[:, j] = mapping.to(codes.device)[codes[:, j]]
        return out

    def pool_patterns(self, j: int, patterns: np.ndarray) -> np.ndarray:
        """Allowed levels (sets x full levels) -> allowed model codes: the pooled token where any rare level is."""
        if j not in self.columns:
            return patterns
        column = self.columns[j]
        return np.concatenate([patterns[:, column.kept], patterns[:, column.rare].any(axis=1, keepdims=True)], axis=1)

    def token_log_share(self, j: int, patterns: np.ndarray) -> np.ndarray:
        """Per set of allowed full levels: the log of the training share the allowed rare levels hold among
        column ``j``'s rare levels (-inf when none is allowed). Added to the pooled token's logit, it keeps a
        steered row from drawing the token with the weight of every rare level when it may take only some:
        ``col in (A, rare_x)`` then gets rare_x as often, against A, as the data has it."""
        column = self.columns[j]
        share = patterns[:, column.rare].astype(np.float64) @ column.shares
        allowed_unseen = patterns[:, column.rare].any(axis=1) & (share <= 0)
        share = np.where(allowed_unseen, 1e-12, share)
        with np.errstate(divide="ignore"):
            return np.log(share)

    def restore(
        self, codes: torch.Tensor, allowed: dict[int, np.ndarray], generator: torch.Generator | None
    ) -> torch.Tensor:
        """The model's codes -> full levels: each pooled token becomes a rare level drawn by the training
        shares, among the levels the row allows (``allowed``: column -> rows x full levels, where steered)."""
        out = codes.clone()
        for j, column in self.columns.items():
            back = torch.as_tensor(np.append(column.kept, -1), device=codes.device)
            out[:, j] = back[codes[:, j]]
            rows = (codes[:, j] == column.pooled_width - 1).nonzero().squeeze(1)
            if len(rows) == 0:
                continue
            weights = torch.as_tensor(column.shares, dtype=torch.float32, device=codes.device).expand(len(rows), -1)
            if j in allowed:
                ok = torch.as_tensor(allowed[j][:, column.rare], device=codes.device)[rows]
                weights = torch.where(ok, weights + 1e-12, 0.0)  # an allowed level seen 0 times stays drawable
                if not bool(ok.any(dim=1).all()):  # the token's -inf bias makes this impossible: never guess
                    raise RuntimeError(f"pooled column {j}: a row drew the rare-level token but allows no rare level")
            logits = torch.log(weights)
            rare = torch.as_tensor(column.rare, device=codes.device)
            out[rows, j] = rare[draw_categories(logits, generator)]
        return out

    def get_state(self) -> list[dict[str, Any]]:
        return [
            {"column": j, "levels": c.levels, "rare": c.rare.tolist(), "shares": c.shares.tolist()}
            for j, c in sorted(self.columns.items())
        ]

    @classmethod
    def from_state(cls, state: list[dict[str, Any]] | None) -> RareLevels:
        return cls(
            {
                int(s["column"]): PooledColumn(
                    int(s["levels"]), np.asarray(s["rare"], dtype=np.int64), np.asarray(s["shares"], dtype=np.float64)
                )
                for s in state or []
            }
        )
