"""Is the synthetic table faithful to the real train table?

Column shapes and pair trends follow SDMetrics' QualityReport (sdmetrics 0.32) so our numbers speak
the field's language:

- shape: 1 - KS statistic (continuous columns, nulls dropped), 1 - total variation distance
  (discrete columns, nulls dropped);
- trend: continuous pairs 1 - |r_real - r_synth| / 2 (Pearson, rows with a null dropped); any other
  pair 1 - TVD of the joint frequency table (nulls as a category), where a continuous column paired
  with a discrete one is cut in ``trend_bins`` equal-width bins *of its own table's range*, as
  SDMetrics does. The overall trend averages the pairs whose real association is strong enough
  (|r| > 0.5, Cramer's V > 0.3 by default, the QualityReport's rule); with both thresholds at 0 it
  averages every pair (the older SDMetrics and the papers' TabSyn-era semantics). Both means are reported.

Beyond SDMetrics: alpha-precision / beta-recall (Alaa et al., ICML 2022, naive estimator on the
judge's encoding), a boosted-tree detection test, null-rate differences, category coverage and the
rate of extreme values against the holdout's (``synthgen.judge.extremes``).
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pandas as pd
from pydantic import BaseModel
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from synthgen.judge.encoding import RowEncoder
from synthgen.judge.extremes import ExtremeValues, extreme_values
from synthgen.judge.inputs import CleanTables
from synthgen.judge.learners import Learners
from synthgen.judge.neighbours import nearest
from synthgen.judge.settings import EvaluateSettings


class Stopwatch:
    """Seconds spent in each named step, for the report's cost breakdown."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        self.laps[name] = round(self.split(), 3)

    def split(self) -> float:
        """Seconds since the last lap or split, for a step timed in several pieces."""
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        return elapsed


