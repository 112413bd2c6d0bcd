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
FAST = EvaluateSettings(seed=0, bootstrap=100, detection_max_rows=2_000, detection_folds=3, utility_max_rows=4_000,
                        utility_test_max_rows=2_000, precision_recall_max_rows=1_500, mia_max_rows=1_500,
                        mia_reference_max_rows=1_500, mia_synthetic_max_rows=6_000, dcr_max_rows=1_500)


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
        out.append(df.iloc[order[start:start + size]].reset_index(drop=True))
        start += size
    return out


def run(train, holdout, synthetic, schema, settings=FAST, **kwargs) -> Scenario:
    return Scenario(train, holdout, synthetic, schema, evaluate(train, holdout, synthetic, schema, settings, **kwargs))


