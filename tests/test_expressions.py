"""The constraint expression language: what it computes, and everything it refuses."""

from __future__ import annotations

import numpy as np
import pytest

from synthgen.expressions import ExpressionError, parse_expression


def _check(text: str, **columns: list[float]) -> list[bool]:
    arrays = {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()}
    return parse_expression(text).check(arrays).tolist()


def test_a_ratio_rule_row_by_row():
    assert _check("loan_amnt <= 0.8 * annual_inc", loan_amnt=[8000, 8001, 1], annual_inc=[10000, 10000, 0]) == [
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a + b * c == 7", True),  # 1 + 2 * 3
        ("(a + b) * c == 9", True),
        ("a - b - c == -4", True),  # left associative
        ("c / b / a == 1.5", True),
        ("-c ** 2 == -9", True),  # power binds tighter than unary minus, as in Python
        ("(-c) ** 2 == 9", True),
        ("c ** -1 * 3 == 1", True),
        ("b ** c ** a == 8", True),  # right associative: 2 ** (3 ** 1)
        ("- - a == a", True),
        ("+a == 1", True),
        ("c % b == 1", True),
        ("-a < 0 < a", True),  # chained
        ("a < b < c < 3", False),
        ("a < b and not b > c", True),
        ("a > b or c == 3", True),
        ("not a < b or c > 2 and a > 5", False),  # not > and > or
        ("abs(-c) == 3 and min(a, b, c) == 1 and max(a, b) == 2", True),
        ("round(c / b) == 2 and round(c / 7, 2) == 0.43", True),  # ties to even: 1.5 -> 2
        ("floor(c / b) == 1 and ceil(c / b) == 2", True),
        ("sqrt(b * 8) == 4 and exp(0 * a) == 1 and log(exp(c)) == 3 and log10(100 * a) == 2", True),
        ("1e3 * a == 1000 and .5 * b == 1", True),
        ("0.1 + 0.2 == 0.3 * a", True),  # float rounding never decides a row
        ("a == 1.0000001", False),
    ],
)
def test_arithmetic_and_precedence(text, expected):
    assert _check(text, a=[1], b=[2], c=[3]) == [expected]


def test_division_by_zero_and_undefined_values_make_a_row_invalid_not_a_crash():
    assert _check("a / b < 10", a=[1, 1, 0], b=[0, 1, 0]) == [False, True, False]
    assert _check("log(a) >= 0", a=[-1, 1]) == [False, True]
    assert _check("a % b == 0", a=[4, 4], b=[0, 2]) == [False, True]
    assert _check("a * 1e308 * 10 > 0", a=[1]) == [False]  # overflow


def test_three_valued_logic_lets_a_guard_protect_a_division():
    # where x == 0 the division is undefined, but the other side already makes the row true
    assert _check("x == 0 or y / x > 2", x=[0, 1, 1], y=[5, 3, 1]) == [True, True, False]
    assert _check("x != 0 and y / x > 2", x=[0, 1], y=[5, 3]) == [False, True]
    assert _check("not (y / x > 2)", x=[0], y=[5]) == [False]


def test_a_missing_value_satisfies_the_rule():
    assert _check("a <= b", a=[np.nan, 1, 3], b=[0, np.nan, 2]) == [True, True, False]


def test_columns_in_backticks_and_unicode_names():
    expression = parse_expression("`annual income` >= 2 * `loan amount (usd)` and größe > 0")
    assert expression.columns == ["annual income", "loan amount (usd)", "größe"]
    values = {"annual income": np.array([10.0]), "loan amount (usd)": np.array([5.0]), "größe": np.array([1.0])}
    assert expression.check(values).tolist() == [True]


def test_columns_are_listed_once_in_order_and_functions_are_not_columns():
    assert parse_expression("max(b, a) <= b + a and b > 0").columns == ["b", "a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('ls')", "text values are not supported"),
        ("__import__(os) < 1", "unknown function '__import__'"),
        ("a.__class__ < 1", "attribute access is not allowed"),
        ("a[0] < 1", "subscripts are not allowed"),
        ("lambda: 1", "unexpected character ':'"),
        ("eval(a) < 1", "unknown function 'eval'"),
        ("a < b; import os", "unexpected character ';'"),
        ("a = b", "use '==' to compare"),
        ("a < b && b < c", "use 'and'"),
        ("a ^ 2 < 1", "use '**' for powers"),
        ("mx(a, b) < 1", "did you mean 'max'?"),
        ("a + b", "a constraint must compare"),
        ("a < b + (c < d)", "'+' needs a number"),
        ("a and b < 1", "'and' needs a comparison"),
        ("not a", "'not' needs a comparison"),
        ("1 < 2", "names no column"),
        ("", "empty expression"),
        ("a <= ", "unexpected end of the expression"),
        ("a <= (b", "unclosed '('"),
        ("a <= b)", "unexpected ')'"),
        ("a b < 1", "unexpected name 'b'"),
        ("2a < 1", "a number runs into a name"),
        ("`a < 1", "unclosed backtick"),
        ("max(a) < 1", "max() takes 2 or more arguments, got 1"),
        ("round(a, b) < 1", "whole number of decimals"),
        ("a < 1e999", "number too large"),
    ],
)
def test_refused_with_a_message_naming_the_problem(text, message):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    assert message in str(caught.value)


def test_errors_give_the_position():
    with pytest.raises(ExpressionError) as caught:
        parse_expression("loan_amnt <= 0.8 * * annual_inc")
    assert caught.value.position == 19
    assert "at position 20 ('* annual_inc')" in str(caught.value)


@pytest.mark.parametrize("text", ["(" * 200 + "a < 1" + ")" * 200, "-" * 500 + "a < 1", "not " * 300 + "a < 1"])
def test_deep_nesting_is_refused_not_a_recursion_error(text):
    with pytest.raises(ExpressionError, match="nested more than"):
        parse_expression(text)


def test_length_is_bounded():
    with pytest.raises(ExpressionError, match="longer than"):
        parse_expression("a < " + "1 + " * 1000 + "1")


def test_evaluation_is_vectorised_over_many_rows():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=100_000), rng.normal(size=100_000)
    result = parse_expression("a <= 0.5 * b + 1").check({"a": a, "b": b})
    assert np.array_equal(result, a <= 0.5 * b + 1)
