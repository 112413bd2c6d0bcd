"""Is the synthetic table useful? Train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

Each of the judge's learners (``LEARNERS``: its own classifiers or regressors, never a generator) is
fitted twice, on the real train rows and on the synthetic rows, *equally many of each* (the smaller
table's count, capped at ``utility_max_rows``; the larger one subsampled), and both fits are scored on
the same real holdout rows. Classification: ROC AUC (one-vs-rest macro
for more than two classes) and F1 (of the real train's minority class; macro for more than two);
regression: R2 and RMSE. The ratio TSTR / TRTR uses ROC AUC, or R2 when the real fit explains
anything (R2 > 0); ``tstr_ratio`` is its mean over the learners that give one. Feature-importance
agreement is the Spearman rank correlation of the per-column importances of the two fits (one-hot
slots summed back to their column).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from pydantic import AliasChoices, BaseModel, Field
from scipy.stats import spearmanr
from sklearn.metrics import f1_score, mean_squared_error, r2_score, roc_auc_score

from synthgen.judge.encoding import RowEncoder
from synthgen.judge.fidelity import Stopwatch, fnum, subsample
from synthgen.judge.inputs import CleanTables
from synthgen.judge.learners import LEARNERS, Learners, single_threaded_blas
from synthgen.judge.settings import EvaluateSettings


class LearnerUtility(BaseModel):
    """One learner's TRTR and TSTR scores; reads the ``model`` key of reports written before the rename."""

    learner: str = Field(validation_alias=AliasChoices("learner", "model"))
    trtr: dict[str, float | None] = {}
    tstr: dict[str, float | None] = {}
    ratio: float | None = None
    importance_agreement: float | None = None
    note: str | None = None


class UtilityResult(BaseModel):
    status: str  # "ok" | "skipped"
    reason: str | None = None
    target: str | None = None
    task: str | None = None  # "classification" | "regression"
    primary_metric: str | None = None  # "roc_auc" | "r2"
    backend: str
    tstr_ratio: float | None = None  # mean over learners of TSTR / TRTR on the primary metric
    synthetic_unusable: bool = False  # a learner could not be fitted on the synthetic rows (e.g. one target class)
    learners: list[LearnerUtility] = Field(default=[], validation_alias=AliasChoices("learners", "models"))
    train_rows: int = 0
    synthetic_rows: int = 0
    test_rows: int = 0
    classes: list[str] = []
    test_class_counts: list[int] = []  # holdout rows per class (classification): how precise a test AUC is
    notes: list[str] = []
    timings_s: dict[str, float] = {}


def evaluate_utility(
    t: CleanTables, target: str | None, settings: EvaluateSettings, learners: Learners, rng: np.random.Generator
) -> UtilityResult:
    if target is None:
        return UtilityResult(status="skipped", reason="the schema names no target column", backend=learners.backend)
    column = next(c for c in t.columns if c.name == target)
    features = [c for c in t.columns if c.name != target]
    if not features:
        return UtilityResult(
            status="skipped", reason="the target is the only modelled column", target=target, backend=learners.backend
        )
    task = "classification" if column.kind.is_discrete else "regression"
    notes: list[str] = []
    train = _rows_with_target(t.train, target, "train", notes)
    synth = _rows_with_target(t.synthetic, target, "synthetic", notes)
    test = _rows_with_target(t.holdout, target, "holdout", notes)
    if task == "classification":
        classes = sorted(train[target].unique(), key=str)
        lookup = {k: i for i, k in enumerate(classes)}
        unseen = ~synth[target].isin(lookup)
        if unseen.any():
            notes.append(
                f"{int(unseen.sum())} synthetic row(s) have target classes the real train table lacks; dropped"
            )
            synth = synth[~unseen]
        test = test[test[target].isin(lookup)]
    # TSTR and TRTR learn from equally many rows: more rows alone lift a learner, and TRTR on twice the
    # rows of a small release made an honest sample fail the ratio (issue 12).
    cap = settings.utility_max_rows
    rows = min(len(train), len(synth), cap)
    if 0 < len(synth) < min(len(train), cap):
        notes.append(f"TRTR learns from {rows:,} of the {len(train):,} train rows: as many as the synthetic rows")
    if len(train) < min(len(synth), cap):
        notes.append(f"TSTR learns from {rows:,} of the {len(synth):,} synthetic rows: as many as the train rows")
    train = train.iloc[subsample(len(train), rows if len(synth) else cap, rng)]
    synth = synth.iloc[subsample(len(synth), rows, rng)]
    test = test.iloc[subsample(len(test), settings.utility_test_max_rows, rng)]
    base = dict(
        target=target,
        task=task,
        backend=learners.backend,
        train_rows=len(train),
        synthetic_rows=len(synth),
        test_rows=len(test),
        notes=notes,
    )
    if task == "classification":
        y_train, y_synth, y_test = (f[target].map(lookup).to_numpy(dtype=np.int64) for f in (train, synth, test))
        base.update(
            primary_metric="roc_auc",
            classes=[str(c) for c in classes],
            test_class_counts=np.bincount(y_test, minlength=len(classes)).tolist(),
        )
        # F1 is that of the real train table's minority class (binary), whatever the synthetic balance.
        label_info = (len(classes), int(np.argmin(np.bincount(y_train, minlength=len(classes)))))
    else:
        y_train, y_synth, y_test = (f[target].to_numpy(dtype=float) for f in (train, synth, test))
        label_info = (0, 0)
        base.update(primary_metric="r2")
    if len(synth) == 0:
        return UtilityResult(status="skipped", reason="no synthetic row has a usable target value", **base)

    encoder = RowEncoder(features, seed=settings.seed).fit(t.train)
    X_train, X_synth, X_test = (encoder.transform(f) for f in (train, synth, test))
    shared = dict(
        task=task,
        learners=learners,
        X_test=X_test,
        y_test=y_test,
        encoder=encoder,
        features=features,
        label_info=label_info,
    )
    results = []
    clock = Stopwatch()
    for name in LEARNERS:
        real_fit = _fit_and_score(name, X=X_train, y=y_train, **shared)
        synth_fit = _fit_and_score(name, X=X_synth, y=y_synth, **shared)
        results.append(_compare(name, base["primary_metric"], real_fit, synth_fit))
        clock.lap(name)
    base["timings_s"] = clock.laps
    ratios = [r.ratio for r in results if r.ratio is not None]
    if not ratios:
        notes.append("no learner gave a TSTR / TRTR ratio; see the per-learner notes")
    unusable = any(r.note and r.note.startswith("synthetic fit:") for r in results)
    return UtilityResult(
        status="ok",
        learners=results,
        tstr_ratio=fnum(np.mean(ratios)) if ratios else None,
        synthetic_unusable=unusable,
        **base,
    )


