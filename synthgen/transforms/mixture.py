"""A variational Bayesian Gaussian mixture for one-dimensional data, written for speed.

CTGAN's mode-specific normalisation fits a Dirichlet-process Gaussian mixture to every continuous
column. scikit-learn's `BayesianGaussianMixture` is general (any dimension, k-means init, many
checks) and costs about 0.15 s per column on 5,000 rows; peers spend most of their preprocessing
there. In one dimension every update is a handful of vector operations, so this module implements
the same model (stick-breaking weight prior, Normal-Gamma prior on each mode) with the same
variational updates directly in numpy, on standardised values, with a quantile initialisation.

Absurd values must not leak into the ordinary modes. When 0.7 % of a column sits near 1e12, the
standard deviation that standardises the data is set by those few values, the ordinary values
collapse onto one point, and the whole column became one mode 1.6e10 wide: CTGAN then generated
46 % of its rows beyond 1e6 on german_credit, whose real amounts stay below 20,000 (issue 10). So
the mixture describes the bulk of the column: values further than ``FAR`` robust spreads from the
median are folded onto that edge (``Mixture.low`` / ``Mixture.high``), a column whose standard
deviation is still set by a few far values is standardised by its median and robust spread instead,
each mode is at most a couple of times wider than the values it owns, and the arithmetic stays
finite up to the largest float64.
Columns without values that far out fit the same modes as before (every column of german_credit,
and of credit_risk all but the incomes, of which one lies beyond: 6e6, 197 robust spreads out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, logsumexp

_EPS = 10 * np.finfo(float).eps
_HUGE = 1e150  # beyond this magnitude squares overflow: values are rescaled by a power of two first
_Z_LIMIT = 1e150  # |standardised distance| past which a density is flat (its square stays finite)
_MAX = float(np.finfo(np.float64).max)

# Normal-equivalent spreads: a central interval holding this share of the data, over its width in
# standard deviations of a normal distribution. The first one that is positive is the robust spread.
_SPREADS = ((0.25, 0.75, 1.3490), (0.10, 0.90, 2.5631), (0.01, 0.99, 4.6527))

FAR = 100.0
"""Robust spreads from the median beyond which a value is folded onto the edge of the mixture. On the
bundled datasets the furthest values are 8 (german_credit) and 197 (one income in credit_risk, 1 row
of 32,581 beyond 100); 1e12 in a column of amounts in the thousands is 5e8."""
STD_OVER_ROBUST = 3.0
"""A standard deviation more than this many robust spreads is set by a few far values (the bundled
columns: 0.7-2.1), so the column is standardised by its median and robust spread instead."""
STD_CAP_OWN = 2.0
"""A mode is at most this many times wider than the spread of the values it owns, or than the robust
spread of the column, whichever is larger. It does not bind on the bundled columns; it binds on a
mode made of a few values folded onto the edge, which the prior (variance 1 in standardised units,
pulling its mean towards 0) would otherwise make tens of robust spreads wide."""


@dataclass(frozen=True)
class Mixture:
    """Fitted modes in the original units of the data, sorted by mean.

    ``low`` and ``high`` bound the values the modes describe: a value beyond them is treated as the
    bound (None: unbounded, as mixtures fitted before issue 10 are).
    """

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    low: float | None = None
    high: float | None = None

    def clip(self, x: np.ndarray) -> np.ndarray:
        """``x`` folded into [low, high]."""
        if self.low is None and self.high is None:
            return x
        return np.clip(x, self.low if self.low is not None else -np.inf, self.high if self.high is not None else np.inf)

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log(weight_k * N(x; mean_k, std_k)) for every value and mode, shape (n, k); always finite.

        A value absurdly far from every mode (past 1e150 standard deviations) gets the same flat
        density from each, instead of -inf (whose differences are NaN).
        """
        with np.errstate(over="ignore", invalid="ignore"):
            z = (x[:, None] * 0.5 - self.means[None, :] * 0.5) / (self.stds[None, :] * 0.5)
        z = np.clip(np.nan_to_num(z, nan=0.0, posinf=_Z_LIMIT, neginf=-_Z_LIMIT), -_Z_LIMIT, _Z_LIMIT)
        return np.log(self.weights)[None, :] - 0.5 * z**2 - np.log(self.stds)[None, :] - 0.5 * np.log(2 * np.pi)


