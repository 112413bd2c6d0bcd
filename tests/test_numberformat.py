"""Numbers written as text come back byte for byte: learned as numbers, written in the source's format."""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd
import pydantic
import pytest

from synthgen.errors import DataError, RecipeError
from synthgen.io import read_table, write_table
from synthgen.numberformat import NumberFormat, format_numbers, learn_number_format, parse_numbers
from synthgen.recipe import parse_recipe
from synthgen.schema import ColumnKind, ColumnSpec, TableSchema, infer_schema
from synthgen.transforms.discrete import OneHotEncoder
from synthgen.transforms.values import ValueCodec

from .conftest import CREDIT_RISK, GERMAN, ROOT

LENDING_CLUB = ROOT / "recipes" / "data" / "lending_club.csv"
SHARED = {"german_credit": GERMAN, "credit_risk": CREDIT_RISK, "lending_club": LENDING_CLUB}


@pytest.fixture(scope="module")
def lending() -> pd.DataFrame:
    return read_table(LENDING_CLUB)


def _round_trip(values: list[str | None], fmt: NumberFormat) -> list[str | None]:
    numbers, bad = parse_numbers(pd.Series(values, dtype=object), fmt)
    assert not bad.any()
    return list(format_numbers(numbers, fmt))


# -- learning a format ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["83.70%", "9.40%", "63%", None, "0%"], {"suffix": "%", "decimals": 2, "trailing_zeros": "drop_if_whole"}),
        (["13.5%", "7.9%", "10.99%", "8%"], {"suffix": "%", "decimals": 2, "trailing_zeros": "drop"}),
        (["36 months", "60 months", "48 months"], {"suffix": " months"}),
        ([" 36 months", " 60 months", None], {"prefix": " ", "suffix": " months"}),
        (["$1,234.50", "$12.00", "-$5.25", "$1,000,000.00"], {"prefix": "$", "thousands": ",", "decimals": 2}),
        (["$-5.25", "$12.00"], {"prefix": "$", "decimals": 2, "sign": "after_prefix"}),
        (["1,234", "56", "1,000,000"], {"thousands": ","}),
        (["1.234,5", "12,25", "7"], {"thousands": ".", "decimal_mark": ",", "decimals": 2, "trailing_zeros": "drop"}),
        (["1,5", "2,25"], {"decimal_mark": ",", "decimals": 2, "trailing_zeros": "drop"}),
        (["1 234 €", "56 €"], {"thousands": " ", "suffix": " €"}),
        (["USD 1,200", "USD 35"], {"prefix": "USD ", "thousands": ","}),
        (["00123", "04567", "12345"], {"width": 5}),
        (["24000", "42656.4", "77385.19"], {"decimals": 2, "trailing_zeros": "drop"}),
        (["7.50", "10.00", "-0.25"], {"decimals": 2}),
    ],
)
def test_format_is_learned_and_writes_every_value_back(values, expected):
    fmt = learn_number_format(pd.Series(values, dtype=object))
    assert fmt == NumberFormat(**expected)
    assert _round_trip(values, fmt) == values, "parse then format gives the source text, missing stays missing"


@pytest.mark.parametrize(
    "values",
    [
        ["860xx", "070xx", "945xx"],  # masked zips: letters glued to the digits make a code
        ["10+ years", "< 1 year", "2 years", "n/a"],  # one spelling per level, not one number pattern
        ["A12", "B13"],
        ["INV-100", "INV-101"],
        ["1.5%", "1.50%"],  # two layouts of one column: no single format writes both back
        ["5", "007"],  # padding on some values only
        ["1-2", "3-4"],
        ["(5.00)", "6.00"],
        ["12345678901234567"],  # beyond a float's 15 exact digits: an account number, not a quantity
        ["1e5", "2e3"],
    ],
)
def test_codes_and_mixed_layouts_have_no_format(values):
    assert learn_number_format(pd.Series(values, dtype=object)) is None


def test_numbers_and_booleans_have_no_format():
    assert learn_number_format(pd.Series([1.5, 2.5])) is None
    assert learn_number_format(pd.Series([True, False])) is None
    assert learn_number_format(pd.Series([None, None], dtype=object)) is None


