"""The record checks of a release judged part by part equal the whole release's, held at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import DataError
from synthgen.judge.closeness import exposed_records, near_copies, release_distances
from synthgen.judge.privacy import verbatim_records
from synthgen.judge.release_records import RecordIndex

from .scenarios import FAST, split


def _whole(train, holdout, synthetic, schema):
    """The judge's own figures on the whole release in memory (as `evaluate_privacy` computes them)."""
    from synthgen.judge.encoding import RowEncoder
    from synthgen.judge.inputs import prepare

    t = prepare(train, holdout, synthetic, schema)
    encoder = RowEncoder(t.columns, seed=FAST.seed).fit(t.train)
    d = release_distances(*(encoder.transform(f) for f in (t.train, t.holdout, t.synthetic)), "cpu")
    exposed = exposed_records(d, FAST.exposed_share, FAST.exposed_min_holdout_records)
    return verbatim_records(t), near_copies(d, 0.01), exposed


@pytest.fixture(scope="module")
def leaky_release(german_df, german_schema):
    """An honest sample (other real rows) with copies, near-copies and copies of the most isolated
    training rows mixed in: every record check has something to find."""
    train, holdout, other = split(german_df, [500, 200, 300], seed=3)
    rng = np.random.default_rng(0)
    near = train.sample(20, random_state=1).copy()
    near["credit_amount"] = near["credit_amount"] + 1
    synthetic = pd.concat([other, train.iloc[:15], near, train.iloc[rng.integers(0, 500, 10)]], ignore_index=True)
    synthetic = synthetic.sample(frac=1.0, random_state=2).reset_index(drop=True)
    return train, holdout, synthetic


@pytest.mark.parametrize("parts", [1, 3, 7])
def test_parts_merge_to_the_whole_releases_figures(leaky_release, german_schema, parts):
    train, holdout, synthetic = leaky_release
    whole = _whole(train, holdout, synthetic, german_schema)
    index = RecordIndex.build(train, holdout, german_schema, FAST, near_copy_quantile=0.01)
    pieces = np.array_split(np.arange(len(synthetic)), parts)
    verbatim, near, exposed = index.merge([index.part(synthetic.iloc[p]) for p in pieces])
    assert (verbatim, near, exposed) == whole
    assert verbatim.reproduced >= 15 and near.near_rows >= 20  # the test has something to find


def test_a_part_is_read_as_the_judge_reads_a_table(german_df, german_schema):
    train, holdout, other = split(german_df, [500, 200, 300], seed=3)
    index = RecordIndex.build(train, holdout, german_schema, FAST)
    as_text = train.iloc[:5].astype({"credit_amount": str})  # a Parquet part may carry numbers as text
    assert len(index.part(as_text).found_train) == 5
    with pytest.raises(DataError, match="lacks column"):
        index.part(other.drop(columns=["credit_amount"]))
