"""A small, safe language for row constraints: ``loan_amnt <= 0.8 * annual_inc``.

A recipe is a file from someone else's repository, so an expression is parsed by a recursive-descent
parser that admits only numbers, column names, arithmetic, a few functions and comparisons; nothing is
ever handed to Python's ``eval``. Anything else (strings, attributes, subscripts, lambdas,
``__import__('os')``) is a syntax error naming the position.

Grammar, loosest binding first (as in Python)::

    expression := or
    or         := and ('or' and)*
    and        := not ('and' not)*
    not        := 'not' not | comparison
    comparison := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)*     # chained: a < b <= c
    sum        := product (('+' | '-') product)*
    product    := unary (('*' | '/' | '%') unary)*
    unary      := ('-' | '+') unary | power
    power      := atom ('**' unary)?                                     # -a ** 2 is -(a ** 2)
    atom       := number | name | `any name` | function '(' args ')' | '(' expression ')'

Evaluation is vectorised with numpy over whole columns. A row is *undefined* where arithmetic gives
no finite number (division by zero, log of a negative, overflow): a comparison of an undefined value
is neither true nor false, ``or``/``and`` follow three-valued logic (``x == 0 or y / x > 2`` is true
where ``x == 0``), and an undefined result counts as a violation. Comparisons treat two numbers
within a relative 1e-13 of each other as equal, so that float rounding (``0.1 + 0.2 == 0.3``) never
decides a row.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

MAX_LENGTH = 2000
MAX_DEPTH = 64
RELATIVE_TOLERANCE = 1e-13

Kind = Literal["number", "bool"]


class ExpressionError(ValueError):
    """An expression that does not parse or does not fit its use; the message names the position."""

    def __init__(self, problem: str, text: str, position: int | None = None) -> None:
        self.problem, self.text, self.position = problem, text, position
        where = "" if position is None else f" at position {position + 1}{_excerpt(text, position)}"
        super().__init__(f"{problem}{where}")


def _excerpt(text: str, position: int) -> str:
    if position >= len(text):
        return " (the end)"
    piece = text[position : position + 12]
    return f" ({piece!r})"


# -- tokens --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # number, name, quoted, op, keyword, end
    text: str
    position: int


_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[^\W\d]\w*")
_OPERATORS = ("**", "<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",")
_KEYWORDS = ("and", "or", "not")
_HINTS = {
    "=": "use '==' to compare",
    "&": "use 'and'",
    "|": "use 'or'",
    "!": "use 'not' (or '!=')",
    "^": "use '**' for powers",
    "'": "text values are not supported: constraints compare numeric columns",
    '"': "text values are not supported: constraints compare numeric columns",
    ".": "attribute access is not allowed",
    "[": "subscripts are not allowed",
}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise ExpressionError("unclosed backtick", text, i)
            if end == i + 1:
                raise ExpressionError("empty column name in backticks", text, i)
            tokens.append(Token("quoted", text[i + 1 : end], i))
            i = end + 1
            continue
        match = _NUMBER.match(text, i)
        if match:
            if match.end() < len(text) and (text[match.end()].isalpha() or text[match.end()] == "_"):
                raise ExpressionError(
                    "a number runs into a name (write '2 * x', or `2x` in backticks for a column)", text, i
                )
            tokens.append(Token("number", match.group(), i))
            i = match.end()
            continue
        match = _NAME.match(text, i)
        if match:
            word = match.group()
            tokens.append(Token("keyword" if word in _KEYWORDS else "name", word, i))
            i = match.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator is not None:
            tokens.append(Token("op", operator, i))
            i += len(operator)
            continue
        hint = _HINTS.get(char)
        raise ExpressionError(f"unexpected character {char!r}{f': {hint}' if hint else ''}", text, i)
    tokens.append(Token("end", "", len(text)))
    return tokens


# -- syntax tree -----------------------------------------------------------------------------------
Values = Mapping[str, np.ndarray]
Result = tuple[np.ndarray, np.ndarray]  # (value, defined) per row


@dataclass(frozen=True)
class Node:
    position: int

    kind: Kind = "number"

    def evaluate(self, columns: Values, rows: int) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError

    def names(self) -> list[str]:
        return []


@dataclass(frozen=True)
class Number(Node):
    value: float = 0.0

    def evaluate(self, columns: Values, rows: int) -> Result:
        return np.full(rows, self.value, dtype=np.float64), np.ones(rows, dtype=bool)


@dataclass(frozen=True)
class ColumnRef(Node):
    name: str = ""

    def evaluate(self, columns: Values, rows: int) -> Result:
        values = np.asarray(columns[self.name], dtype=np.float64)
        return values, np.isfinite(values)

    def names(self) -> list[str]:
        return [self.name]


def _checked(values: np.ndarray, *defined: np.ndarray) -> Result:
    ok = np.isfinite(values)
    for mask in defined:
        ok &= mask
    return values, ok


_ARITHMETIC: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.mod,
    "**": np.power,
}


@dataclass(frozen=True)
class Arithmetic(Node):
    operator: str = "+"
    left: Node | None = None
    right: Node | None = None

    def evaluate(self, columns: Values, rows: int) -> Result:
        a, a_ok = self.left.evaluate(columns, rows)  # type: ignore[union-attr]
        b, b_ok = self.right.evaluate(columns, rows)  # type: ignore[union-attr]
        with np.errstate(all="ignore"):
            out = _ARITHMETIC[self.operator](a, b)
            if self.operator == "%":
                out = np.where(b == 0, np.nan, out)  # numpy gives 0 for x % 0 on some versions
        return _checked(out, a_ok, b_ok)

    def names(self) -> list[str]:
        return [*self.left.names(), *self.right.names()]  # type: ignore[union-attr]


@dataclass(frozen=True)
class Negate(Node):
    operand: Node | None = None

    def evaluate(self, columns: Values, rows: int) -> Result:
        value, ok = self.operand.evaluate(columns, rows)  # type: ignore[union-attr]
        return -value, ok

    def names(self) -> list[str]:
        return self.operand.names()  # type: ignore[union-attr]


FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "sqrt": (1, 1),
    "log": (1, 1),
    "log10": (1, 1),
    "exp": (1, 1),
    "floor": (1, 1),
    "ceil": (1, 1),
    "round": (1, 2),
    "min": (2, None),
    "max": (2, None),
}
"""Function name -> (fewest, most) arguments; None: any number."""

_UNARY = {
    "abs": np.abs,
    "sqrt": np.sqrt,
    "log": np.log,
    "log10": np.log10,
    "exp": np.exp,
    "floor": np.floor,
    "ceil": np.ceil,
}


@dataclass(frozen=True)
class Call(Node):
    function: str = ""
    arguments: tuple[Node, ...] = ()

    def evaluate(self, columns: Values, rows: int) -> Result:
        results = [argument.evaluate(columns, rows) for argument in self.arguments]
        values = [value for value, _ in results]
        oks = [ok for _, ok in results]
        with np.errstate(all="ignore"):
            if self.function in _UNARY:
                out = _UNARY[self.function](values[0])
            elif self.function == "round":
                digits = int(self.arguments[1].value) if len(self.arguments) > 1 else 0  # type: ignore[attr-defined]
                out = np.round(values[0], digits)
            elif self.function == "min":
                out = np.minimum.reduce(values)
            else:
                out = np.maximum.reduce(values)
        return _checked(out, *oks)

    def names(self) -> list[str]:
        return [name for argument in self.arguments for name in argument.names()]


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= RELATIVE_TOLERANCE * np.maximum(np.abs(a), np.abs(b))


_COMPARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "<": lambda a, b: (a < b) & ~_close(a, b),
    "<=": lambda a, b: (a <= b) | _close(a, b),
    ">": lambda a, b: (a > b) & ~_close(a, b),
    ">=": lambda a, b: (a >= b) | _close(a, b),
    "==": _close,
    "!=": lambda a, b: ~_close(a, b),
}


@dataclass(frozen=True)
class Compare(Node):
    operators: tuple[str, ...] = ()
    operands: tuple[Node, ...] = ()

    kind: Kind = "bool"

    def evaluate(self, columns: Values, rows: int) -> Result:
        results = [operand.evaluate(columns, rows) for operand in self.operands]
        value = np.ones(rows, dtype=bool)
        defined = np.ones(rows, dtype=bool)
        with np.errstate(all="ignore"):
            for i, operator in enumerate(self.operators):
                (a, a_ok), (b, b_ok) = results[i], results[i + 1]
                part, part_ok = _COMPARE[operator](a, b) & a_ok & b_ok, a_ok & b_ok
                value, defined = _and((value, defined), (part, part_ok))
        return value, defined

    def names(self) -> list[str]:
        return [name for operand in self.operands for name in operand.names()]


def _and(a: Result, b: Result) -> Result:
    (x, x_ok), (y, y_ok) = a, b
    false_x, false_y = x_ok & ~x, y_ok & ~y
    return x & x_ok & y & y_ok, (x_ok & y_ok) | false_x | false_y


def _or(a: Result, b: Result) -> Result:
    (x, x_ok), (y, y_ok) = a, b
    true_x, true_y = x_ok & x, y_ok & y
    return true_x | true_y, (x_ok & y_ok) | true_x | true_y


@dataclass(frozen=True)
class Logic(Node):
    operator: str = "and"
    operands: tuple[Node, ...] = ()

    kind: Kind = "bool"

    def evaluate(self, columns: Values, rows: int) -> Result:
        combine = _and if self.operator == "and" else _or
        result = self.operands[0].evaluate(columns, rows)
        for operand in self.operands[1:]:
            result = combine(result, operand.evaluate(columns, rows))
        return result

    def names(self) -> list[str]:
        return [name for operand in self.operands for name in operand.names()]


@dataclass(frozen=True)
class Not(Node):
    operand: Node | None = None

    kind: Kind = "bool"

    def evaluate(self, columns: Values, rows: int) -> Result:
        value, defined = self.operand.evaluate(columns, rows)  # type: ignore[union-attr]
        return ~value & defined, defined

    def names(self) -> list[str]:
        return self.operand.names()  # type: ignore[union-attr]


# -- parser ----------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: str, *texts: str) -> bool:
        return self.token.kind == kind and (not texts or self.token.text in texts)

    def fail(self, problem: str, token: Token | None = None) -> ExpressionError:
        token = token or self.token
        return ExpressionError(problem, self.text, token.position)

    def need(self, node: Node, kind: Kind, role: str) -> Node:
        if node.kind != kind:
            got = "a comparison (true/false)" if node.kind == "bool" else "a number"
            want = "a number" if kind == "number" else "a comparison"
            raise ExpressionError(f"{role} needs {want}, got {got}", self.text, node.position)
        return node

    def parse(self) -> Node:
        if self.at("end"):
            raise self.fail("empty expression")
        node = self.expression()
        if not self.at("end"):
            raise self.fail(f"unexpected {self._describe(self.token)}; expected an operator or the end")
        return node

    def _describe(self, token: Token) -> str:
        if token.kind == "end":
            return "end of the expression"
        if token.kind in ("name", "quoted"):
            return f"name {token.text!r}"
        if token.kind == "number":
            return f"number {token.text}"
        return repr(token.text)

    def nested(self, rule: Callable[[], Node]) -> Node:
        """``rule`` one level deeper: recursion is bounded, so a hostile recipe cannot exhaust the stack."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the expression is nested more than {MAX_DEPTH} levels deep")
        try:
            return rule()
        finally:
            self.depth -= 1

    def expression(self) -> Node:
        return self.nested(lambda: self.logic("or", self.conjunction))

    def conjunction(self) -> Node:
        return self.logic("and", self.negation)

    def logic(self, operator: str, operand: Callable[[], Node]) -> Node:
        first = operand()
        operands = [first]
        while self.at("keyword", operator):
            self.advance()
            operands.append(operand())
        if len(operands) == 1:
            return first
        for node in operands:
            self.need(node, "bool", f"'{operator}'")
        return Logic(first.position, operator=operator, operands=tuple(operands))

    def negation(self) -> Node:
        if self.at("keyword", "not"):
            token = self.advance()
            return Not(token.position, operand=self.need(self.nested(self.negation), "bool", "'not'"))
        return self.comparison()

    def comparison(self) -> Node:
        first = self.sum()
        operands, operators = [first], []
        while self.at("op", *_COMPARE):
            operator = self.advance().text
            operators.append(operator)
            operands.append(self.sum())
        if not operators:
            return first
        for node in operands:
            self.need(node, "number", "a comparison")
        return Compare(first.position, operators=tuple(operators), operands=tuple(operands))

    def sum(self) -> Node:
        node = self.product()
        while self.at("op", "+", "-"):
            token = self.advance()
            right = self.product()
            node = self._arithmetic(token, node, right)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.at("op", "*", "/", "%"):
            token = self.advance()
            right = self.unary()
            node = self._arithmetic(token, node, right)
        return node

    def _arithmetic(self, token: Token, left: Node, right: Node) -> Node:
        self.need(left, "number", f"'{token.text}'")
        self.need(right, "number", f"'{token.text}'")
        return Arithmetic(left.position, operator=token.text, left=left, right=right)

    def unary(self) -> Node:
        if self.at("op", "-", "+"):
            token = self.advance()
            operand = self.need(self.nested(self.unary), "number", f"unary '{token.text}'")
            if token.text == "+":
                return operand
            if isinstance(operand, Number):
                return Number(token.position, value=-operand.value)
            return Negate(token.position, operand=operand)
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        if self.at("op", "**"):
            token = self.advance()
            exponent = self.nested(self.unary)
            return self._arithmetic(token, base, exponent)
        return base

    def atom(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.advance()
            value = float(token.text)
            if not np.isfinite(value):
                raise self.fail("number too large", token)
            return Number(token.position, value=value)
        if token.kind == "quoted":
            self.advance()
            return ColumnRef(token.position, name=token.text)
        if token.kind == "name":
            self.advance()
            if self.at("op", "("):
                return self.call(token)
            return ColumnRef(token.position, name=token.text)
        if self.at("op", "("):
            self.advance()
            node = self.expression()
            if not self.at("op", ")"):
                raise self.fail(f"unclosed '(' (opened at position {token.position + 1})")
            self.advance()
            return node
        raise self.fail(f"unexpected {self._describe(token)}; expected a number, a column or '('")

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            close = difflib.get_close_matches(name.text, FUNCTIONS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.fail(f"unknown function {name.text!r}{hint} (functions: {', '.join(FUNCTIONS)})", name)
        self.advance()  # '('
        arguments: list[Node] = []
        if not self.at("op", ")"):
            arguments.append(self.need(self.expression(), "number", f"{name.text}()"))
            while self.at("op", ","):
                self.advance()
                arguments.append(self.need(self.expression(), "number", f"{name.text}()"))
        if not self.at("op", ")"):
            raise self.fail(f"expected ',' or ')' in the call of {name.text}()")
        self.advance()
        fewest, most = FUNCTIONS[name.text]
        if len(arguments) < fewest or (most is not None and len(arguments) > most):
            count = f"{fewest}" if fewest == most else f"{fewest} or more" if most is None else f"{fewest} to {most}"
            raise ExpressionError(
                f"{name.text}() takes {count} arguments, got {len(arguments)}", self.text, name.position
            )
        if name.text == "round" and len(arguments) == 2:
            digits = arguments[1]
            if not isinstance(digits, Number) or digits.value != int(digits.value) or not 0 <= digits.value <= 15:
                raise ExpressionError(
                    "round()'s second argument is a whole number of decimals (0 to 15)", self.text, digits.position
                )
        return Call(name.position, function=name.text, arguments=tuple(arguments))


# -- the public face -------------------------------------------------------------------------------
class Expression:
    """A parsed boolean expression over columns; `check` gives each row's verdict."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise ExpressionError(f"an expression is text, got {type(text).__name__}", "", None)
        if len(text) > MAX_LENGTH:
            raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", text[:40] + "...")
        self.text = text
        self.root = _Parser(text).parse()
        if self.root.kind != "bool":
            raise ExpressionError(
                "a constraint must compare (e.g. 'a <= 0.8 * b'); this computes a number", text, self.root.position
            )
        self.columns: list[str] = list(dict.fromkeys(self.root.names()))
        if not self.columns:
            raise ExpressionError("the expression names no column, so it says nothing about the rows", text)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def unknown(self, known: list[str]) -> tuple[str, str] | None:
        """The first column the expression names that is not in ``known``, and a hint, or None."""
        for name in self.columns:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                if " " in name or not _NAME.fullmatch(name):
                    hint += " (a name with spaces or symbols goes in backticks: `my column`)"
                return name, hint
        return None

    def check(self, columns: Values) -> np.ndarray:
        """Per row: True where the expression holds or a column it names is missing (NaN), False where it
        fails or is undefined (division by zero and the like)."""
        rows = len(next(iter(columns.values()))) if columns else 0
        values = {name: np.asarray(columns[name], dtype=np.float64) for name in self.columns}
        missing = np.zeros(rows, dtype=bool)
        for name in self.columns:
            missing |= np.isnan(values[name])
        value, defined = self.root.evaluate(values, rows)
        return missing | (value & defined)


def parse_expression(text: str) -> Expression:
    """Parse ``text``; raise `ExpressionError` (a ValueError) naming the position at fault."""
    return Expression(text)
