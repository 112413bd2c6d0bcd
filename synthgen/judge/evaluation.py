"""Score a synthetic table against the real rows: is it faithful, useful, and not leaking its training rows?

`evaluate` runs the judge, `run_gate` turns its figures into the release decision, `write_report`
keeps both. The judge imports nothing from the generators (``synthgen.models``) or their transformers
(``synthgen.transforms``): it encodes rows its own way, fitted on the real train table only.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd

from synthgen.device import resolve_device
from synthgen.errors import InputError
from synthgen.judge.encoding import RowEncoder
from synthgen.judge.fidelity import evaluate_fidelity
from synthgen.judge.gate import run_gate
from synthgen.judge.inputs import prepare
from synthgen.judge.learners import resolve_backend
from synthgen.judge.privacy import RealHashes, evaluate_privacy
from synthgen.judge.report import EvaluationReport, RunInfo
from synthgen.judge.settings import EvaluateSettings, GateSettings
from synthgen.judge.utility import evaluate_utility
from synthgen.schema import TableSchema

T = TypeVar("T")


PARTS = ("prepare", "encode", "fidelity", "utility", "privacy")
"""The judge's parts, in order: the keys of ``RunInfo.timings_s`` besides "total"."""


def evaluate(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: TableSchema,
    settings: EvaluateSettings | None = None,
    gates: GateSettings | None = None,
    device: str = "auto",
    progress: Callable[[str, int, int], None] | None = None,
    real_hashes: RealHashes | None = None,
) -> EvaluationReport:
    """Score ``synthetic`` against the real ``train`` rows it was learned from and the ``holdout`` rows it was not.

    ``device`` ('auto' | 'cpu' | 'cuda') runs the distance computations and says whether the judge's
    learners may use the GPU; ``settings.backend`` picks them (`synthgen.judge.learners`). Raises
    ``DataError`` (naming the table and column) when a table does not fit the schema. ``progress`` is
    called as each part starts with (part, parts done, parts in all): a progress display's hook.

    ``real_hashes`` (`synthgen.judge.privacy.RealHashes`): when ``train`` and ``holdout`` are uniform samples
    of a real table too large to hold, the record hash of every row of it, so that the exact copy and
    verbatim record checks cover every real row rather than the samples (the other checks are statistics
    the samples estimate, or distances that need the rows themselves).
    """
    settings = settings if settings is not None else EvaluateSettings()
    gates = gates if gates is not None else GateSettings()
    if not isinstance(settings, EvaluateSettings) or not isinstance(gates, GateSettings):
        raise InputError("settings must be an EvaluateSettings and gates a GateSettings")
    timings: dict[str, float] = {}

    def timed(part: str, fn: Callable[[], T]) -> T:
        if progress is not None:
            progress(part, len(timings), len(PARTS))
        start = time.perf_counter()
        out = fn()
        timings[part] = round(time.perf_counter() - start, 3)
        return out

    torch_device = resolve_device(device)
    learners = resolve_backend(settings.backend, torch_device, settings.seed, settings.n_jobs)
    tables = timed("prepare", lambda: prepare(train, holdout, synthetic, schema))

    def encode():
        encoder = RowEncoder(tables.columns, seed=settings.seed).fit(tables.train)
        return tuple(encoder.transform(f) for f in (tables.train, tables.holdout, tables.synthetic))

    enc_train, enc_holdout, enc_synth = timed("encode", encode)
    rng_fid, rng_util, rng_priv = (np.random.default_rng(s) for s in np.random.SeedSequence(settings.seed).spawn(3))
    fidelity = timed(
        "fidelity", lambda: evaluate_fidelity(tables, enc_train, enc_synth, settings, learners, torch_device, rng_fid)
    )
    utility = timed("utility", lambda: evaluate_utility(tables, schema.target, settings, learners, rng_util))
    privacy = timed(
        "privacy",
        lambda: evaluate_privacy(
            tables,
            enc_train,
            enc_holdout,
            enc_synth,
            settings,
            learners,
            torch_device,
            rng_priv,
            near_copy_quantile=gates.near_copy_quantile,
            real_hashes=real_hashes,
        ),
    )
    gate = run_gate(gates, fidelity, utility, privacy)
    timings["total"] = round(sum(timings.values()), 3)
    run = RunInfo(
        created_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        versions=_versions(),
        seed=settings.seed,
        backend=learners.backend,
        xgboost_device=learners.xgb_device,
        device=str(torch_device),
        train_rows=len(train),
        holdout_rows=len(holdout),
        synthetic_rows=len(synthetic),
        columns=[c.name for c in tables.columns],
        target=schema.target,
        timings_s=timings,
    )
    return EvaluationReport(
        run=run, settings=settings, gates=gates, fidelity=fidelity, utility=utility, privacy=privacy, gate=gate
    )


def _versions() -> dict[str, str]:
    import scipy
    import sklearn
    import torch
    import xgboost

    try:
        from synthgen._version import __version__ as synthgen_version
    except ImportError:  # pragma: no cover - a source tree without the version module
        synthgen_version = "unknown"
    return {
        "synthgen": synthgen_version,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "xgboost": xgboost.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
    }
