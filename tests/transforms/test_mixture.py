import json

import numpy as np
import pandas as pd
import pytest

from synthgen.schema import Column, ColumnKind
from synthgen.transforms.continuous import ModeSpecificNormalizer
from synthgen.transforms.mixture import FAR, fit_mixture, robust_spread


def test_two_separated_modes_are_found():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-5, 1, 3000), rng.normal(10, 2, 2000)])
    mixture = fit_mixture(x)
    low = mixture.means < 2.5
    # The weight the mixture puts on each side of the gap matches the data (60 % / 40 %).
    assert abs(mixture.weights[low].sum() - 0.6) < 0.02
    assert np.all(np.abs(mixture.means[low] + 5) < 2) and np.all(np.abs(mixture.means[~low] - 10) < 4)
    assert mixture.weights.sum() == np.float64(1.0) or abs(mixture.weights.sum() - 1) < 1e-9


def test_constant_column_is_one_narrow_mode():
    mixture = fit_mixture(np.full(100, 3.0))
    assert mixture.means.tolist() == [3.0]
    assert mixture.stds[0] > 0


def test_light_modes_are_dropped():
    rng = np.random.default_rng(1)
    mixture = fit_mixture(rng.normal(0, 1, 5000))
    assert np.all(mixture.weights > 0.005)


# -- absurd values (issue 10) ------------------------------------------------------------------------


def _amounts(german, scale: float, count: int = 7) -> np.ndarray:
    """german_credit's amounts with ``count`` of them (0.7 %) multiplied by ``scale``."""
    amounts = german["credit_amount"].to_numpy(dtype=float).copy()
    amounts[np.random.default_rng(0).choice(amounts.size, count, replace=False)] *= scale
    return amounts


@pytest.mark.parametrize("scale", [1e12, 1e300])
def test_absurd_values_do_not_widen_the_ordinary_modes(german, scale):
    clean = fit_mixture(german["credit_amount"].to_numpy(dtype=float))
    mixture = fit_mixture(_amounts(german, scale))
    assert np.isfinite(mixture.means).all() and np.isfinite(mixture.stds).all()
    # Before issue 10 the whole column became one mode 1.6e10 wide (at 1e12), or NaN (at 1e300).
    ordinary = mixture.means < 1e5
    assert mixture.weights[ordinary].sum() > 0.98
    assert mixture.stds[ordinary].max() < 2 * clean.stds.max()
    assert mixture.high < 1e6 and mixture.low < 0  # absurd values are folded onto the edge of the bulk


def test_ordinary_column_has_no_fold_inside_its_range(german):
    amounts = german["credit_amount"].to_numpy(dtype=float)
    mixture = fit_mixture(amounts)
    assert mixture.low < amounts.min() and mixture.high > amounts.max()
    assert robust_spread(amounts) == pytest.approx(np.subtract(*np.quantile(amounts, [0.75, 0.25])) / 1.349)
    assert mixture.high == pytest.approx(np.median(amounts) + FAR * robust_spread(amounts))


def test_mostly_constant_column_with_absurd_values_keeps_its_constant():
    x = np.zeros(1000)
    x[:8] = 1e300
    mixture = fit_mixture(x)
    main = np.argmax(mixture.weights)
    assert mixture.means[main] == 0.0 and mixture.stds[main] < 1e-6


def test_largest_floats_are_finite():
    rng = np.random.default_rng(2)
    x = np.r_[rng.normal(0, 1, 990), np.full(5, 1.7e308), np.full(5, -1.7e308)]
    mixture = fit_mixture(x)
    assert np.isfinite(mixture.means).all() and np.isfinite(mixture.stds).all()
    assert np.isfinite(mixture.log_density(np.r_[x, 0.0])).all()


@pytest.mark.parametrize("scale", [1e12, 1e300])
def test_mode_specific_encoding_does_not_amplify(german, scale):
    """Encode the column, decode what a generator that learned it exactly would produce: the share of
    absurd values must not exceed the source's (CTGAN produced 19 % of them at 1e12 before issue 10)."""
    amounts = pd.Series(_amounts(german, scale), name="amount")
    encoder = ModeSpecificNormalizer(Column(name="amount", kind=ColumnKind.NUMERIC)).fit(
        amounts, np.random.default_rng(0)
    )
    encoded = encoder.transform(amounts, np.random.default_rng(1))
    assert encoded.dtype == np.float32 and np.isfinite(encoded).all()
    scalar, modes = encoded[:, 0], encoded[:, 1:].argmax(axis=1)
    back = encoder.inverse([scalar, modes]).to_numpy(dtype=float)
    ordinary = amounts.to_numpy() < 1e6
    np.testing.assert_allclose(back[ordinary], amounts.to_numpy()[ordinary], rtol=1e-5)  # float32 scalars
    rng = np.random.default_rng(2)  # a generator that draws modes by weight and scalars anywhere in range
    draws = rng.choice(encoder.n_modes, 100_000, p=encoder.mixture_.weights)
    generated = encoder.inverse([rng.uniform(-1, 1, draws.size), draws]).to_numpy(dtype=float)
    assert np.isfinite(generated).all() and np.mean(generated > 1e6) <= np.mean(~ordinary)
    state = json.loads(json.dumps(encoder.get_state()))
    again = ModeSpecificNormalizer.from_state(encoder.column, state)
    assert again.mixture_.high == encoder.mixture_.high
    np.testing.assert_array_equal(again.transform(amounts, np.random.default_rng(1)), encoded)
