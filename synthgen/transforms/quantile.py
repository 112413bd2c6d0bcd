"""Quantile normalisation of a continuous column: its empirical CDF mapped onto a standard normal.

This is the representation diffusion models want (TabDDPM): every column, however skewed or
multi-modal, becomes a unit Gaussian scalar, so one noise scale fits all columns. The quantiles are
fitted on a bounded random subsample. A tied value (integers, rounded amounts) owns an interval of
probability mass; when encoding it lands at a uniformly random point of that interval
(dequantisation), so the encoded column is a smooth normal instead of a comb of spikes a model
would blur across neighbouring values, and the inverse sends the whole interval back to the value.

Missing values get a two-category block of their own ([present, missing], a discrete span) and a
random normal scalar, which carries no information the model could latch on to.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from synthgen.schema import Column
from synthgen.transforms.base import ColumnEncoder, Span
from synthgen.transforms.values import ValueCodec

# Probabilities are kept this far from 0 and 1, so normal scores stay within about +-5.2.
EPS = 1e-7


class QuantileNormalizer(ColumnEncoder):
    name = "quantile"

    def __init__(self, column: Column, n_quantiles: int = 1000, max_fit_rows: int = 100_000) -> None:
        super().__init__(column)
        self.n_quantiles = n_quantiles
        self.max_fit_rows = max_fit_rows
        self.codec = ValueCodec(column)
        self.quantiles_: np.ndarray | None = None
        self.has_null_ = False

    def fit(self, values: pd.Series, rng: np.random.Generator) -> "QuantileNormalizer":
        self.codec.fit(values)
        numbers = self.codec.to_float(values)
        finite = numbers[np.isfinite(numbers)]
        self.has_null_ = bool(finite.size < numbers.size)
        if finite.size:
            if finite.size > self.max_fit_rows:
                finite = rng.choice(finite, size=self.max_fit_rows, replace=False)
            # At most one quantile per 30 rows (as TabDDPM): on small tables the map stays smooth
            # instead of passing through every training value.
            count = int(np.clip(finite.size // 30, min(10, finite.size), self.n_quantiles))
            count = max(count, 2)
            self.quantiles_ = np.quantile(finite, np.linspace(0.0, 1.0, count))
        return self

    @property
    def levels(self) -> np.ndarray:
        return np.linspace(0.0, 1.0, len(self.quantiles_))

    @property
    def spans(self) -> list[Span]:
        spans = [Span(self.column.name, 1, "identity")]
        if self.has_null_:
            spans.append(Span(self.column.name, 2, "softmax", discrete=True))
        return spans

    def to_normal(self, numbers: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Finite float64 values -> normal scores; a tie lands at a random point of its mass
        (with ``rng``) or mid-way through it (without)."""
        q, levels = self.quantiles_, self.levels
        high = np.interp(numbers, q, levels)
        low = 1.0 - np.interp(-numbers, -q[::-1], 1.0 - levels[::-1])
        share = rng.random(numbers.size) if rng is not None else 0.5
        return ndtri(np.clip(low + share * (high - low), EPS, 1.0 - EPS))

    def from_normal(self, scores: np.ndarray) -> np.ndarray:
        return np.interp(ndtr(scores), self.levels, self.quantiles_)

    def transform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        numbers = self.codec.to_float(values)
        present = np.isfinite(numbers)
        if not present.all() and not self.has_null_:
            raise ValueError(f"column {self.column.name!r} has missing values it was not fitted with")
        out = np.zeros((numbers.size, self.width), dtype=np.float32)
        out[:, 0] = rng.standard_normal(numbers.size)
        if self.quantiles_ is not None and present.any():
            out[present, 0] = self.to_normal(numbers[present], rng)
        if self.has_null_:
            out[present, 1] = 1.0
            out[~present, 2] = 1.0
        return out

    def inverse(self, parts: list[np.ndarray]) -> pd.Series:
        scores = parts[0].astype(np.float64)
        numbers = np.full(scores.size, np.nan)
        present = np.ones(scores.size, dtype=bool) if not self.has_null_ else parts[1] == 0
        if self.quantiles_ is not None:
            numbers[present] = self.from_normal(scores[present])
        return self.codec.from_float(numbers)

    def get_state(self) -> dict[str, Any]:
        return {
            "n_quantiles": self.n_quantiles,
            "max_fit_rows": self.max_fit_rows,
            "has_null": self.has_null_,
            "codec": self.codec.get_state(),
            "quantiles": None if self.quantiles_ is None else self.quantiles_.tolist(),
        }

    @classmethod
    def from_state(cls, column: Column, state: dict[str, Any]) -> "QuantileNormalizer":
        encoder = cls(column, n_quantiles=state["n_quantiles"], max_fit_rows=state["max_fit_rows"])
        encoder.codec = ValueCodec.from_state(column, state["codec"])
        encoder.has_null_ = bool(state["has_null"])
        if state["quantiles"] is not None:
            encoder.quantiles_ = np.asarray(state["quantiles"], dtype=np.float64)
        return encoder
