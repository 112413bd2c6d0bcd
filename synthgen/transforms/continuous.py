"""CTGAN's mode-specific normalisation of a continuous column.

Each value becomes a scalar in [-1, 1] (its distance from the centre of one mixture mode, in units
of four standard deviations) plus a one-hot of that mode, so a generator with a tanh output can
reproduce multi-modal and long-tailed columns. Missing values get a mode of their own.
The mixture is fitted on a bounded random subsample: its shape is settled long before millions of
rows, and the fit stays a fraction of a second.

The mixture describes the bulk of the column (see ``synthgen.transforms.mixture``): a value beyond
``FAR`` robust spreads from the median is encoded as that edge, so a handful of absurd values (1e12,
1e300) can neither widen the ordinary modes nor come back multiplied; decoding stays finite in
float64 whatever the modes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthgen.schema import Column
from synthgen.transforms.base import NumericEncoder, Span
from synthgen.transforms.mixture import Mixture, fit_mixture

SCALE_STDS = 4.0
CLIP = 0.99
_MAX = float(np.finfo(np.float64).max)


class ModeSpecificNormalizer(NumericEncoder):
    name = "mode_specific"
    settings = ("max_modes", "max_fit_rows")

    def __init__(self, column: Column, max_modes: int = 10, max_fit_rows: int = 5000) -> None:
        super().__init__(column, max_fit_rows)
        self.max_modes = max_modes
        self.mixture_: Mixture | None = None

    @property
    def n_modes(self) -> int:
        return 0 if self.mixture_ is None else len(self.mixture_.weights)

    def _fit_values(self, finite: np.ndarray) -> None:
        self.mixture_ = fit_mixture(finite, max_modes=self.max_modes)

    @property
    def spans(self) -> list[Span]:
        return [
            Span(self.column.name, 1, "tanh"),
            Span(self.column.name, self.n_modes + int(self.has_null_), "softmax"),
        ]

    def transform(self, values: pd.Series, rng: np.random.Generator) -> np.ndarray:
        numbers, present = self._numbers(values)
        out = np.zeros((numbers.size, 1 + self.n_modes + int(self.has_null_)), dtype=np.float32)
        if self.has_null_:
            out[~present, -1] = 1.0
        if self.mixture_ is None or not present.any():
            return out
        mixture = self.mixture_
        x = mixture.clip(numbers[present])
        log_density = mixture.log_density(x)
        probs = np.exp(log_density - log_density.max(axis=1, keepdims=True))
        cumulative = np.cumsum(probs, axis=1)
        # Sample each row's mode from its posterior, as CTGAN does (argmax would erase mode overlaps).
        draws = rng.random(x.size) * cumulative[:, -1]
        modes = np.minimum((cumulative < draws[:, None]).sum(axis=1), self.n_modes - 1)
        with np.errstate(over="ignore", invalid="ignore"):
            scalar = (x * 0.5 - mixture.means[modes] * 0.5) / (SCALE_STDS * 0.5 * mixture.stds[modes])
        rows = np.flatnonzero(present)
        out[rows, 0] = np.clip(scalar, -CLIP, CLIP)
        out[rows, 1 + modes] = 1.0
        return out

    def inverse(self, parts: list[np.ndarray]) -> pd.Series:
        scalar, choice = np.clip(parts[0].astype(np.float64), -1.0, 1.0), parts[1].astype(np.int64)
        numbers = np.full(scalar.size, np.nan)
        real = choice < self.n_modes
        if self.mixture_ is not None and real.any():
            modes = choice[real]
            numbers[real] = _from_mode(scalar[real], self.mixture_.means[modes], self.mixture_.stds[modes])
        return self.codec.from_float(numbers)

    def get_state(self) -> dict[str, Any]:
        mixture = self.mixture_
        return {
            **super().get_state(),
            "mixture": None
            if mixture is None
            else {
                "weights": mixture.weights.tolist(),
                "means": mixture.means.tolist(),
                "stds": mixture.stds.tolist(),
                "low": mixture.low,
                "high": mixture.high,
            },
        }

    @classmethod
    def from_state(cls, column: Column, state: dict[str, Any]) -> ModeSpecificNormalizer:
        encoder = super().from_state(column, state)
        if state["mixture"] is not None:
            encoder.mixture_ = Mixture(
                weights=np.asarray(state["mixture"]["weights"], dtype=np.float64),
                means=np.asarray(state["mixture"]["means"], dtype=np.float64),
                stds=np.asarray(state["mixture"]["stds"], dtype=np.float64),
                low=_optional_float(state["mixture"].get("low")),
                high=_optional_float(state["mixture"].get("high")),
            )
        return encoder


def _from_mode(scalar: np.ndarray, means: np.ndarray, stds: np.ndarray) -> np.ndarray:
    """mean + scalar * 4 std, kept within float64 (halved, then doubled: exact for ordinary values)."""
    with np.errstate(over="ignore"):
        half = scalar * SCALE_STDS * (stds * 0.5) + means * 0.5
    return np.clip(half, -_MAX / 2, _MAX / 2) * 2.0


def _optional_float(value: Any) -> float | None:
    """A bound from the JSON state: None (a mixture saved before bounds existed) stays unbounded."""
    return None if value is None else float(value)
