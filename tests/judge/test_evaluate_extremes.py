"""The gate's extreme-value check: absurd values multiplied by a generator are refused, real rows pass (issue 10)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from synthgen.judge import GateSettings, render_console, write_report
from synthgen.judge.extremes import ColumnExtremes, ExtremeValues, allowance, bounds, extreme_values
from synthgen.judge.gate import run_gate
from synthgen.judge.inputs import prepare
from synthgen.judge.settings import EvaluateSettings

from .scenarios import run, split


def _with_absurd_amounts(frame: pd.DataFrame, share: float, seed: int, value: float = 1e300) -> pd.DataFrame:
    """``frame`` with ``share`` of its credit amounts replaced by values near ``value``."""
    frame = frame.copy()
    frame["credit_amount"] = frame["credit_amount"].astype(float)
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(frame), int(round(share * len(frame))), replace=False)
    frame.loc[rows, "credit_amount"] = value * rng.uniform(0.1, 1.0, rows.size)
    return frame


@pytest.fixture(scope="module")
def amplified(german_df, german_schema):
    """The defect of issue 10: 0.7 % of the real amounts near 1e300, 19 % of the synthetic ones."""
    train, holdout, other = split(german_df, [400, 200, 400], seed=0)
    train, holdout = _with_absurd_amounts(train, 0.0075, 1), _with_absurd_amounts(holdout, 0.005, 2)
    return run(train, holdout, _with_absurd_amounts(other, 0.19, 3), german_schema)


def checks(report) -> dict:
    return {c.name: c for c in report.gate.checks}


def test_amplified_absurd_values_fail_the_gate(amplified):
    report = amplified.report
    check = checks(report)["extreme_values"]
    assert not report.gate.passed and "extreme_values" in report.gate.failing
    assert check.status == "failed" and check.value == pytest.approx(0.19)
    assert "'credit_amount'" in check.detail and "19.00%" in check.detail
    # the check the gate needed: the shape and trend scores release this table
    assert checks(report)["shape"].status == "passed" and checks(report)["trend"].status == "passed"


def test_the_report_names_the_check_and_the_column(amplified, tmp_path):
    report = amplified.report
    columns = {c.column: c for c in report.fidelity.extremes.columns}
    amount = columns["credit_amount"]
    assert amount.synthetic_share == pytest.approx(0.19) and amount.holdout_share == pytest.approx(0.005)
    assert amount.high < 1e6  # bounds from the bulk: the absurd training values did not move them
    paths = write_report(report, tmp_path)
    data = json.loads(paths["json"].read_text())  # strict JSON: 1e300 is a number, no inf anywhere
    gate = {c["name"]: c for c in data["gate"]["checks"]}
    assert gate["extreme_values"]["status"] == "failed" and "credit_amount" in gate["extreme_values"]["detail"]
    assert "extreme_values" in data["gate"]["failing"]
    assert {c["column"] for c in data["fidelity"]["extremes"]["columns"]} >= {"credit_amount", "age_in_years"}
    page = paths["html"].read_text()
    assert "Extreme values" in page and "extreme_values" in page
    console = Console(record=True, width=200)
    for part in render_console(report):
        console.print(part)
    text = console.export_text()
    assert "GATE FAILED: extreme_values" in text and "credit_amount" in text and "Extreme values" in text


def test_real_rows_with_the_same_absurd_values_pass(german_df, german_schema, german_independent):
    """An honest sample: the synthetic rows are real rows, with absurd values at the source's own rate."""
    train, holdout, other = split(german_df, [400, 200, 400], seed=4)
    tables = prepare(
        *(_with_absurd_amounts(f, 0.0075, seed) for seed, f in enumerate((train, holdout, other))), german_schema
    )
    extremes = extreme_values(tables, EvaluateSettings())
    assert extremes.columns[[c.column for c in extremes.columns].index("credit_amount")].synthetic_share > 0.005
    result = next(c for c in _gate(german_independent.report, extremes).checks if c.name == "extreme_values")
    assert result.status == "passed", result.detail


def test_independent_samples_pass(german_independent, credit_independent):
    for scenario in (german_independent, credit_independent):
        check = checks(scenario.report)["extreme_values"]
        assert check.status == "passed" and check.value < 0.01, check.detail


def test_threshold_is_natural_rate_plus_tolerance_or_three_standard_errors(german_independent):
    small = ColumnExtremes(
        column="a",
        low=0,
        high=1,
        synthetic_share=0.05,
        holdout_share=0.01,
        synthetic_values=400,
        holdout_values=200,
        standard_error=0.008,
    )
    large = small.model_copy(update={"standard_error": 0.001})
    assert allowance(small, 0.01) == pytest.approx(0.01 + 0.024)
    assert allowance(large, 0.01) == pytest.approx(0.02)
    extremes = ExtremeValues(spreads=10, columns=[small, large.model_copy(update={"column": "b"})])
    report = german_independent.report
    check = next(c for c in _gate(report, extremes).checks if c.name == "extreme_values")
    assert check.status == "failed" and "'b'" in check.detail and check.threshold == pytest.approx(0.02)
    off = _gate(report, extremes, GateSettings(max_extreme_excess=None))
    assert next(c for c in off.checks if c.name == "extreme_values").status == "disabled"
    older = _gate(report, None)  # a report written before the check existed
    assert next(c for c in older.checks if c.name == "extreme_values").status == "not estimable"


def test_bounds_ignore_a_few_absurd_values_and_never_overflow():
    rng = np.random.default_rng(0)
    bulk = rng.normal(100.0, 10.0, 1000)
    low, high = bounds(bulk, 10.0)
    assert low == pytest.approx(0.0, abs=15) and high == pytest.approx(200.0, abs=15)
    polluted = np.r_[bulk, np.full(10, 1.7e308), np.full(10, -1.7e308)]
    assert bounds(polluted, 10.0) == pytest.approx((low, high), abs=5.0)  # the quartiles move by a rank or two
    assert np.isfinite(bounds(np.r_[np.full(500, -1.7e308), np.full(500, 1.7e308)], 10.0)).all()
    constant = bounds(np.r_[np.zeros(995), np.ones(5)], 10.0)
    assert constant == (0.0, 0.0)  # 99.5 % one value: any other value is extreme


def _gate(report, extremes, gates=None):
    """The gate of a real report, its extreme-value figures replaced by ``extremes``."""
    fidelity = report.fidelity.model_copy(update={"extremes": extremes})
    return run_gate(gates or GateSettings(), fidelity, report.utility, report.privacy)