def fit_mixture(
    x: np.ndarray,
    max_modes: int = 10,
    weight_concentration: float = 1e-3,
    weight_threshold: float = 0.005,
    max_iter: int = 100,
    tol: float = 1e-4,
) -> Mixture:
    """Fit a Dirichlet-process Gaussian mixture to finite 1-D values; drop modes lighter than the threshold."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        raise ValueError("cannot fit a mixture to no values")
    if not np.isfinite(x).all():
        raise ValueError("cannot fit a mixture to non-finite values")
    middle, robust = robust_median(x), robust_spread(x)
    low, high = _far_bounds(middle, robust)
    if low is not None:
        x = np.clip(x, low, high)
    unit = _power_of_two_unit(x)
    scaled = x / unit
    center, scale = float(scaled.mean()), float(scaled.std())
    if scale == 0.0 or x.size < 2:
        center *= unit
        return Mixture(np.ones(1), np.array([center]), np.array([max(abs(center) * 1e-6, 1e-6)]), low, high)
    if STD_OVER_ROBUST * robust < scale * unit:
        # A few far values set the deviation: standardise around the median, where the bulk's mode
        # sits at 0 and the prior (which pulls every mode towards 0) cannot move it.
        center = middle / unit
        scale = robust / unit if robust > 0 else float(np.sqrt(np.mean((scaled - center) ** 2)))
    z = (scaled - center) / scale
    center, scale = center * unit, scale * unit
    k = int(min(max_modes, np.unique(z).size))
    resp = _quantile_init(z, k)
    # Priors as scikit-learn sets them for standardised data: mean 0, precision 1, one degree of freedom.
    mean_prior, mean_precision_prior, dof_prior, var_prior = 0.0, 1.0, 1.0, 1.0
    previous = -np.inf
    for _ in range(max_iter):
        # M-step: variational parameters from responsibilities.
        nk = resp.sum(axis=0) + _EPS
        xk = resp.T @ z / nk
        sk = (resp * (z[:, None] - xk[None, :]) ** 2).sum(axis=0) / nk
        alpha = 1.0 + nk
        beta = weight_concentration + np.hstack((np.cumsum(nk[::-1])[-2::-1], 0.0))
        mean_precision = mean_precision_prior + nk
        means = (mean_precision_prior * mean_prior + nk * xk) / mean_precision
        dof = dof_prior + nk
        variances = (var_prior + nk * sk + nk * mean_precision_prior / mean_precision * (xk - mean_prior) ** 2) / dof
        # E-step: expected log weights (stick breaking) plus expected log Gaussian densities.
        digamma_sum = digamma(alpha + beta)
        log_weights = digamma(alpha) - digamma_sum + np.hstack((0.0, np.cumsum(digamma(beta) - digamma_sum)[:-1]))
        precision = 1.0 / variances
        log_gauss = (
            -0.5 * (np.log(2 * np.pi) + (z[:, None] - means[None, :]) ** 2 * precision[None, :])
            + 0.5 * np.log(precision)[None, :]
            - 0.5 * np.log(dof)[None, :]
        )
        log_lambda = np.log(2.0) + digamma(0.5 * dof)
        weighted = log_gauss + 0.5 * (log_lambda - 1.0 / mean_precision)[None, :] + log_weights[None, :]
        norm = logsumexp(weighted, axis=1)
        resp = np.exp(weighted - norm[:, None])
        own_variances = sk
        current = float(norm.mean())
        if abs(current - previous) < tol:
            break
        previous = current
    weights = alpha / (alpha + beta) * np.hstack((1.0, np.cumprod(beta / (alpha + beta))[:-1]))
    weights = weights / weights.sum()
    keep = weights > weight_threshold
    if not keep.any():
        keep = weights == weights.max()
    order = np.argsort(means[keep])
    kept_weights = weights[keep][order]
    spread = robust_spread(z)
    cap = STD_CAP_OWN * np.maximum(np.sqrt(own_variances), spread)
    stds = np.minimum(np.sqrt(variances), cap)[keep][order]
    with np.errstate(over="ignore"):
        # The floor keeps a mode of one repeated value invertible; relative to the bulk, not to a
        # deviation that outliers may have set.
        stds = np.minimum(scale * stds + 1e-12 * max(scale * min(spread, 1.0), 1.0), _MAX)
        means = np.clip(center + scale * means[keep][order], -_MAX, _MAX)
    return Mixture(
        weights=kept_weights / kept_weights.sum(),
        means=means,
        stds=stds,
        low=low,
        high=high,
    )


def robust_spread(x: np.ndarray) -> float:
    """The spread of the bulk of ``x`` in standard-deviation units, blind to up to 1 % of outliers.

    The interquartile range over 1.349 (its width in standard deviations of normal data) when the
    quartiles differ; for a column mostly made of one value, the 10-90 % range over 2.563, else the
    1-99 % range over 4.653; else 0: at least 98 % of the column is one value, and there is no bulk
    spread to measure anything by. Never overflows, whatever the magnitudes.
    """
    x = _finite(x)
    if x.size == 0:
        return 0.0
    unit = _power_of_two_unit(x)
    scaled = x / unit
    for low, high, width in _SPREADS:
        q_low, q_high = np.quantile(scaled, [low, high])
        if q_high > q_low:
            with np.errstate(over="ignore"):
                return float(min((q_high - q_low) / width * unit, _MAX))
    return 0.0


def robust_median(x: np.ndarray) -> float:
    """The median of the finite values of ``x`` (0 for none), without overflow."""
    x = _finite(x)
    if x.size == 0:
        return 0.0
    unit = _power_of_two_unit(x)
    return float(np.median(x / unit) * unit)


def _finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[np.isfinite(x)]


def _far_bounds(middle: float, robust: float) -> tuple[float | None, float | None]:
    """The edges of the bulk in the data's units; None where the column has no spread to measure by."""
    if robust <= 0:
        return None, None
    with np.errstate(over="ignore"):
        low, high = middle - FAR * robust, middle + FAR * robust
    return float(max(low, -_MAX)), float(min(high, _MAX))


def _power_of_two_unit(x: np.ndarray) -> float:
    """1, or a power of two that brings values past 1e150 near 1 (an exact rescaling): their
    squares, sums and differences would overflow float64."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return 1.0 if peak <= _HUGE else float(np.ldexp(1.0, min(int(np.ceil(np.log2(peak))), 1023)))


def _quantile_init(z: np.ndarray, k: int) -> np.ndarray:
    """Hard responsibilities from k equal-count bins of the sorted values (deterministic, k-means-like)."""
    ranks = np.empty(z.size, dtype=np.int64)
    ranks[np.argsort(z, kind="stable")] = np.arange(z.size)
    labels = np.minimum(ranks * k // z.size, k - 1)
    resp = np.zeros((z.size, k))
    resp[np.arange(z.size), labels] = 1.0
    return resp
