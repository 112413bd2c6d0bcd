import numpy as np
import pandas as pd
import pytest

from synthgen.errors import DataError
from synthgen.schema import ColumnKind, ColumnSpec, TableSchema, infer_kind, infer_schema


def test_infers_german_credit_kinds(german):
    schema = infer_schema(german, target="creditability")
    assert schema["duration_in_month"].kind is ColumnKind.INTEGER
    assert schema["credit_amount"].kind is ColumnKind.INTEGER
    # small integer codes are categories, as the data's documentation recommends
    assert schema["installment_rate_in_percentage_of_disposable_income"].kind is ColumnKind.CATEGORICAL
    assert schema["purpose"].kind is ColumnKind.CATEGORICAL
    assert schema.target == "creditability"


def test_infers_credit_risk_precision(credit_risk):
    schema = infer_schema(credit_risk, target="loan_status")
    assert schema["loan_int_rate"].kind is ColumnKind.NUMERIC
    assert schema["loan_int_rate"].rounding == 2
    assert schema["person_age"].kind is ColumnKind.INTEGER
    assert schema["loan_status"].kind is ColumnKind.CATEGORICAL


def test_ids_pii_datetimes_and_nulls(mixed_frame):
    frame = mixed_frame.assign(
        customer_id=np.arange(len(mixed_frame)) + 1000,
        email=[f"user{i}@example.org" for i in range(len(mixed_frame))],
        opened_text=mixed_frame["opened"].dt.strftime("%Y-%m-%d"),
    )
    schema = infer_schema(frame)
    assert schema["customer_id"].kind is ColumnKind.ID
    assert schema["email"].kind is ColumnKind.PII
    assert schema["opened"].kind is ColumnKind.DATETIME
    assert schema["opened_text"].kind is ColumnKind.DATETIME
    assert schema["flag"].kind is ColumnKind.BOOLEAN
    assert schema["rate"].nullable and not schema["count"].nullable
    assert [c.name for c in schema.modelled] == [c for c in frame.columns if c not in ("customer_id", "email")]


def test_declared_fields_win(german):
    schema = infer_schema(german, declared={"age_in_years": ColumnSpec(kind=ColumnKind.NUMERIC, min=18)})
    assert schema["age_in_years"].kind is ColumnKind.NUMERIC
    assert schema["age_in_years"].min == 18


def test_declared_column_absent_is_named(german):
    with pytest.raises(DataError, match="'salary'"):
        infer_schema(german, declared={"salary": ColumnSpec()}, source="data.csv")


def test_target_with_one_class_is_refused(german):
    one_class = german.assign(creditability="good")
    with pytest.raises(DataError, match="single class"):
        infer_schema(one_class, target="creditability")


def test_schema_json_round_trip(german):
    schema = infer_schema(german, target="creditability")
    assert TableSchema.from_json_dict(schema.to_json_dict()) == schema


def test_all_null_column_is_never_learned_and_regenerated_empty():
    from synthgen.unmodelled import fill_unmodelled, learn_unmodelled

    frame = pd.DataFrame({"x": [np.nan] * 30, "y": np.arange(30) + 0.5})
    schema = infer_schema(frame)
    assert schema["x"].kind is ColumnKind.PII and schema["x"].nullable
    assert [c.name for c in schema.modelled] == ["y"]
    templates = learn_unmodelled(frame, schema)
    regenerated = fill_unmodelled(frame[["y"]], schema, templates, seed=3)
    assert regenerated["x"].isna().all()


def test_all_null_target_is_named():
    with pytest.raises(DataError, match="target column 'x' has no values"):
        infer_schema(pd.DataFrame({"x": [None] * 30, "y": range(30)}), target="x", source="d.csv")


# -- bounds ---------------------------------------------------------------------------------------
AGES = pd.DataFrame({"age": [21, 35, 47, 52, 68, 33, 29, 41, 58, 63, 24, 39]})


def _data_error(frame, **declared):
    with pytest.raises(DataError) as info:
        infer_schema(frame, declared=declared, source="d.csv")
    return str(info.value)


def test_text_bound_on_an_inferred_integer_is_refused():
    message = _data_error(AGES, age=ColumnSpec(min="eighteen"))
    assert message.startswith("d.csv: column 'age' (integer, inferred")
    assert "min must be a number for an integer column, got 'eighteen'" in message


def test_min_above_max_with_an_inferred_kind():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"min \(60\) is greater than max \(30\)"):
        ColumnSpec(min=60, max=30)  # two numbers need no kind to be compared
    dates = pd.DataFrame({"opened": pd.date_range("2020-01-01", periods=30, freq="D").strftime("%Y-%m-%d")})
    message = _data_error(dates, opened=ColumnSpec(min="2020-02-01", max="2020-01-15"))
    assert (
        message.startswith("d.csv: column 'opened' (datetime, inferred")
        and "is greater than max (2020-01-15)" in message
    )


def test_bound_that_excludes_every_value_is_refused():
    message = _data_error(AGES, age=ColumnSpec(min=90))
    assert "column 'age'" in message and "min 90 excludes every value of the data (which runs from 21 to 68)" in message
    assert "max 18 excludes every value" in _data_error(AGES, age=ColumnSpec(max=18))
    # a window between two values holds none of them
    assert "min 22 and max 23 exclude every value" in _data_error(
        AGES, age=ColumnSpec(kind=ColumnKind.NUMERIC, min=22, max=23)
    )