def _rows_with_target(frame: pd.DataFrame, target: str, role: str, notes: list[str]) -> pd.DataFrame:
    missing = frame[target].isna()
    if missing.any():
        notes.append(f"{int(missing.sum())} {role} row(s) without a target value were left out")
    return frame[~missing]


def _fit_and_score(
    name: str,
    task: str,
    learners: Learners,
    X: np.ndarray,
    y: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    encoder: RowEncoder,
    features,
    label_info: tuple[int, int],
) -> dict[str, Any]:
    if task == "classification":
        present = np.unique(y)
        if len(present) < 2:
            code = present[0] if len(present) else "-"
            return {"error": f"the training rows hold a single target class (code {code}); no classifier can be fitted"}
        learner = learners.make(name, task, len(X))
        with warnings.catch_warnings(), single_threaded_blas():
            warnings.simplefilter("ignore")
            learner.fit(X, np.searchsorted(present, y))
            proba_present = np.asarray(learner.predict_proba(X_test))
        proba = np.zeros((len(X_test), label_info[0]))
        proba[:, present] = proba_present
        scores = _classification_scores(y_test, proba, label_info[1])
    else:
        learner = learners.make(name, task, len(X))
        with warnings.catch_warnings(), single_threaded_blas():
            warnings.simplefilter("ignore")
            learner.fit(X, y)
            pred = np.asarray(learner.predict(X_test), dtype=float)
        scores = {"r2": fnum(r2_score(y_test, pred)), "rmse": fnum(np.sqrt(mean_squared_error(y_test, pred)))}
    return {"scores": scores, "importance": _importance(learner, encoder, features)}


def _classification_scores(y_test: np.ndarray, proba: np.ndarray, positive: int) -> dict[str, float | None]:
    k = proba.shape[1]
    out: dict[str, float | None] = {}
    try:
        if len(np.unique(y_test)) < 2:
            raise ValueError("the holdout holds a single class")
        if k == 2:
            out["roc_auc"] = fnum(roc_auc_score(y_test, proba[:, 1]))
        else:
            p = proba / np.clip(proba.sum(1, keepdims=True), 1e-12, None)
            out["roc_auc"] = fnum(roc_auc_score(y_test, p, multi_class="ovr", average="macro", labels=np.arange(k)))
    except ValueError:
        out["roc_auc"] = None  # the holdout holds a single class
    pred = np.argmax(proba, axis=1)
    if k == 2:
        out["f1"] = fnum(f1_score(y_test, pred, pos_label=positive, zero_division=0))
    else:
        out["f1"] = fnum(f1_score(y_test, pred, average="macro", zero_division=0))
    return out


def _importance(learner: Any, encoder: RowEncoder, features) -> np.ndarray | None:
    raw = getattr(learner, "feature_importances_", None)
    if raw is None:
        coef = getattr(learner, "coef_", None)
        if coef is None:
            return None
        coef = np.abs(np.asarray(coef, dtype=float))
        raw = coef.mean(0) if coef.ndim == 2 else coef
    raw = np.asarray(raw, dtype=float)
    if raw.shape[0] != encoder.n_features:
        return None
    return np.array([raw[encoder.slices_[c.name]].sum() for c in features])


def _compare(name: str, primary: str, real_fit: dict, synth_fit: dict) -> LearnerUtility:
    if "error" in real_fit:
        return LearnerUtility(learner=name, note=f"real fit: {real_fit['error']}")
    if "error" in synth_fit:
        return LearnerUtility(learner=name, trtr=real_fit["scores"], note=f"synthetic fit: {synth_fit['error']}")
    trtr, tstr = real_fit["scores"], synth_fit["scores"]
    ratio, note = None, None
    if trtr.get(primary) is None or tstr.get(primary) is None:
        note = f"{primary} not computable on the holdout"
    elif trtr[primary] <= 0:
        note = f"TRTR {primary} <= 0: the ratio means nothing"
    else:
        ratio = tstr[primary] / trtr[primary]
    agreement = None
    a, b = real_fit["importance"], synth_fit["importance"]
    if a is not None and b is not None and len(a) > 1 and np.std(a) > 0 and np.std(b) > 0:
        agreement = fnum(spearmanr(a, b).statistic)
    return LearnerUtility(
        learner=name, trtr=trtr, tstr=tstr, ratio=fnum(ratio), importance_agreement=agreement, note=note
    )
