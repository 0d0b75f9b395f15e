"""Xero's ``where`` and ``order`` query parameters, compiled to polars expressions.

Xero evaluates ``where`` with a .NET Dynamic-LINQ-like grammar; the sandbox implements the part
extract code uses, with a real tokenizer and a recursive-descent parser:

    expr       := and_expr (("OR" | "||") and_expr)*
    and_expr   := unary (("AND" | "&&") unary)*
    unary      := ("NOT" | "!") unary | primary
    primary    := "(" expr ")" | Field op literal | Field.Contains|StartsWith|EndsWith("text")
                | BooleanField
    op         := "==" | "=" | "!=" | "<>" | ">" | ">=" | "<" | "<="   (ordering: dates only)
    literal    := "text" | true | false | null | Guid("…") | DateTime(y,m,d[,h,mi,s])
                | DateTime.Parse("…")

Operand types are checked like Xero does (``Operator '==' incompatible with operand types
'Boolean' and 'String'``), so client code that would fail in production fails here too.
Errors raise ``QueryParseError``; the API answers them with Xero's 400 QueryParseException body.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import polars as pl

from pipelines.sandbox.common import parse_timestamp

Kind = Literal["str", "guid", "date", "datetime", "bool"]
_TYPE_NAMES = {"str": "String", "guid": "Guid", "date": "DateTime", "datetime": "DateTime",
               "bool": "Boolean", "num": "Int32", "null": "Object"}
_METHODS = {"Contains", "StartsWith", "EndsWith"}
_EQ_OPS = {"==": "==", "=": "==", "!=": "!=", "<>": "!="}
_ORD_OPS = {">", ">=", "<", "<="}


class QueryParseError(ValueError):
    """A ``where``/``order`` the sandbox (like Xero) cannot evaluate."""


@dataclass(frozen=True)
class Field:
    """A filterable Xero field: the served frame's column and its operand type."""

    column: str
    kind: Kind


