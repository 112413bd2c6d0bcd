import warnings

import numpy as np
import pandas as pd
import pytest

from synthgen.datacheck import (
    MIN_HOLDOUT_ROWS,
    MIN_TRAIN_ROWS,
    WideEncodingWarning,
    check_learnable,
    clean_non_finite,
    column_widths,
    estimate_encoded_width,
    holdout_sizes,
)
from synthgen.errors import DataError
from synthgen.io import read_table
from synthgen.schema import Column, ColumnKind, ColumnSpec, TableSchema, infer_schema

PLENTY = 10**15  # bytes of memory, so only the check under test can fail


# -- non-finite values ----------------------------------------------------------------------------
@pytest.fixture
def infinite_csv(tmp_path):
    rows = ["1.5", "2.5", "Infinity", "3.5", "-inf", "inf", "1e400"] + ["4.0"] * 20
    path = tmp_path / "rates.csv"
    path.write_text("grade,rate\n" + "".join(f"{'AB'[i % 2]},{v}\n" for i, v in enumerate(rows)), encoding="utf-8")
    return path


def test_infinite_values_are_refused_with_column_count_and_row(infinite_csv):
    frame = read_table(infinite_csv)
    with pytest.raises(DataError) as info:
        clean_non_finite(frame, {}, source=str(infinite_csv))
    message = str(info.value)
    assert message.startswith(f"{infinite_csv}: column 'rate' holds 4 infinite value(s)")
    assert "first at data row 3 ('Infinity'" in message and "non_finite: missing" in message


def test_pandas_infinities_in_a_float_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x\n1\n2\ninf\n-Infinity\n", encoding="utf-8")
    frame = read_table(path)
    assert frame["x"].dtype == np.float64
    with pytest.raises(DataError, match=r"column 'x' holds 2 infinite value\(s\).*first at data row 3 \(inf"):
        clean_non_finite(frame, None, source="t.csv")


def test_infinite_values_as_missing_when_the_recipe_says_so(infinite_csv):
    frame = read_table(infinite_csv)
    before = frame.copy()
    cleaned = clean_non_finite(frame, {"rate": ColumnSpec(non_finite="missing")}, source="rates.csv")
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is untouched
    assert cleaned["rate"].dtype == np.float64, "the text column of numbers becomes a number column"
    assert cleaned["rate"].isna().sum() == 4 and np.isfinite(cleaned["rate"].dropna()).all()
    assert cleaned["rate"].iloc[0] == 1.5
    schema = infer_schema(cleaned, source="rates.csv")
    assert schema["rate"].kind is ColumnKind.NUMERIC and schema["rate"].nullable


def test_declared_numeric_text_and_non_numeric_columns():
    frame = pd.DataFrame({"n": ["1", "inf", "oops", "2"], "label": ["inf", "-inf", "b", "a"]})
    with pytest.raises(DataError, match="column 'n' holds 1 infinite"):
        clean_non_finite(frame, {"n": ColumnSpec(kind=ColumnKind.NUMERIC)}, source="d.csv")
    cleaned = clean_non_finite(frame, {"n": ColumnSpec(kind=ColumnKind.NUMERIC, non_finite="missing")}, source="d.csv")
    assert cleaned["n"].tolist()[:1] == ["1"] and pd.isna(cleaned["n"].iloc[1]) and cleaned["n"].iloc[2] == "oops"
    assert cleaned["label"].tolist() == ["inf", "-inf", "b", "a"], "text is not a column of numbers"
    assert clean_non_finite(frame, {"label": ColumnSpec(kind=ColumnKind.CATEGORICAL)}, source="d.csv") is not None


def test_finite_table_is_returned_as_is(german):
    assert clean_non_finite(german, {}, source="german.csv") is german


# -- learnable ------------------------------------------------------------------------------------
def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 20, n).round(2),
            "grade": rng.choice(list("ABC"), n),
            "label": np.resize(["y", "n"], n),
        }
    )


def _learnable(frame, schema=None, holdout=0.2, **kw):
    schema = schema or infer_schema(frame, target="label" if "label" in frame else None)
    check_learnable(frame, schema, "d.csv", holdout, **{"memory_bytes": PLENTY, **kw})


def test_a_reasonable_table_passes_without_warnings(german):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_learnable(german, infer_schema(german, target="creditability"), "german.csv", 0.2)


def test_declared_all_null_column_is_named():
    frame = _frame(100).assign(empty=np.nan)
    schema = infer_schema(frame, declared={"empty": ColumnSpec(kind=ColumnKind.NUMERIC)}, target="label")
    with pytest.raises(DataError, match=r"d\.csv: column\(s\) 'empty' have no values.*kind: pii"):
        _learnable(frame, schema)
    _learnable(frame)  # undeclared, it is inferred PII and regenerated empty


