"""The privacy primitives: AUC, TPR at FPR, estimability, nearest neighbours and densities."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from synthgen.judge import EvaluateSettings, neighbours
from synthgen.judge.neighbours import log_density, nearest
from synthgen.judge.privacy import auc_score, score_attack, tpr_at_fpr


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    members, non = rng.integers(0, 20, 300).astype(float), rng.integers(0, 18, 400).astype(float)
    y = np.r_[np.ones(300), np.zeros(400)]
    assert auc_score(members, non) == pytest.approx(roc_auc_score(y, np.r_[members, non]))


def test_tpr_at_fpr_matches_the_roc_curve():
    rng = np.random.default_rng(1)
    members, non = rng.normal(0.5, 1, 2000), rng.normal(0, 1, 2000)
    fpr, tpr, _ = roc_curve(np.r_[np.ones(2000), np.zeros(2000)], np.r_[members, non])
    for level in (0.01, 0.001):
        expected = tpr[fpr <= level].max()
        got, false_positives = tpr_at_fpr(members, non, level)
        assert got == pytest.approx(expected)
        assert false_positives <= level * 2000


def test_not_estimable_below_one_false_positive():
    rng = np.random.default_rng(2)
    settings = EvaluateSettings(bootstrap=50)
    small = score_attack("x", rng.normal(size=400), np.r_[np.ones(200, bool), np.zeros(200, bool)], settings, rng)
    assert small.tpr_at_01pct_fpr is None and small.tpr_at_1pct_fpr is not None
    big = score_attack("x", rng.normal(size=2400), np.r_[np.ones(1200, bool), np.zeros(1200, bool)], settings, rng)
    assert big.tpr_at_01pct_fpr is not None
    assert big.auc_interval[0] < 0.5 < big.auc_interval[1]
    assert big.epsilon_lower_bound == 0.0


def test_perfect_attack_gives_a_large_epsilon_bound():
    rng = np.random.default_rng(3)
    scores = np.r_[rng.normal(10, 1, 1000), rng.normal(0, 1, 1000)]
    result = score_attack(
        "x", scores, np.r_[np.ones(1000, bool), np.zeros(1000, bool)], EvaluateSettings(bootstrap=50), rng
    )
    assert result.auc == 1.0 and result.tpr_at_1pct_fpr == 1.0
    assert result.epsilon_lower_bound > 3.0  # ln(TPR_low / FPR_high), Clopper-Pearson


@pytest.mark.parametrize("block_bytes", [None, 64 << 10])
def test_blocked_nearest_matches_brute_force(block_bytes, monkeypatch):
    if block_bytes is not None:  # reference rows over two cache-sized blocks, the second partial
        monkeypatch.setattr(neighbours, "CPU_BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(4)
    q, r = rng.normal(size=(150, 7)), rng.normal(size=(500, 7))
    r[:10] = q[:10]
    d, idx = nearest(q, r, k=3, block_rows=64)
    brute = np.sqrt(((q[:, None, :] - r[None, :, :]) ** 2).sum(-1))
    assert np.allclose(d, np.sort(brute, 1)[:, :3])
    assert np.array_equal(idx[:, 0], brute.argmin(1))
    assert np.all(d[:10, 0] == 0.0)  # a copied row is at distance exactly 0


def test_log_density_matches_scipy_gaussian_kde_with_fixed_bandwidth():
    rng = np.random.default_rng(5)
    points, q = rng.normal(size=(300, 2)), rng.normal(size=(20, 2))
    h = 0.4
    manual = np.log(np.mean(np.exp(-((q[:, None] - points[None]) ** 2).sum(-1) / (2 * h * h)), 1) / (2 * np.pi * h * h))
    assert np.allclose(log_density(q, points, h, block_rows=7), manual)
