"""Fidelity: agreement with SDMetrics' QualityReport, and the detection test's two extremes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from synthgen.judge import EvaluateSettings
from synthgen.judge.encoding import RowEncoder
from synthgen.judge.fidelity import column_shapes, detection, pair_trends, summarise_trends
from synthgen.judge.inputs import prepare
from synthgen.judge.learners import resolve_backend

from .scenarios import split

SDTYPE = {
    "numeric": "numerical",
    "integer": "numerical",
    "datetime": "datetime",
    "categorical": "categorical",
    "boolean": "boolean",
}


def sdmetrics_scores(real, synthetic, schema, thresholds: bool) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        metadata = {"columns": {c.name: {"sdtype": SDTYPE[c.kind.value]} for c in schema.modelled}}
        report = QualityReport()
        if not thresholds:
            report.real_correlation_threshold = 0
            report.real_association_threshold = 0
        report.generate(real, synthetic, metadata, verbose=False)
        props = report.get_properties().set_index("Property")["Score"]
        return float(props["Column Shapes"]), float(props["Column Pair Trends"])


def ours(real, synthetic, schema, thresholds: bool) -> tuple[float, float]:
    settings = (
        EvaluateSettings()
        if thresholds
        else EvaluateSettings(trend_min_real_correlation=0, trend_min_real_association=0)
    )
    t = prepare(real, real.head(10), synthetic, schema)
    shapes = [c.score for c in column_shapes(t)]
    return float(np.mean(shapes)), summarise_trends(pair_trends(t, settings))[0]


def degraded(df, seed):
    """A plausible bad generator: two columns shuffled, one numeric column with noise and a few outliers."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    for name in out.columns[1:3]:
        out[name] = rng.permutation(out[name].to_numpy())
    numeric = out.select_dtypes("number").columns[0]
    out[numeric] = out[numeric] * rng.normal(1.0, 0.2, len(out))
    out.loc[out.index[:3], numeric] = out[numeric].max() * 3
    return out


@pytest.mark.parametrize("thresholds", [True, False], ids=["sdmetrics-defaults", "all-pairs"])
@pytest.mark.parametrize("dataset", ["german", "credit"])
def test_shape_and_trend_agree_with_sdmetrics(dataset, thresholds, request):
    df = request.getfixturevalue(f"{dataset}_df")
    schema = request.getfixturevalue(f"{dataset}_schema")
    if len(df) > 5_000:
        df = df.sample(5_000, random_state=0).reset_index(drop=True)
    real, other = split(df, [len(df) // 2, len(df) // 2], seed=3)
    for synthetic in (other, degraded(other, seed=4)):
        theirs = sdmetrics_scores(real, synthetic, schema, thresholds)
        mine = ours(real, synthetic, schema, thresholds)
        assert mine[0] == pytest.approx(theirs[0], abs=0.01)
        assert mine[1] == pytest.approx(theirs[1], abs=0.01)


def _encoded(df, schema, a, b):
    t = prepare(a, a.head(10), b, schema)
    enc = RowEncoder(t.columns).fit(t.train)
    return enc.transform(t.train), enc.transform(t.synthetic)


@pytest.fixture(scope="module")
def learners():
    import torch

    return resolve_backend("sklearn", torch.device("cpu"))


def test_detection_near_half_for_two_halves_of_one_table(credit_df, credit_schema, learners):
    a, b = split(credit_df, [2_000, 2_000], seed=5)
    auc, folds, _ = detection(*_encoded(credit_df, credit_schema, a, b), learners, folds=3, seed=0)
    assert auc < 0.56, folds


def test_detection_near_one_for_column_shuffled_data(credit_df, credit_schema, learners):
    a, b = split(credit_df, [2_000, 2_000], seed=5)
    rng = np.random.default_rng(6)
    shuffled = b.apply(lambda col: rng.permutation(col.to_numpy()))
    auc, _, _ = detection(*_encoded(credit_df, credit_schema, a, shuffled), learners, folds=3, seed=0)
    assert auc > 0.9


def test_report_fidelity_sections(credit_independent, german_copy):
    f = credit_independent.report.fidelity
    assert f.detection_auc < 0.6
    assert f.alpha_precision > 0.9 and 0.4 < f.beta_recall < 0.6  # an independent sample
    assert german_copy.report.fidelity.beta_recall > 0.99  # a copy covers everything
    assert len(f.pairs) == len(f.columns) * (len(f.columns) - 1) // 2
    assert all(c.novel_share == 0 for c in f.columns if c.metric == "TVComplement")
    assert {d.column for d in f.distributions} == {c.column for c in f.columns}
