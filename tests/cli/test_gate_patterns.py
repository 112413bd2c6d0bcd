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
from tests.judge.scenarios import GERMAN, diluted, resample, split, with_unique_copies

runner = CliRunner()


def _judge(tmp_path: Path, train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame):
    for name, frame in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    args = ["evaluate", "--real", tmp_path / "train.csv", "--holdout", tmp_path / "holdout.csv"]
    args += ["--synthetic", tmp_path / "synthetic.csv", "--target", "creditability"]
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def parts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train, holdout, honest = split(pd.read_csv(GERMAN), [400, 200, 400], seed=3)
    return train, holdout, honest


def test_an_honest_sample_is_released(tmp_path, parts):
    train, holdout, honest = parts
    result = _judge(tmp_path, train, holdout, honest)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("pattern", ["diluted", "unique_copies", "exact_copy", "small_holdout"])
def test_memorisation_is_refused_naming_the_check(tmp_path, parts, pattern):
    train, holdout, honest = parts
    if pattern == "diluted":  # every training record among 20x as many honest rows
        result, check = _judge(tmp_path, train, holdout, diluted(train, honest, 20, seed=1)), "verbatim_records"
    elif pattern == "unique_copies":  # five records no other real row repeats, in an honest release
        schema = infer_schema(train, target="creditability")
        release = with_unique_copies(train, holdout, honest, schema, copies=5, seed=2)
        result, check = _judge(tmp_path, train, holdout, release), "verbatim_unique_records"
    elif pattern == "exact_copy":
        result, check = _judge(tmp_path, train, holdout, train), "detection_memorisation"
    else:  # 12 non-members cannot tell an attack from chance: not estimable, so not released
        result, check = _judge(tmp_path, train, holdout.iloc[:12], resample(honest, 400, seed=4)), "mia_auc"
    assert result.exit_code == 3, result.output
    assert check in result.output and "gate failed" in result.output, result.output
