"""Utility edge cases, the report object, its files and its console rendering."""

from __future__ import annotations

import json
import stat

from rich.console import Console
from rich.table import Table

from synthgen.files import FILE_MODE
from synthgen.judge import EvaluationReport, render_console, write_report
from synthgen.judge.learners import LEARNERS
from synthgen.judge.utility import LearnerUtility, UtilityResult
from synthgen.schema import infer_schema

from .scenarios import FAST, run, split


def test_tstr_reports_each_learner(credit_independent):
    u = credit_independent.report.utility
    assert u.status == "ok" and u.task == "classification" and u.backend == "sklearn"
    assert [m.learner for m in u.learners] == list(LEARNERS) == ["logistic_regression", "random_forest", "xgboost"]
    for m in u.learners:
        assert set(m.trtr) == set(m.tstr) == {"roc_auc", "f1"}
        assert 0.8 < m.ratio < 1.1
        assert m.importance_agreement > 0.5
    assert credit_independent.report.run.backend == "sklearn"


def test_single_class_synthetic_target_is_reported_not_raised(german_df, german_schema):
    train, holdout, synthetic = split(german_df, [400, 200, 400], seed=0)
    synthetic["creditability"] = "good"
    report = run(train, holdout, synthetic, german_schema).report
    assert report.utility.tstr_ratio is None
    assert all("single target class" in m.note for m in report.utility.learners)
    check = next(c for c in report.gate.checks if c.name == "tstr_ratio")
    assert check.status == "failed" and "single target class" in check.detail


def test_no_target_skips_utility_with_a_reason(german_df):
    schema = infer_schema(german_df)
    train, holdout, synthetic = split(german_df, [400, 200, 400], seed=0)
    report = run(train, holdout, synthetic, schema).report
    assert report.utility.status == "skipped" and "no target" in report.utility.reason
    check = next(c for c in report.gate.checks if c.name == "tstr_ratio")
    assert check.status == "not estimable"
    assert report.gate.passed


def test_regression_target(credit_df):
    schema = infer_schema(credit_df, target="loan_int_rate")
    train, holdout, synthetic = split(credit_df, [1_500, 500, 1_500], seed=2)
    u = run(train, holdout, synthetic, schema).report.utility
    assert u.task == "regression" and u.primary_metric == "r2"
    assert all(set(m.tstr) == {"r2", "rmse"} for m in u.learners)
    assert 0.7 < u.tstr_ratio < 1.3


def test_report_round_trips_and_records_the_run(credit_independent):
    report = credit_independent.report
    again = EvaluationReport.from_json(report.to_json())
    assert again == report
    run_info = report.run
    assert set(run_info.versions) >= {"synthgen", "torch", "sklearn", "xgboost"}
    assert run_info.seed == FAST.seed and run_info.device == "cpu"
    assert {"fidelity", "utility", "privacy", "total"} <= set(run_info.timings_s)


def test_write_report_files(tmp_path, german_copy):
    paths = write_report(german_copy.report, tmp_path / "out", extra_metadata={"recipe": "german.yaml"})
    data = json.loads(paths["json"].read_text())  # strict JSON: no NaN
    assert data["metadata"] == {"recipe": "german.yaml"}
    assert data["gate"]["passed"] is False
    page = paths["html"].read_text()
    assert page.count("data:image/png;base64,") == 4  # distributions, trend heatmap, ROC curves, exposed records
    assert "Gate failed" in page and "exact_copies" in page
    assert "http://" not in page and "https://" not in page  # self-contained
    assert not list((tmp_path / "out").glob("*.tmp"))
    assert '<th class="l">learner</th>' in page and ">model<" not in page
    assert [r["learner"] for r in data["utility"]["learners"]] == list(LEARNERS) and "models" not in data["utility"]
    for path in paths.values():  # written by synthgen.io.write_text: the mode of any new file
        assert stat.S_IMODE(path.stat().st_mode) == FILE_MODE
    assert EvaluationReport.from_json(paths["json"].read_text()) == german_copy.report  # "metadata" is ignored


def test_constraint_rates_get_their_own_section(tmp_path, german_copy, monkeypatch):
    from synthgen.judge import html

    # the same report's figures are drawn in test_write_report_files: built here, not drawn to PNG (2.5 s)
    monkeypatch.setattr(html, "_png", lambda fig: '<img alt="figure" src="data:image/png;base64,">')
    rates = [{"constraint": "loan_amnt <= 0.8 * annual_inc", "real": 0.0125, "output": 0.0}]
    paths = write_report(german_copy.report, tmp_path / "out", extra_metadata={"constraints": rates, "seed": 1})
    assert json.loads(paths["json"].read_text())["metadata"]["constraints"] == rates
    page = paths["html"].read_text()
    section = page.split("<h2>Constraints: share of rows breaking each</h2>")[1].split("<h2>")[0]
    assert "loan_amnt &lt;= 0.8 * annual_inc" in section and "1.250%" in section and "0.000%" in section
    assert page.count("annual_inc") == 1  # not repeated as JSON in the run table


