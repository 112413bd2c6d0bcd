"""Extreme values: does the synthetic table put more rows far out in a column's tails than real data does?

A generator can amplify a handful of absurd source values. With 0.7 % of german_credit's amounts
near 1e12, the diffusion model put 4.2 % of its rows out there and CTGAN 46 %, and the gate released
the diffusion model's table (issue 10; ``evaluation/results/extreme_values.json``). Column shapes
cannot see it (a KS statistic moves by the share, not the size: shape 0.974 against 0.975 on the
clean table), the detection classifier is off by default, and the generators' clipping keeps every
value inside the real range, absurd ones too. So each continuous column gets bounds from the real
train rows, and the share of synthetic values outside them is compared with the share of *holdout*
values outside the same bounds: real rows the generator never saw, which show how often the
population itself goes that far (the natural rate).

Bounds: the train column's median plus and minus ``extreme_spreads`` (10) robust spreads, where the
robust spread is the interquartile range over 1.349 (the standard deviation, for normal data). Not
the train range, nor its 0.5 / 99.5 % quantiles: a few absurd training values move those as far as
themselves (with 0.7 % of the rows near 1e300 the 99.5 % quantile *is* near 1e300), while they move
the quartiles by a rank or two. Real columns rarely go that far: on the bundled datasets 0 to 0.3 %
of the values (the most: credit_risk's incomes), 0 on german_credit; 1e12 among amounts in the
thousands is 5e8 robust spreads out.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel

from synthgen.judge.inputs import CleanTables
from synthgen.judge.settings import EvaluateSettings

_MAX = float(np.finfo(np.float64).max)


class ColumnExtremes(BaseModel):
    column: str
    low: float  # values below are extreme (the real train's median - spreads x robust spread)
    high: float  # values above are extreme (median + spreads x robust spread)
    synthetic_share: float | None  # share of present synthetic values outside [low, high]
    holdout_share: float | None  # the same for the holdout: the natural rate
    synthetic_values: int  # present (non-null) values counted
    holdout_values: int
    standard_error: float | None  # of synthetic_share - holdout_share if both tables had the natural rate

    @property
    def excess(self) -> float | None:
        if self.synthetic_share is None or self.holdout_share is None:
            return None
        return self.synthetic_share - self.holdout_share


class ExtremeValues(BaseModel):
    spreads: float  # the bounds' distance from the median, in robust spreads
    columns: list[ColumnExtremes]


def extreme_values(t: CleanTables, settings: EvaluateSettings) -> ExtremeValues:
    """Per continuous column: bounds from the real train rows, and the synthetic and holdout shares outside them."""
    out = []
    for name in t.continuous:
        train = _present(t.train[name])
        if train.size == 0:
            continue
        low, high = bounds(train, settings.extreme_spreads)
        synthetic, holdout = _present(t.synthetic[name]), _present(t.holdout[name])
        s_share, h_share = _share_outside(synthetic, low, high), _share_outside(holdout, low, high)
        out.append(
            ColumnExtremes(
                column=name,
                low=low,
                high=high,
                synthetic_share=s_share,
                holdout_share=h_share,
                synthetic_values=int(synthetic.size),
                holdout_values=int(holdout.size),
                standard_error=_standard_error(h_share, holdout.size, synthetic.size),
            )
        )
    return ExtremeValues(spreads=settings.extreme_spreads, columns=out)


def bounds(values: np.ndarray, spreads: float) -> tuple[float, float]:
    """The median of ``values`` plus and minus ``spreads`` robust spreads, clamped to the finite range.

    Computed on halved values (exact for ordinary numbers), so that no quantile difference overflows
    float64 however far apart the values lie.
    """
    half = np.asarray(values, dtype=np.float64) * 0.5
    median = float(np.median(half))
    spread = robust_spread(half)
    with np.errstate(over="ignore"):
        low, high = (median - spreads * spread) * 2.0, (median + spreads * spread) * 2.0
    return float(np.clip(low, -_MAX, _MAX)), float(np.clip(high, -_MAX, _MAX))


def robust_spread(values: np.ndarray) -> float:
    """The standard deviation the bulk of ``values`` would have if it were normal, blind to 1 % outliers.

    The interquartile range over 1.349; for a column mostly made of one value, the 10-90 % range over
    2.563, else the 1-99 % range over 4.653; else 0 (98 % of the values are one value: any other is
    extreme). ``values`` must not span more than the largest float64 (the caller halves them).
    """
    for low, high, width in ((0.25, 0.75, 1.3490), (0.10, 0.90, 2.5631), (0.01, 0.99, 4.6527)):
        q_low, q_high = np.quantile(values, [low, high])
        if q_high > q_low:
            return float((q_high - q_low) / width)
    return 0.0


def allowance(column: ColumnExtremes, tolerance: float) -> float | None:
    """The highest synthetic share the gate accepts: the natural rate plus ``tolerance``, or plus three
    standard errors of the difference where the tables are too small to tell ``tolerance`` from noise
    (200 holdout rows at a 1 % natural rate: about 2.3 points)."""
    if column.holdout_share is None or column.standard_error is None:
        return None
    return column.holdout_share + max(tolerance, 3.0 * column.standard_error)


def _present(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return array[np.isfinite(array)]


def _share_outside(values: np.ndarray, low: float, high: float) -> float | None:
    return float(np.mean((values < low) | (values > high))) if values.size else None


def _standard_error(natural: float | None, holdout: int, synthetic: int) -> float | None:
    """Binomial standard error of the difference of the two shares at the natural rate (at least one
    holdout value's worth, so that a holdout with no extreme value does not claim certainty)."""
    if natural is None or holdout == 0 or synthetic == 0:
        return None
    p = max(natural, 1.0 / holdout)
    return math.sqrt(p * (1.0 - p) * (1.0 / holdout + 1.0 / synthetic))