def test_bound_that_excludes_some_values_clips_them():
    schema = infer_schema(AGES, declared={"age": ColumnSpec(min=25, max=60)})
    assert (schema["age"].min, schema["age"].max) == (25, 60)


def test_bounds_on_inferred_categorical_and_datetime_columns():
    frame = pd.DataFrame(
        {"grade": list("ABCA") * 5, "opened": pd.date_range("2020-01-01", periods=20, freq="D").strftime("%Y-%m-%d")}
    )
    assert "a categorical column takes no bounds" in _data_error(frame, grade=ColumnSpec(min=1))
    assert "min is not a date or timestamp" in _data_error(frame, opened=ColumnSpec(min="early"))
    assert "must be a date" in _data_error(frame, opened=ColumnSpec(max=20))
    assert "excludes every value" in _data_error(frame, opened=ColumnSpec(min="2021-01-01"))
    schema = infer_schema(frame, declared={"opened": ColumnSpec(min="2020-01-05", max="2020-01-10T00:00:00+00:00")})
    assert schema["opened"].kind is ColumnKind.DATETIME


# -- identifiers and names --------------------------------------------------------------------------
def test_distinct_text_is_pii_or_id_never_a_category():
    rng = np.random.default_rng(0)
    codes = ["".join(rng.choice(list("ABCDEFGHJK"), 8)) for _ in range(100)]
    assert infer_kind("reference", pd.Series(codes)) is ColumnKind.PII
    assert infer_kind("loan_ref_id", pd.Series(codes)) is ColumnKind.ID
    nearly = codes[:96] + codes[:4]  # 96 % distinct: still identifies the rows
    assert infer_kind("reference", pd.Series(nearly)) is ColumnKind.PII
    assert infer_kind("note", pd.Series(codes[:20])) is ColumnKind.CATEGORICAL, "too few rows to tell"
    repeated = codes[:90] + codes[:10]  # 90 % distinct
    assert infer_kind("note", pd.Series(repeated)) is ColumnKind.CATEGORICAL


def test_person_name_columns_are_pii_and_names_of_things_are_not():
    values = pd.Series(list("abcab") * 10)
    for name in (
        "name",
        "Name",
        "customer_name",
        "customerName",
        "Customer Name",
        "borrower_name",
        "username",
        "firstName",
    ):
        assert infer_kind(name, values) is ColumnKind.PII, name
    for name in ("product_name", "loan_name", "branch_name", "company_name", "names_count", "rename_flag"):
        assert infer_kind(name, values) is ColumnKind.CATEGORICAL, name


# -- spikes (issue 15) -------------------------------------------------------------------------------
def _balances(n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    balance = np.where(rng.random(n) < 0.4, 0, rng.lognormal(8, 1, n).round(0)).astype(int)
    utilisation = [f"{u:.2f}%" for u in np.where(balance == 0, 0.0, rng.uniform(1, 99, n))]
    return pd.DataFrame({"balance": balance, "utilisation": utilisation, "age": rng.integers(20, 70, n)})


def test_point_masses_of_number_columns_are_inferred_as_spikes():
    schema = infer_schema(_balances())
    assert schema["balance"].spikes == [0.0]
    assert schema["utilisation"].spikes == [0.0], "read through the column's number format ('0.00%')"
    assert schema["age"].spikes is None
    assert TableSchema.from_json_dict(schema.to_json_dict()) == schema


def test_declared_spikes_win_and_false_turns_them_off():
    schema = infer_schema(
        _balances(),
        {
            "balance": ColumnSpec(spikes=False),
            "age": ColumnSpec(spikes=[99, 21, 99]),
            "utilisation": ColumnSpec(spikes=[]),
        },
    )
    assert schema["balance"].spikes is None and schema["utilisation"].spikes is None
    assert schema["age"].spikes == [21.0, 99.0]


def test_spikes_on_a_column_that_is_not_a_number_are_refused():
    frame = _balances().assign(grade=["A", "B"] * 1000)
    with pytest.raises(DataError, match=r"'grade' is categorical; spikes apply to numeric and integer"):
        infer_schema(frame, {"grade": ColumnSpec(spikes=[0])}, source="loans.csv")
    with pytest.raises(ValueError, match="spikes apply to numeric and integer columns"):
        ColumnSpec(kind="categorical", spikes=[1])
    with pytest.raises(ValueError, match="finite"):
        ColumnSpec(spikes=[float("inf")])


def test_levels_declare_every_well_populated_value_a_spike():
    rng = np.random.default_rng(1)
    ages = pd.DataFrame({"age": rng.integers(20, 70, 20_000), "months": rng.integers(0, 200, 20_000)})
    schema = infer_schema(ages, {"age": ColumnSpec(spikes="levels")})
    assert schema["age"].spikes == [float(a) for a in range(20, 70)]
    small = _balances()  # 2,000 rows: about 40 per age, only some reach 50
    counts = small["age"].value_counts()
    expected = sorted(float(a) for a in counts[counts >= 50].index)
    assert 0 < len(expected) < 20
    assert infer_schema(small, {"age": ColumnSpec(spikes="levels")})["age"].spikes == expected
    with pytest.raises(DataError, match=r"loans.csv: column 'months' has 200 values of 50 rows or more"):
        infer_schema(ages, {"months": ColumnSpec(spikes="levels")}, source="loans.csv")
    with pytest.raises(ValueError, match="spikes apply to numeric and integer columns"):
        ColumnSpec(kind="categorical", spikes="levels")
