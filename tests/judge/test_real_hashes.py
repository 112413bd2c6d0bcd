"""The exact checks over every real row when the judge scores samples of a larger table (`RealHashes`).

A streamed source is judged on uniform samples of its training and holdout parts. Attacked: a model that
copies training records *outside* the judged sample. The samples alone never see those copies; with every
real row's record hash the verbatim checks must fail, and an honest release must still pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import InputError
from synthgen.judge import GateSettings, RealHashes
from synthgen.judge.gate import verbatim_checks
from synthgen.judge.inputs import prepare
from synthgen.judge.privacy import row_hashes, verbatim_records
from synthgen.judge.release_gate import evaluate_release

from .scenarios import FAST, shuffled, split, unique_training_rows


@pytest.fixture(scope="module")
def credit(credit_df):
    """credit_risk as a "large" table: 12,000 training and 3,000 holdout rows, judged on samples of 3,000 and
    750 of them; 17,000 other real rows as an honest release."""
    full_train, full_holdout, other = split(credit_df, [12_000, 3_000, 17_000], seed=7)
    rng = np.random.default_rng(0)
    in_sample = np.sort(rng.choice(len(full_train), 3_000, replace=False))
    train = full_train.iloc[in_sample].reset_index(drop=True)
    holdout = full_holdout.iloc[np.sort(rng.choice(len(full_holdout), 750, replace=False))].reset_index(drop=True)
    return full_train, full_holdout, other, train, holdout, in_sample


def _batches(full_train: pd.DataFrame, full_holdout: pd.DataFrame, rows: int, seed: int = 1):
    """The real table as a source reads it: both parts interleaved, cut into batches of ``rows``."""
    table = pd.concat([full_train, full_holdout], ignore_index=True)
    held = np.r_[np.zeros(len(full_train), bool), np.ones(len(full_holdout), bool)]
    order = np.random.default_rng(seed).permutation(len(table))
    table, held = table.iloc[order].reset_index(drop=True), held[order]
    for begin in range(0, len(table), rows):
        yield table.iloc[begin : begin + rows], held[begin : begin + rows]


@pytest.fixture(scope="module")
def hashes(credit, credit_schema) -> RealHashes:
    full_train, full_holdout, *_ = credit
    return RealHashes.of_batches(_batches(full_train, full_holdout, 4_096), credit_schema.modelled)


def _leaky(credit, credit_schema, copies: int = 60) -> pd.DataFrame:
    """The honest release plus ``copies`` training records unique in the real data, none in the judged sample."""
    full_train, full_holdout, other, *_, in_sample = credit
    unique = np.setdiff1d(unique_training_rows(full_train, full_holdout, credit_schema), in_sample)
    picks = np.random.default_rng(3).choice(unique, copies, replace=False)
    return shuffled(pd.concat([other, full_train.iloc[picks]], ignore_index=True), 4)


def _verbatim(credit, schema, release: pd.DataFrame, hashes: RealHashes | None) -> dict:
    *_, train, holdout, _ = credit
    t = prepare(train, holdout, release, schema)
    return {c.name: c for c in verbatim_checks(GateSettings(), verbatim_records(t, hashes))}


def test_hashes_are_every_rows_record_on_its_side_whatever_the_batches(credit, credit_schema, hashes):
    full_train, full_holdout, *_ = credit
    t = prepare(full_train, full_holdout, full_holdout, credit_schema)
    for mine, whole in ((hashes.train, t.train), (hashes.holdout, t.holdout)):
        assert np.array_equal(np.sort(mine), np.sort(row_hashes(whole, t.columns)))
    other = RealHashes.of_batches(_batches(full_train, full_holdout, 15_000, seed=9), credit_schema.modelled)
    assert np.array_equal(np.sort(other.train), np.sort(hashes.train))


def test_copies_outside_the_judged_sample_fail_only_with_every_rows_hash(credit, credit_schema, hashes):
    leaky = _leaky(credit, credit_schema)
    blind = _verbatim(credit, credit_schema, leaky, None)
    assert blind["verbatim_records"].status == "passed"  # the gap: the sample never sees these borrowers
    seen = _verbatim(credit, credit_schema, leaky, hashes)
    assert seen["verbatim_unique_records"].status == "failed", seen["verbatim_unique_records"].detail
    assert seen["verbatim_records"].status == "failed" and seen["verbatim_unique_records"].value >= 60
    honest = _verbatim(credit, credit_schema, credit[2], hashes)
    assert all(c.status == "passed" for c in honest.values()), [c.detail for c in honest.values()]


def test_the_gate_on_samples_uses_every_rows_hash_in_memory_and_in_parts(credit, credit_schema, hashes):
    *_, train, holdout, _ = credit
    leaky = _leaky(credit, credit_schema)
    parts = [(len(p), lambda p=p: leaky.iloc[p].reset_index(drop=True)) for p in np.array_split(np.arange(17_060), 4)]
    result = evaluate_release(
        train, holdout, parts, credit_schema, FAST, device="cpu", sample_rows=3_000, real_hashes=hashes
    )
    assert {"verbatim_records", "verbatim_unique_records"} <= set(result.report.gate.failing)
    privacy = result.report.privacy
    assert privacy.verbatim.real_rows == 15_000 and privacy.verbatim.synthetic_rows == 17_060
    assert any("over all 12,000 training and 3,000 holdout rows" in note for note in privacy.notes)


def test_hashes_of_another_table_or_split_are_refused(credit, credit_schema, hashes):
    full_train, full_holdout, other, train, holdout, _ = credit
    t = prepare(train, holdout, other, credit_schema)
    swapped = RealHashes(hashes.holdout, hashes.train)
    with pytest.raises(InputError, match="of the 3,000 train rows judged are not among the 3,000 real train rows"):
        verbatim_records(t, swapped)
