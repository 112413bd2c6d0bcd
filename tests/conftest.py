from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

try:
    # pytester's in-process sessions (tests/test_pytest_plugin.py) forget the modules first imported inside
    # them, and pandas' Arrow extension types cannot be registered twice: a later Parquet read would fail.
    # Registered here, before any inner session.
    import pandas.core.arrays.arrow.extension_types  # noqa: F401
except ImportError:  # another pandas layout: nothing registered at import
    pass

ROOT = Path(__file__).resolve().parents[1]
GERMAN = ROOT / "synthgen" / "data" / "german_credit.csv"
CREDIT_RISK = ROOT / "recipes" / "data" / "credit_risk.csv"


@pytest.fixture(scope="session")
def german() -> pd.DataFrame:
    return pd.read_csv(GERMAN)


@pytest.fixture(scope="session")
def credit_risk() -> pd.DataFrame:
    return pd.read_csv(CREDIT_RISK)


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    """Every modelled kind, with missing values, in 400 rows."""
    rng = np.random.default_rng(7)
    n = 400
    frame = pd.DataFrame(
        {
            "amount": np.round(np.concatenate([rng.normal(-5, 1, n // 2), rng.normal(10, 2, n // 2)]), 2),
            "count": rng.integers(0, 50, n),
            "grade": rng.choice(["A", "B", "C", "D"], n, p=[0.5, 0.3, 0.15, 0.05]),
            "flag": rng.random(n) < 0.3,
            "opened": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
            "rate": np.round(rng.gamma(2.0, 2.0, n), 3),
        }
    )
    frame.loc[rng.random(n) < 0.1, "rate"] = np.nan
    frame.loc[rng.random(n) < 0.05, "grade"] = None
    return frame


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one thread for a module (`pytestmark = pytest.mark.usefixtures("one_thread")`): small networks
    run fastest on one, and a shared CI machine stays responsive."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
