"""Conditions, rebalancing and seed rows (issue 13): exactly the rows asked for, or a clear error at once."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from synthgen import CTGAN, DDPM
from synthgen.errors import InputError
from synthgen.sampling import Range, parse_where
from synthgen.schema import infer_schema

SMALL = {"width": 64, "depth": 2, "batch_size": 256, "sampling_steps": 10, "device": "cpu", "lr": 3e-3}


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def loans():
    """Amounts in two modes tied to the grade, states, a default flag tied to the amount, and an id."""
    rng = np.random.default_rng(7)
    n = 3000
    grade = rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1])
    amount = np.where(grade == "A", rng.normal(5_000, 800, n), rng.normal(20_000, 3_000, n)).round(0)
    state = rng.choice(["CA", "TX", "NY", "WA"], n, p=[0.4, 0.3, 0.2, 0.1])
    default = np.where(rng.random(n) < np.where(amount > 12_000, 0.5, 0.05), "Charged Off", "Fully Paid")
    return pd.DataFrame(
        {"loan_id": np.arange(n) + 10_000, "grade": grade, "amount": amount, "state": state, "status": default}
    )


@pytest.fixture(scope="module")
def ddpm(loans):
    return DDPM(steps=800, seed=0, **SMALL).fit(loans, infer_schema(loans, target="status"))


@pytest.fixture(scope="module")
def ctgan(loans):
    return CTGAN(epochs=3, batch_size=500, device="cpu", seed=0).fit(loans, infer_schema(loans, target="status"))


# -- conditions --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["ddpm", "ctgan"])
def test_conditions_give_exactly_the_rows_asked_for(which, request):
    model = request.getfixturevalue(which)
    conditions = {"status": "Charged Off", "state": ["CA", "TX"], "amount": (8_000, None)}
    rows = model.sample(700, seed=1, conditions=conditions)
    assert len(rows) == 700
    assert (rows["status"] == "Charged Off").all() and rows["state"].isin(["CA", "TX"]).all()
    assert (rows["amount"] >= 8_000).all()
    assert rows["loan_id"].is_unique  # ids regenerated as usual
    pd.testing.assert_frame_equal(rows, model.sample(700, seed=1, conditions=conditions))  # seeded


def test_diffusion_holds_conditions_while_denoising_and_keeps_their_relations(ddpm, loans):
    """A condition on the target carries its relation to the other columns (defaulters sit in the high
    amounts, as in the real rows that default); the states keep their real mix among the allowed ones."""
    rows = ddpm.sample(2000, seed=2, conditions={"status": "Charged Off", "state": ["CA", "TX"]})
    real = loans[(loans["status"] == "Charged Off") & loans["state"].isin(["CA", "TX"])]
    assert (rows["amount"] > 12_000).mean() == pytest.approx((real["amount"] > 12_000).mean(), abs=0.1)
    assert (rows["state"] == "CA").mean() == pytest.approx((real["state"] == "CA").mean(), abs=0.06)
    grade_c = ddpm.sample(500, seed=3, conditions={"grade": "C"})
    assert (grade_c["grade"] == "C").all() and (grade_c["amount"] > 12_000).mean() > 0.8


def test_exact_numbers_are_held(ddpm):
    rows = ddpm.sample(300, seed=4, conditions={"amount": [5_000, 21_000]})
    assert set(rows["amount"]) == {5_000, 21_000}
    high = rows[rows["amount"] == 21_000]
    assert (high["grade"] != "A").mean() > 0.8  # the rest of the row is completed around the held value


def test_rebalancing_gives_each_named_category_its_share(ddpm, ctgan):
    for model in (ddpm, ctgan):
        rows = model.sample(1000, seed=5, rebalance={"status": {"Charged Off": 0.5}})
        assert (rows["status"] == "Charged Off").mean() == pytest.approx(0.5, abs=0.005)
    rows = ddpm.sample(1000, seed=5, rebalance={"state": {"WA": 0.25, "NY": 0.25}})
    shares = rows["state"].value_counts(normalize=True)
    assert shares["WA"] == pytest.approx(0.25, abs=0.005) and shares["NY"] == pytest.approx(0.25, abs=0.005)
    assert shares["CA"] > shares["TX"]  # the other rows keep the model's own mix
    assert (ddpm.sample(400, seed=6, target={"Charged Off": 1, "Fully Paid": 3})["status"] == "Charged Off").mean() == (
        pytest.approx(0.25, abs=0.005)
    )


def test_seed_rows_are_completed_by_the_model(ddpm):
    seeds = pd.DataFrame(
        {
            "amount": [4_000.0, 25_000.0, np.nan, 22_000.0],
            "state": ["WA", None, "NY", "CA"],
            "loan_id": [1, 2, None, 4],
        }
    )
    rows = ddpm.sample(seeds, seed=7)
    assert len(rows) == 4 and list(rows.columns) == list(ddpm.schema_.names)
    assert rows["amount"].tolist()[:2] == [4_000, 25_000] and rows["amount"].iloc[3] == 22_000
    assert rows["state"].iloc[0] == "WA" and rows["state"].iloc[2] == "NY" and rows["state"].iloc[3] == "CA"
    assert rows["loan_id"].iloc[0] == 1 and rows["loan_id"].iloc[3] == 4
    assert rows.notna().all().all()
    many = pd.DataFrame({"amount": [25_000.0] * 300})
    assert (ddpm.sample(many, seed=8)["grade"] != "A").mean() > 0.8  # the completion follows the given amount


def test_ctgan_cannot_hold_numbers_and_says_so(ctgan):
    with pytest.raises(InputError, match="CTGAN cannot hold the amount column"):
        ctgan.sample(pd.DataFrame({"amount": [5_000.0]}))
    rows = ctgan.sample(pd.DataFrame({"state": ["WA", "NY"], "grade": ["C", None]}), seed=1)
    assert rows["state"].tolist() == ["WA", "NY"] and rows["grade"].iloc[0] == "C"


# -- what cannot be met ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"state": "ZZ"}, "never holds 'ZZ'"),
        ({"amount": (30_000, 10_000)}, "is empty"),
        ({"amount": {"min": 10**9}}, "outside the values the model learned"),
        ({"statu": "x"}, "did you mean 'status'"),
        ({"loan_id": 3}, "cannot be conditioned"),
        ({"grade": {"min": 1}}, "category column"),
    ],
)
def test_infeasible_conditions_fail_within_a_second(ddpm, conditions, message):
    start = time.perf_counter()
    with pytest.raises(InputError, match=message):
        ddpm.sample(50_000, conditions=conditions)
    assert time.perf_counter() - start < 1.0


def test_rows_too_rare_to_draw_fail_naming_the_acceptance_rate(ctgan, loans):
    """CTGAN holds the grade in its conditional vector; the top of the amounts among grade-A rows is left
    to the check, which gives up as soon as the measured rate says the draw budget cannot be met (never
    a hang, never fewer rows)."""
    top = loans["amount"].max()
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"acceptance rate \d+\.\d+%.*rows still missing"):
        ctgan.sample(2000, seed=1, conditions={"grade": "A", "amount": (top - 300, None)})
    assert time.perf_counter() - start < 10


def test_diffusion_draws_rare_ranges_instead_of_rejecting_them(ddpm, loans):
    top = loans["amount"].max()
    rows = ddpm.sample(300, seed=1, conditions={"amount": (top - 2_000, None)})
    assert (rows["amount"] >= top - 2_000).all() and rows["amount"].nunique() > 30  # spread, not piled at the end
    assert (rows["grade"] != "A").mean() > 0.8


def test_rebalance_and_conditions_are_checked(ddpm):
    with pytest.raises(InputError, match="more than 1"):
        ddpm.sample(10, rebalance={"state": {"CA": 0.7, "TX": 0.6}})
    with pytest.raises(InputError, match="only a discrete"):
        ddpm.sample(10, rebalance={"amount": {1: 0.5}})
    with pytest.raises(InputError, match="both conditioned and rebalanced"):
        ddpm.sample(10, conditions={"state": "CA"}, rebalance={"state": {"CA": 0.5}})
    with pytest.raises(InputError, match="contradicts the conditions"):
        ddpm.sample(pd.DataFrame({"state": ["WA"]}), conditions={"state": ["CA", "TX"]})


# -- the command line's --where ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("loan_status=Charged Off", ("loan_status", "Charged Off")),
        ("addr_state in (CA,TX)", ("addr_state", ["CA", "TX"])),
        ("annual_inc>=50000", ("annual_inc", Range(low="50000"))),
        ("annual_inc > 50000", ("annual_inc", Range(low="50000", low_open=True))),
        ("dti<20", ("dti", Range(high="20", high_open=True))),
        ("amount between 1000 and 5000", ("amount", Range("1000", "5000"))),
        ("'home ownership' = 'RENT'", ("home ownership", "RENT")),
    ],
)
def test_where_clauses(text, expected):
    assert parse_where(text) == expected


@pytest.mark.parametrize("text", ["loan_status", "=x", "state in CA,TX", "state in ()", "a != b", "x >= "])
def test_bad_where_clauses_are_refused(text):
    with pytest.raises(InputError, match="--where"):
        parse_where(text)


def test_where_ranges_apply_open_ends(ddpm):
    column, spec = parse_where("amount > 20000")
    rows = ddpm.sample(200, seed=9, conditions={column: spec})
    assert (rows["amount"] > 20_000).all()


# -- constraints learned and checked by the generators ---------------------------------------------------------
@pytest.fixture(scope="module")
def constrained(loans):
    from synthgen.constraints import ExpressionSpec, FixedCombinationsSpec, InequalitySpec, UniqueSpec

    rng = np.random.default_rng(11)
    frame = loans.copy()
    frame["income"] = (frame["amount"] * rng.uniform(1.3, 4.0, len(frame))).round(0)
    frame["limit"] = frame["amount"] + rng.integers(0, 5_000, len(frame))
    frame["region"] = frame["state"].map({"CA": "west", "WA": "west", "TX": "south", "NY": "east"})
    specs = [
        ExpressionSpec(type="expression", expression="amount <= 0.8 * income"),
        InequalitySpec(type="inequality", low="amount", high="limit"),
        FixedCombinationsSpec(type="fixed_combinations", columns=["state", "region"]),
        UniqueSpec(type="unique", columns=["amount", "income"]),
    ]
    schema = infer_schema(frame, target="status")
    model = DDPM(steps=800, seed=0, **SMALL).fit(frame, schema, constraints=specs)
    return frame, model


def test_constraints_hold_in_every_sampled_row(constrained, tmp_path):
    frame, model = constrained
    rows = model.sample(1500, seed=1)
    assert len(rows) == 1500
    assert all(rate == 0 for rate in model.constraints_.violation_rates(rows).values())
    assert (rows["amount"] <= 0.8 * rows["income"]).all() and (rows["amount"] <= rows["limit"]).all()
    assert not rows.duplicated(["amount", "income"]).any()
    assert set(zip(rows["state"], rows["region"])) <= set(zip(frame["state"], frame["region"]))
    # the constraints travel with the model directory
    from synthgen.models import load_model

    again = load_model(model.save(tmp_path / "m"), device="cpu")
    pd.testing.assert_frame_equal(again.sample(200, seed=2), model.sample(200, seed=2))


def test_conditions_on_reparametrised_columns_are_checked(constrained):
    frame, model = constrained
    rows = model.sample(300, seed=3, conditions={"state": "WA", "limit": (15_000, None), "status": "Charged Off"})
    assert (rows["state"] == "WA").all() and (rows["region"] == "west").all() and (rows["limit"] >= 15_000).all()
    assert (rows["amount"] <= rows["limit"]).all() and (rows["status"] == "Charged Off").all()


def test_ctgan_obeys_the_same_constraints(constrained):
    frame, model = constrained
    ctgan = CTGAN(epochs=2, batch_size=500, device="cpu", seed=0)
    ctgan.fit(frame, model.schema_, constraints=model.constraints_)
    rows = ctgan.sample(600, seed=1, conditions={"region": "west"})
    assert len(rows) == 600 and rows["state"].isin(["CA", "WA"]).all()
    assert all(rate == 0 for rate in ctgan.constraints_.violation_rates(rows).values())


def test_null_rates_are_kept_within_a_point(loans):
    """Missing values are learned like any value: each nullable column's null rate within 1 point."""
    rng = np.random.default_rng(5)
    frame = loans.copy()
    frame.loc[rng.random(len(frame)) < 0.08, "amount"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.15, "state"] = None
    model = DDPM(steps=600, seed=0, **SMALL).fit(frame, infer_schema(frame, target="status"))
    rows = model.sample(4000, seed=1)
    for column in ("amount", "state"):
        assert rows[column].isna().mean() == pytest.approx(frame[column].isna().mean(), abs=0.01), column