def fnum(x: float | None) -> float | None:
    """NaN and inf become None: JSON has no NaN, and 'not computed' should read as such."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


class ColumnShape(BaseModel):
    column: str
    kind: str
    metric: str  # "KSComplement" | "TVComplement"
    score: float | None
    null_rate_real: float
    null_rate_synthetic: float
    category_coverage: float | None = None  # discrete: share of real categories the synthetic data has
    novel_share: float | None = None  # discrete: share of synthetic values never seen in the real data
    out_of_range_share: float | None = None  # continuous: share of synthetic values outside the real range


class PairTrend(BaseModel):
    column_1: str
    column_2: str
    metric: str  # "CorrelationSimilarity" | "ContingencySimilarity"
    score: float | None
    real_correlation: float | None = None
    synthetic_correlation: float | None = None
    real_association: float | None = None  # Cramer's V of the real joint table
    counted: bool  # meets the real-association threshold and enters the overall trend
    error: str | None = None


class Distribution(BaseModel):
    """What the report plots for one column: a histogram (continuous) or category frequencies."""

    column: str
    kind: str
    labels: list[str] = []  # categories (discrete)
    edges: list[float] = []  # bin edges (continuous)
    real: list[float]
    synthetic: list[float]


class FidelityResult(BaseModel):
    shape: float | None
    trend: float | None
    trend_all_pairs: float | None
    trend_pairs_counted: int
    trend_note: str | None = None
    columns: list[ColumnShape]
    pairs: list[PairTrend]
    alpha_precision: float | None
    beta_recall: float | None
    detection_auc: float | None  # mean over folds, not floored: below 0.5 = closer to the training rows than chance
    detection_auc_folds: list[float]
    detection_rows: int
    distributions: list[Distribution]
    extremes: ExtremeValues | None = None  # None in reports written before the check existed
    timings_s: dict[str, float] = {}
    # None in reports written before issue 12:
    detection_auc_standard_error: float | None = None  # of the fold mean, were real and synthetic alike
    # The same test between real train and holdout rows (how far real tables fall below 0.5 on their own
    # through repeated rows); computed only when the synthetic rows' AUC is below 0.5.
    detection_auc_holdout: float | None = None
    detection_auc_holdout_standard_error: float | None = None
    detection_holdout_rows: int | None = None


# ----------------------------------------------------------------------------------- column shapes
def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    real, synthetic = np.sort(real[~np.isnan(real)]), np.sort(synthetic[~np.isnan(synthetic)])
    if len(real) == 0 or len(synthetic) == 0:
        return float("nan")
    grid = np.concatenate([real, synthetic])
    cdf_r = np.searchsorted(real, grid, side="right") / len(real)
    cdf_s = np.searchsorted(synthetic, grid, side="right") / len(synthetic)
    return float(1.0 - np.max(np.abs(cdf_r - cdf_s)))


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    p, q = real.dropna().value_counts(normalize=True), synthetic.dropna().value_counts(normalize=True)
    if len(p) == 0 or len(q) == 0:
        return float("nan")
    p, q = p.align(q, fill_value=0.0)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def column_shapes(t: CleanTables) -> list[ColumnShape]:
    out = []
    for c in t.columns:
        r, s = t.train[c.name], t.synthetic[c.name]
        fields = dict(
            column=c.name,
            kind=c.kind.value,
            null_rate_real=float(r.isna().mean()),
            null_rate_synthetic=float(s.isna().mean()),
        )
        if c.kind.is_continuous:
            rv, sv = r.to_numpy(dtype=float), s.to_numpy(dtype=float)
            present = sv[~np.isnan(sv)]
            lo, hi = np.nanmin(rv), np.nanmax(rv)
            oor = float(np.mean((present < lo) | (present > hi))) if len(present) else None
            out.append(
                ColumnShape(metric="KSComplement", score=fnum(ks_complement(rv, sv)), out_of_range_share=oor, **fields)
            )
        else:
            real_cats = set(r.dropna().unique())
            present = s.dropna()
            coverage = len(real_cats & set(present.unique())) / len(real_cats) if real_cats else None
            novel = float((~present.isin(real_cats)).mean()) if len(present) else None
            out.append(
                ColumnShape(
                    metric="TVComplement",
                    score=fnum(tv_complement(r, s)),
                    category_coverage=coverage,
                    novel_share=novel,
                    **fields,
                )
            )
    return out


# ------------------------------------------------------------------------------------- pair trends
def _discrete_codes(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One code per category over both tables; a null is a category of its own (the last code)."""
    codes, uniques = pd.factorize(pd.concat([real, synthetic], ignore_index=True), use_na_sentinel=True)
    codes = np.where(codes < 0, len(uniques), codes)
    return codes[: len(real)], codes[len(real) :]


def _binned_codes(values: np.ndarray, bins: int) -> np.ndarray:
    """Equal-width bins over the table's own range (SDMetrics' rule); a null lands past the last bin.

    On halved values (the same bins for ordinary numbers), so that a range from -1e308 to 1e308
    still has a finite width."""
    half = values * 0.5
    present = half[~np.isnan(half)]
    edges = np.histogram_bin_edges(present, bins=bins) if len(present) else np.linspace(0.0, 1.0, bins + 1)
    return np.digitize(half, edges)


def _cramers_v(table: np.ndarray) -> float:
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    if min(table.shape) < 2:
        return float("nan")
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / (n * (min(table.shape) - 1)))


def _contingency(
    a_r: np.ndarray, b_r: np.ndarray, a_s: np.ndarray, b_s: np.ndarray, need_v: bool
) -> tuple[float, float]:
    na = int(max(a_r.max(), a_s.max())) + 1
    nb = int(max(b_r.max(), b_s.max())) + 1
    real = np.bincount(a_r * nb + b_r, minlength=na * nb).astype(float)
    synth = np.bincount(a_s * nb + b_s, minlength=na * nb).astype(float)
    score = 1.0 - 0.5 * np.abs(real / real.sum() - synth / synth.sum()).sum()
    v = _cramers_v(real.reshape(na, nb)) if need_v else float("nan")
    return float(score), v


