"""Datetimes come back as the source wrote them: format, precision, timezone; missing stays missing."""

import json

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import InputError
from synthgen.schema import Column, ColumnKind, TableSchema, infer_schema
from synthgen.transforms import TableTransformer
from synthgen.transforms.values import ValueCodec, learn_datetime_format, parse_datetimes

COLUMN = Column(name="issued", kind=ColumnKind.DATETIME)


def _codec(values, column=COLUMN):
    return ValueCodec(column).fit(pd.Series(values, dtype=object))


def _round_trip(codec, values):
    return codec.from_float(codec.to_float(pd.Series(values, dtype=object)))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["03/15/2021", "12/01/2020", None, "07/04/2019"], "%m/%d/%Y"),
        (["15/03/2021", "01/12/2020", None], "%d/%m/%Y"),
        (["2021-03-15", "2020-12-01", None], "%Y-%m-%d"),
        (["2021-03-15T10:00:00", "2021-03-16T11:30:05", None], "%Y-%m-%dT%H:%M:%S"),
        (["2021-03-15 10:00:00", "2021-03-16 11:30:05"], "%Y-%m-%d %H:%M:%S"),
        (["20210315", "20201201", None], "%Y%m%d"),
        (["2021-03-15T10:00:00Z", "2021-03-16T23:59:59Z"], "%Y-%m-%dT%H:%M:%SZ"),
        (["2021-03-15T10:00:00.123Z", "2021-03-16T11:00:01.500Z"], "%Y-%m-%dT%H:%M:%S.%3fZ"),
        (["2021-03-15T10:00:00.123456", "2021-03-16T11:00:01.000001"], "%Y-%m-%dT%H:%M:%S.%6f"),
        (["2021-03-15T10:00:00+02:00", "2021-01-15T08:30:00+02:00"], "%Y-%m-%dT%H:%M:%S%:z"),
        (["2021-03-15T10:00:00+0530", "2021-01-15T08:30:00+0530"], "%Y-%m-%dT%H:%M:%S%z"),
        (["3/5/2021", "12/15/2021", None], "%-m/%-d/%Y"),
        (["Mar 15, 2021", "Dec 01, 2020"], "%b %d, %Y"),
    ],
)
def test_each_format_is_learned_and_written_back_exactly(values, expected):
    codec = _codec(values)
    assert codec.format == expected
    back = _round_trip(codec, values)
    present = [v is not None for v in values]
    assert back[present].tolist() == [v for v in values if v is not None]
    assert back[[not p for p in present]].isna().all()


def test_day_first_only_when_a_first_field_exceeds_twelve():
    assert _codec(["03/04/2021", "05/06/2020", "11/12/2019"]).format == "%m/%d/%Y"
    assert _codec(["03/04/2021", "05/06/2020", "25/12/2019"]).format == "%d/%m/%Y"
    many = [f"{m:02d}/{d:02d}/2020" for m in range(1, 13) for d in range(1, 13)] * 10 + ["13/01/2021"]
    assert learn_datetime_format(pd.Series(many))[0] == "%d/%m/%Y", "a value outside the sample decides too"


