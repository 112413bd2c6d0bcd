"""The diffusion model's quantile encoding: extreme values come back at their own rate, never more (issue 10)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

from synthgen.schema import Column, ColumnKind
from synthgen.transforms.quantile import QuantileNormalizer


def _amounts_with_outliers(german: pd.DataFrame, scale: float, count: int = 4) -> pd.Series:
    """german_credit's 1,000 amounts, the first ``count`` multiplied by ``scale`` (0.4 % at 4)."""
    amounts = german["credit_amount"].astype(float).copy()
    amounts.iloc[:count] *= scale
    return amounts


def _fitted(values: pd.Series, kind: ColumnKind = ColumnKind.NUMERIC) -> QuantileNormalizer:
    return QuantileNormalizer(Column(name="amount", kind=kind)).fit(values, np.random.default_rng(0))


def _decode_perfect_model(encoder: QuantileNormalizer, rows: int = 200_000) -> np.ndarray:
    """What a model that learned the encoded column exactly generates: standard normal scores."""
    scores = np.random.default_rng(1).standard_normal(rows)
    return encoder.inverse([scores.astype(np.float32)]).to_numpy(dtype=float)


@pytest.mark.parametrize("scale", [1e12, 1e300])
def test_absurd_values_are_not_amplified(german, scale):
    amounts = _amounts_with_outliers(german, scale)
    source_share = float(np.mean(amounts > 1e6))
    generated = _decode_perfect_model(_fitted(amounts))
    assert np.isfinite(generated).all()
    # Linear interpolation across the gap from the 97th percentile to the maximum made 3.1 % of the
    # generated amounts absurd (0.4 % of the source); the tail grid and the gap rule bound it by the source.
    assert np.mean(generated > 1e6) <= source_share + 0.001
    assert generated.max() < amounts.max()  # the inner end of a gap, never the extreme itself