def test_writing_rounds_pads_and_never_writes_minus_zero():
    money = NumberFormat(prefix="$", thousands=",", decimals=2)
    assert list(format_numbers([-0.001, -5, 1234.5, 1e6, np.nan, np.inf], money)) == [
        "$0.00",
        "-$5.00",
        "$1,234.50",
        "$1,000,000.00",
        None,
        None,
    ]
    assert list(format_numbers([-7, 12, 123456], NumberFormat(width=5))) == ["-00007", "00012", "123456"]
    european = NumberFormat(thousands=".", decimal_mark=",", decimals=1)
    assert list(format_numbers([1234567.25], european)) == ["1.234.567,2"]  # ties to even, as the codec rounds
    assert money.example() == "$1,234.50"


def test_parsing_is_lenient_about_decimals_and_separators_but_not_decorations():
    fmt = NumberFormat(prefix="$", thousands=",", decimals=2)
    numbers, bad = parse_numbers(pd.Series(["$1,234.5", "$1234", "-$3", "1,234.50", "$1,234.50 ", None, 7]), fmt)
    assert numbers[:3].tolist() == [1234.5, 1234.0, -3.0] and numbers[6] == 7.0
    assert bad.tolist() == [False, False, False, True, True, False, False]
    assert np.isnan(numbers[3:6]).all()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sufix": "%"}, "Extra inputs are not permitted"),
        ({"thousands": ".", "decimal_mark": "."}, "both '.'"),
        ({"width": 5, "thousands": ","}, "cannot be combined"),
        ({"prefix": "US1"}, "may not contain digits"),
        ({"decimals": 20}, "less than or equal to 12"),
        ({"trailing_zeros": "strip"}, "'keep', 'drop' or 'drop_if_whole'"),
    ],
)
def test_bad_formats_are_refused(fields, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        NumberFormat(**fields)


# -- inference --------------------------------------------------------------------------------------
def test_lending_club_formats_are_inferred(lending):
    schema = infer_schema(lending, target="loan_status")
    revol = schema["revol_util"]
    assert revol.kind is ColumnKind.NUMERIC and revol.nullable and revol.rounding == 2
    assert revol.format == NumberFormat(suffix="%", decimals=2, trailing_zeros="drop_if_whole")
    income = schema["annual_inc"]  # "24000" beside "42656.4": pandas would have written "24000.0"
    assert income.kind is ColumnKind.NUMERIC and income.format == NumberFormat(decimals=2, trailing_zeros="drop")
    # Two whole values are a code, as for plain integers (MAX_CODES_AS_CATEGORIES): learned as a number,
    # term would also come out as "52 months". Declared integer, it is a formatted number.
    assert schema["term"].kind is ColumnKind.CATEGORICAL and schema["term"].format is None
    declared = infer_schema(lending, declared={"term": ColumnSpec(kind=ColumnKind.INTEGER)})
    assert declared["term"].kind is ColumnKind.INTEGER and declared["term"].format == NumberFormat(suffix=" months")
    for name in ("emp_length", "zip_code", "home_ownership"):
        assert schema[name].kind is ColumnKind.CATEGORICAL and schema[name].format is None
    assert TableSchema.from_json_dict(schema.to_json_dict()) == schema


def test_percent_and_currency_columns_are_numbers():
    rng = np.random.default_rng(0)
    rates = rng.uniform(5, 25, 300).round(2)
    amounts = rng.uniform(500, 40_000, 300).round(2)
    frame = pd.DataFrame(
        {
            "int_rate": [f"{r:.2f}%" for r in rates],
            "funded": [f"${a:,.2f}" for a in amounts],
            "fee": [f"{a / 100:.1f} €".replace(".", ",") for a in amounts],
            "grade": rng.choice(list("ABC"), 300),
        }
    )
    frame.loc[::17, "funded"] = None
    schema = infer_schema(frame)
    assert schema["int_rate"].format == NumberFormat(suffix="%", decimals=2)
    assert schema["funded"].format == NumberFormat(prefix="$", thousands=",", decimals=2)
    assert schema["funded"].nullable and schema["funded"].kind is ColumnKind.NUMERIC
    assert schema["fee"].format == NumberFormat(suffix=" €", decimal_mark=",", decimals=1)
    for name in ("int_rate", "funded", "fee"):
        codec = ValueCodec(schema[name]).fit(frame[name])
        back = codec.from_float(codec.to_float(frame[name]))
        pd.testing.assert_series_equal(back, frame[name], check_names=False)
    codec = ValueCodec(schema["int_rate"]).fit(frame["int_rate"])
    assert codec.from_float(np.array([12.3456, 1e9, -3.0, np.nan])).tolist()[:3] == [
        "12.35%",
        frame["int_rate"].iloc[int(np.argmax(rates))],  # clipped to the range seen
        frame["int_rate"].iloc[int(np.argmin(rates))],
    ]


def test_codes_and_identifiers_written_as_digits_stay_what_they_were():
    n = 100
    frame = pd.DataFrame(
        {
            "branch": [f"{i % 40:05d}" for i in range(n)],  # zero-padded: a code
            "reference": [str(10_000_000 + 7 * i) for i in range(n)],  # bare digits, one per row
            "loan_id": [f"{i + 1}" for i in range(n)],
        }
    )
    schema = infer_schema(frame)
    assert schema["branch"].kind is ColumnKind.CATEGORICAL
    assert schema["reference"].kind is ColumnKind.PII
    assert schema["loan_id"].kind is ColumnKind.ID


# -- declared formats -------------------------------------------------------------------------------
def test_declared_format_must_read_every_value():
    frame = pd.DataFrame({"revol_util": ["83.70%", "9.40%", "12.5", None] * 10})
    with pytest.raises(DataError) as info:
        infer_schema(frame, declared={"revol_util": ColumnSpec(format=NumberFormat(suffix="%"))}, source="lc.csv")
    message = str(info.value)
    assert message.startswith("lc.csv: column 'revol_util': value '12.5' (data row 3) does not fit")
    assert "'1234%'" in message and "schema.columns.revol_util.format" in message


def test_declared_format_makes_a_number_and_declared_kind_learns_the_format():
    frame = pd.DataFrame({"term": [" 36 months", " 60 months"] * 20})
    schema = infer_schema(frame, declared={"term": ColumnSpec(format=NumberFormat(prefix=" ", suffix=" months"))})
    assert schema["term"].kind is ColumnKind.INTEGER
    schema = infer_schema(frame, declared={"term": ColumnSpec(kind=ColumnKind.NUMERIC)})
    assert schema["term"].format == NumberFormat(prefix=" ", suffix=" months") and schema["term"].rounding == 0


def test_declared_number_over_text_in_no_one_format_names_a_value():
    frame = pd.DataFrame({"rate": ["5%", "7%", "n/a", "8.5%"] * 10})
    with pytest.raises(DataError, match=r"d\.csv: column 'rate' is declared numeric .*'n/a' \(data row 3\)"):
        infer_schema(frame, declared={"rate": ColumnSpec(kind=ColumnKind.NUMERIC)}, source="d.csv")
    mixed = pd.DataFrame({"rate": ["5.5%", "7.50%", "8%"] * 10})  # readable, though in no exact format
    schema = infer_schema(mixed, declared={"rate": ColumnSpec(kind=ColumnKind.NUMERIC)})
    assert schema["rate"].format == NumberFormat(suffix="%", decimals=2, trailing_zeros="drop")


def test_format_fits_only_numbers():
    with pytest.raises(pydantic.ValidationError, match="applies to numeric and integer columns"):
        ColumnSpec(kind=ColumnKind.CATEGORICAL, format=NumberFormat(suffix="%"))


def _recipe(columns: str) -> str:
    return f"name: x\nsource: a.csv\nschema:\n  columns:\n{columns}"


def test_recipe_spelling_of_a_format():
    fmt = '{suffix: "%", decimals: 2, trailing_zeros: drop_if_whole}'
    recipe = parse_recipe(_recipe(f"    revol_util:\n      kind: numeric\n      format: {fmt}\n"))
    assert recipe.schema_.columns["revol_util"].format == NumberFormat(
        suffix="%", decimals=2, trailing_zeros="drop_if_whole"
    )
    with pytest.raises(RecipeError, match=r"columns\.revol_util\.format\.sufix: unknown key \(did you mean 'suffix'"):
        parse_recipe(_recipe('    revol_util: {format: {sufix: "%"}}\n'))
    with pytest.raises(RecipeError, match=r"format: .*numeric and integer columns, not to a categorical column"):
        parse_recipe(_recipe('    grade: {kind: categorical, format: {suffix: "%"}}\n'))


def test_checks_before_training_accept_formatted_columns(lending):
    from synthgen.datacheck import check_learnable, clean_non_finite, column_widths

    assert clean_non_finite(lending, {}, source="lc.csv") is lending
    declared = {"revol_util": ColumnSpec(kind=ColumnKind.NUMERIC, non_finite="missing")}
    assert clean_non_finite(lending, declared, source="lc.csv") is lending
    schema = infer_schema(lending, target="loan_status")
    check_learnable(lending, schema, "lc.csv", 0.2, memory_bytes=10**15)
    assert column_widths(lending, schema)["revol_util"] == 12, "a number (10 modes and missing), not 1,090 levels"


# -- the judge reads numbers, not their spelling -----------------------------------------------------
def test_judge_reads_formatted_columns_with_the_schema_format(lending):
    from synthgen.judge.inputs import prepare

    rows = lending.iloc[:300].reset_index(drop=True)
    schema = infer_schema(rows)
    synthetic = rows.copy()
    tables = prepare(rows.iloc[:200], rows.iloc[200:], synthetic, schema)
    expected = pd.to_numeric(rows["revol_util"].str.rstrip("%")).to_numpy()
    np.testing.assert_array_equal(tables.synthetic["revol_util"].to_numpy(), expected)
    assert tables.train["annual_inc"].dtype == np.float64
    synthetic.loc[7, "revol_util"] = "0.837"
    with pytest.raises(DataError, match=r"column 'revol_util' \(numeric\) of the synthetic table .*format.*'0\.837'"):
        prepare(rows.iloc[:200], rows.iloc[200:], synthetic, schema)


# -- the round trip over every column of every shared dataset --------------------------------------
def _raw_csv(path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


@pytest.mark.parametrize("name", sorted(SHARED))
def test_every_column_of_every_shared_dataset_is_written_back_byte_exact(name, tmp_path):
    """read_table -> infer_schema -> each column to the numbers (or categories) a generator learns and
    back -> write_table: the file holds the source's bytes in every field of every column."""
    path = SHARED[name]
    frame = read_table(path)
    schema = infer_schema(frame)
    written = {}
    for column in schema:
        values = frame[column.name]
        if column.kind.is_continuous:
            codec = ValueCodec(column).fit(values)
            written[column.name] = codec.from_float(codec.to_float(values))
        elif column.kind.is_discrete:
            encoder = OneHotEncoder(column).fit(values, np.random.default_rng(0))
            written[column.name] = encoder.inverse([encoder.codes(values)])
        else:
            written[column.name] = values  # ids and PII are regenerated, never learned
    out = write_table(pd.DataFrame(written), tmp_path / f"{name}.csv")
    header, source = _raw_csv(path)
    header_back, back = _raw_csv(out)
    assert header_back == header and len(back) == len(source)
    for i, column in enumerate(header):
        differ = [(a[i], b[i]) for a, b in zip(source, back) if a[i] != b[i]]
        kind = schema[column].kind.value
        assert not differ, f"{name}.{column} ({kind}): {len(differ)} values differ, e.g. {differ[:3]}"


# -- end to end -------------------------------------------------------------------------------------
def test_a_generator_writes_lending_club_formats_and_the_judge_reads_them(lending):
    import synthgen

    rows = lending.sample(600, random_state=0).reset_index(drop=True)
    train, holdout = rows.iloc[:500], rows.iloc[500:]
    schema = infer_schema(rows, target="loan_status")
    small = {"width": 64, "depth": 2, "batch_size": 256, "sampling_steps": 10, "device": "cpu", "lr": 3e-3}
    synthetic = synthgen.DDPM(steps=60, seed=0, **small).fit(train, schema).sample(400, seed=1)
    revol = synthetic["revol_util"].dropna()
    assert revol.str.fullmatch(r"\d+(\.\d{2})?%").all() and not revol.str.fullmatch(r"\d+\.00%").any()
    assert len(set(revol) - set(lending["revol_util"].dropna())) > 0, "new values, not only seen strings"
    assert synthetic["annual_inc"].map(lambda v: bool(re.fullmatch(r"\d+(\.\d{1,2})?", v))).all()
    assert not synthetic["annual_inc"].str.fullmatch(r"\d+\.(\d0|0)").any(), "trailing zeros dropped as the source does"
    assert set(synthetic["term"]) <= {"36 months", "60 months"}
    assert set(synthetic["emp_length"].dropna()) <= set(lending["emp_length"])
    report = synthgen.evaluate(train, holdout, synthetic, schema)
    shapes = {shape.column: shape for shape in report.fidelity.columns}
    assert shapes["revol_util"].kind == "numeric" and shapes["revol_util"].metric == "KSComplement"
    assert shapes["revol_util"].score is not None and shapes["revol_util"].out_of_range_share == 0.0
