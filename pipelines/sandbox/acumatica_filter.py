"""Acumatica's OData ``$filter``, parsed into an AST and compiled to a polars expression.

Grammar (OData v3 as Acumatica documents it; keywords lower case as in the OData spec [U: whether
Acumatica also takes upper case]):

    expr       := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | comparison
    comparison := operand (("eq"|"ne"|"gt"|"ge"|"lt"|"le") operand)?
    operand    := "(" expr ")" | call | path | literal
    call       := ("startswith"|"endswith"|"substringof") "(" operand "," operand ")"
    path       := Name ("/" Name)*                      e.g. MainContact/Address/City
    literal    := 'text' ('' escapes a quote) | 12 | -3.50 (optional m/M/d/D/f/F/l/L suffix)
                | true | false | null | datetimeoffset'…' | datetime'…' | guid'…'

``not`` applies to the comparison after it (``not Status eq 'Open'`` negates the comparison)
rather than OData v4's tighter binding [U]. Values arrive URL-decoded (Starlette); a ``+`` sent
unencoded in an offset arrives as a space and is refused, as ASP.NET would decode it too [U].

Semantics follow SQL Server under Acumatica: string comparisons and functions are
case-insensitive (default CI collation [U]); ``eq``/``ne`` treat null as a value (``X ne 'a'``
holds for a null X); ordering against null is false. Date fields compare as midnight UTC with
date-time literals; every date-time compares in UTC. Fields inside a detail array cannot be
filtered on [C]; linked-entity fields can (``MainContact/Email``) [C].

Errors raise ``FilterError`` (the API answers 400) naming the field or the position (0-based
character index into the decoded ``$filter`` text).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

__all__ = ["FilterError", "Node", "compile_filter", "filter_expr", "parse_filter", "tokenize"]

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
FUNCTIONS = ("startswith", "endswith", "substringof")
TYPED_LITERALS = ("datetimeoffset", "datetime", "guid")
_NUMBER_SUFFIXES = "mMdDfFlL"
_KEYWORDS = {"and", "or", "not", "true", "false", "null", *COMPARISONS}


class FilterError(ValueError):
    """A ``$filter`` the sandbox (like Acumatica) refuses; the message names the culprit."""


# -- tokens --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # "name" | "path" | "str" | "num" | "typed" | "(" | ")" | "," | "end"
    text: str  # source text; for "str" the unescaped value, for "typed" the literal body
    pos: int
    prefix: str = ""  # "typed": datetimeoffset | datetime | guid


def tokenize(text: str) -> list[Token]:
    """Scan ``text`` left to right; each branch consumes one token."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),":
            out.append(Token(c, c, i))
            i += 1
        elif c == "'":
            value, end = _scan_string(text, i)
            out.append(Token("str", value, i))
            i = end
        elif c.isdigit() or (c == "-" and i + 1 < n and text[i + 1].isdigit()):
            end = _scan_number(text, i)
            out.append(Token("num", text[i:end], i))
            i = end
        elif c.isalpha() or c == "_":
            tok, i = _scan_name(text, i)
            out.append(tok)
        else:
            raise FilterError(f"Syntax error at position {i}: unexpected character '{c}'.")
    out.append(Token("end", "", n))
    return out


def _scan_string(text: str, start: int) -> tuple[str, int]:
    """A quoted literal from ``start`` (its opening quote): its value and the index after it."""
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        if text[i] == "'":
            if text.startswith("''", i):
                chars.append("'")
                i += 2
                continue
            return "".join(chars), i + 1
        chars.append(text[i])
        i += 1
    raise FilterError(f"Syntax error at position {start}: unterminated string literal.")


def _scan_number(text: str, start: int) -> int:
    i = start + 1
    while i < len(text) and (text[i].isdigit() or text[i] == "."):
        i += 1
    if i < len(text) and text[i] in _NUMBER_SUFFIXES:
        i += 1
    if i < len(text) and (text[i].isalnum() or text[i] == "_"):
        raise FilterError(f"Syntax error at position {start}: malformed number.")
    return i


