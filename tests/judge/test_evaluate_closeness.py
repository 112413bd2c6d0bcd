"""Near-copies, exposed records and attacks that see every training row and every released row (issue 12).

Patterns built from the bundled datasets: near-copies (numerics moved by 1 %, a category changed in 10 % of
rows) as a share of the release and of every training row diluted in 20x honest rows, and near-copies of
the most isolated training records. Honest releases (real rows the generator never saw) must pass at any
size.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import betabinom, hypergeom

from synthgen.judge import GateSettings, neighbours
from synthgen.judge.closeness import (
    ReleaseDistances,
    exposed_records,
    near_copies,
    release_distances,
)
from synthgen.judge.encoding import RowEncoder
from synthgen.judge.gate import exposed_check, exposed_copies_check, near_copy_checks, record_allowance
from synthgen.judge.inputs import prepare
from synthgen.judge.neighbours import cross_minima, nearest, rounding

from .scenarios import (
    diluted,
    near_copy,
    resample,
    run,
    split,
    with_near_copies,
)


def checks(report) -> dict:
    return {c.name: c for c in report.gate.checks}


def closeness_verdicts(train, holdout, release, schema, gates=None) -> dict:
    """The release-wide closeness checks alone (encoding + two nearest-neighbour passes)."""
    gates = gates or GateSettings()
    t = prepare(train, holdout, release, schema)
    encoder = RowEncoder(t.columns).fit(t.train)
    d = release_distances(*(encoder.transform(f) for f in (t.train, t.holdout, t.synthetic)), device="cpu")
    out = {c.name: c for c in near_copy_checks(gates, near_copies(d, gates.near_copy_quantile))}
    exposed = exposed_records(d, 0.02, 10)
    out["exposed_records"] = exposed_check(gates, exposed)
    out["exposed_copies"] = exposed_copies_check(gates, exposed)
    return out


# --------------------------------------------------------------------------------- the pieces
@pytest.mark.parametrize("block_bytes", [None, 64 << 10])
def test_cross_minima_gives_both_directions_of_the_nearest_neighbour_search(block_bytes, monkeypatch):
    """Also with cache-sized blocks small enough that the reference rows span several blocks, the last one
    partial, and the excluded diagonal crosses block boundaries."""
    if block_bytes is not None:
        monkeypatch.setattr(neighbours, "CPU_BLOCK_BYTES", block_bytes)
        assert neighbours.ref_block(torch.device("cpu"), 64, torch.float32) == 256
    rng = np.random.default_rng(0)
    refs = rng.random((700, 9)).astype(np.float32)
    queries = rng.random((1_300, 9)).astype(np.float32)
    queries[:5] = refs[10:15]
    row, col = cross_minima(queries, refs, block_rows=64 if block_bytes else 256)
    slack = rounding(queries, refs)
    assert np.abs(row**2 - nearest(queries, refs)[0][:, 0] ** 2).max() <= slack
    assert np.abs(col**2 - nearest(refs, queries)[0][:, 0] ** 2).max() <= slack
    assert (row[:5] ** 2 <= slack).all() and (col[10:15] ** 2 <= slack).all()  # copies: 0 up to rounding
    refs[20] = refs[21]  # a duplicate is not isolated
    own = cross_minima(refs, refs, block_rows=64 if block_bytes else 128, exclude_self=True)[0]
    assert np.abs(own**2 - nearest(refs, refs, k=2)[0][:, 1] ** 2).max() <= slack and own[20] ** 2 <= slack


def test_too_close_to_call_is_recomputed_exactly(german_df, german_schema):
    """A released row equal to the holdout row that sets the radius is not inside it, whatever float32 does;
    a copy of a training row is at exactly 0."""
    train, holdout, other = split(german_df, [400, 200, 400], seed=0)
    t = prepare(train, holdout, other, german_schema)
    encoder = RowEncoder(t.columns).fit(t.train)
    enc_t, enc_h = encoder.transform(t.train), encoder.transform(t.holdout)
    d0 = release_distances(enc_t, enc_h, encoder.transform(t.synthetic), device="cpu")
    nc = near_copies(d0, 0.01)
    at_radius = int(np.flatnonzero(d0.holdout_to_train == nc.radius)[0])
    release = np.vstack([enc_h[[at_radius] * 50], enc_t[:3]])  # 50 rows at the radius, 3 copies
    d = release_distances(enc_t, enc_h, release, device="cpu")
    again = near_copies(d, 0.01)
    assert again.radius == nc.radius and again.near_rows == 3
    assert (d.exact(d.synth_to_train, 0.0, release, enc_t)[50:] == 0).all()  # recomputed in float64


def _distances(**parts) -> ReleaseDistances:
    return ReleaseDistances(**{k: np.asarray(v, dtype=float) for k, v in parts.items()})


def test_near_copy_radius_is_the_holdouts_own_quantile_and_counts_are_strict():
    d = _distances(
        synth_to_train=[0.0, 0.05, 0.1, 0.2, 0.5],
        train_to_synth=[0.0, 0.5, 0.1],
        holdout_to_synth=[0.09, 0.5] + [1.0] * 198,
        holdout_to_train=[0.1, 0.4] + [1.0] * 198,
        train_isolation=[1, 1, 1],
        holdout_isolation=[1] * 200,
    )
    nc = near_copies(d, quantile=0.01)
    assert nc.rank == 2 and nc.radius == 0.4  # the 2nd smallest of 200 holdout distances
    assert nc.near_rows == 4 and nc.training_covered == 2 and nc.holdout_covered == 1
    assert near_copies(d, quantile=0.004).rank == 0  # 200 rows cannot give a 0.4 % quantile


def test_near_copies_not_estimable_names_the_holdout_needed():
    d = _distances(
        synth_to_train=[0.1] * 50,
        train_to_synth=[0.1] * 40,
        holdout_to_synth=[0.1] * 12,
        holdout_to_train=[0.1] * 12,
        train_isolation=[1] * 40,
        holdout_isolation=[1] * 12,
    )
    for c in near_copy_checks(GateSettings(), near_copies(d, 0.01)):
        assert c.status == "not estimable" and "at least 100 rows" in c.detail


def test_near_copy_allowance_carries_the_holdouts_error_and_settles_as_the_release_grows():
    """Beta-binomial: the allowed share converges (it does not shrink towards q and raise false alarms)."""
    gates = GateSettings()
    shares = []
    for rows in (1_000, 30_000, 1_000_000):
        allowed = betabinom.ppf(gates.near_copy_confidence, rows, 15, 1_500 - 15 + 1)
        shares.append(allowed / rows)
    assert shares[0] > shares[1] > shares[2] > 0.018  # about the 99.9 % quantile of Beta(15, 1486)


def test_record_allowance_is_the_exact_hypergeometric_bound():
    assert record_allowance(6_000, 1_500, 100, 0.999) == hypergeom.ppf(0.999, 7_500, 6_000, 100)
    assert record_allowance(400, 200, 0, 0.999) == 0
    # an independent sample marks 4 of 5 records in proportion: well inside
    assert record_allowance(4_000, 1_000, 500, 0.999) > 400


def test_exposed_records_take_the_same_share_of_each_table_by_index():
    isolation_t = np.arange(400, dtype=float)
    isolation_h = np.arange(200, dtype=float)
    d = _distances(
        synth_to_train=[1.0],
        train_to_synth=np.where(np.arange(400) >= 395, 0.0, 1e9),  # the 5 most isolated: exposed
        holdout_to_synth=np.full(200, 1e9),
        holdout_to_train=np.ones(200),
        train_isolation=isolation_t,
        holdout_isolation=isolation_h,
    )
    ex = exposed_records(d, share=0.02, min_holdout_records=10)
    assert len(ex.holdout) == 10 and len(ex.training) == 20  # at least 10 holdout; the same share of train
    assert [r.index for r in ex.training[:3]] == [399, 398, 397]  # row positions, never values
    assert ex.training_exposed == 5 and ex.holdout_exposed == 0
    c = exposed_check(GateSettings(), ex)
    assert c.status == "passed"  # 5 of 20 against 0 of 10: not beyond chance at 99.9 %
    d.train_to_synth[:] = np.where(np.arange(400) >= 380, 0.0, 1e9)
    c = exposed_check(GateSettings(), exposed_records(d, share=0.02, min_holdout_records=10))
    assert c.status == "failed" and c.value == 20  # all 20, none of the holdout's: refused


def test_too_few_isolated_holdout_records_are_not_estimable():
    d = _distances(
        synth_to_train=[1.0],
        train_to_synth=np.zeros(20),
        holdout_to_synth=np.zeros(2),
        holdout_to_train=np.ones(2),
        train_isolation=np.ones(20),
        holdout_isolation=np.ones(2),
    )
    c = exposed_check(GateSettings(), exposed_records(d, share=0.02, min_holdout_records=10))
    assert c.status == "not estimable" and "larger holdout" in c.detail


# ------------------------------------------------------------------------------- attacks
def test_every_training_row_is_a_member_candidate(german_independent, credit_independent):
    for scenario in (german_independent, credit_independent):
        p = scenario.report.privacy
        assert p.members == len(scenario.train) and p.non_members == len(scenario.holdout)


def test_the_distance_attack_sees_every_released_row(german_df, german_schema):
    """One near-copy per training row, diluted so the attacks' subsample would almost never hold it."""
    from synthgen.judge import EvaluateSettings

    train, holdout, other = split(german_df, [400, 200, 400], seed=5)
    release = diluted(near_copy(train, np.arange(len(train)), german_schema, seed=6), other, 20, seed=7)
    settings = EvaluateSettings(
        mia_synthetic_max_rows=400,
        detection_max_rows=200,
        detection_folds=2,
        utility_max_rows=400,
        precision_recall_max_rows=200,
        bootstrap=20,
    )
    report = run(train, holdout, release, german_schema, settings=settings).report
    distance = next(a for a in report.privacy.attacks if a.name == "distance")
    assert report.privacy.attack_synthetic_rows == 400 and distance.auc > 0.9


