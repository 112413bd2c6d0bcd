"""Data, settings and scenarios shared by the judge's tests.

Scenarios are real data: a *copying* generator (synthetic = the training rows themselves) must be
caught; an *independent* sample from the same population (rows the generator never saw) must pass.
Each report is computed once per session; sizes are bounded so the folder runs in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthgen.judge import EvaluateSettings, EvaluationReport, evaluate
from synthgen.schema import TableSchema

ROOT = Path(__file__).resolve().parents[2]
GERMAN = ROOT / "synthgen" / "data" / "german_credit.csv"
CREDIT_RISK = ROOT / "recipes" / "data" / "credit_risk.csv"

# Cheaper than the defaults, still enough for every gate check to be judged on credit_risk
# (>= 1,000 non-members for TPR at 1% FPR).
FAST = EvaluateSettings(
    seed=0,
    bootstrap=100,
    detection_max_rows=2_000,
    detection_folds=3,
    utility_max_rows=4_000,
    utility_test_max_rows=2_000,
    precision_recall_max_rows=1_500,
    mia_reference_max_rows=1_500,
    mia_synthetic_max_rows=6_000,
    dcr_max_rows=1_500,
)


@dataclass
class Scenario:
    train: pd.DataFrame
    holdout: pd.DataFrame
    synthetic: pd.DataFrame
    schema: TableSchema
    report: EvaluationReport


def split(df: pd.DataFrame, sizes: list[int], seed: int) -> list[pd.DataFrame]:
    """Disjoint random row sets of the given sizes."""
    order = np.random.default_rng(seed).permutation(len(df))
    out, start = [], 0
    for size in sizes:
        out.append(df.iloc[order[start : start + size]].reset_index(drop=True))
        start += size
    return out


def run(train, holdout, synthetic, schema, settings=FAST, **kwargs) -> Scenario:
    return Scenario(train, holdout, synthetic, schema, evaluate(train, holdout, synthetic, schema, settings, **kwargs))


# ------------------------------------------------------------------------------- memorisation patterns
def resample(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """``rows`` rows drawn from ``frame`` with replacement: an honest filler of any size, when ``frame``
    is real data the generator never saw."""
    picks = np.random.default_rng(seed).integers(0, len(frame), rows)
    return frame.iloc[picks].reset_index(drop=True)


def shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.iloc[np.random.default_rng(seed).permutation(len(frame))].reset_index(drop=True)


def diluted(train: pd.DataFrame, honest: pd.DataFrame, factor: float, seed: int) -> pd.DataFrame:
    """Every training row, verbatim, among ``factor`` x len(train) rows resampled from ``honest``."""
    filler = resample(honest, int(round(factor * len(train))), seed)
    return shuffled(pd.concat([train, filler], ignore_index=True), seed + 1)


def unique_training_rows(train: pd.DataFrame, holdout: pd.DataFrame, schema: TableSchema) -> np.ndarray:
    """Positions of the training rows that occur once in the real data (train + holdout), hashed as the judge does."""
    from synthgen.judge.inputs import prepare
    from synthgen.judge.privacy import row_hashes

    t = prepare(train, holdout, holdout, schema)
    real = np.r_[row_hashes(t.train, t.columns), row_hashes(t.holdout, t.columns)]
    values, counts = np.unique(real, return_counts=True)
    once = set(values[counts == 1].tolist())
    return np.flatnonzero([h in once for h in real[: len(train)].tolist()])


def with_unique_copies(
    train: pd.DataFrame, holdout: pd.DataFrame, release: pd.DataFrame, schema: TableSchema, copies: int, seed: int
) -> pd.DataFrame:
    """``release`` plus ``copies`` training records that are unique in the real data, verbatim."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(unique_training_rows(train, holdout, schema), copies, replace=False)
    return shuffled(pd.concat([release, train.iloc[picks]], ignore_index=True), seed)


def near_copy(train: pd.DataFrame, rows: np.ndarray, schema: TableSchema, seed: int) -> pd.DataFrame:
    """Training rows ``rows`` with every numeric value moved by about 1 % (integers stay integers) and one
    categorical value changed in 10 % of them: close enough to single out the borrower, no longer equal."""
    rng = np.random.default_rng(seed)
    out = train.iloc[rows].reset_index(drop=True).copy()
    discrete = []
    for c in schema.columns:
        if c.name not in out:
            continue
        if c.kind.is_continuous and pd.api.types.is_numeric_dtype(out[c.name]):
            moved = out[c.name].to_numpy(dtype=float) * (1.0 + rng.normal(0.0, 0.01, len(out)))
            integer = pd.api.types.is_integer_dtype(out[c.name])
            out[c.name] = np.round(moved).astype(out[c.name].dtype) if integer else moved
        elif not c.kind.is_continuous and c.name != schema.target:
            discrete.append(c.name)
    changed = rng.random(len(out)) < 0.10
    for i in np.flatnonzero(changed) if discrete else []:
        column = discrete[rng.integers(len(discrete))]
        others = train[column].dropna().unique()
        others = others[others != out.at[i, column]]
        if len(others):
            out.at[i, column] = others[rng.integers(len(others))]
    return out


def with_near_copies(
    train: pd.DataFrame, release: pd.DataFrame, schema: TableSchema, share: float, seed: int
) -> pd.DataFrame:
    """``release`` with ``share`` of its rows replaced by near-copies of random training rows."""
    rng = np.random.default_rng(seed)
    n = int(round(share * len(release)))
    copies = near_copy(train, rng.integers(0, len(train), n), schema, seed)
    return shuffled(pd.concat([release.iloc[n:], copies], ignore_index=True), seed)


def most_isolated_training_rows(
    train: pd.DataFrame, holdout: pd.DataFrame, schema: TableSchema, share: float
) -> np.ndarray:
    """Positions of the ``share`` most isolated training rows (distance to the nearest other real row, in
    the judge's encoding): the borrowers an attacker can single out."""
    from synthgen.judge.encoding import RowEncoder
    from synthgen.judge.inputs import prepare
    from synthgen.judge.neighbours import isolation

    t = prepare(train, holdout, holdout, schema)
    encoder = RowEncoder(t.columns).fit(t.train)
    real = np.vstack([encoder.transform(t.train), encoder.transform(t.holdout)])
    isolated = isolation(real)[: len(train)]
    return np.argsort(-isolated, kind="stable")[: max(1, int(round(share * len(train))))]


def with_isolated_near_copies(
    train: pd.DataFrame, holdout: pd.DataFrame, release: pd.DataFrame, schema: TableSchema, share: float, seed: int
) -> pd.DataFrame:
    """``release`` plus a near-copy of each of the ``share`` most isolated training records."""
    rows = most_isolated_training_rows(train, holdout, schema, share)
    return shuffled(pd.concat([release, near_copy(train, rows, schema, seed)], ignore_index=True), seed)
