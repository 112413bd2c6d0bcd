"""Session fixtures: the datasets and the four reference scenarios (each report computed once)."""

from __future__ import annotations

import pandas as pd
import pytest

from synthgen.schema import TableSchema, infer_schema

from .scenarios import CREDIT_RISK, GERMAN, Scenario, run, split


@pytest.fixture(scope="session")
def german_df() -> pd.DataFrame:
    return pd.read_csv(GERMAN)


@pytest.fixture(scope="session")
def german_schema(german_df) -> TableSchema:
    return infer_schema(german_df, target="creditability")


@pytest.fixture(scope="session")
def credit_df() -> pd.DataFrame:
    return pd.read_csv(CREDIT_RISK)


@pytest.fixture(scope="session")
def credit_schema(credit_df) -> TableSchema:
    return infer_schema(credit_df, target="loan_status")


@pytest.fixture(scope="session")
def german_copy(german_df, german_schema) -> Scenario:
    """german_credit as the recipes split it (800 train, 200 holdout); the generator returns its training rows."""
    train, holdout = split(german_df, [800, 200], seed=0)
    return run(train, holdout, train.copy(), german_schema)


@pytest.fixture(scope="session")
def german_independent(german_df, german_schema) -> Scenario:
    """400 train, 200 holdout; the 'synthetic' rows are the other 400 real rows."""
    train, holdout, other = split(german_df, [400, 200, 400], seed=0)
    return run(train, holdout, other, german_schema)


@pytest.fixture(scope="session")
def credit_copy(credit_df, credit_schema) -> Scenario:
    train, holdout = split(credit_df, [6_000, 1_500], seed=1)
    return run(train, holdout, train.copy(), credit_schema)


@pytest.fixture(scope="session")
def credit_independent(credit_df, credit_schema) -> Scenario:
    """Half of credit_risk (sampled: 6,000 train, 1,500 holdout) against rows of the other half."""
    train, holdout, other = split(credit_df, [6_000, 1_500, 6_000], seed=1)
    return run(train, holdout, other, credit_schema)
