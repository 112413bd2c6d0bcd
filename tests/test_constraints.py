"""Constraints: checked against the schema, learned from the real rows, enforced on generated ones."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from synthgen.constraints import ConstraintSet, UniqueTracker
from synthgen.errors import DataError, InputError, ModelFileError, NotFittedError, RecipeError
from synthgen.io import read_table
from synthgen.recipe import parse_recipe
from synthgen.schema import Column, ColumnKind, TableSchema, infer_schema
from tests.conftest import ROOT

LENDING = ROOT / "recipes" / "data" / "lending_club.csv"


@pytest.fixture(scope="module")
def lending() -> pd.DataFrame:
    return read_table(LENDING)


@pytest.fixture(scope="module")
def lending_schema(lending) -> TableSchema:
    return infer_schema(lending, target="loan_status")


@pytest.fixture(scope="module")
def fitted(lending, lending_schema) -> ConstraintSet:
    return ConstraintSet(LENDING_RULES, lending_schema).fit(lending)


def _shuffled(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Each column shuffled on its own: a crude generator that learned the marginals and no relation."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({name: frame[name].to_numpy()[rng.permutation(len(frame))] for name in frame.columns})


LENDING_RULES = [
    {"type": "inequality", "low": "loan_amnt", "high": "annual_inc"},
    {"type": "inequality", "low": "delinq_2yrs", "high": "total_acc"},
    {"type": "expression", "expression": "loan_amnt <= 0.8 * annual_inc"},
    {"type": "fixed_combinations", "columns": ["addr_state", "zip_code"]},
    {"type": "unique", "columns": ["revol_bal", "loan_amnt"]},
]


# -- reparametrisation ---------------------------------------------------------------------------------
def test_encode_decode_round_trip_on_lending_club(lending, fitted):
    constraints = fitted
    encoded = constraints.encode(lending)
    income = pd.to_numeric(lending["annual_inc"])  # text in the source's number format
    assert np.allclose(encoded["annual_inc"], income - lending["loan_amnt"], rtol=0, atol=1e-9)
    assert "zip_code" not in encoded and encoded["addr_state"].iloc[0] == '["AZ", "860xx"]'
    pd.testing.assert_frame_equal(constraints.decode(encoded), lending)


def test_encode_decode_round_trip_on_credit_risk(credit_risk):
    schema = infer_schema(credit_risk, target="loan_status")
    rules = [
        {"type": "inequality", "low": "loan_amnt", "high": "person_income"},
        {"type": "inequality", "low": "cb_person_cred_hist_length", "high": "person_age", "strict": True},
        {"type": "fixed_combinations", "columns": ["loan_intent", "person_home_ownership"]},
    ]
    constraints = ConstraintSet(rules, schema).fit(credit_risk)
    pd.testing.assert_frame_equal(constraints.decode(constraints.encode(credit_risk)), credit_risk)
    assert constraints.violation_rates(credit_risk) == dict.fromkeys(constraints.labels, 0.0)


def test_the_model_schema_learns_gaps_and_merged_combinations(lending_schema, fitted):
    schema, constraints = lending_schema, fitted
    model = constraints.model_schema(schema)
    assert model["annual_inc"] == Column(name="annual_inc", kind=ColumnKind.NUMERIC, min=0, rounding=2)
    assert model["total_acc"] == Column(name="total_acc", kind=ColumnKind.INTEGER, min=0)
    assert model["addr_state"].kind is ColumnKind.CATEGORICAL and "zip_code" not in model
    assert model.target == "loan_status" and len(model.columns) == len(schema.columns) - 1
    assert set(constraints.reparametrised) == {"annual_inc", "total_acc", "addr_state", "zip_code"}


def test_rows_a_generator_gets_wrong_satisfy_the_reparametrised_rules(lending, fitted):
    """A generator that learned no relation at all still yields no violation once decoded."""
    constraints = fitted
    raw = _shuffled(lending)
    assert constraints.violation_rates(raw)["loan_amnt <= annual_inc"] > 0.005
    assert constraints.violation_rates(raw)["fixed combinations of (addr_state, zip_code)"] > 0.5
    decoded = constraints.decode(_shuffled(constraints.encode(lending)))
    rates = constraints.violation_rates(decoded)
    assert rates["loan_amnt <= annual_inc"] == rates["delinq_2yrs <= total_acc"] == 0.0
    assert rates["fixed combinations of (addr_state, zip_code)"] == 0.0
    assert rates["loan_amnt <= 0.8 * annual_inc"] > 0  # an expression is enforced by redrawing, not here
    assert list(decoded.columns) == list(lending.columns)
    assert (decoded.dtypes == lending.dtypes).all()
    income = pd.to_numeric(decoded["annual_inc"]).to_numpy()
    assert np.array_equal(income, np.round(income, 2))
    assert income.max() <= pd.to_numeric(lending["annual_inc"]).max()  # kept within the high column's range


def _numbers_schema(**columns: tuple[str, int | None]) -> TableSchema:
    return TableSchema(
        columns=[Column(name=name, kind=kind, rounding=rounding) for name, (kind, rounding) in columns.items()]
    )


def test_strict_inequalities_never_tie_after_rounding():
    schema = _numbers_schema(a=("integer", None), b=("integer", None), x=("numeric", 2), y=("numeric", 2))
    real = pd.DataFrame({"a": [1, 5, 9], "b": [2, 9, 10], "x": [0.5, 1.25, 2.0], "y": [0.51, 2.0, 2.5]})
    rules = [
        {"type": "inequality", "low": "a", "high": "b", "strict": True},
        {"type": "inequality", "low": "x", "high": "y", "strict": True},
    ]
    constraints = ConstraintSet(rules, schema).fit(real)
    sampled = pd.DataFrame({"a": [3, 4], "b": [0, 2], "x": [1.0, 1.5], "y": [0.0, 0.004]})  # gaps 0 and tiny
    decoded = constraints.decode(sampled)
    assert decoded["b"].tolist() == [4, 6] and decoded["b"].dtype == np.int64
    assert decoded["y"].tolist() == [1.01, 1.5 + 0.01]
    assert constraints.valid(decoded).all()


def test_a_high_column_with_coarser_rounding_is_rounded_up_not_below_low():
    schema = _numbers_schema(low=("numeric", 2), high=("numeric", 0))
    real = pd.DataFrame({"low": [1.25, 3.5], "high": [2.0, 4.0]})
    constraints = ConstraintSet([{"type": "inequality", "low": "low", "high": "high"}], schema).fit(real)
    decoded = constraints.decode(pd.DataFrame({"low": [1.27, 3.7], "high": [0.1, 0.0]}))
    assert decoded["high"].tolist() == [2.0, 4.0]
    assert constraints.valid(decoded).all()


def test_declared_bounds_of_the_high_column_are_kept():
    schema = TableSchema(columns=[Column(name="a", kind="integer"), Column(name="b", kind="integer", max=100)])
    real = pd.DataFrame({"a": [1, 50, 90], "b": [10, 60, 100]})
    constraints = ConstraintSet([{"type": "inequality", "low": "a", "high": "b"}], schema).fit(real)
    decoded = constraints.decode(pd.DataFrame({"a": [90, 95, 99], "b": [5, 9, 40]}))
    assert decoded["b"].tolist() == [95, 100, 100]
    assert constraints.valid(decoded).tolist() == [True, True, True]
    decoded = constraints.decode(pd.DataFrame({"a": [120], "b": [0]}))  # low beyond the high column's max
    assert decoded["b"].tolist() == [100] and not constraints.valid(decoded).any()  # the sampler redraws it


def test_missing_values_in_the_high_column_stay_missing():
    schema = TableSchema(columns=[Column(name="a", kind="integer"), Column(name="b", kind="integer", nullable=True)])
    real = pd.DataFrame({"a": [1, 2, 3], "b": [5.0, np.nan, 7.0]})
    constraints = ConstraintSet([{"type": "inequality", "low": "a", "high": "b"}], schema).fit(real)
    encoded = constraints.encode(real)
    assert encoded["b"].tolist()[0] == 4 and np.isnan(encoded["b"].tolist()[1])
    pd.testing.assert_frame_equal(constraints.decode(encoded), real)


def test_a_nullable_low_column_is_enforced_by_redrawing_instead():
    schema = TableSchema(columns=[Column(name="a", kind="integer", nullable=True), Column(name="b", kind="integer")])
    real = pd.DataFrame({"a": [1, np.nan, 3], "b": [5, 6, 7]})
    constraints = ConstraintSet([{"type": "inequality", "low": "a", "high": "b"}], schema).fit(real)
    assert constraints.reparametrised == {}
    pd.testing.assert_frame_equal(constraints.encode(real), real)
    assert constraints.valid(pd.DataFrame({"a": [1, np.nan, 9], "b": [0, 0, 8]})).tolist() == [False, True, False]


def test_chained_inequalities_decode_in_order_and_a_cycle_is_not_reparametrised():
    schema = _numbers_schema(a=("integer", None), b=("integer", None), c=("integer", None))
    real = pd.DataFrame({"a": [1, 2, 3], "b": [2, 2, 5], "c": [4, 3, 5]})
    rules = [
        {"type": "inequality", "low": "b", "high": "c"},  # listed first, decoded after b
        {"type": "inequality", "low": "a", "high": "b"},
        {"type": "inequality", "low": "c", "high": "a"},  # would close a cycle: enforced by redrawing
    ]
    constraints = ConstraintSet(rules[:2], schema).fit(real)
    assert set(constraints.reparametrised) == {"b", "c"}
    pd.testing.assert_frame_equal(constraints.decode(constraints.encode(real)), real)
    decoded = constraints.decode(pd.DataFrame({"a": [1, 1], "b": [1, 9], "c": [2, 0]}))
    assert decoded.to_numpy().tolist() == [[1, 2, 4], [1, 5, 5]]  # within the columns' ranges (b <= 5, c <= 5)
    cyclic = ConstraintSet(rules, schema).fit(real)
    assert set(cyclic.reparametrised) == {"b", "c"}


def test_the_target_is_never_reparametrised():
    schema = TableSchema(columns=[Column(name="a", kind="integer"), Column(name="b", kind="integer")], target="b")
    constraints = ConstraintSet([{"type": "inequality", "low": "a", "high": "b"}], schema)
    assert constraints.fit(pd.DataFrame({"a": [1, 2], "b": [3, 4]})).reparametrised == {}


# -- checks on hand-made frames -----------------------------------------------------------------------------
def test_valid_and_violation_rates_on_a_hand_made_frame():
    schema = TableSchema(
        columns=[
            Column(name="loan", kind="integer"),
            Column(name="income", kind="numeric", rounding=2, nullable=True),
            Column(name="opened", kind="datetime"),
            Column(name="closed", kind="datetime", nullable=True),
        ]
    )
    rules = [
        {"type": "expression", "expression": "loan <= 0.5 * income"},
        {"type": "inequality", "low": "opened", "high": "closed", "strict": True},
    ]
    real = pd.DataFrame(
        {
            "loan": [100, 200, 300, 400],
            "income": [1000.0, 300.0, np.nan, 800.0],
            "opened": ["03/04/2021", "13/04/2021", "01/05/2021", "02/05/2021"],
            "closed": ["04/04/2021", "13/04/2021", None, "01/06/2021"],
        }
    )
    constraints = ConstraintSet(rules, schema).fit(real)
    assert constraints.valid(real).tolist() == [True, False, True, True]
    violations = constraints.violations(real)
    assert violations["loan <= 0.5 * income"].tolist() == [False, True, False, False]
    assert violations["opened < closed"].tolist() == [False, True, False, False]  # a tie breaks "strict"
    assert constraints.violation_rates(real) == {"loan <= 0.5 * income": 0.25, "opened < closed": 0.25}
    # day-first dates are read in the column's format: 03/04 is the 3rd of April, before the 4th
    stamps = pd.DataFrame(
        {"loan": [1], "income": [9.0], "opened": [pd.Timestamp("2021-04-03")], "closed": ["02/04/2021"]}
    )
    assert constraints.valid(stamps).tolist() == [False]


def test_fixed_combinations_learned_and_enforced_by_redrawing_when_not_merged():
    schema = TableSchema(
        columns=[Column(name="grade", kind="categorical"), Column(name="code", kind="integer")], target="grade"
    )
    real = pd.DataFrame({"grade": ["A", "B", "C", "A"], "code": [1, 2, 3, 1]})
    constraints = ConstraintSet([{"type": "fixed_combinations", "columns": ["grade", "code"]}], schema).fit(real)
    assert constraints.reparametrised == {}  # the target keeps its own column
    sampled = pd.DataFrame({"grade": ["A", "A", "C", None, "D"], "code": [1.0, 2.0, 3.0, 2.0, 1.0]})
    assert constraints.valid(sampled).tolist() == [True, False, True, True, False]
    assert constraints.condition_values("grade", "A") == ("grade", ["A"])


def test_merged_fixed_combinations_and_conditions_on_them():
    schema = infer_schema(
        pd.DataFrame({"state": ["CA", "CA", "NY", "NY"], "zip": ["900xx", "917xx", "100xx", "100xx"]})
    )
    real = pd.DataFrame({"state": ["CA", "CA", "NY", "NY"], "zip": ["900xx", "917xx", "100xx", "100xx"]})
    constraints = ConstraintSet([{"type": "fixed_combinations", "columns": ["state", "zip"]}], schema).fit(real)
    assert constraints.condition_values("state", "CA") == ("state", ['["CA", "900xx"]', '["CA", "917xx"]'])
    assert constraints.condition_values("zip", "100xx") == ("state", ['["NY", "100xx"]'])
    with pytest.raises(InputError, match="cannot condition on 'b'"):
        schema2 = _numbers_schema(a=("integer", None), b=("integer", None))
        gaps = ConstraintSet([{"type": "inequality", "low": "a", "high": "b"}], schema2)
        gaps.fit(pd.DataFrame({"a": [1], "b": [2]})).condition_values("b", 2)


def test_unique_rates_and_the_tracker_across_chunks():
    schema = TableSchema(
        columns=[Column(name="k", kind="categorical", nullable=True), Column(name="n", kind="integer")]
    )
    frame = pd.DataFrame({"k": ["a", "b", "a", None, None, "b"], "n": [1, 1, 1, 2, 2, 2]})
    constraints = ConstraintSet(
        [{"type": "unique", "columns": ["k", "n"]}, {"type": "unique", "columns": ["n"]}], schema
    )
    constraints.fit(frame)
    assert constraints.unique == [["k", "n"], ["n"]]
    assert constraints.valid(frame).all()  # unique is no row-local rule
    rates = constraints.violation_rates(frame)
    assert rates["unique (k, n)"] == pytest.approx(1 / 6)  # the second (a, 1); rows with a missing value never
    assert rates["unique n"] == pytest.approx(4 / 6)
    tracker = UniqueTracker(constraints)
    assert tracker.admit(pd.DataFrame({"k": ["a", "a", "c"], "n": [1, 1, 2]})).tolist() == [True, False, True]
    assert tracker.admit(pd.DataFrame({"k": ["x", "y"], "n": [1.0, 3.0]})).tolist() == [False, True]


# -- state -----------------------------------------------------------------------------------------------
def test_state_is_json_and_round_trips(lending, lending_schema, fitted):
    schema, constraints = lending_schema, fitted
    state = json.loads(json.dumps(constraints.get_state(), allow_nan=False))
    restored = ConstraintSet.from_state(state, schema)
    sample = _shuffled(constraints.encode(lending.head(3000)), seed=3)
    pd.testing.assert_frame_equal(restored.decode(sample), constraints.decode(sample))
    assert restored.model_schema(schema) == constraints.model_schema(schema)
    shuffled = _shuffled(lending.head(3000), seed=4)
    assert restored.violation_rates(shuffled) == constraints.violation_rates(shuffled)
    assert restored.labels == constraints.labels


def test_a_malformed_state_is_a_model_file_error(lending_schema):
    schema = lending_schema
    with pytest.raises(ModelFileError, match="constraints state"):
        ConstraintSet.from_state({"format": 1, "specs": [{"type": "unique"}]}, schema)
    with pytest.raises(ModelFileError, match="unknown constraints format"):
        ConstraintSet.from_state({"format": 99}, schema)


# -- errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"type": "expression", "expression": "loan_amnt <= 0.8 * annual_inc and loan_amt > 0"},
            "constraint 2 (expression 'loan_amnt <= 0.8 * annual_inc and loan_amt > 0'): unknown column "
            "'loan_amt'; did you mean 'loan_amnt'?",
        ),
        (
            {"type": "inequality", "low": "loan_amnt", "high": "anual_inc"},
            "constraint 2 (inequality loan_amnt <= anual_inc): unknown column 'anual_inc'; did you mean 'annual_inc'?",
        ),
        (
            {"type": "inequality", "low": "loan_amnt", "high": "addr_state"},
            "'addr_state' is a categorical column",  # fit finds its values are not numbers
        ),
        ({"type": "expression", "expression": "`annual inc` > 0"}, "(a name with spaces or symbols goes in backticks"),
        ({"type": "unique", "columns": ["zzz"]}, "unknown column 'zzz'; the data has: loan_amnt, term"),
        ({"type": "fixed_combinations", "columns": ["addr_state", "zipcode"]}, "did you mean 'zip_code'?"),
    ],
)
def test_clear_errors_name_the_constraint_and_column(lending, lending_schema, rule, message):
    rules = [{"type": "unique", "columns": ["revol_bal"]}, rule]
    with pytest.raises(InputError) as caught:
        ConstraintSet(rules, lending_schema, source="recipe.yaml").fit(lending.head(500))
    assert str(caught.value).startswith("recipe.yaml: constraint 2 (")
    assert message in str(caught.value)


def test_kinds_that_cannot_be_compared_are_refused():
    schema = TableSchema(
        columns=[
            Column(name="n", kind="integer"),
            Column(name="d", kind="datetime"),
            Column(name="who", kind="pii"),
            Column(name="grade", kind="categorical"),
        ]
    )
    with pytest.raises(InputError, match="an inequality compares two numbers or two datetimes"):
        ConstraintSet([{"type": "inequality", "low": "n", "high": "d"}], schema)
    with pytest.raises(InputError, match="compare datetimes with an inequality"):
        ConstraintSet([{"type": "expression", "expression": "d > 0"}], schema)
    with pytest.raises(InputError, match="'who' is a pii column, which is regenerated"):
        ConstraintSet([{"type": "fixed_combinations", "columns": ["n", "who"]}], schema)
    numbers_as_codes = ConstraintSet([{"type": "expression", "expression": "grade <= n"}], schema)
    with pytest.raises(
        DataError, match=r"'grade' is a categorical column with values that are not numbers \(such as 'A'"
    ):
        numbers_as_codes.fit(pd.DataFrame({"n": [1], "d": ["2020-01-01"], "who": ["x"], "grade": ["A"]}))
    codes = numbers_as_codes.fit(
        pd.DataFrame({"n": [1, 2], "d": ["2020-01-01"] * 2, "who": ["x", "y"], "grade": [1, 3]})
    )
    assert codes.valid(pd.DataFrame({"n": [1, 2], "grade": [1, 3]})).tolist() == [True, False]


def test_unfitted_use_and_missing_columns_are_errors():
    schema = _numbers_schema(a=("integer", None), b=("integer", None))
    constraints = ConstraintSet([{"type": "inequality", "low": "a", "high": "b"}], schema)
    with pytest.raises(NotFittedError):
        constraints.encode(pd.DataFrame({"a": [1], "b": [2]}))
    constraints.fit(pd.DataFrame({"a": [1], "b": [2]}))
    with pytest.raises(DataError, match="constraint 1 .*: the rows have no column 'b'"):
        constraints.valid(pd.DataFrame({"a": [1]}))


def test_recipe_constraints_validate_with_the_line_at_fault():
    recipe = parse_recipe(
        "name: x\nsource: a.csv\nconstraints:\n  - {type: inequality, low: a, high: b, strict: true}\n"
        "  - {type: expression, expression: 'a <= 0.8 * `b c`'}\n  - {type: fixed_combinations, columns: [s, z]}\n"
    )
    assert [c.type for c in recipe.constraints] == ["inequality", "expression", "fixed_combinations"]
    with pytest.raises(RecipeError, match=r"r.yaml:5: constraints.1.expression.expression: unexpected end"):
        parse_recipe(
            "name: x\nsource: a.csv\nconstraints:\n  - {type: unique, columns: [a]}\n  - {type: expression, "
            "expression: 'a <= 0.8 *'}\n",
            source="r.yaml",
        )
    with pytest.raises(RecipeError, match=r"r.yaml:4: constraints.0.inequality: .*low and high are the same column"):
        parse_recipe("name: x\nsource: a.csv\nconstraints:\n  - {type: inequality, low: a, high: a}\n", source="r.yaml")
    with pytest.raises(RecipeError, match=r"constraints.0.fixed_combinations.columns: List should have at least 2"):
        parse_recipe("name: x\nsource: a.csv\nconstraints:\n  - {type: fixed_combinations, columns: [a]}\n")


def test_a_recipe_with_constraints_loads_without_torch(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: x\nsource: a.csv\nconstraints:\n  - {type: expression, expression: 'a <= 2 * b'}\n")
    code = (
        "import sys, synthgen; from synthgen.constraints import ConstraintSet; r = synthgen.load_recipe(sys.argv[1]); "
        "print(','.join(m for m in ('torch', 'sklearn', 'scipy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
