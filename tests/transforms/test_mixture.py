import numpy as np

from synthgen.transforms.mixture import fit_mixture


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
