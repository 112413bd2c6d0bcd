"""Rare categorical levels pooled for training and drawn back by their shares (issue 15)."""

import numpy as np
import pandas as pd
import pytest
import torch

from synthgen.models import DDPM, load_model
from synthgen.models.diffusion.rare_levels import RareLevels
from synthgen.schema import infer_schema

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _codes() -> np.ndarray:
    """Column 0: levels 0-2 common, 3-9 seen 1-4 times each; column 1: one rare level only (not pooled)."""
    col0 = np.concatenate([np.repeat([0, 1, 2], 100), np.repeat(np.arange(3, 10), [1, 2, 3, 4, 1, 2, 3])])
    col1 = np.where(np.arange(len(col0)) < 2, 1, 0)
    return np.stack([col0, col1], axis=1)


def _find(codes: np.ndarray, cardinalities: list[int], min_rows: int, eligible: list[bool] | None = None) -> RareLevels:
    """`RareLevels.from_counts` of each column's level counts in ``codes``, as `DDPM` counts them."""
    counts = [np.bincount(codes[:, j], minlength=width) for j, width in enumerate(cardinalities)]
    return RareLevels.from_counts(counts, min_rows, eligible)


def test_levels_under_the_threshold_become_one_token():
    rare = _find(_codes(), [10, 2], min_rows=5)
    assert list(rare.columns) == [0]  # a column with one rare level keeps it
    column = rare.columns[0]
    np.testing.assert_array_equal(column.rare, np.arange(3, 10))
    np.testing.assert_allclose(column.shares, np.array([1, 2, 3, 4, 1, 2, 3]) / 16)
    assert rare.cardinalities([10, 2]) == [4, 2]
    pooled = rare.pool(torch.from_numpy(_codes()))
    assert set(pooled[:, 0].tolist()) == {0, 1, 2, 3} and (pooled[:, 1] == torch.from_numpy(_codes()[:, 1])).all()
    assert not _find(_codes(), [10, 2], min_rows=0)
    assert not _find(_codes(), [10, 2], min_rows=5, eligible=[False, True])  # e.g. a number's spikes


def test_the_pooled_token_is_drawn_back_by_the_training_shares_within_what_a_row_allows():
    rare = _find(_codes(), [10, 2], min_rows=5)
    n = 40_000
    tokens = torch.tensor([[3, 0]] * n + [[1, 1]] * 10)
    gen = torch.Generator().manual_seed(0)
    back = rare.restore(tokens, {}, gen)
    assert (back[n:, 0] == 1).all() and (back[:, 1] == tokens[:, 1]).all()  # kept levels untouched
    shares = np.bincount(back[:n, 0].numpy(), minlength=10)[3:] / n
    np.testing.assert_allclose(shares, rare.columns[0].shares, atol=0.01)
    allowed = np.zeros((n + 10, 10), dtype=bool)
    allowed[:, [1, 7]] = True  # one common and one rare level (seen once)
    allowed[:100, :] = False
    allowed[:100, 9] = True  # fixed to a rare level
    back = rare.restore(tokens, {0: allowed}, gen)
    assert (back[:100, 0] == 9).all() and (back[100:n, 0] == 7).all()
    patterns = rare.pool_patterns(0, allowed[[0, 200]])
    np.testing.assert_array_equal(patterns, [[False, False, False, True], [False, True, False, True]])


def test_state_round_trips_through_json():
    import json

    rare = _find(_codes(), [10, 2], min_rows=5)
    again = RareLevels.from_state(json.loads(json.dumps(rare.get_state())))
    assert again.cardinalities([10, 2]) == [4, 2]
    np.testing.assert_array_equal(again.columns[0].rare, rare.columns[0].rare)
    assert not RareLevels.from_state(None)


def branch_loans() -> pd.DataFrame:
    """A branch code with 12 common and 150 rare levels (1-3 loans each); amounts follow the common ones."""
    rng = np.random.default_rng(0)
    common = [f"B{i:02d}" for i in range(12)]
    rare = [f"R{i:03d}" for i in range(150)]
    branch = list(rng.choice(common, 2400)) + [r for r in rare for _ in range(1 + int(r[1:]) % 3)]
    branch = np.array(branch)
    base = np.array([1000.0 * (1 + int(b[1:]) % 6) if b.startswith("B") else 3000.0 for b in branch])
    return pd.DataFrame({"branch": branch, "amount": (base * rng.lognormal(0, 0.1, len(branch))).round(2)})


@pytest.fixture(scope="module")
def branches() -> pd.DataFrame:
    return branch_loans()


@pytest.fixture(scope="module")
def pooled(branches):
    small = {"width": 64, "depth": 2, "batch_size": 256, "sampling_steps": 10, "device": "cpu", "lr": 3e-3}
    return DDPM(steps=600, seed=0, rare_level_rows=5, **small).fit(branches, infer_schema(branches))


def test_a_model_with_pooled_levels_keeps_the_column_shares_and_its_conditions(pooled, branches, tmp_path):
    assert pooled.masked_.cardinalities[0] == 13  # 12 common levels and the token
    rows = pooled.sample(6000, seed=1)
    real = branches["branch"].str.startswith("R").mean()
    assert rows["branch"].str.startswith("R").mean() == pytest.approx(real, abs=0.03)
    assert rows["branch"].nunique() > 100  # the rare levels come back, not one placeholder
    assert set(rows["branch"]) <= set(branches["branch"])
    one = pooled.sample(50, seed=2, conditions={"branch": "R007"})
    assert (one["branch"] == "R007").all()
    some = pooled.sample(2000, seed=3, conditions={"branch": ["R001", "B03"]})
    assert set(some["branch"]) == {"R001", "B03"}
    # R001 has 2 loans against B03's ~200: the pooled token weighs only R001's share of the rare levels
    real = (branches["branch"] == "R001").sum() / branches["branch"].isin(["R001", "B03"]).sum()
    assert (some["branch"] == "R001").mean() == pytest.approx(real, abs=0.02)
    seeded = pooled.sample(pd.DataFrame({"branch": ["R120", "B05", "R004"]}), seed=4)
    assert seeded["branch"].tolist() == ["R120", "B05", "R004"]
    reloaded = load_model(pooled.save(tmp_path / "pooled"), device="cpu")
    pd.testing.assert_frame_equal(reloaded.sample(300, seed=5), pooled.sample(300, seed=5))