def test_lending_club_month_year_column():
    months = ["Dec-2011", "Nov-2011", None, "Jan-2012", "Feb-2010", "Dec-2011"]
    codec = _codec(months)
    assert codec.format == "%b-%Y" and codec.datetime_unit == "D"
    assert _round_trip(codec, months).tolist()[:2] == ["Dec-2011", "Nov-2011"]
    generated = codec.from_float(np.random.default_rng(0).uniform(codec.low, codec.high, 500))
    assert generated.str.fullmatch(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-20(10|11|12)").all()
    assert codec.from_float(np.array([np.nan, codec.low])).tolist()[0] is np.nan


def test_generated_values_keep_the_format_precision_and_missing():
    stamps = ["2021-03-15T10:00:00.250Z", "2021-03-18T12:00:00.750Z", None]
    codec = _codec(stamps)
    out = codec.from_float(np.array([codec.low + 0.1234, np.nan, codec.high + 1e6, codec.low - 1e6]))
    assert out.iloc[0] == "2021-03-15T10:00:00.373Z", "rounded to the source's milliseconds"
    assert pd.isna(out.iloc[1])
    assert out.iloc[2] == "2021-03-18T12:00:00.750Z" and out.iloc[3] == "2021-03-15T10:00:00.250Z", "clipped"


def test_mixed_formats_fall_back_to_datetimes():
    values = ["2021-03-15", "03/16/2021", "Mar 17, 2021", None]
    codec = _codec(values)
    assert codec.format is None
    back = _round_trip(codec, values)
    assert pd.api.types.is_datetime64_dtype(back)
    assert back.tolist()[:3] == list(pd.to_datetime(["2021-03-15", "2021-03-16", "2021-03-17"]))
    assert pd.isna(back.iloc[3])


def test_several_offsets_fall_back_to_utc_datetimes():
    values = ["2021-03-15T10:00:00+01:00", "2021-07-15T10:00:00+02:00"]
    codec = _codec(values)
    assert codec.format is None and codec.timezone is None
    assert _round_trip(codec, values).tolist() == [pd.Timestamp("2021-03-15 09:00"), pd.Timestamp("2021-07-15 08:00")]


def test_datetime_dtypes_stay_datetimes_with_their_timezone():
    naive = pd.Series(pd.to_datetime(["2021-03-15 10:00", None, "2021-07-01 12:00"]))
    codec = ValueCodec(COLUMN).fit(naive)
    assert codec.format is None and codec.timezone is None
    pd.testing.assert_series_equal(codec.from_float(codec.to_float(naive)), naive.rename("issued"))

    aware = naive.dt.tz_localize("Europe/Berlin")
    codec = ValueCodec(COLUMN).fit(aware)
    assert codec.timezone == "Europe/Berlin"
    back = codec.from_float(codec.to_float(aware))
    assert str(back.dt.tz) == "Europe/Berlin"
    pd.testing.assert_series_equal(back, aware.rename("issued"), check_dtype=False)


def test_integer_dates_come_back_as_integers():
    values = pd.Series([20210315, 20201201, 20190704])
    codec = ValueCodec(COLUMN).fit(values)
    assert codec.format == "%Y%m%d"
    back = codec.from_float(codec.to_float(values))
    assert back.dtype == np.int64 and back.tolist() == values.tolist()


def test_state_is_json_and_old_state_still_loads():
    values = ["2021-03-15T10:00:00+02:00", "2021-01-15T08:30:00+02:00"]
    codec = _codec(values)
    state = json.loads(json.dumps(codec.get_state()))
    assert state["format"] == "%Y-%m-%dT%H:%M:%S%:z" and state["timezone"] == "+02:00"
    reloaded = ValueCodec.from_state(COLUMN, state)
    assert _round_trip(reloaded, values).tolist() == values

    old = {k: v for k, v in state.items() if k not in ("format", "timezone")}
    legacy = ValueCodec.from_state(COLUMN, old)
    back = legacy.from_float(codec.to_float(pd.Series(values)))
    assert back.tolist() == [pd.Timestamp("2021-03-15 08:00"), pd.Timestamp("2021-01-15 06:30")]


def test_bounds_are_read_in_the_source_format_and_bad_bounds_name_the_column():
    column = Column(name="issued", kind=ColumnKind.DATETIME, min="04/01/2021")
    codec = _codec(["03/15/2021", "06/01/2021"], column)
    assert codec.from_float(np.array([codec.to_float(pd.Series(["03/15/2021"]))[0]])).tolist() == ["04/01/2021"]
    with pytest.raises(InputError, match="'issued'.*max 'soon'"):
        _codec(["03/15/2021"], Column(name="issued", kind=ColumnKind.DATETIME, max="soon"))
    with pytest.raises(InputError, match="'age'.*min 'eighteen'"):
        ValueCodec(Column(name="age", kind=ColumnKind.INTEGER, min="eighteen")).fit(pd.Series([20, 30]))


@pytest.mark.parametrize("encoder", ["mode_specific", "quantile"])
def test_a_table_of_text_dates_round_trips_as_text(encoder):
    rng = np.random.default_rng(0)
    days = pd.to_datetime("2019-01-01") + pd.to_timedelta(rng.integers(0, 900, 300), unit="D")
    frame = pd.DataFrame(
        {
            "amount": rng.normal(size=300).round(2),
            "issue_d": days.strftime("%b-%Y").to_numpy(dtype=object),
            "opened": days.strftime("%m/%d/%Y").to_numpy(dtype=object),
        }
    )
    frame.loc[::9, "opened"] = None
    inferred = infer_schema(frame)
    assert inferred["opened"].kind is ColumnKind.DATETIME
    columns = [
        c.model_copy(update={"kind": ColumnKind.DATETIME}) if c.name == "issue_d" else c for c in inferred.columns
    ]
    schema = TableSchema(columns=columns)  # 30 months infer as categorical; a recipe declares them
    transformer = TableTransformer(seed=0, continuous=encoder).fit(frame, schema)
    back = transformer.inverse_transform(transformer.transform(frame))
    assert back["opened"].isna().equals(frame["opened"].isna())
    assert back["opened"].dropna().str.fullmatch(r"\d\d/\d\d/20\d\d").all()
    assert back["issue_d"].str.fullmatch(r"[A-Z][a-z]{2}-20\d\d").all()


def test_parse_datetimes_reads_a_learned_format_for_other_readers():
    fmt, _ = learn_datetime_format(pd.Series(["03/04/2021", "25/12/2019"]))
    parsed = parse_datetimes(pd.Series(["03/04/2021", None, "junk", "2021-01-01T00:00:00Z"]), fmt)
    assert parsed.iloc[0] == pd.Timestamp("2021-04-03") and parsed.iloc[1:].isna().all()
    stamped = parse_datetimes(pd.Series(["2021-03-15T10:00:00+02:00"]), "%Y-%m-%dT%H:%M:%S%:z")
    assert stamped.tolist() == [pd.Timestamp("2021-03-15 08:00")]


def test_rounding_keeps_values_near_the_float_maximum_finite():
    codec = ValueCodec(Column(name="a", kind=ColumnKind.NUMERIC, rounding=2)).fit(pd.Series([1.234, 1.7e308]))
    out = codec.from_float(np.array([1.2345, 1.7e308, np.nan]))
    assert out.iloc[0] == 1.23 and out.iloc[1] == 1.7e308 and np.isnan(out.iloc[2])


@pytest.mark.parametrize("encoder", ["mode_specific", "quantile"])
def test_a_table_of_formatted_numbers_round_trips_as_text_through_saved_state(encoder):
    from synthgen.numberformat import NumberFormat

    rng = np.random.default_rng(1)
    utilisation = rng.uniform(0, 100, 400).round(1)
    frame = pd.DataFrame(
        {
            "revol_util": [f"{u:.2f}%" if u % 1 else f"{u:.0f}%" for u in utilisation],
            "funded": [f"${a:,.2f}" for a in rng.gamma(2.0, 6000.0, 400)],
            "grade": rng.choice(list("ABC"), 400),
        }
    )
    frame.loc[::11, "revol_util"] = None
    schema = infer_schema(frame)
    assert schema["revol_util"].format == NumberFormat(suffix="%", decimals=2, trailing_zeros="drop_if_whole")
    transformer = TableTransformer(seed=0, continuous=encoder).fit(frame, schema)
    reloaded = TableTransformer.from_state(json.loads(json.dumps(transformer.get_state())))
    back = reloaded.inverse_transform(transformer.transform(frame))
    assert back["revol_util"].isna().sum() > 0 and back["revol_util"].dtype == object
    assert back["revol_util"].dropna().str.fullmatch(r"\d+(\.\d[1-9]|\.[1-9]0)?%").all()
    assert back["funded"].str.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d\d").all()