def test_ordinary_column_keeps_its_interior_map(german):
    """Without a gap, the map between the uniform grid's innermost tail levels (3 % and 97 % here) is as "
    "before issue 10."""
    amounts = german["credit_amount"].astype(float)
    encoder = _fitted(amounts)
    uniform = np.linspace(0.0, 1.0, 1000 // 30)
    old_quantiles = np.quantile(amounts.to_numpy(), uniform)
    scores = np.linspace(-2.3, 2.3, 2001)
    inside = (ndtr(scores) >= uniform[1]) & (ndtr(scores) <= uniform[-2])
    expected = np.interp(ndtr(scores), uniform, old_quantiles)
    np.testing.assert_allclose(encoder.from_normal(scores)[inside], expected[inside], rtol=1e-12)
    assert encoder.max_step_ > amounts.max() - amounts.min()  # no interval is a gap: nothing is snapped


def test_largest_floats_stay_finite():
    rng = np.random.default_rng(3)
    values = pd.Series(np.r_[rng.normal(0, 1, 990), np.full(5, 1.7e308), np.full(5, -1.7e308)])
    encoder = _fitted(values)
    encoded = encoder.transform(values, np.random.default_rng(0))
    assert encoded.dtype == np.float32 and np.isfinite(encoded).all()
    decoded = encoder.inverse([np.linspace(-6, 6, 1001, dtype=np.float32)]).to_numpy()
    assert np.isfinite(decoded).all() and np.all(np.diff(decoded) >= 0)


def test_integer_column_with_absurd_values(german):
    amounts = _amounts_with_outliers(german, 1e15).astype("int64")
    generated = _decode_perfect_model(_fitted(amounts, ColumnKind.INTEGER))
    assert np.mean(generated > 1e6) <= float(np.mean(amounts > 1e6)) + 0.001


def test_state_round_trips_and_older_states_load(german):
    amounts = _amounts_with_outliers(german, 1e300)
    encoder = _fitted(amounts)
    column = Column(name="amount", kind=ColumnKind.NUMERIC)
    again = QuantileNormalizer.from_state(column, json.loads(json.dumps(encoder.get_state())))
    scores = np.linspace(-5, 5, 101)
    np.testing.assert_array_equal(again.from_normal(scores), encoder.from_normal(scores))
    # a model saved before issue 10: uniform levels only, no gap rule
    old = {k: v for k, v in encoder.get_state().items() if k not in ("levels", "max_step")}
    old["quantiles"] = np.quantile(amounts, np.linspace(0, 1, 33)).tolist()
    legacy = QuantileNormalizer.from_state(column, old)
    assert legacy.levels.size == 33 and legacy.max_step_ is None
    assert np.isfinite(legacy.from_normal(scores)).all()


def test_levels_that_do_not_match_the_quantiles_are_refused(german):
    encoder = _fitted(german["credit_amount"].astype(float))
    state = encoder.get_state()
    state["levels"] = state["levels"][:-1]
    with pytest.raises(ValueError, match="quantile levels"):
        QuantileNormalizer.from_state(Column(name="amount", kind=ColumnKind.NUMERIC), state)


# -- spikes (issue 15) -------------------------------------------------------------------------------
def _spiky(n: int = 4000) -> pd.Series:
    rng = np.random.default_rng(2)
    values = np.where(rng.random(n) < 0.5, 0.0, rng.lognormal(6, 1, n).round(2))
    values[:200] = -1.0
    values[200:260] = np.nan
    return pd.Series(values)


def _spike_encoder(values: pd.Series, spikes: list[float]) -> QuantileNormalizer:
    column = Column(name="balance", kind=ColumnKind.NUMERIC, rounding=2, nullable=True, spikes=spikes)
    return QuantileNormalizer(column).fit(values, np.random.default_rng(0))


def test_spikes_are_categories_beside_the_continuous_part():
    values = _spiky()
    encoder = _spike_encoder(values, [-1.0, 0.0])
    assert [span.width for span in encoder.spans] == [1, 4]  # scalar; continuous, -1, 0, missing
    assert encoder.quantiles_.min() > 0, "the quantiles are the continuous part's alone"
    block = encoder.transform(values, np.random.default_rng(1))
    which = block[:, 1:].argmax(axis=1)
    np.testing.assert_array_equal(which[:200], 1)
    np.testing.assert_array_equal(which[200:260], 3)
    np.testing.assert_array_equal(which[values.to_numpy() == 0.0], 2)
    decoded = encoder.inverse([block[:, 0], which]).to_numpy(dtype=float)
    spike_or_missing = which > 0
    np.testing.assert_array_equal(decoded[spike_or_missing], values.to_numpy()[spike_or_missing])
    # the continuous part through its quantile map: exact up to interpolation at the extremes
    np.testing.assert_allclose(decoded[~spike_or_missing], values.to_numpy()[~spike_or_missing], rtol=1e-3)


def test_a_spike_row_decodes_to_its_value_whatever_its_scalar():
    encoder = _spike_encoder(_spiky(), [-1.0, 0.0])
    scores = np.random.default_rng(3).standard_normal(1000).astype(np.float32)
    out = encoder.inverse([scores, np.full(1000, 2.0, dtype=np.float32)]).to_numpy()
    np.testing.assert_array_equal(out, 0.0)
    continuous = encoder.inverse([scores, np.zeros(1000, dtype=np.float32)]).to_numpy()
    assert (continuous > 0).all(), "a row drawn as continuous is never a spike, nor between one and the rest"


def test_spike_state_round_trips_and_older_states_have_none():
    encoder = _spike_encoder(_spiky(), [-1.0, 0.0])
    state = json.loads(json.dumps(encoder.get_state()))
    again = QuantileNormalizer.from_state(encoder.column, state)
    np.testing.assert_array_equal(again.spikes_, [-1.0, 0.0])
    del state["spikes"]
    legacy = QuantileNormalizer.from_state(encoder.column, state)
    assert [span.width for span in legacy.spans] == [1, 2]  # [present, missing], as models before spikes


def test_which_categories_a_range_reaches():
    encoder = _spike_encoder(_spiky(), [-1.0, 0.0])
    np.testing.assert_array_equal(encoder.choices_within(None, -0.5), [False, True, False, False])
    np.testing.assert_array_equal(encoder.choices_within(0, 500), [True, False, True, False])
    np.testing.assert_array_equal(encoder.choices_within(1e9, None), [False, False, False, False])
