import os

import pandas as pd
import pytest

from synthgen.errors import DataError, InputError
from synthgen.io import read_table, write_table


def test_parquet_and_csv_round_trip(tmp_path, mixed_frame):
    for name in ("t.csv", "t.parquet"):
        write_table(mixed_frame, tmp_path / name)
        back = read_table(tmp_path / name)
        assert list(back.columns) == list(mixed_frame.columns) and len(back) == len(mixed_frame)


def test_missing_parent_folder_is_created(tmp_path, mixed_frame):
    path = write_table(mixed_frame, tmp_path / "a" / "b" / "out.csv")
    assert path.exists()
    assert [p.name for p in path.parent.iterdir()] == ["out.csv"], "no temporary file left behind"


def test_failed_write_leaves_nothing(tmp_path):
    class Boom(pd.DataFrame):
        def to_csv(self, *args, **kwargs):  # a crash in the middle of writing
            with open(args[0], "w") as handle:
                handle.write("partial")
            raise OSError(28, "No space left on device")

    with pytest.raises(InputError, match="No space left"):
        write_table(Boom({"a": [1]}), tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_is_input_error(tmp_path, mixed_frame):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions; use a path under a file instead
            target = tmp_path / "file.txt"
            target.write_text("x")
            with pytest.raises(InputError):
                write_table(mixed_frame, target / "out.csv")
        else:
            with pytest.raises(InputError, match="not writable"):
                write_table(mixed_frame, locked / "out.csv")
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("a,b\n", "no rows"),
        ('a,b\n1,2\n3,"4\n', "not a readable CSV"),
        ("a,b\n1,2,3,4\n5,6\n", "not a readable CSV"),
    ],
)
def test_bad_csv_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="unsupported file type"):
        read_table(tmp_path / "data.xlsx")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1garbage")
    with pytest.raises(DataError, match="cannot read parquet"):
        read_table(tmp_path / "bad.parquet")
