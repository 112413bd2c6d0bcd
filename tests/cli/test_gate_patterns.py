"""Memorisation patterns built from german_credit, judged by `synthgen evaluate`: exit 3 naming the check.

The gate's arithmetic is tested in tests/judge; this is the command a user runs on a table someone
else generated, so each refusal must reach the exit code and the words on the terminal.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from synthgen.cli import app
from synthgen.schema import infer_schema
from tests.judge.scenarios import (
    CREDIT_RISK,
    GERMAN,
    diluted,
    resample,
    split,
    with_isolated_near_copies,
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def _figures_not_rasterised(monkeypatch):
    """The report's figures are built but not drawn to PNG (about 2.5 s a report): these tests check the
    command's plumbing and verdicts; the PNGs themselves are checked in tests/judge/test_evaluate_report.py."""
    from synthgen.judge import html

    monkeypatch.setattr(html, "_png", lambda fig: '<img alt="figure" src="data:image/png;base64,">')


def _judge(
    tmp_path: Path,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    target: str = "creditability",
):
    for name, frame in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    args = ["evaluate", "--real", tmp_path / "train.csv", "--holdout", tmp_path / "holdout.csv"]
    args += ["--synthetic", tmp_path / "synthetic.csv", "--target", target]
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def parts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train, holdout, honest = split(pd.read_csv(GERMAN), [400, 200, 400], seed=3)
    return train, holdout, honest


def test_an_honest_sample_is_released(tmp_path, parts):
    train, holdout, honest = parts
    result = _judge(tmp_path, train, holdout, honest)
    assert result.exit_code == 0, result.output


# Each pattern is also judged in tests/judge (with the fast settings): unique copies, an exact copy and
# near-copies in test_evaluate_memorisation.py / test_evaluate_closeness.py. Through the command line, one
# refusal by a record count and one by a check that cannot be estimated show that both reach exit code 3.
PATTERNS = ["diluted", "small_holdout"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_memorisation_is_refused_naming_the_check(tmp_path, parts, pattern):
    train, holdout, honest = parts
    if pattern == "diluted":  # every training record among 20x as many honest rows
        result, check = _judge(tmp_path, train, holdout, diluted(train, honest, 20, seed=1)), "verbatim_records"
    else:  # 12 non-members cannot tell an attack from chance: not estimable, so not released
        result, check = _judge(tmp_path, train, holdout.iloc[:12], resample(honest, 400, seed=4)), "mia_auc"
    assert result.exit_code == 3, result.output
    assert check in result.output and "gate failed" in result.output, result.output


def test_near_copies_of_the_most_isolated_borrowers_are_refused(tmp_path):
    """credit_risk: a near-copy of each of the 2 % most isolated training records inside an honest release.
    (german_credit's 200 holdout rows hold 10 isolated records: too few to tell 8 near-copies from chance.)"""
    train, holdout, honest = split(pd.read_csv(CREDIT_RISK), [3_000, 1_500, 3_000], seed=1)
    schema = infer_schema(train, target="loan_status")
    release = with_isolated_near_copies(train, holdout, honest, schema, 0.02, seed=4)
    result = _judge(tmp_path, train, holdout, release, target="loan_status")
    assert result.exit_code == 3, result.output
    assert "exposed_records" in result.output and "gate failed" in result.output, result.output
