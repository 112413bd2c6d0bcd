"""The release gate on a release held in parts, attacked: copies diluted in a large release, near-copies,
copies of the rarest borrowers, a leak in one part or spread over every part must fail; an honest
independent sample in many parts must pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgen.judge import GateSettings
from synthgen.judge.release_gate import evaluate_release, part_gates, record_checks, sample_positions
from synthgen.judge.release_records import RecordIndex

from .scenarios import FAST, split

PARTS = 8


@pytest.fixture(scope="module")
def credit(credit_df):
    """credit_risk: 6,000 train, 6,000 holdout, and 20,000 other real rows as an honest release (credit_risk
    repeats rows: this release reproduces about 40 training records by itself)."""
    return split(credit_df, [6_000, 6_000, 20_000], seed=5)


@pytest.fixture(scope="module")
def index(credit, credit_schema):
    train, holdout, _ = credit
    return RecordIndex.build(train, holdout, credit_schema, FAST, near_copy_quantile=0.01)


def _parts(frame: pd.DataFrame, parts: int = PARTS) -> list[tuple[int, object]]:
    return [
        (len(p), lambda p=p: frame.iloc[p].reset_index(drop=True)) for p in np.array_split(np.arange(len(frame)), parts)
    ]


def _verdicts(index, release: pd.DataFrame, parts: int = PARTS):
    """(whole-release record checks, per-part failing check names) as `evaluate_release` computes them."""
    gates = GateSettings()
    records = [index.part(frame()) for _, frame in _parts(release, parts)]
    each = part_gates(gates, parts)
    per_part = [[c.name for c in record_checks(each, index, [r]) if c.status == "failed"] for r in records]
    whole = {c.name: c for c in record_checks(gates, index, records)}
    return whole, per_part


def _with(honest: pd.DataFrame, leaked: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``leaked`` rows scattered at random positions among the honest ones."""
    out = pd.concat([honest, leaked], ignore_index=True)
    return out.iloc[np.random.default_rng(seed).permutation(len(out))].reset_index(drop=True)


def test_an_honest_release_in_parts_passes_the_whole_gate(credit, credit_schema):
    train, holdout, other = credit
    result = evaluate_release(train, holdout, _parts(other), credit_schema, FAST, device="cpu", sample_rows=3_000)
    gate = result.report.gate
    assert result.passed, gate.failing
    assert result.failing_parts == [] and len(result.parts) == PARTS and result.release_rows == 20_000
    assert result.sample_rows == 3_000 and result.report.run.synthetic_rows == 3_000
    assert result.report.privacy.verbatim.synthetic_rows == 20_000  # the record checks saw every row
    names = {c.name: c for c in gate.checks}
    assert names["shard_records"].status == "passed" and names["verbatim_records"].status == "passed"


def test_copies_diluted_in_a_large_release_fail_by_record(credit, index):
    train, _, other = credit
    copies = train.sample(60, random_state=0)  # 0.3 % of the rows: no share check on a sample sees them
    whole, _ = _verdicts(index, _with(other, copies))
    assert whole["verbatim_records"].status == "failed", whole["verbatim_records"].detail
    assert whole["verbatim_unique_records"].status == "failed"
    assert whole["verbatim_records"].value >= 60  # each copy counted, wherever it lies


def test_a_leak_spread_one_copy_per_part_is_counted_whole(credit, index):
    train, _, other = credit
    pieces = np.array_split(np.arange(len(other)), 40)
    release = pd.concat([pd.concat([other.iloc[p], train.iloc[[i, 40 + i]]]) for i, p in enumerate(pieces)])
    whole, per_part = _verdicts(index, release.reset_index(drop=True), parts=40)
    assert whole["verbatim_records"].status == "failed", whole["verbatim_records"].detail
    assert sum(bool(p) for p in per_part) <= 2  # two copies in 500 rows: hardly any part fails on its own


def test_a_leak_in_one_part_names_that_part(credit, credit_schema):
    train, holdout, other = credit
    release = other.copy()
    release.iloc[5_000:5_060] = train.iloc[:60].to_numpy()  # rows 5,000-5,059: the third of 8 parts
    result = evaluate_release(train, holdout, _parts(release), credit_schema, FAST, device="cpu", sample_rows=3_000)
    assert not result.passed and result.failing_parts == [2]
    assert "shard_records" in result.report.gate.failing and "verbatim_records" in result.report.gate.failing


def test_near_copies_fail(credit, index):
    train, _, other = credit
    near = train.sample(150, random_state=1).copy()
    near["loan_amnt"] = near["loan_amnt"] + 25  # no verbatim copy: only closeness sees these
    whole, per_part = _verdicts(index, _with(other, near))
    assert whole["verbatim_records"].status == "passed"
    assert whole["near_copy_records"].status == "failed", whole["near_copy_records"].detail


def test_copies_of_the_rarest_borrowers_fail(credit, index):
    train, _, other = credit
    rarest = train.iloc[index.order_train[:20]].copy()  # the most isolated training records: easy to single out
    whole, _ = _verdicts(index, _with(other, rarest))
    assert whole["exposed_copies"].status == "failed", whole["exposed_copies"].detail
    # the release is larger than the real table: by density alone it comes closer than their nearest real
    # neighbour to most isolated records, and the copies do not stand out there, nor among verbatim records
    assert whole["exposed_records"].status == "passed" and whole["verbatim_unique_records"].status == "passed"
    rarest["loan_amnt"] = rarest["loan_amnt"] + 25  # near-copies of them
    assert _verdicts(index, _with(other, rarest))[0]["exposed_copies"].status == "failed"


def test_honest_parts_pass_at_the_corrected_confidence(credit, index):
    _, _, other = credit
    whole, per_part = _verdicts(index, other, parts=40)
    assert per_part == [[]] * 40
    assert all(c.status != "failed" for c in whole.values())


def test_part_confidence_is_bonferroni_and_the_sample_is_uniform_over_parts():
    gates = part_gates(GateSettings(verbatim_confidence=0.99, exposed_confidence=None), 400)
    assert gates.verbatim_confidence == pytest.approx(1 - 0.01 / 400) and gates.exposed_confidence is None
    taken = sample_positions([100, 300, 600], 500, seed=0)
    again, other = sample_positions([100, 300, 600], 500, seed=0), sample_positions([100, 300, 600], 500, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(taken, again))
    assert not all(len(a) == len(b) and np.array_equal(a, b) for a, b in zip(taken, other))
    assert sum(len(t) for t in taken) == 500 and all(t.max() < n for t, n in zip(taken, [100, 300, 600]))
    assert 0.4 < len(taken[2]) / 500 < 0.8  # about 60 % from the part holding 60 % of the rows
    assert [len(t) for t in sample_positions([5, 5], 50, seed=1)] == [5, 5]  # a small release: all of it
