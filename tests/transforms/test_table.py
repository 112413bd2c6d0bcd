import json

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import NotFittedError
from synthgen.schema import infer_schema
from synthgen.transforms import TableTransformer
from synthgen.transforms.continuous import CLIP, SCALE_STDS


def _round_trip(frame, schema):
    transformer = TableTransformer(seed=3).fit(frame, schema)
    encoded = transformer.transform(frame)
    return transformer, encoded, transformer.inverse_transform(encoded)


def test_categories_round_trip_exactly(german):
    schema = infer_schema(german, target="creditability")
    _, encoded, back = _round_trip(german, schema)
    assert encoded.dtype.is_floating_point and encoded.shape[0] == len(german)
    pd.testing.assert_frame_equal(back, german, check_dtype=False)


def test_numerics_within_tolerance(credit_risk):
    """Values within CTGAN's clip (3.96 std of their mode) come back to the column's precision.

    A value further than that from every mode (an extreme outlier the 5,000-row mixture sample never
    saw) is clipped to the mode's edge: CTGAN's own design. Such rows must stay rare (< 0.5 %).
    """
    schema = infer_schema(credit_risk, target="loan_status")
    transformer, encoded, back = _round_trip(credit_risk, schema)
    start = 0
    for encoder in transformer.encoders_:
        name = encoder.column.name
        if encoder.column.kind.is_continuous:
            scalar = encoded[:, start].numpy()
            inside = np.abs(scalar) < CLIP
            error = np.abs(back[name].to_numpy(float) - credit_risk[name].to_numpy(float))
            tolerance = 0.5 * 10.0 ** -(encoder.codec.decimals or 0) + 1e-9
            assert np.all(error[inside] <= tolerance), name
            assert inside.mean() > 0.995, name
        else:
            assert (back[name] == credit_risk[name]).all(), name
        start += encoder.width
    assert SCALE_STDS == 4.0


def test_nulls_datetimes_booleans_round_trip(mixed_frame):
    schema = infer_schema(mixed_frame)
    _, encoded, back = _round_trip(mixed_frame, schema)
    assert back["rate"].isna().equals(mixed_frame["rate"].isna())
    assert back["grade"].isna().equals(mixed_frame["grade"].isna())
    assert (back["grade"].dropna() == mixed_frame["grade"].dropna()).all()
    assert (back["flag"] == mixed_frame["flag"]).all()
    assert (back["opened"] == mixed_frame["opened"]).all()
    assert (back["count"] == mixed_frame["count"]).all()
    np.testing.assert_allclose(back["amount"], mixed_frame["amount"], atol=0.005 + 1e-9)


def test_state_is_json_and_reloads_identically(mixed_frame):
    schema = infer_schema(mixed_frame)
    transformer = TableTransformer(seed=1).fit(mixed_frame, schema)
    state = json.loads(json.dumps(transformer.get_state()))
    reloaded = TableTransformer.from_state(state)
    assert reloaded.spans == transformer.spans
    assert bool((reloaded.transform(mixed_frame) == transformer.transform(mixed_frame)).all())


def test_generated_values_are_rounded_and_clipped(credit_risk):
    schema = infer_schema(credit_risk, target="loan_status")
    transformer = TableTransformer().fit(credit_risk, schema)
    noise = np.random.default_rng(0).normal(0, 3, size=(500, transformer.width)).astype(np.float32)
    back = transformer.inverse_transform(noise)
    assert (back["person_age"] >= credit_risk["person_age"].min()).all()
    assert (back["person_age"] <= credit_risk["person_age"].max()).all()
    assert back["person_age"].dtype == np.int64
    assert np.allclose(back["loan_int_rate"], back["loan_int_rate"].round(2))


def test_declared_bounds_clip(german):
    from synthgen.schema import ColumnSpec

    schema = infer_schema(german, declared={"age_in_years": ColumnSpec(min=30, max=40)})
    transformer = TableTransformer().fit(german, schema)
    noise = np.random.default_rng(0).normal(0, 3, size=(300, transformer.width)).astype(np.float32)
    ages = transformer.inverse_transform(noise)["age_in_years"]
    assert ages.between(30, 40).all()


def test_unfitted_transformer_says_so():
    with pytest.raises(NotFittedError):
        TableTransformer().transform(pd.DataFrame({"a": [1]}))


def test_mixture_is_fitted_on_a_bounded_sample(credit_risk):
    schema = infer_schema(credit_risk, target="loan_status")
    transformer = TableTransformer(max_fit_rows=500).fit(credit_risk, schema)
    assert all(e.max_fit_rows == 500 for e in transformer.encoders_ if e.column.kind.is_continuous)


@pytest.mark.parametrize("continuous", ["quantile", "mode_specific"])
def test_compact_transform_equals_the_compact_of_the_one_hot_blocks(continuous, credit_risk, mixed_frame):
    """The diffusion model encodes straight to one column per span; it must be what the one-hot path gives,
    draw for draw (the same seed, the same random numbers consumed in the same order)."""
    for frame in (credit_risk.head(3000), mixed_frame):
        transformer = TableTransformer(continuous=continuous, seed=4).fit(frame, infer_schema(frame))
        direct = transformer.transform_compact(frame)
        via_blocks = transformer.compact(transformer.transform(frame)).numpy()
        assert direct.dtype == np.float32 and direct.shape == (len(frame), len(transformer.spans))
        np.testing.assert_array_equal(direct, via_blocks)