@dataclass(frozen=True)
class _Tok:
    kind: str  # "str" | "num" | "op" | "name" | "end"
    text: str
    pos: int


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.|"")*")
  | (?P<num>\d+)
  | (?P<op>==|!=|<>|>=|<=|&&|\|\||[=<>!(),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.VERBOSE)


def tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            what = "Unterminated string literal" if text[pos] == '"' else "Syntax error"
            raise QueryParseError(f"{what} (at index {pos})")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(_Tok(kind, m.group(), pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r'\\(.)|""', lambda m: m.group(1) or '"', body)


class _Parser:
    def __init__(self, text: str, fields: dict[str, Field], type_name: str):
        self.toks = tokenize(text)
        self.i = 0
        self.fields = {k.lower(): v for k, v in fields.items()}
        self.type_name = type_name

    # -- token helpers ---------------------------------------------------------------------
    @property
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, *texts: str) -> bool:
        tok = self.peek
        if tok.kind in ("op", "name") and tok.text.upper() in texts:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise QueryParseError(f"'{text}' expected (at index {self.peek.pos})")

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> pl.Expr:
        expr = self.or_expr()
        if self.peek.kind != "end":
            raise QueryParseError(f"Syntax error (at index {self.peek.pos})")
        return expr

    def or_expr(self) -> pl.Expr:
        expr = self.and_expr()
        while self.accept("OR", "||"):
            expr = expr | self.and_expr()
        return expr

    def and_expr(self) -> pl.Expr:
        expr = self.unary()
        while self.accept("AND", "&&"):
            expr = expr & self.unary()
        return expr

    def unary(self) -> pl.Expr:
        if self.accept("NOT", "!"):
            return ~self.unary()
        return self.primary()

    def primary(self) -> pl.Expr:
        if self.accept("("):
            expr = self.or_expr()
            self.expect(")")
            return expr
        tok = self.take()
        if tok.kind != "name":
            raise QueryParseError(f"Expression expected (at index {tok.pos})")
        base, _, method = tok.text.rpartition(".")
        if method in _METHODS and base and self.peek.text == "(":
            return self.method_call(self.field(base), method)
        field = self.field(tok.text)
        if self.peek.kind == "op" and (self.peek.text in _EQ_OPS or self.peek.text in _ORD_OPS):
            op = self.take().text
            return _compare(field, op, *self.literal())
        if field.kind == "bool":  # a bare boolean field, e.g. where=IsSupplier
            return pl.col(field.column)
        raise QueryParseError("Expression of type 'Boolean' expected")

    def field(self, name: str) -> Field:
        found = self.fields.get(name.lower())
        if found is None:
            raise QueryParseError(
                f"No property or field '{name}' exists in type '{self.type_name}'")
        return found

    def method_call(self, field: Field, method: str) -> pl.Expr:
        self.expect("(")
        kind, value = self.literal()
        self.expect(")")
        if field.kind != "str" or kind != "str":
            raise QueryParseError(f"No applicable method '{method}' exists in type "
                                  f"'{_TYPE_NAMES[field.kind]}'")
        col = pl.col(field.column)
        if method == "Contains":
            return col.str.contains(value, literal=True)
        return col.str.starts_with(value) if method == "StartsWith" else col.str.ends_with(value)

    def literal(self) -> tuple[str, Any]:
        tok = self.take()
        if tok.kind == "str":
            return "str", _unquote(tok.text)
        if tok.kind == "num":
            return "num", int(tok.text)
        word = tok.text.lower() if tok.kind == "name" else ""
        if word in ("true", "false"):
            return "bool", word == "true"
        if word == "null":
            return "null", None
        if word == "guid":
            return "guid", self.guid_literal()
        if word == "datetime":
            return "datetime", self.datetime_literal()
        if word == "datetime.parse":
            return "datetime", self.parse_literal()
        raise QueryParseError(f"Expression expected (at index {tok.pos})")

    def string_arg(self) -> str:
        self.expect("(")
        tok = self.take()
        if tok.kind != "str":
            raise QueryParseError(f"String literal expected (at index {tok.pos})")
        self.expect(")")
        return _unquote(tok.text)

    def guid_literal(self) -> str:
        text = self.string_arg()
        try:
            return str(uuid.UUID(text))
        except ValueError as exc:
            raise QueryParseError(f"'{text}' is not a valid Guid") from exc

    def parse_literal(self) -> datetime:
        text = self.string_arg()
        try:
            return parse_timestamp(text)
        except ValueError as exc:
            raise QueryParseError(f"String '{text}' was not recognized as a valid DateTime.") \
                from exc

    def datetime_literal(self) -> datetime:
        self.expect("(")
        parts: list[int] = []
        while True:
            tok = self.take()
            if tok.kind != "num":
                raise QueryParseError(f"Integer expected (at index {tok.pos})")
            parts.append(int(tok.text))
            if not self.accept(","):
                break
        self.expect(")")
        if len(parts) not in (3, 6):
            raise QueryParseError("No matching constructor in type 'DateTime'")
        try:
            return datetime(*parts, tzinfo=UTC)
        except ValueError as exc:
            raise QueryParseError(str(exc)) from exc


_COMPATIBLE = {"str": {"str", "null"}, "guid": {"guid", "null"}, "bool": {"bool"},
               "date": {"datetime", "null"}, "datetime": {"datetime", "null"}}


def _compare(field: Field, op: str, kind: str, value: Any) -> pl.Expr:
    ordering = op in _ORD_OPS
    if kind not in _COMPATIBLE[field.kind] or (ordering and field.kind not in ("date", "datetime")):
        raise QueryParseError(f"Operator '{op}' incompatible with operand types "
                              f"'{_TYPE_NAMES[field.kind]}' and '{_TYPE_NAMES[kind]}'")
    col = pl.col(field.column)
    if field.kind == "date":  # Date columns compare as midnight UTC, like a .NET DateTime
        col = col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if kind == "null":
        return col.is_null() if _EQ_OPS[op] == "==" else col.is_not_null()
    if ordering:
        return {">": col > value, ">=": col >= value, "<": col < value, "<=": col <= value}[op]
    return col.eq_missing(value) if _EQ_OPS[op] == "==" else col.ne_missing(value)


def compile_where(text: str, fields: dict[str, Field], type_name: str) -> pl.Expr:
    """The polars filter for a ``where`` value; ``type_name`` names the resource in errors."""
    return _Parser(text, fields, type_name).parse()


def parse_order(text: str, fields: dict[str, Field], type_name: str) -> list[tuple[str, bool]]:
    """``order=UpdatedDateUTC DESC, Name`` → ``[(column, descending), …]``."""
    lookup = {k.lower(): v for k, v in fields.items()}
    out: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2:
            raise QueryParseError(f"Syntax error in order '{text}'")
        found = lookup.get(words[0].lower())
        if found is None:
            raise QueryParseError(
                f"No property or field '{words[0]}' exists in type '{type_name}'")
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise QueryParseError(f"Syntax error in order '{text}'")
        out.append((found.column, direction == "DESC"))
    return out
