"""The index of kept calls: an entry answers only while every file behind it holds the same bytes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from synthgen.io import write_table
from synthgen.kept_calls import MISSING, CallIndex

CALL = {"recipe": "/r/tiny.yaml", "rows": 5, "seed": 1, "conditions": {"age": (30, None)}, "model": None}


@pytest.fixture
def kept(tmp_path: Path) -> tuple[CallIndex, list[Path], pd.DataFrame]:
    """An index with one entry, resting on a recipe file, a data file and a folder that does not exist."""
    index = CallIndex(tmp_path / "cache")
    recipe, data = tmp_path / "tiny.yaml", tmp_path / "data.csv"
    recipe.write_text("name: tiny\n")
    data.write_text("a\n1\n")
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    rows_file = write_table(frame, tmp_path / "cache" / "samples" / "abc.parquet")
    files = [recipe, data, tmp_path / "preferred" / "state.json"]
    index.record(CALL, rows_file=rows_file, model=tmp_path / "model", rows=3, seed=1, files=files)
    return index, files, frame


def test_same_call_same_files_gets_the_rows(kept: tuple[CallIndex, list[Path], pd.DataFrame], tmp_path: Path) -> None:
    index, _, frame = kept
    found = CallIndex(tmp_path / "cache").find(dict(CALL))  # a new process's index: nothing in memory
    assert found is not None
    assert (found.model, found.rows, found.seed) == (tmp_path / "model", 3, 1)
    pd.testing.assert_frame_equal(found.frame, frame)


@pytest.mark.parametrize("change", ["rows", "seed", "conditions", "model"])
def test_another_call_is_not_answered(kept: tuple[CallIndex, list[Path], pd.DataFrame], change: str) -> None:
    index, _, _ = kept
    other = {"rows": 6, "seed": 2, "conditions": {"age": (31, None)}, "model": "/m"}[change]
    assert index.find({**CALL, change: other}) is None


def test_changed_file_missing_file_or_new_file_is_a_miss(
    kept: tuple[CallIndex, list[Path], pd.DataFrame], tmp_path: Path
) -> None:
    index, (recipe, data, preferred), _ = kept
    data.write_text("a\n2\n")  # same size, other bytes
    assert CallIndex(tmp_path / "cache").find(CALL) is None
    data.write_text("a\n1\n")
    assert CallIndex(tmp_path / "cache").find(CALL) is not None
    recipe.unlink()
    assert CallIndex(tmp_path / "cache").find(CALL) is None
    recipe.write_text("name: tiny\n")
    preferred.parent.mkdir()
    preferred.write_text("{}")  # a folder that would be preferred now holds a model
    assert CallIndex(tmp_path / "cache").find(CALL) is None


def test_unreadable_entry_or_rows_is_a_miss(kept: tuple[CallIndex, list[Path], pd.DataFrame], tmp_path: Path) -> None:
    index, _, _ = kept
    (entry,) = (tmp_path / "cache" / "samples" / "calls").iterdir()
    text = entry.read_text()
    entry.write_text(text[: len(text) // 2])
    assert index.find(CALL) is None
    entry.write_text(text)
    (tmp_path / "cache" / "samples" / "abc.parquet").write_bytes(b"not parquet")
    assert index.find(CALL) is None


def test_digests(tmp_path: Path) -> None:
    index = CallIndex(tmp_path)
    assert index.digest(tmp_path / "absent") == MISSING
    (tmp_path / "f").write_bytes(b"abc")
    assert index.digest(tmp_path / "f") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_entry_resting_on_a_folder_never_answers(tmp_path: Path) -> None:
    """A folder's files could change without its digest changing: such an entry is never trusted."""
    index = CallIndex(tmp_path / "cache")
    rows_file = write_table(pd.DataFrame({"a": [1]}), tmp_path / "cache" / "samples" / "r.parquet")
    index.record(CALL, rows_file=rows_file, model=tmp_path, rows=1, seed=1, files=[tmp_path])
    assert index.find(CALL) is None
