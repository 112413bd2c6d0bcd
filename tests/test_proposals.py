"""`synthgen inspect` proposes the constraints that hold in the data, and only those."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from synthgen.cli import app
from synthgen.constraints import ConstraintSet
from synthgen.io import read_table
from synthgen.proposals import propose_constraints
from synthgen.recipe import parse_recipe
from synthgen.schema import TableSchema, infer_schema
from tests.conftest import ROOT

LENDING = ROOT / "recipes" / "data" / "lending_club.csv"


def _uncommented(lines: list[str]) -> list[dict]:
    """The proposals as a user gets them by removing the leading '# ' of each line."""
    text = "constraints:\n" + "\n".join(line.removeprefix("# ") for line in lines) + "\n"
    return yaml.safe_load(text)["constraints"]


def _proposed(lines: list[str]) -> set[tuple]:
    out = set()
    for item in _uncommented(lines):
        if item["type"] == "inequality":
            out.add((item["low"], "<=", item["high"]))
        else:
            out.add(tuple(item["columns"]))
    return out


def _holds_everywhere(lines: list[str], frame: pd.DataFrame, schema: TableSchema | None = None) -> None:
    recipe = parse_recipe(yaml.safe_dump({"name": "x", "source": "x.csv", "constraints": _uncommented(lines)}))
    schema = schema or infer_schema(frame)
    constraints = ConstraintSet(recipe.constraints, schema).fit(frame)
    assert constraints.violation_rates(frame) == dict.fromkeys(constraints.labels, 0.0)


@pytest.fixture(scope="module")
def lending() -> pd.DataFrame:
    return read_table(LENDING)


def test_lending_club_relations_that_hold_and_nothing_else(lending):
    schema = infer_schema(lending)
    started = time.perf_counter()
    lines = propose_constraints(lending, schema)
    seconds = time.perf_counter() - started
    assert seconds < 5  # about 0.2 s on a quiet core: bounded work on 40k rows x 16 columns
    proposed = _proposed(lines)
    assert ("loan_amnt", "<=", "annual_inc") in proposed
    assert ("zip_code", "addr_state") in proposed
    assert all(line.startswith("#  - {type: ") for line in lines)
    assert "# holds in 100.0 % of 39,786 rows; ~" in lines[0]
    # trivially true (the ranges never overlap: open_acc <= 44 < 500 <= loan_amnt) is not proposed
    assert ("open_acc", "<=", "loan_amnt") not in proposed
    _holds_everywhere(lines, lending, schema)


def test_credit_risk_skips_comparisons_of_different_units(credit_risk):
    lines = propose_constraints(credit_risk, infer_schema(credit_risk))
    proposed = _proposed(lines)
    assert ("loan_amnt", "<=", "person_income") in proposed
    assert ("cb_person_cred_hist_length", "<=", "person_age") in proposed
    # holds in every row, but an interest rate and an age measure different things
    assert ("loan_int_rate", "<=", "person_age") not in proposed
    assert (credit_risk["loan_int_rate"] <= credit_risk["person_age"]).all()
    _holds_everywhere(lines, credit_risk)


def _census(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    levels = ["Preschool", "1st-4th", "5th-6th", "7th-8th", "9th", "10th", "11th", "12th", "HS-grad"]
    levels += ["Some-college", "Assoc-voc", "Assoc-acdm", "Bachelors", "Masters", "Prof-school", "Doctorate"]
    education = rng.choice(len(levels), n, p=np.linspace(1, 3, len(levels)) / np.linspace(1, 3, len(levels)).sum())
    return pd.DataFrame(
        {
            "age": rng.integers(17, 90, n),
            "education": np.array(levels)[education],
            "education_num": education + 1,
            "sex": rng.choice(["Male", "Female"], n),
            "race": rng.choice(["White", "Black", "Asian-Pac-Islander", "Other"], n, p=[0.8, 0.1, 0.05, 0.05]),
            "hours_per_week": rng.integers(1, 99, n),
        }
    )


def test_census_education_and_its_code_are_one_to_one():
    frame = _census()
    lines = propose_constraints(frame, infer_schema(frame))
    assert _proposed(lines) == {("education", "education_num")}
    assert "one-to-one: education <-> education_num, 16 pairs in 3,000 rows" in lines[0]
    _holds_everywhere(lines, frame)


def test_a_dependency_broken_in_one_row_is_proposed_as_fixed_combinations_not_as_one_to_one():
    frame = _census()
    frame.loc[5, "education_num"] = 3 if frame.loc[5, "education_num"] != 3 else 4
    lines = propose_constraints(frame, infer_schema(frame))
    assert _proposed(lines) == {("education", "education_num")}
    assert (
        "one-to-one" not in lines[0] and "17 of 256 pairs of values occur in 3,000 rows (~256 if unrelated)" in lines[0]
    )


def test_datetimes_and_names_that_need_quoting():
    rng = np.random.default_rng(1)
    opened = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 2000, 500), unit="D")
    closed = opened + pd.to_timedelta(rng.integers(0, 900, 500), unit="D")
    amount = rng.integers(1000, 30000, 500)
    frame = pd.DataFrame(
        {
            "opened": opened.strftime("%d/%m/%Y"),
            "closed": closed.strftime("%d/%m/%Y"),
            "loan amount": amount,
            "income: yearly": amount + rng.integers(0, 50000, 500),
        }
    )
    lines = propose_constraints(frame, infer_schema(frame))
    assert _proposed(lines) == {("opened", "<=", "closed"), ("loan amount", "<=", "income: yearly")}
    assert any('low: "loan amount", high: "income: yearly"' in line for line in lines)
    _holds_everywhere(lines, frame)


def test_unrelated_columns_give_no_proposal_and_the_count_is_bounded():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=2000) for i in range(30)})
    frame["grade"] = rng.choice(list("ABCDEFG"), 2000)
    frame["region"] = rng.choice(["north", "south", "east", "west"], 2000)
    assert propose_constraints(frame, infer_schema(frame)) == []
    ordered = pd.DataFrame({f"x{i}": np.arange(2000) * 0.01 + i * rng.random(2000) for i in range(12)})
    lines = propose_constraints(ordered, infer_schema(ordered), max_items=3)
    assert len(lines) == 3


def test_inspect_prints_the_proposals_after_the_skeleton(tmp_path):
    path = tmp_path / "census.csv"
    _census().to_csv(path, index=False)
    result = CliRunner().invoke(app, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    skeleton, _, rest = result.output.partition("# Constraints that hold in every row of the data.")
    assert "schema:" in skeleton and "# constraints:\n" in rest
    assert re.search(r"^#  - \{type: fixed_combinations, columns: \[education, education_num\]\}", rest, re.M)
    yaml.safe_load(result.output)  # still one valid YAML document: the proposals are comments
