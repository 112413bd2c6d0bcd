import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthgen.errors import DataError, InputError
from synthgen.io import detect_delimiter, read_json, read_table, write_json, write_table


def test_parquet_and_csv_round_trip(tmp_path, mixed_frame):
    for name in ("t.csv", "t.parquet"):
        write_table(mixed_frame, tmp_path / name)
        back = read_table(tmp_path / name)
        assert list(back.columns) == list(mixed_frame.columns) and len(back) == len(mixed_frame)


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


# -- delimiter detection and duplicate names ---------------------------------------------------


@pytest.mark.parametrize("sep", [";", "\t", "|", ","])
def test_delimiter_is_detected(tmp_path, sep):
    path = tmp_path / "t.csv"
    rows = "\n".join(f"{i}{sep}A{sep}{i * 1.5}" for i in range(30))
    path.write_text(sep.join(["id", "grade", "amount"]) + "\n" + rows + "\n")
    frame = read_table(path)
    assert list(frame.columns) == ["id", "grade", "amount"]
    assert frame["amount"].iloc[3] == 4.5


def test_semicolon_file_with_european_decimals_keeps_its_columns(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("name;rate;city\nAnna;1,5;Köln\nBo;2,25;Graz\n", encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["name", "rate", "city"]
    assert frame["rate"].tolist() == ["1,5", "2,25"], "decimal commas stay text: the schema decides"


def test_delimiters_inside_quotes_do_not_fool_detection(tmp_path):
    path = tmp_path / "q.csv"
    rows = "\n".join(f'{i},"note; with; semicolons | and pipes",{i}' for i in range(20))
    path.write_text(f"id,note,value\n{rows}\n")
    assert list(read_table(path).columns) == ["id", "note", "value"]


def test_utf8_bom_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffage;income\n30;100\n40;200\n".encode("utf-8"))
    assert list(read_table(path).columns) == ["age", "income"]


def test_one_column_csv_stays_one_column(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("score\n1.5\n2.5\n")
    assert list(read_table(path).columns) == ["score"]
    assert detect_delimiter("score\n1.5\n") == ","


def test_ragged_semicolon_file_is_an_error_not_one_column(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a;b;c\n" + "1;2;3\n" * 10 + "1;2;3;4;5\n")
    with pytest.raises(DataError, match="not a readable CSV"):
        read_table(path)


def test_delimiter_sample_is_bounded_and_cut_at_a_line(tmp_path):
    path = tmp_path / "big.csv"
    line = "x" * 50 + ";" + "é" * 40 + "\n"  # multibyte characters across the 64 KiB cut
    path.write_text("a;b\n" + line * 3000, encoding="utf-8")
    frame = read_table(path)
    assert list(frame.columns) == ["a", "b"] and len(frame) == 3000


@pytest.mark.parametrize("header", ["age,income,age", "age;income;age", "age,age,income,income"])
def test_duplicate_csv_columns_are_refused(tmp_path, header):
    path = tmp_path / "dup.csv"
    sep = ";" if ";" in header else ","
    path.write_text(header + "\n" + sep.join(str(i) for i in range(header.count(sep) + 1)) + "\n")
    with pytest.raises(DataError, match=r"duplicate column name\(s\) 'age'") as info:
        read_table(path)
    assert str(path) in str(info.value)


def test_duplicate_parquet_columns_are_refused(tmp_path):
    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4])], names=["age", "age"])
    pq.write_table(table, path)
    with pytest.raises(DataError, match=r"dup.parquet: duplicate column name\(s\) 'age'"):
        read_table(path)


# -- JSON ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, message",
    [(None, "file not found"), ('{"a": ', "not valid JSON \\(line 1"), (b"\xff\xfe{}", "not a UTF-8 text file")],
)
def test_read_json_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "state.json"
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_json(path)
    assert str(path) in str(info.value)


def test_json_round_trip(tmp_path):
    path = write_json({"rows": 3, "names": ["Иван"]}, tmp_path / "m" / "meta.json")
    assert read_json(path) == {"rows": 3, "names": ["Иван"]}
    assert json.loads(path.read_text(encoding="utf-8"))["rows"] == 3


# -- values as the file wrote them (issue 13) ---------------------------------------------------


