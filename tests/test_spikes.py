"""Which values of a number column are point masses (`synthgen.spikes.find_spikes`)."""

import numpy as np
import pytest

from synthgen.spikes import find_spikes


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_zeros_of_a_long_tailed_amount_are_a_spike(rng):
    amounts = np.where(rng.random(5000) < 0.6, 0.0, rng.lognormal(8, 1, 5000).round(2))
    assert find_spikes(amounts) == [0.0]


def test_sentinels_caps_and_dominant_values_are_spikes_round_amounts_are_not(rng):
    values = rng.normal(5000, 1000, 10_000).round(0)
    values[:300] = -1.0  # 3 % of rows: "unknown", below every amount
    cap = values.max() + 1.0
    values[300:900] = 5_000.0  # 6 %: a round amount inside the range, left to the quantile encoding
    values[900:1100] = cap  # 2 %: a cap, above every amount
    assert find_spikes(values) == [-1.0, cap]
    hours = rng.normal(38, 10, 10_000).round(0)
    hours[:4500] = 40.0  # 45 %: dominant wherever it sits
    assert find_spikes(hours) == [40.0]


def test_dense_integers_have_no_spikes(rng):
    """Ages and evenly spread counts: every value is about as frequent as its neighbours."""
    assert find_spikes(rng.integers(18, 80, 20_000).astype(float)) == []
    assert find_spikes(rng.poisson(12, 20_000).astype(float)) == []
    assert find_spikes(rng.normal(0, 1, 20_000)) == []


def test_a_count_of_mostly_zero_with_a_long_tail():
    """0 for nine borrowers in ten, then 1 and a thin tail: the frequent values are spikes."""
    counts = np.repeat([0, 1, 2, 3, 4, 5, 7, 9], [8900, 830, 170, 60, 20, 10, 6, 4]).astype(float)
    assert find_spikes(counts) == [0.0, 1.0]


def test_codes_only_and_constants_are_not_numbers_with_spikes():
    assert find_spikes(np.repeat([0.0, 1.0], [900, 100])) == []  # every value would be a spike
    assert find_spikes(np.full(100, 7.0)) == []
    assert find_spikes(np.array([])) == []


def test_a_spike_needs_rows_and_a_share(rng):
    values = rng.normal(0, 1, 40)
    values[:4] = 3.0  # 10 % of rows, but 4 rows: could be a handful of borrowers
    assert find_spikes(values) == []
    values = rng.normal(0, 1, 2000)
    values[:15] = 3.0  # 15 rows, but 0.75 %
    assert find_spikes(values) == []


def test_at_most_the_most_frequent_spikes_are_kept(rng, monkeypatch):
    values = rng.normal(50, 10, 10_000).round(1)
    values[:2000] = 0.0  # zero, 20 %
    values[2000:2300] = -1.0  # an end, 3 %
    values[2300:4000] = 50.0  # dominant, 17 %
    assert find_spikes(values) == [-1.0, 0.0, 50.0]
    monkeypatch.setattr("synthgen.spikes.MAX_SPIKES", 2)
    assert find_spikes(values) == [0.0, 50.0]