def _unit_scale(x: np.ndarray) -> np.ndarray:
    """``x`` divided by a power of two (an exact rescaling) when its squares would overflow; Pearson's r
    does not change with the scale of either column."""
    finite = np.abs(x[np.isfinite(x)])
    peak = float(finite.max()) if finite.size else 0.0
    return x if peak <= 1e150 else x / np.ldexp(1.0, min(int(np.ceil(np.log2(peak))), 1023))


def _correlation(x_r, y_r, x_s, y_s) -> tuple[float, float, float]:
    x_r, y_r, x_s, y_s = (_unit_scale(a) for a in (x_r, y_r, x_s, y_s))
    if np.nanstd(x_r) == 0 or np.nanstd(y_r) == 0 or np.nanstd(x_s) == 0 or np.nanstd(y_s) == 0:
        raise ValueError("a column is constant in the real or the synthetic data")
    ok_r = ~(np.isnan(x_r) | np.isnan(y_r))
    ok_s = ~(np.isnan(x_s) | np.isnan(y_s))
    if ok_r.sum() < 2 or ok_s.sum() < 2:
        raise ValueError("fewer than two rows with both values present")
    r = float(np.corrcoef(x_r[ok_r], y_r[ok_r])[0, 1])
    s = float(np.corrcoef(x_s[ok_s], y_s[ok_s])[0, 1])
    return 1.0 - abs(r - s) / 2.0, r, s


def pair_trends(t: CleanTables, settings: EvaluateSettings) -> list[PairTrend]:
    cont = set(t.continuous)
    raw = {n: (t.train[n].to_numpy(dtype=float), t.synthetic[n].to_numpy(dtype=float)) for n in cont}
    binned = {
        n: (_binned_codes(r, settings.trend_bins), _binned_codes(s, settings.trend_bins)) for n, (r, s) in raw.items()
    }
    codes = {n: _discrete_codes(t.train[n], t.synthetic[n]) for n in t.discrete}
    corr_min, assoc_min = settings.trend_min_real_correlation, settings.trend_min_real_association
    out = []
    for c1, c2 in itertools.combinations([c.name for c in t.columns], 2):
        try:
            if c1 in cont and c2 in cont:
                score, r, s = _correlation(raw[c1][0], raw[c2][0], raw[c1][1], raw[c2][1])
                counted = corr_min <= 0 or abs(r) > corr_min
                out.append(
                    PairTrend(
                        column_1=c1,
                        column_2=c2,
                        metric="CorrelationSimilarity",
                        score=fnum(score),
                        real_correlation=fnum(r),
                        synthetic_correlation=fnum(s),
                        counted=counted,
                    )
                )
            else:
                a = binned[c1] if c1 in cont else codes[c1]
                b = binned[c2] if c2 in cont else codes[c2]
                score, v = _contingency(a[0], b[0], a[1], b[1], need_v=assoc_min > 0)
                counted = assoc_min <= 0 or (not math.isnan(v) and v > assoc_min)
                out.append(
                    PairTrend(
                        column_1=c1,
                        column_2=c2,
                        metric="ContingencySimilarity",
                        score=fnum(score),
                        real_association=fnum(v),
                        counted=counted,
                    )
                )
        except ValueError as exc:
            metric = "CorrelationSimilarity" if c1 in cont and c2 in cont else "ContingencySimilarity"
            out.append(PairTrend(column_1=c1, column_2=c2, metric=metric, score=None, counted=False, error=str(exc)))
    return out


def summarise_trends(pairs: list[PairTrend]) -> tuple[float | None, float | None, int, str | None]:
    scored = [p.score for p in pairs if p.score is not None]
    counted = [p.score for p in pairs if p.counted and p.score is not None]
    all_pairs = float(np.mean(scored)) if scored else None
    if counted:
        return float(np.mean(counted)), all_pairs, len(counted), None
    if scored:
        return all_pairs, all_pairs, 0, "no pair meets the real-association thresholds; the trend averages every pair"
    return None, None, 0, "no column pair could be scored"


