"""The judge's learners: the classifiers and regressors it trains, on scikit-learn + XGBoost or on cuML.

A learner scores a table for the judge (utility, detection, the LOGAN attack); it is never a
generator, which synthgen calls a model.

``auto`` takes cuML only when ``import cuml`` succeeds *and* the judge runs on a CUDA device;
otherwise scikit-learn on the CPU. XGBoost is trained by xgboost itself in both cases (cuML has no
gradient boosting of its own), with ``device="cuda"`` when a CUDA device is in use and the installed
XGBoost was built with CUDA (a CPU-only build trains on the CPU beside a GPU). Every learner follows
the scikit-learn API (``fit``, ``predict_proba`` / ``predict``) and returns numpy arrays.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from synthgen.errors import InputError
from synthgen.threads import resolve_threads

Backend = Literal["cuml", "sklearn"]
Task = Literal["classification", "regression"]
LEARNERS = ("logistic_regression", "random_forest", "xgboost")  # the utility part fits each


@dataclass(frozen=True)
class Learners:
    backend: Backend
    xgb_device: str  # "cpu" | "cuda"
    n_jobs: int
    seed: int

    def xgboost(
        self, task: Task, n_rows: int, n_estimators: int = 200, max_depth: int = 6, learning_rate: float = 0.1
    ) -> Any:
        import xgboost as xgb

        cls = xgb.XGBClassifier if task == "classification" else xgb.XGBRegressor
        return cls(
            n_estimators=n_estimators,
            max_depth=max_depth,
            learning_rate=learning_rate,
            tree_method="hist",
            device=self.xgb_device,
            n_jobs=self.xgb_threads(n_rows),
            random_state=self.seed,
            verbosity=0,
        )

    def xgb_threads(self, n_rows: int) -> int:
        """XGBoost runs on one CPU thread.

        Its OpenMP threads spin-wait at every barrier; on a busy machine with few cores a descheduled
        thread stalls them all. Measured here (2 cores, load ~4): a 100-tree fit on 10,000 rows took
        11.6 s with 2 threads and 0.19 s with 1; a 150-tree fit on 800 rows 40 s against 0.3 s. On an
        idle machine a second thread saves at most half the time, so one thread is the safe default.
        """
        return 1

    def make(self, name: str, task: Task, n_rows: int) -> Any:
        if name == "xgboost":
            return self.xgboost(task, n_rows)
        if self.backend == "cuml":
            return _cuml_learner(name, task, self.seed)
        return _sklearn_learner(name, task, self.seed, self.n_jobs)


def resolve_backend(requested: str, device: torch.device, seed: int = 0, n_jobs: int | None = None) -> Learners:
    """Pick the learners once; a cuML request that cannot be honoured is an input error, not a fallback."""
    jobs = n_jobs or resolve_threads()  # SYNTHGEN_THREADS, else the cores this process may use
    on_gpu = device.type == "cuda" and torch.cuda.is_available()
    xgb_device = "cuda" if on_gpu and _xgboost_has_cuda() else "cpu"
    if requested == "sklearn":
        return Learners("sklearn", xgb_device, jobs, seed)
    error = _cuml_import_error()
    if requested == "cuml":
        if error is not None:
            raise InputError(
                f"evaluate.backend 'cuml' requested but `import cuml` failed ({error}); use 'auto' or 'sklearn'"
            )
        if not on_gpu:
            raise InputError("evaluate.backend 'cuml' requested but no CUDA device is in use; use 'auto' or 'sklearn'")
        return Learners("cuml", xgb_device, jobs, seed)
    if requested != "auto":
        raise InputError(f"unknown evaluate.backend {requested!r}; use 'auto', 'cuml' or 'sklearn'")
    if error is None and on_gpu:
        return Learners("cuml", xgb_device, jobs, seed)
    return Learners("sklearn", xgb_device, jobs, seed)


def _xgboost_has_cuda() -> bool:
    """CPU-only XGBoost builds (``xgboost-cpu``, macOS wheels) refuse ``device="cuda"``: train them on the CPU."""
    import xgboost as xgb

    return bool(xgb.build_info().get("USE_CUDA", False))


def single_threaded_blas():
    """BLAS on one thread for the small dense solves of scikit-learn (logistic regression, PCA).

    Measured here on a busy 2-core machine: a 20,000-row logistic regression took 0.60 s with the
    BLAS thread pool and 0.05 s on one thread. Torch's own threads are the caller's to set.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _cuml_import_error() -> str | None:
    try:
        importlib.import_module("cuml")
    except Exception as exc:  # ImportError, or a CUDA runtime error raised while importing
        return f"{type(exc).__name__}: {exc}"
    return None


def _sklearn_learner(name: str, task: Task, seed: int, n_jobs: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LogisticRegression, Ridge

    if name == "logistic_regression":
        return LogisticRegression(max_iter=1000, C=1.0) if task == "classification" else Ridge(alpha=1.0)
    if name == "random_forest":
        cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
        return cls(n_estimators=100, min_samples_leaf=2, max_features="sqrt", n_jobs=n_jobs, random_state=seed)
    raise ValueError(name)


def _cuml_learner(name: str, task: Task, seed: int) -> Any:
    """cuML estimators (documented API: cuml.linear_model / cuml.ensemble), numpy in and out."""
    if name == "logistic_regression":
        if task == "classification":
            from cuml.linear_model import LogisticRegression

            return _NumpyLabels(LogisticRegression(max_iter=1000, C=1.0, output_type="numpy"))
        from cuml.linear_model import Ridge

        return _Float32(Ridge(alpha=1.0, output_type="numpy"))
    if name == "random_forest":
        if task == "classification":
            from cuml.ensemble import RandomForestClassifier

            return _NumpyLabels(
                RandomForestClassifier(
                    n_estimators=100, max_features="sqrt", n_bins=128, random_state=seed, output_type="numpy"
                )
            )
        from cuml.ensemble import RandomForestRegressor

        return _Float32(
            RandomForestRegressor(
                n_estimators=100, max_features="sqrt", n_bins=128, random_state=seed, output_type="numpy"
            )
        )
    raise ValueError(name)


class _NumpyLabels:
    """cuML classifiers want float32 features and int32 labels 0..k-1; keep ``classes_`` like sklearn."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray) -> _NumpyLabels:
        self.classes_, codes = np.unique(y, return_inverse=True)
        self.estimator.fit(np.asarray(X, dtype=np.float32), codes.astype(np.int32))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(np.asarray(X, dtype=np.float32)))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __getattr__(self, name: str) -> Any:  # coef_, feature_importances_ where cuML has them
        return getattr(self.__dict__["estimator"], name)


class _Float32:
    """cuML regressors: float32 features and targets, numpy predictions."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: np.ndarray, y: np.ndarray) -> _Float32:
        self.estimator.fit(np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator.predict(np.asarray(X, dtype=np.float32)), dtype=float)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["estimator"], name)
