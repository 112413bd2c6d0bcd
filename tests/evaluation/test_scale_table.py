"""The 1M x 50 table of `evaluation.scale_table`, built small: its shape, its kinds and its determinism."""

from __future__ import annotations

import pandas as pd

from evaluation.scale_table import build
from synthgen.schema import infer_schema
from synthgen.sources import ParquetSource


def test_the_table_has_50_columns_in_parts_and_is_seeded(tmp_path):
    figures = build(tmp_path / "a", rows=3001, parts=3)
    assert figures["columns"] == 50 and figures["rows"] == 3001
    source = ParquetSource(tmp_path / "a" / "parts")
    assert len(source.files) == 3 and source.rows == 3001
    build(tmp_path / "b", rows=3001, parts=3)
    first = pd.read_parquet(tmp_path / "a" / "parts")
    pd.testing.assert_frame_equal(first, pd.read_parquet(tmp_path / "b" / "parts"))
    schema = infer_schema(first, target="loan_status")
    kinds = [c.kind.is_discrete for c in schema.modelled]
    assert len(kinds) == 50 and sum(kinds) >= 18
    assert first["c11"].nunique() > 500  # the 1,000-level branch