def _scan_name(text: str, start: int) -> tuple[Token, int]:
    """A name, a slash path (``MainContact/Email``) or a typed literal (``guid'…'``)."""
    i = _scan_ident(text, start)
    word = text[start:i]
    if i < len(text) and text[i] == "'" and word in TYPED_LITERALS:
        value, end = _scan_string(text, i)
        return Token("typed", value, start, prefix=word), end
    kind = "name"
    while i < len(text) and text[i] == "/":
        j = _scan_ident(text, i + 1)
        if j == i + 1:
            raise FilterError(f"Syntax error at position {i + 1}: field name expected after '/'.")
        kind, i = "path", j
    return Token(kind, text[start:i], start), i


def _scan_ident(text: str, start: int) -> int:
    i = start
    while i < len(text) and (text[i].isalnum() or text[i] == "_"):
        i += 1
    return i


# -- AST -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    parts: tuple[str, ...]
    pos: int


@dataclass(frozen=True)
class Literal:
    kind: str  # "str" | "num" | "bool" | "null" | "datetime" | "guid"
    value: Any
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node
    pos: int


Node = Field | Literal | Call | Compare | Logical | Not


class _Parser:
    def __init__(self, text: str):
        self.toks = tokenize(text)
        self.i = 0

    @property
    def peek(self) -> Token:
        return self.toks[self.i]

    def take(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def keyword(self, *words: str) -> str | None:
        tok = self.peek
        if tok.kind == "name" and tok.text in words:
            self.i += 1
            return tok.text
        return None

    def expect(self, kind: str) -> Token:
        tok = self.take()
        if tok.kind != kind:
            raise _unexpected(tok, f"'{kind}' expected")
        return tok

    def parse(self) -> Node:
        if self.peek.kind == "end":
            raise FilterError("Syntax error at position 0: the filter is empty.")
        node = self.or_expr()
        if self.peek.kind != "end":
            raise _unexpected(self.peek, "'and', 'or' or the end of the filter expected")
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.keyword("or"):
            node = Logical("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.keyword("and"):
            node = Logical("and", node, self.unary())
        return node

    def unary(self) -> Node:
        tok = self.peek
        if self.keyword("not"):
            return Not(self.unary(), tok.pos)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        tok = self.peek
        op = self.keyword(*COMPARISONS)
        return Compare(op, left, self.operand(), tok.pos) if op else left

    def operand(self) -> Node:
        tok = self.take()
        if tok.kind == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if tok.kind == "name" and self.peek.kind == "(":
            return self.call(tok)
        if tok.kind == "path" or (tok.kind == "name" and tok.text not in _KEYWORDS):
            return Field(tuple(tok.text.split("/")), tok.pos)
        return _literal(tok)

    def call(self, name: Token) -> Call:
        if name.text not in FUNCTIONS:
            raise FilterError(f"Unknown function '{name.text}' at position {name.pos}; "
                              f"supported: {', '.join(FUNCTIONS)}.")
        self.expect("(")
        first = self.operand()
        self.expect(",")
        second = self.operand()
        self.expect(")")
        return Call(name.text, (first, second), name.pos)


def _unexpected(tok: Token, what: str) -> FilterError:
    shown = "the end of the filter" if tok.kind == "end" else f"'{tok.text}'"
    return FilterError(f"Syntax error at position {tok.pos}: {what}, found {shown}.")


def _literal(tok: Token) -> Literal:
    if tok.kind == "str":
        return Literal("str", tok.text, tok.pos)
    if tok.kind == "num":
        return Literal("num", _number(tok), tok.pos)
    if tok.kind == "typed":
        return _typed(tok)
    if tok.kind == "name" and tok.text in ("true", "false"):
        return Literal("bool", tok.text == "true", tok.pos)
    if tok.kind == "name" and tok.text == "null":
        return Literal("null", None, tok.pos)
    raise _unexpected(tok, "a field, literal or '(' expected")


def _number(tok: Token) -> int | Decimal:
    body = tok.text.rstrip(_NUMBER_SUFFIXES)
    try:
        return int(body) if body.lstrip("-").isdigit() else Decimal(body)
    except InvalidOperation:
        raise FilterError(f"Syntax error at position {tok.pos}: malformed number.") from None


def _typed(tok: Token) -> Literal:
    if tok.prefix == "guid":
        try:
            return Literal("guid", str(uuid.UUID(tok.text)), tok.pos)
        except ValueError:
            raise FilterError(f"Invalid guid literal at position {tok.pos}: "
                              f"'{tok.text}'.") from None
    try:
        value = datetime.fromisoformat(tok.text.strip())  # +00:00, Z and other offsets
    except ValueError:
        raise FilterError(f"Invalid {tok.prefix} literal at position {tok.pos}: '{tok.text}' "
                          "(URL-encode '+' in the offset as %2B).") from None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return Literal("datetime", value, tok.pos)


def parse_filter(text: str) -> Node:
    """The AST of a ``$filter`` value; ``FilterError`` on a syntax error."""
    return _Parser(text).parse()


# -- compilation ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Typed:
    expr: pl.Expr
    kind: str  # "str" | "num" | "bool" | "date" | "datetime" | "null" | "guid"


_ORDERING = {"gt": "__gt__", "ge": "__ge__", "lt": "__lt__", "le": "__le__"}
# Operand kinds that may meet in a comparison (a date meets a date-time as midnight UTC).
_FAMILY = {"str": "str", "guid": "str", "num": "num", "bool": "bool", "date": "time",
           "datetime": "time"}


class _Compiler:
    def __init__(self, schema: Mapping[str, pl.DataType], details: Iterable[str], entity: str):
        self.schema = dict(schema)
        self.lower = {name.lower(): name for name in self.schema}
        self.details = set(details)
        self.entity = entity

    def boolean(self, node: Node) -> pl.Expr:
        typed = self.node(node)
        if typed.kind != "bool":
            raise FilterError(f"The expression at position {_pos(node)} is not a condition "
                              f"(a {typed.kind} value where true/false is expected).")
        return typed.expr

    def node(self, node: Node) -> _Typed:
        if isinstance(node, Logical):
            left, right = self.boolean(node.left), self.boolean(node.right)
            return _Typed(left & right if node.op == "and" else left | right, "bool")
        if isinstance(node, Not):
            return _Typed(~self.boolean(node.operand), "bool")
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Field):
            return self.field(node)
        return _literal_expr(node)

    def field(self, node: Field) -> _Typed:
        head, *rest = node.parts
        name = self.lower.get(head.lower())
        if name is None:
            raise FilterError(f"Unknown field '{'/'.join(node.parts)}' in $filter at position "
                              f"{node.pos}: the {self.entity} entity has no field '{head}'.")
        dtype = self.schema[name]
        if name in self.details or isinstance(dtype, pl.List):
            raise FilterError(f"Filtering on detail entities is not supported: '{name}' is a "
                              f"detail entity of {self.entity} (position {node.pos}).")
        expr: pl.Expr = pl.col(name)
        path = name
        for part in rest:
            if not isinstance(dtype, pl.Struct):
                raise FilterError(f"Unknown field '{path}/{part}' in $filter at position "
                                  f"{node.pos}: '{path}' has no fields.")
            fields = {f.name.lower(): f for f in dtype.fields}
            found = fields.get(part.lower())
            if found is None:
                raise FilterError(f"Unknown field '{path}/{part}' in $filter at position "
                                  f"{node.pos}: '{path}' has no field '{part}'.")
            expr, dtype, path = expr.struct.field(found.name), found.dtype, f"{path}/{found.name}"
        return _field_expr(expr, dtype, path, node.pos)

    def compare(self, node: Compare) -> _Typed:
        left, right = self.node(node.left), self.node(node.right)
        if "null" in (left.kind, right.kind):
            return _Typed(_null_compare(node, left, right), "bool")
        if _FAMILY.get(left.kind) != _FAMILY.get(right.kind):
            raise FilterError(f"Operator '{node.op}' at position {node.pos} cannot compare "
                              f"{left.kind} with {right.kind}.")
        a, b = _comparable(left), _comparable(right)
        if node.op == "eq":
            return _Typed(a.eq_missing(b), "bool")
        if node.op == "ne":
            return _Typed(a.ne_missing(b), "bool")
        if left.kind == "bool":
            raise FilterError(f"Operator '{node.op}' at position {node.pos} cannot order "
                              "true/false values.")
        return _Typed(getattr(a, _ORDERING[node.op])(b).fill_null(False), "bool")

    def call(self, node: Call) -> _Typed:
        args = [self.node(a) for a in node.args]
        if any(a.kind != "str" for a in args):
            raise FilterError(f"Function '{node.name}' at position {node.pos} takes text "
                              "arguments.")
        first, second = (_comparable(a) for a in args)
        if node.name == "startswith":
            expr = first.str.starts_with(second)
        elif node.name == "endswith":
            expr = first.str.ends_with(second)
        else:  # substringof(needle, haystack)
            expr = second.str.contains(first, literal=True)
        return _Typed(expr.fill_null(False), "bool")


def _pos(node: Node) -> int:
    return node.pos if not isinstance(node, Logical) else _pos(node.left)


def _field_expr(expr: pl.Expr, dtype: pl.DataType, path: str, pos: int) -> _Typed:
    if isinstance(dtype, pl.Struct):
        raise FilterError(f"'{path}' at position {pos} is a linked entity: filter on one of its "
                          f"fields, e.g. {path}/{dtype.fields[0].name}.")
    if isinstance(dtype, pl.List):
        raise FilterError(f"Filtering on detail entities is not supported: '{path}' "
                          f"(position {pos}).")
    if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        return _Typed(expr.cast(pl.String), "str")
    if dtype == pl.Boolean:
        return _Typed(expr, "bool")
    if dtype.is_numeric():
        return _Typed(expr, "num")
    if dtype == pl.Date:
        return _Typed(expr.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"), "date")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:  # naive columns hold UTC
            return _Typed(expr.dt.replace_time_zone("UTC"), "datetime")
        return _Typed(expr.dt.convert_time_zone("UTC"), "datetime")
    raise FilterError(f"The field '{path}' at position {pos} cannot be filtered on.")


def _literal_expr(node: Literal) -> _Typed:
    if node.kind == "null":
        return _Typed(pl.lit(None), "null")
    return _Typed(pl.lit(node.value), node.kind)


def _comparable(typed: _Typed) -> pl.Expr:
    """Strings compare case-insensitively, as under SQL Server's default collation [U]."""
    return typed.expr.str.to_lowercase() if typed.kind in ("str", "guid") else typed.expr


def _null_compare(node: Compare, left: _Typed, right: _Typed) -> pl.Expr:
    if node.op not in ("eq", "ne"):
        raise FilterError(f"Operator '{node.op}' at position {node.pos} cannot compare with "
                          "null; use eq or ne.")
    other = right if left.kind == "null" else left
    if other.kind == "null":  # null eq null
        return pl.lit(node.op == "eq")
    return other.expr.is_null() if node.op == "eq" else other.expr.is_not_null()


def compile_filter(node: Node, schema: Mapping[str, pl.DataType], details: Iterable[str] = (),
                   entity: str = "the") -> pl.Expr:
    """A polars predicate for ``node`` over a frame with ``schema``; ``details`` names detail
    arrays (also recognised by their List type), which cannot be filtered on."""
    return _Compiler(schema, details, entity).boolean(node)


def filter_expr(text: str, schema: Mapping[str, pl.DataType], details: Iterable[str] = (),
                entity: str = "the") -> pl.Expr:
    """Parse and compile in one step."""
    return compile_filter(parse_filter(text), schema, details, entity)

