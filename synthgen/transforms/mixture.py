"""A variational Bayesian Gaussian mixture for one-dimensional data, written for speed.

CTGAN's mode-specific normalisation fits a Dirichlet-process Gaussian mixture to every continuous
column. scikit-learn's `BayesianGaussianMixture` is general (any dimension, k-means init, many
checks) and costs about 0.15 s per column on 5,000 rows; peers spend most of their preprocessing
there. In one dimension every update is a handful of vector operations, so this module implements
the same model (stick-breaking weight prior, Normal-Gamma prior on each mode) with the same
variational updates directly in numpy, on standardised values, with a quantile initialisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, logsumexp

_EPS = 10 * np.finfo(float).eps


@dataclass(frozen=True)
class Mixture:
    """Fitted modes in the original units of the data, sorted by mean."""

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log(weight_k * N(x; mean_k, std_k)) for every value and mode, shape (n, k)."""
        z = (x[:, None] - self.means[None, :]) / self.stds[None, :]
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
    center, scale = float(x.mean()), float(x.std())
    if scale == 0.0 or x.size < 2:
        return Mixture(np.ones(1), np.array([center]), np.array([max(abs(center) * 1e-6, 1e-6)]))
    z = (x - center) / scale
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
    return Mixture(
        weights=kept_weights / kept_weights.sum(),
        means=center + scale * means[keep][order],
        stds=scale * np.sqrt(variances[keep][order]) + 1e-12 * max(scale, 1.0),
    )


def _quantile_init(z: np.ndarray, k: int) -> np.ndarray:
    """Hard responsibilities from k equal-count bins of the sorted values (deterministic, k-means-like)."""
    ranks = np.empty(z.size, dtype=np.int64)
    ranks[np.argsort(z, kind="stable")] = np.arange(z.size)
    labels = np.minimum(ranks * k // z.size, k - 1)
    resp = np.zeros((z.size, k))
    resp[np.arange(z.size), labels] = 1.0
    return resp