def _csv_fields(path, column):
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def test_zero_padded_codes_keep_their_padding(tmp_path):
    from synthgen.schema import ColumnKind, infer_schema

    path = tmp_path / "codes.csv"
    codes = [f"{i % 37 * 271:05d}" for i in range(200)]
    path.write_text("branch,amount\n" + "".join(f"{c},{i}\n" for i, c in enumerate(codes)))
    frame = read_table(path)
    assert frame["branch"].tolist() == codes and frame["amount"].dtype == "int64"
    assert infer_schema(frame)["branch"].kind is ColumnKind.CATEGORICAL
    write_table(frame, tmp_path / "back.csv")
    assert _csv_fields(tmp_path / "back.csv", "branch") == codes


def test_padding_is_seen_in_lines_far_from_the_head(tmp_path):
    path = tmp_path / "late.csv"
    rows = [f"{i},{10000 + i % 80000}\n" for i in range(40_000)]
    rows[27_000:33_000] = [f"{i},{i % 9000:05d}\n" for i in range(27_000, 33_000)]  # far past the first 64 KiB
    path.write_text("n,zip\n" + "".join(rows))
    frame = read_table(path)
    assert frame["zip"].dtype == object and frame["n"].dtype == "int64"
    assert frame["zip"].iloc[0] == "10000" and frame["zip"].iloc[27_005] == "00005"


def test_missing_spellings_stay_text_in_text_columns_only(tmp_path):
    path = tmp_path / "na.csv"
    lines = [
        f"{['10+ years', '< 1 year', 'n/a'][i % 3]},{'NA' if i % 5 == 0 else i},{'' if i % 4 == 0 else 'x'},"
        f"{'null' if i % 7 == 0 else ['True', 'False'][i % 2]},{'N/A' if i % 6 == 0 else f'2021-01-{i % 28 + 1:02d}'}\n"
        for i in range(60)
    ]
    path.write_text("emp_length,count,note,flag,opened\n" + "".join(lines))
    frame = read_table(path)
    assert (frame["emp_length"] == "n/a").sum() == 20 and frame["emp_length"].notna().all()
    assert frame["count"].isna().sum() == 12 and frame["count"].dtype == "Int64"
    assert frame["note"].isna().sum() == 15, "an empty field is always missing"
    assert frame["flag"].isna().sum() == 9 and set(frame["flag"].dropna()) == {True, False}
    assert frame["opened"].isna().sum() == 10


def test_missing_spellings_in_free_text_or_identifiers_stay_missing(tmp_path):
    path = tmp_path / "contacts.csv"
    lines = [f"{'N/A' if i % 10 == 0 else f'user{i}@example.org'},{['A', 'B'][i % 2]}\n" for i in range(60)]
    path.write_text("email,grade\n" + "".join(lines))
    assert read_table(path)["email"].isna().sum() == 6, "a placeholder for a missing e-mail, not a value"


def test_whole_numbers_with_blanks_and_decimals_with_trailing_zeros_are_written_back(tmp_path):
    from synthgen.schema import infer_schema
    from synthgen.transforms.values import ValueCodec

    path = tmp_path / "loans.csv"
    months = ["" if i % 3 == 0 else str(i % 80) for i in range(100)]
    rates = [f"{5 + i % 40 * 0.25:.2f}" for i in range(100)]
    mixed = [str(1000 * i) if i % 2 else f"{1000 * i + 0.5}" for i in range(100)]
    path.write_text(
        "mths_since_delinq,rate,income\n" + "".join(f"{m},{r},{x}\n" for m, r, x in zip(months, rates, mixed))
    )
    frame = read_table(path)
    assert frame["mths_since_delinq"].dtype == "Int64"  # pandas alone: float64, written back "35.0"
    assert frame["rate"].tolist() == rates  # text, so "7.50" is not written "7.5"
    schema = infer_schema(frame)
    out = {}
    for name in frame.columns:
        codec = ValueCodec(schema[name]).fit(frame[name])
        out[name] = codec.from_float(codec.to_float(frame[name]))
    write_table(pd.DataFrame(out), tmp_path / "back.csv")
    for name, source in (("mths_since_delinq", months), ("rate", rates), ("income", mixed)):
        assert _csv_fields(tmp_path / "back.csv", name) == source, name