def _old_names(data: dict) -> dict:
    """``data`` (a report as JSON) as written before issue 11: ``models`` / ``model`` for the learners."""
    utility = dict(data["utility"])
    utility["models"] = [{("model" if k == "learner" else k): v for k, v in r.items()} for r in utility.pop("learners")]
    return {**data, "utility": utility}


def test_a_report_written_before_the_learners_rename_still_reads(german_copy):
    report = german_copy.report
    old = _old_names(report.to_dict())
    assert old["utility"]["models"][0]["model"] == "logistic_regression" and "learners" not in old["utility"]
    again = EvaluationReport.from_json(json.dumps(old))
    assert again == report
    assert [r.learner for r in again.utility.learners] == list(LEARNERS)
    assert '"learners"' in again.to_json() and '"models"' not in again.to_json()  # written with the new names


def test_learner_utility_reads_both_names_and_writes_the_new_one():
    old = UtilityResult.model_validate(
        {"status": "ok", "backend": "sklearn", "models": [{"model": "xgboost", "ratio": 0.9}]}
    )
    new = UtilityResult.model_validate(
        {"status": "ok", "backend": "sklearn", "learners": [{"learner": "xgboost", "ratio": 0.9}]}
    )
    assert old == new and new.learners == [LearnerUtility(learner="xgboost", ratio=0.9)]
    dumped = new.model_dump(mode="json")
    assert dumped["learners"] == [{**dumped["learners"][0], "learner": "xgboost"}] and "models" not in dumped
    assert "model" not in dumped["learners"][0]
    assert UtilityResult(status="skipped", backend="sklearn").learners == []


def test_render_console(german_copy):
    parts = render_console(german_copy.report)
    tables = [p for p in parts if isinstance(p, Table)]
    assert tables and tables[0].title == "Release gate"
    console = Console(record=True, width=160)
    for p in parts:
        console.print(p)
    text = console.export_text()
    assert "GATE FAILED" in text and "mia_auc" in text and "not estimable" in text
    utility = next(t for t in tables if str(t.title).startswith("Utility"))
    assert [c.header for c in utility.columns][0] == "learner"
    assert list(utility.columns[0].cells) == list(LEARNERS)


def test_single_class_holdout_makes_tstr_not_estimable(german_df, german_schema):
    good = german_df[german_df["creditability"] == "good"]
    train, _, synthetic = split(german_df, [400, 0, 400], seed=0)
    holdout = good.sample(100, random_state=0)
    report = run(train, holdout, synthetic, german_schema).report
    check = next(c for c in report.gate.checks if c.name == "tstr_ratio")
    assert check.status == "not estimable"
    assert all(m.trtr.get("roc_auc") is None for m in report.utility.learners)


def test_extra_columns_and_odd_index_are_ignored(german_df, german_schema):
    train, holdout, synthetic = split(german_df, [300, 100, 300], seed=9)
    synthetic = synthetic.assign(customer_email="x@y.z").set_index(synthetic.index + 1000)
    report = run(train, holdout, synthetic, german_schema).report
    assert "customer_email" not in report.run.columns and report.run.synthetic_rows == 300


def test_same_seed_same_numbers(german_df, german_schema):
    train, holdout, synthetic = split(german_df, [300, 100, 300], seed=11)
    a, b = (run(train, holdout, synthetic, german_schema).report for _ in range(2))
    drop = {"timings_s"}
    for part in ("fidelity", "utility", "privacy", "gate"):
        assert getattr(a, part).model_dump(exclude=drop) == getattr(b, part).model_dump(exclude=drop), part


def test_every_kind_with_nulls(mixed_frame):
    """Datetimes, booleans, nulls: the lead's shared fixture, split three ways, no target."""
    schema = infer_schema(mixed_frame)
    train, holdout, synthetic = split(mixed_frame, [200, 100, 100], seed=0)
    synthetic.loc[:20, "rate"] = None  # more nulls than the real data has
    report = run(train, holdout, synthetic, schema).report
    cols = {c.column: c for c in report.fidelity.columns}
    assert cols["opened"].metric == "KSComplement" and cols["flag"].metric == "TVComplement"
    assert cols["rate"].null_rate_synthetic > cols["rate"].null_rate_real
    assert report.utility.status == "skipped"
    assert all(p.score is not None for p in report.fidelity.pairs)
