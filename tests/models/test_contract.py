"""The contract every registered generator meets (scikit-learn's estimator checks, for synthgen)."""

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import InputError, NotFittedError
from synthgen.models import GENERATORS, load_model
from synthgen.schema import ColumnKind, infer_schema

# Smallest settings that still exercise every code path of each generator.
TINY = {"ctgan": {"epochs": 1, "batch_size": 100}, "ddpm": {"steps": 20, "batch_size": 64, "width": 32, "depth": 2, "sampling_steps": 5}}


@pytest.fixture(params=sorted(GENERATORS))
def make(request):
    cls = GENERATORS[request.param]
    return lambda **kw: cls(device="cpu", **{**TINY.get(request.param, {}), **kw})


@pytest.fixture
def table(mixed_frame):
    frame = mixed_frame.copy()
    frame.insert(0, "loan_id", np.arange(len(frame)) + 10_000)
    frame["email"] = [f"person{i}@bank.example" for i in range(len(frame))]
    return frame


def test_fit_returns_self(make, table):
    model = make()
    assert model.fit(table) is model and model.is_fitted


def test_sample_before_fit_fails(make):
    with pytest.raises(NotFittedError):
        make().sample(5)


def test_same_seed_same_rows(make, table):
    model = make(seed=11).fit(table)
    pd.testing.assert_frame_equal(model.sample(80, seed=2), model.sample(80, seed=2))


def test_rows_must_be_positive(make, table):
    model = make().fit(table)
    for bad in (0, -3):
        with pytest.raises(InputError):
            model.sample(bad)


def test_save_load_round_trip(make, table, tmp_path):
    model = make().fit(table)
    reloaded = load_model(model.save(tmp_path / "model"), device="cpu")
    pd.testing.assert_frame_equal(reloaded.sample(60, seed=4), model.sample(60, seed=4))


def test_schema_is_respected(make, table):
    schema = infer_schema(table)
    rows = make().fit(table, schema).sample(300, seed=1)
    assert list(rows.columns) == list(table.columns)
    assert rows["loan_id"].is_unique
    assert not set(rows["email"]) & set(table["email"]), "PII must never be copied"
    assert rows["email"].str.match(r"^[a-z]+\d+@[a-z]+\.[a-z]+$").all(), "PII keeps its shape"
    for column in schema.modelled:
        values = rows[column.name].dropna()
        if column.kind.is_discrete:
            assert set(values) <= set(table[column.name].dropna()), column.name
        elif column.kind is ColumnKind.DATETIME:
            assert values.min() >= table[column.name].min() and values.max() <= table[column.name].max()
        else:
            assert values.min() >= table[column.name].min() - 1e-9, column.name
            assert values.max() <= table[column.name].max() + 1e-9, column.name
    assert rows["count"].dtype == table["count"].dtype
