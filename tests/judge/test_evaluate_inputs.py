"""Bad input is refused with a message naming the table and column; settings refuse unknown keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydantic
import pytest
import torch

from synthgen.errors import DataError, InputError
from synthgen.judge import EvaluateSettings, GateSettings, evaluate
from synthgen.judge.encoding import RowEncoder
from synthgen.judge.inputs import prepare
from synthgen.judge.learners import resolve_backend
from synthgen.schema import infer_schema

from .scenarios import split


def test_synthetic_missing_a_column_names_it(german_df, german_schema):
    train, holdout, synthetic = split(german_df, [300, 100, 300], seed=0)
    with pytest.raises(DataError, match=r"synthetic table lacks column\(s\) 'purpose'"):
        evaluate(train, holdout, synthetic.drop(columns=["purpose"]), german_schema)


def test_non_numeric_value_names_column_and_table(credit_df, credit_schema):
    train, holdout, synthetic = split(credit_df, [300, 100, 300], seed=0)
    synthetic["loan_amnt"] = synthetic["loan_amnt"].astype(object)
    synthetic.loc[5, "loan_amnt"] = "lots"
    with pytest.raises(DataError, match=r"column 'loan_amnt' \(integer\) of the synthetic table .*'lots'"):
        prepare(train, holdout, synthetic, credit_schema)


def test_too_few_rows_and_wrong_types(german_df, german_schema):
    train, holdout = split(german_df, [300, 5], seed=0)
    with pytest.raises(DataError, match="holdout table has 5 rows"):
        prepare(train, holdout, train, german_schema)
    with pytest.raises(InputError, match="DataFrame"):
        prepare(train.to_numpy(), holdout, train, german_schema)


def test_settings_forbid_unknown_keys_and_bad_values():
    with pytest.raises(pydantic.ValidationError, match="extra"):
        EvaluateSettings(bootstap=200)
    with pytest.raises(pydantic.ValidationError, match="extra"):
        EvaluateSettings(holdout=0.2)  # the recipe's split.holdout now: the judge never cuts the real table
    with pytest.raises(pydantic.ValidationError, match="bootstrap"):
        EvaluateSettings(bootstrap=5)
    with pytest.raises(pydantic.ValidationError):
        GateSettings(min_shap=0.9)
    assert GateSettings(min_shape=None).min_shape is None
    assert EvaluateSettings.model_validate({"bootstrap": 300, "backend": "sklearn"}).bootstrap == 300


def test_cuml_backend_refused_without_cuml_or_gpu():
    with pytest.raises(InputError, match="cuml"):
        resolve_backend("cuml", torch.device("cpu"))
    assert resolve_backend("auto", torch.device("cpu")).backend == "sklearn"


def test_canonical_categories_and_datetimes():
    real = pd.DataFrame(
        {
            "flag": [True, False] * 10,
            "code": [1, 2] * 10,
            "when": pd.date_range("2024-01-01", periods=20, freq="D").astype(str),
            "x": np.arange(20.0),
        }
    )
    synth = pd.DataFrame(
        {
            "flag": ["true", "False"] * 10,
            "code": [1.0, 2.0] * 10,
            "when": pd.date_range("2024-01-01", periods=20, freq="D"),
            "x": np.arange(20.0),
        }
    )
    schema = infer_schema(real)
    assert schema["when"].kind.value == "datetime"
    t = prepare(real, real, synth, schema)
    assert t.synthetic["flag"].tolist() == t.train["flag"].tolist()
    assert t.synthetic["code"].tolist() == t.train["code"].tolist()
    assert np.allclose(t.synthetic["when"], t.train["when"])
    assert t.train["when"].iloc[1] - t.train["when"].iloc[0] == 86_400


def test_encoder_rare_unseen_null_and_out_of_range(credit_schema, credit_df):
    train, other = split(credit_df, [500, 50], seed=0)
    other.loc[0, "loan_intent"] = "SPACE TRAVEL"
    other.loc[1, "loan_intent"] = None
    other.loc[2, "person_income"] = 10 * train["person_income"].max()
    other.loc[3, "person_income"] = np.nan
    t = prepare(train, other, other, credit_schema)
    enc = RowEncoder(t.columns).fit(t.train)
    X = enc.transform(t.synthetic)
    names = enc.feature_names_
    assert X[0, names.index("loan_intent=__rare__")] > 0
    assert X[1, names.index("loan_intent=__null__")] > 0
    assert X[2, names.index("person_income")] > 1.0  # beyond the real range stays visible
    assert X[3, names.index("person_income=__null__")] == 1.0
    block = enc.slices_["loan_intent"]
    assert np.allclose((X[:, block] ** 2).sum(1), 0.5)  # one slot set, each column adds at most 1 to d^2


def test_cuml_path_wiring_with_a_stand_in_module(monkeypatch):
    """cuML cannot run here (no GPU): check the auto rule and the estimators it builds with a fake module."""
    import sys
    import types

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    def accepting(cls, dropped):
        class Fake(cls):
            def __init__(self, **kwargs):
                self.seen = dict(kwargs)
                super().__init__(**{k: v for k, v in kwargs.items() if k not in dropped})

            def get_params(self, deep=True):  # sklearn clone machinery is not used by the judge
                return {}

        return Fake

    cuml = types.ModuleType("cuml")
    linear, ensemble = types.ModuleType("cuml.linear_model"), types.ModuleType("cuml.ensemble")
    linear.LogisticRegression = accepting(LogisticRegression, {"output_type"})
    ensemble.RandomForestClassifier = accepting(RandomForestClassifier, {"output_type", "n_bins"})
    for name, module in (("cuml", cuml), ("cuml.linear_model", linear), ("cuml.ensemble", ensemble)):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)

    learners = resolve_backend("auto", torch.device("cuda"))
    assert learners.backend == "cuml" and learners.xgb_device == "cuda"
    X = np.random.default_rng(0).random((60, 4)).astype(np.float32)
    y = np.r_[np.zeros(30), np.ones(30)]
    for name in ("logistic_regression", "random_forest"):
        learner = learners.make(name, "classification", len(X)).fit(X, y)
        assert learner.estimator.seen["output_type"] == "numpy"
        assert learner.predict_proba(X).shape == (60, 2)
    assert learners.make("xgboost", "classification", 60).get_params()["device"] == "cuda"
    assert resolve_backend("auto", torch.device("cpu")).backend == "sklearn"  # no GPU in use: scikit-learn


def test_cpu_only_xgboost_build_trains_on_the_cpu_beside_a_gpu(monkeypatch):
    import xgboost

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(xgboost, "build_info", lambda: {"USE_CUDA": False})
    learners = resolve_backend("sklearn", torch.device("cuda"))
    assert learners.xgb_device == "cpu"
    monkeypatch.setattr(xgboost, "build_info", lambda: {"USE_CUDA": True})
    assert resolve_backend("sklearn", torch.device("cuda")).xgb_device == "cuda"