@pytest.mark.parametrize("rows", [2, 12, 45])
def test_too_few_rows_to_hold_out_and_train(rows):
    with pytest.raises(DataError, match=rf"d\.csv: the table has {rows} row\(s\): holding out 20%.*at least 10"):
        _learnable(_frame(rows))


def test_rows_needed_follow_the_holdout_share():
    _learnable(_frame(60), holdout=0.2)  # 12 held out, 48 to train
    with pytest.raises(DataError, match="leaves 8 to train on and 52"):
        _learnable(_frame(60), holdout=0.85)


def test_minimums_match_the_judge():
    from synthgen.judge.inputs import MIN_ROWS

    assert MIN_HOLDOUT_ROWS == MIN_ROWS and MIN_TRAIN_ROWS >= MIN_ROWS


@pytest.mark.parametrize("target", ["creditability", None, "credit_amount"])
def test_holdout_sizes_are_the_split_the_pipeline_cuts(german, target):
    from synthgen.pipeline import split_holdout

    schema = infer_schema(german, target=target)
    train, held = split_holdout(german, 0.23, 5, schema)
    assert holdout_sizes(german, schema, 0.23) == (len(train), len(held))


def test_table_of_ids_and_pii_only_is_refused():
    frame = pd.DataFrame({"customer_id": np.arange(50), "email": [f"u{i}@example.org" for i in range(50)]})
    with pytest.raises(DataError, match=r"nothing to learn: every column is an id or PII \(customer_id, email\)"):
        _learnable(frame, infer_schema(frame))


def test_single_class_target_is_refused_even_from_a_given_schema():
    frame = _frame(100).assign(label="y")
    schema = TableSchema(
        columns=[
            Column(name="amount", kind=ColumnKind.NUMERIC),
            Column(name="grade", kind=ColumnKind.CATEGORICAL),
            Column(name="label", kind=ColumnKind.CATEGORICAL),
        ],
        target="label",
    )
    with pytest.raises(DataError, match="single class"):
        _learnable(frame, schema)


# -- width and memory -----------------------------------------------------------------------------
def test_width_estimate_is_the_transformer_width(mixed_frame):
    from synthgen.transforms.table import TableTransformer

    schema = infer_schema(mixed_frame)
    actual = TableTransformer(seed=0).fit(mixed_frame, schema).width
    estimate = estimate_encoded_width(mixed_frame, schema)
    assert actual <= estimate <= actual + 10 * len(schema.modelled)  # continuous: at most 10 modes
    discrete = mixed_frame[["grade", "flag"]]
    discrete_schema = infer_schema(discrete)
    assert estimate_encoded_width(discrete, discrete_schema) == TableTransformer().fit(discrete, discrete_schema).width
    assert column_widths(discrete, discrete_schema) == {"grade": 5, "flag": 2}  # A-D plus missing


def _merchants(rows: int = 30_000, levels: int = 20_000) -> tuple[pd.DataFrame, TableSchema]:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"amount": rng.gamma(2.0, 50.0, rows).round(2), "merchant": rng.integers(0, levels, rows).astype(str)}
    )
    frame["merchant"] = "m" + frame["merchant"]
    schema = infer_schema(frame, declared={"merchant": ColumnSpec(kind=ColumnKind.CATEGORICAL)})
    return frame, schema


def test_a_one_hot_encoding_that_will_not_fit_is_refused():
    frame, schema = _merchants()
    levels = frame["merchant"].nunique()
    with pytest.raises(DataError) as info:
        check_learnable(frame, schema, "tx.csv", 0.2, memory_bytes=8 * 10**9)
    message = str(info.value)
    assert message.startswith("tx.csv: the encoded table would be 30,000 rows x")
    assert f"column 'merchant' has {levels:,} levels" in message and "kind: id" in message and "kind: pii" in message


def test_a_wide_encoding_that_fits_warns():
    frame, schema = _merchants(rows=3_000, levels=2_000)
    with pytest.warns(WideEncodingWarning, match="column 'merchant' has"):
        check_learnable(frame, schema, "tx.csv", 0.2, memory_bytes=PLENTY)
    with pytest.raises(DataError, match="more than 1% of the"):
        check_learnable(frame, schema, "tx.csv", 0.2, memory_bytes=10**9, memory_share=0.01)


def test_memory_is_read_from_the_machine():
    from synthgen.datacheck import available_memory

    memory = available_memory()
    assert memory is None or memory > 10**8