# ------------------------------------------------------------------------ alpha-precision, beta-recall
def alpha_precision_beta_recall(
    real: np.ndarray, synthetic: np.ndarray, device, block_rows: int, steps: int = 30
) -> tuple[float, float]:
    """Naive estimators of Alaa et al.: balls around each distribution's centre hold alpha of its mass.

    alpha-precision: share of synthetic rows inside the real alpha-ball, against alpha. beta-recall:
    share of real rows whose nearest synthetic row lies within the real row's own nearest-neighbour
    radius and inside the synthetic beta-ball, against beta. Both integrate 1 - |curve - ideal|.
    An independent sample from the real population scores about 1.0 and 0.5; a copy 1.0 and 1.0.
    """
    levels = np.linspace(0.0, 1.0, steps)
    centre_r = real.mean(0)
    radius_r = np.quantile(np.linalg.norm(real - centre_r, axis=1), levels)
    synth_to_centre = np.linalg.norm(synthetic - centre_r, axis=1)
    precision_curve = np.array([(synth_to_centre <= r).mean() for r in radius_r])

    real_to_real = nearest(real, real, k=2, device=device, block_rows=block_rows)[0][:, 1]
    real_to_synth, index = nearest(real, synthetic, k=1, device=device, block_rows=block_rows)
    closest = synthetic[index[:, 0]]
    closest_to_centre = np.linalg.norm(closest - synthetic.mean(0), axis=1)
    radius_s = np.quantile(closest_to_centre, levels)
    inside = real_to_synth[:, 0] <= real_to_real
    recall_curve = np.array([(inside & (closest_to_centre <= r)).mean() for r in radius_s])
    alpha = 1.0 - np.abs(precision_curve - levels).sum() / levels.sum()
    beta = 1.0 - np.abs(recall_curve - levels).sum() / levels.sum()
    return float(alpha), float(beta)


# ------------------------------------------------------------------------------------- detection
def detection(
    real: np.ndarray, synthetic: np.ndarray, learners: Learners, folds: int, seed: int
) -> tuple[float, list[float], float]:
    """Classifier two-sample test: boosted trees told to separate real from synthetic rows.

    Returns the mean ROC AUC over stratified folds, the fold AUCs, and the standard error of the mean
    were the two tables alike (Hanley-McNeil at 0.5, per fold). 0.5 = indistinguishable, 1.0 = told apart
    every time. Not floored: significantly *below* 0.5 means synthetic rows repeat training rows (a test
    row's twin sits in the training fold with the other label, so the detector votes the wrong way);
    an exact copy of the training table scores about 0.1.
    """
    X = np.vstack([real, synthetic])
    y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    aucs, variance = [], 0.0
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        classifier = learners.xgboost(
            "classification", len(train_idx), n_estimators=150, max_depth=6, learning_rate=0.1
        )
        classifier.fit(X[train_idx], y[train_idx])
        aucs.append(float(roc_auc_score(y[test_idx], classifier.predict_proba(X[test_idx])[:, 1])))
        n1 = int(y[test_idx].sum())
        n0 = len(test_idx) - n1
        variance += (n1 + n0 + 1) / (12.0 * n1 * n0)
    return float(np.mean(aucs)), aucs, math.sqrt(variance) / len(aucs)


