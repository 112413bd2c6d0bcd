"""The contract every registered generator meets (scikit-learn's estimator checks, for synthgen)."""

import re

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from synthgen.errors import InputError, ModelFileError, NotFittedError
from synthgen.models import GENERATORS, load_model
from synthgen.schema import ColumnKind, infer_schema

# Smallest settings that still exercise every code path of each generator.
TINY = {
    "ctgan": {"epochs": 1, "batch_size": 100},
    "ddpm": {"steps": 20, "batch_size": 64, "width": 32, "depth": 2, "sampling_steps": 5},
}


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
    assert rows["email"].str.match(r"^[a-z0-9._-]+@(gmail|yahoo|hotmail)\.com$").all(), "an e-mail on a real domain"
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


def test_fit_passes_the_step_hook_to_the_training_step(make, table):
    seen = []
    make().fit(table, step_hook=lambda run: seen.append((run.calls, run.last)))
    assert seen[0] == (0, None) and len(seen) > 1
    assert [calls for calls, _ in seen] == list(range(len(seen)))
    assert {last for _, last in seen[1:]} == {"eager"}  # on the CPU every step runs eagerly


def test_fit_seeds_training_and_leaves_the_callers_random_stream(make, table):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = make(seed=5).fit(table)
    assert torch.equal(torch.rand(3), expected)
    torch.manual_seed(999)  # a different global state does not change what the seed trains
    second = make(seed=5).fit(table)
    for (name, a), (_, b) in zip(sorted(first._weights().items()), sorted(second._weights().items())):
        assert torch.equal(a, b), name


def test_unknown_sampling_option_is_an_input_error(make, table):
    model = make().fit(table)
    with pytest.raises(InputError, match="no option"):
        model.sample(10, bogus=1)
    with pytest.raises(InputError, match="no option"):
        next(model.iter_sample(10, bogus=1))


def test_missing_and_extra_tensors_are_refused(make, table, tmp_path):
    model = make().fit(table)
    path = model.save(tmp_path / "model")
    weights = load_file(str(path / "weights.safetensors"))
    name = sorted(weights)[0]
    save_file({k: v for k, v in weights.items() if k != name}, str(path / "weights.safetensors"))
    with pytest.raises(ModelFileError, match=rf"lacks tensor\(s\) .*{re.escape(name)}"):
        load_model(path, device="cpu")
    save_file({**weights, "extra.weight": torch.zeros(2)}, str(path / "weights.safetensors"))
    with pytest.raises(ModelFileError, match=r"does not have: extra\.weight"):
        load_model(path, device="cpu")