# ------------------------------------------------------------------------------- patterns
@pytest.fixture(scope="module")
def german_near_copies(german_df, german_schema):
    train, holdout, other = split(german_df, [400, 200, 400], seed=0)
    return run(train, holdout, with_near_copies(train, other, german_schema, 0.10, seed=3), german_schema)


def test_ten_percent_near_copies_fail_on_german_credit(german_near_copies):
    report = german_near_copies.report
    assert not report.gate.passed
    assert {"near_copies", "near_copy_records"} <= set(report.gate.failing)
    assert report.privacy.verbatim.reproduced == 0  # no row is an exact copy: hashing alone would pass it
    c = checks(report)["near_copies"]
    assert c.value == pytest.approx(0.10, abs=0.02) and c.threshold < 0.06


def test_near_copies_of_every_training_row_diluted_20x_fail_by_record(german_df, german_schema):
    train, holdout, other = split(german_df, [400, 200, 400], seed=1)
    release = diluted(near_copy(train, np.arange(len(train)), german_schema, seed=2), other, 20, seed=3)
    verdicts = closeness_verdicts(train, holdout, release, german_schema)
    c = verdicts["near_copy_records"]
    assert c.status == "failed" and c.value > 350 and c.threshold < 0.8 * 400


def test_two_percent_near_copies_fail_on_credit_risk(credit_df, credit_schema):
    train, holdout, other = split(credit_df, [6_000, 1_500, 6_000], seed=1)
    release = with_near_copies(train, other, credit_schema, 0.02, seed=3)
    verdicts = closeness_verdicts(train, holdout, release, credit_schema)
    assert verdicts["near_copies"].status == "failed" and verdicts["near_copy_records"].status == "failed"


def test_release_size_does_not_change_an_honest_closeness_verdict(german_df, german_schema):
    """(credit_risk at 1x and 20x: the false-alarm run, evaluation/results/gate_false_alarms.json.)"""
    df, schema = german_df, german_schema
    train, holdout, other = split(df, [400, 200, 400], seed=2)
    once = closeness_verdicts(train, holdout, other, schema)
    twenty = closeness_verdicts(train, holdout, resample(other, 20 * len(train), seed=2), schema)
    for name in ("near_copies", "near_copy_records", "exposed_records"):
        assert once[name].status == twenty[name].status == "passed", (name, once[name].detail, twenty[name].detail)


def test_the_report_shows_the_exposed_records_by_index(german_near_copies):
    from synthgen.judge.html import _exposed_section, _memorisation_section

    section = _exposed_section(german_near_copies.report)
    assert "Exposed records" in section and "data:image/png;base64," in section  # the plot
    assert "below the line = exposed" not in section  # its title is in the picture, not the page
    page = _memorisation_section(german_near_copies.report)
    assert "near_copy_records" in page and "no honest padding hides these" in page
    ex = german_near_copies.report.privacy.exposed
    assert ex is not None and all(isinstance(r.index, int) for r in ex.training)
