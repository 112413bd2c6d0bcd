from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from synthgen.errors import DataError
from synthgen.io import write_table
from synthgen.tablewriter import TableWriter

# -- streaming tables ----------------------------------------------------------------------------


def _chunks(frame: pd.DataFrame, size: int):
    return [frame.iloc[i : i + size] for i in range(0, len(frame), size)]


def _write_chunks(frame: pd.DataFrame, path: Path, size: int) -> int:
    with TableWriter(path) as writer:
        for chunk in _chunks(frame, size):
            writer.write(chunk)
    return writer.rows


def _rich_frame(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "amount": rng.normal(0, 1e6, n),
            "count": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "flag": rng.random(n) < 0.5,
            "name": rng.choice(["Иван", "王伟", "José", "a,b", 'q"uote', "line\nbreak", "😀"], n),
            "stamp": pd.Timestamp("2021-03-15") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
            "day": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        }
    )
    frame.loc[rng.random(n) < 0.2, "count"] = pd.NA
    frame.loc[rng.random(n) < 0.1, "stamp"] = pd.NaT
    frame.loc[rng.random(n) < 0.1, "name"] = None
    frame.loc[rng.random(n) < 0.1, "amount"] = np.nan
    return frame


@pytest.mark.parametrize("size", [1, 7, 64, 1000])
def test_csv_bytes_do_not_depend_on_chunking(tmp_path, mixed_frame, size):
    for frame in (mixed_frame, _rich_frame()):
        one, many = tmp_path / "one.csv", tmp_path / "many.csv"
        write_table(frame, one)
        assert _write_chunks(frame, many, size) == len(frame)
        assert one.read_bytes() == many.read_bytes()


def test_csv_datetime_text_stays_what_pandas_writes(tmp_path, mixed_frame):
    path = write_table(mixed_frame, tmp_path / "t.csv")
    assert path.read_bytes() == mixed_frame.to_csv(index=False).encode("utf-8")
    frame = _rich_frame()
    path = write_table(frame, tmp_path / "r.csv")
    assert path.read_bytes() == frame.to_csv(index=False).encode("utf-8")


def test_csv_datetimes_finer_in_a_later_chunk_are_rewritten_not_truncated(tmp_path):
    stamps = ["2021-01-01", "2021-01-02", "2021-01-02 10:30:00.250"]
    frame = pd.DataFrame({"t": pd.to_datetime(stamps, format="ISO8601")})
    _write_chunks(frame, tmp_path / "t.csv", 2)
    assert (tmp_path / "t.csv").read_text().splitlines() == [
        "t",
        "2021-01-01 00:00:00.000",
        "2021-01-02 00:00:00.000",
        "2021-01-02 10:30:00.250",
    ]


@pytest.mark.parametrize("size", [5, 64, 1000])
def test_parquet_reads_back_equal_whatever_the_chunking(tmp_path, mixed_frame, size):
    for frame in (mixed_frame, _rich_frame()):
        one, many = tmp_path / "one.parquet", tmp_path / "many.parquet"
        write_table(frame, one)
        _write_chunks(frame, many, size)
        pd.testing.assert_frame_equal(pd.read_parquet(one), pd.read_parquet(many))
        pd.testing.assert_frame_equal(pd.read_parquet(many), frame.reset_index(drop=True))


def test_parquet_later_chunks_converted_to_the_first_schema(tmp_path):
    first = pd.DataFrame({"n": np.array([1, 2], dtype="int64"), "s": ["a", "b"], "b": [True, False]})
    nulls = pd.DataFrame({"n": [np.nan, np.nan], "s": [None, None], "b": [None, None]})
    floats = pd.DataFrame({"n": [3.0, np.nan], "s": ["c", None], "b": [True, None]})
    nullable = pd.DataFrame({"n": pd.array([5, None], dtype="Int64"), "s": ["d", "e"], "b": [False, True]})
    path = tmp_path / "t.parquet"
    with TableWriter(path) as writer:
        for chunk in (first, nulls, floats, nullable):
            writer.write(chunk)
    assert writer.rows == 8
    table = pq.read_table(path)
    assert table.schema.field("n").type == pa.int64() and table.schema.field("b").type == pa.bool_()
    assert table.column("n").to_pylist() == [1, 2, None, None, 3, None, 5, None]
    assert table.column("s").to_pylist() == ["a", "b", None, None, "c", None, "d", "e"]
    assert table.column("b").to_pylist() == [True, False, None, None, True, None, False, True]


def test_parquet_column_null_in_the_first_chunk_takes_its_later_type(tmp_path):
    path = tmp_path / "t.parquet"
    with TableWriter(path) as writer:
        writer.write(pd.DataFrame({"a": [1, 2], "note": [None, None]}))
        writer.write(pd.DataFrame({"a": [3], "note": ["late text"]}))
    table = pq.read_table(path)
    assert table.schema.field("note").type == pa.string()
    assert table.column("note").to_pylist() == [None, None, "late text"]


def test_parquet_value_that_does_not_fit_names_the_column(tmp_path):
    path = tmp_path / "t.parquet"
    with pytest.raises(DataError, match=r"t.parquet: column 'n' has float64 values that do not fit the type int64"):
        with TableWriter(path) as writer:
            writer.write(pd.DataFrame({"n": [1, 2]}))
            writer.write(pd.DataFrame({"n": [1.5, 2.0]}))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupted_stream_leaves_nothing(tmp_path, suffix, error):
    path = tmp_path / "out" / f"t{suffix}"
    with pytest.raises(error):
        with TableWriter(path) as writer:
            writer.write(pd.DataFrame({"a": range(100)}))
            raise error()
    assert list(tmp_path.iterdir()) == []


def test_stream_refuses_changing_or_duplicate_columns_and_empty_streams(tmp_path):
    with pytest.raises(DataError, match="a chunk has columns"):
        with TableWriter(tmp_path / "t.csv") as writer:
            writer.write(pd.DataFrame({"a": [1], "b": [2]}))
            writer.write(pd.DataFrame({"a": [1], "c": [2]}))
    with TableWriter(tmp_path / "r.csv") as writer:  # same names in another order are aligned
        writer.write(pd.DataFrame({"a": [1], "b": [2]}))
        writer.write(pd.DataFrame({"b": [4], "a": [3]}))
    assert (tmp_path / "r.csv").read_text() == "a,b\n1,2\n3,4\n"
    with pytest.raises(DataError, match=r"duplicate column name\(s\) 'a'"):
        write_table(pd.DataFrame([[1, 2]], columns=["a", "a"]), tmp_path / "d.csv")
    with pytest.raises(DataError, match="nothing to write"):
        with TableWriter(tmp_path / "e.parquet"):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


_cells = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.text(max_size=6),
)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    columns=st.lists(st.lists(_cells, min_size=12, max_size=12), min_size=1, max_size=4),
    seconds=st.lists(st.integers(0, 10**9), min_size=12, max_size=12),
    size=st.integers(1, 13),
)
def test_csv_chunking_property(tmp_path, columns, seconds, size):
    frame = pd.DataFrame({f"c{i}": pd.Series(values, dtype=object) for i, values in enumerate(columns)})
    frame["when"] = pd.Timestamp("2000-01-01") + pd.to_timedelta(seconds, unit="s")
    write_table(frame, tmp_path / "one.csv")
    _write_chunks(frame, tmp_path / "many.csv", size)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "many.csv").read_bytes()
