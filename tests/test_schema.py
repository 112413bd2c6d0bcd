import numpy as np
import pandas as pd
import pytest

from synthgen.errors import DataError
from synthgen.schema import ColumnKind, ColumnSpec, TableSchema, infer_schema


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


def test_all_null_column_is_numeric_and_nullable():
    schema = infer_schema(pd.DataFrame({"x": [np.nan, np.nan], "y": [1.5, 2.5]}))
    assert schema["x"].nullable