# --------------------------------------------------------------------------------- distributions
def distributions(t: CleanTables, bins: int = 30, top: int = 20) -> list[Distribution]:
    out = []
    for c in t.columns:
        r, s = t.train[c.name], t.synthetic[c.name]
        if c.kind.is_continuous:
            rv = r.dropna().to_numpy(dtype=float)
            sv = s.dropna().to_numpy(dtype=float)
            lo, hi = np.quantile(rv, [0.005, 0.995]) if len(rv) else (0.0, 1.0)
            if hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
            # Halved: a range from -1e308 to 1e308 keeps finite bin widths (same bins otherwise).
            half = np.linspace(lo * 0.5, hi * 0.5, bins + 1)
            hr = np.histogram(np.clip(rv, lo, hi) * 0.5, half)[0] / max(len(rv), 1)
            hs = np.histogram(np.clip(sv, lo, hi) * 0.5, half)[0] / max(len(sv), 1)
            edges = np.clip(half * 2.0, lo, hi)
            out.append(
                Distribution(
                    column=c.name, kind=c.kind.value, edges=edges.tolist(), real=hr.tolist(), synthetic=hs.tolist()
                )
            )
        else:
            p = r.fillna("(null)").value_counts(normalize=True)
            q = s.fillna("(null)").value_counts(normalize=True)
            labels = list(p.index[:top])
            out.append(
                Distribution(
                    column=c.name,
                    kind=c.kind.value,
                    labels=[str(x) for x in labels],
                    real=[float(p.get(x, 0.0)) for x in labels],
                    synthetic=[float(q.get(x, 0.0)) for x in labels],
                )
            )
    return out


def subsample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= size else np.sort(rng.choice(n, size, replace=False))


def evaluate_fidelity(
    t: CleanTables,
    enc_train: np.ndarray,
    enc_synth: np.ndarray,
    settings: EvaluateSettings,
    learners: Learners,
    device,
    rng: np.random.Generator,
) -> FidelityResult:
    clock = Stopwatch()
    shapes = column_shapes(t)
    scores = [c.score for c in shapes if c.score is not None]
    pairs = pair_trends(t, settings)
    trend, trend_all, n_counted, note = summarise_trends(pairs)
    extremes = extreme_values(t, settings)
    clock.lap("shapes_trends")

    m = settings.precision_recall_max_rows
    pr_real = enc_train[subsample(len(enc_train), m, rng)].astype(np.float64)
    pr_synth = enc_synth[subsample(len(enc_synth), m, rng)].astype(np.float64)
    alpha, beta = alpha_precision_beta_recall(pr_real, pr_synth, device, settings.block_rows)
    clock.lap("precision_recall")

    n = min(len(enc_train), len(enc_synth), settings.detection_max_rows)
    det_real = enc_train[subsample(len(enc_train), n, rng)]
    det_synth = enc_synth[subsample(len(enc_synth), n, rng)]
    auc, folds, se = detection(det_real, det_synth, learners, settings.detection_folds, settings.seed)
    baseline: dict = {}
    if auc < 0.5:  # is it memorisation, or do real rows repeat enough to do the same? (gate.detection_memorisation)
        enc_holdout = RowEncoder(t.columns, seed=settings.seed).fit(t.train).transform(t.holdout)
        m = min(len(enc_train), len(enc_holdout), settings.detection_max_rows)
        if m >= settings.detection_folds:
            b_auc, _, b_se = detection(
                enc_train[subsample(len(enc_train), m, rng)],
                enc_holdout[subsample(len(enc_holdout), m, rng)],
                learners,
                settings.detection_folds,
                settings.seed,
            )
            baseline = dict(
                detection_auc_holdout=fnum(b_auc), detection_auc_holdout_standard_error=b_se, detection_holdout_rows=m
            )
    clock.lap("detection")
    dists = distributions(t)
    clock.lap("distributions")
    return FidelityResult(
        shape=fnum(np.mean(scores)) if scores else None,
        trend=fnum(trend),
        trend_all_pairs=fnum(trend_all),
        trend_pairs_counted=n_counted,
        trend_note=note,
        columns=shapes,
        pairs=pairs,
        alpha_precision=fnum(alpha),
        beta_recall=fnum(beta),
        detection_auc=fnum(auc),
        detection_auc_folds=folds,
        detection_rows=n,
        detection_auc_standard_error=se,
        **baseline,
        distributions=dists,
        extremes=extremes,
        timings_s=clock.laps,
    )
