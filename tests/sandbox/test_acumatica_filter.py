"""Acumatica ``$filter``: tokenizer, parser and compiled polars predicates on a hand-made frame
(expected rows worked out by hand)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from pipelines.sandbox.acumatica_filter import (
    Compare,
    Field,
    FilterError,
    Literal,
    Logical,
    Not,
    filter_expr,
    parse_filter,
    tokenize,
)

ADDRESS = pl.Struct({"City": pl.String, "State": pl.String})
CONTACT = pl.Struct({"Email": pl.String, "Address": ADDRESS})
LINE = pl.List(pl.Struct({"id": pl.String, "Amount": pl.Decimal(18, 2)}))
GUID_B = "7b89c293-62bd-ef11-a82c-000d3ae74153"

FRAME = pl.DataFrame({
    "id": ["0d3c9a4e-0000-4000-8000-000000000001", GUID_B,
           "0d3c9a4e-0000-4000-8000-000000000003", "0d3c9a4e-0000-4000-8000-000000000004"],
    "Ref": ["A", "B", "C", "D"],
    "Name": ["Ridge Concrete", "O'Brien Steel", None, "ridge roofing"],
    "Amount": [Decimal("10.00"), Decimal("250.50"), Decimal("-5.00"), None],
    "Lines": [3, 0, 1, None],
    "Hold": [False, True, False, None],
    "Date": [date(2024, 6, 1), date(2024, 6, 2), None, date(2024, 5, 31)],
    "Modified": [datetime(2024, 6, 1, 0, 0, tzinfo=UTC), datetime(2024, 6, 1, 12, 30, tzinfo=UTC),
                 datetime(2024, 6, 2, 9, 0, tzinfo=UTC), None],
    "MainContact": [{"Email": "ap@ridge.example", "Address": {"City": "Springfield",
                                                               "State": "IL"}},
                    {"Email": None, "Address": {"City": "Portland", "State": "OR"}},
                    None,
                    {"Email": "x@roof.example", "Address": None}],
    "Details": [[{"id": "l1", "Amount": Decimal("1.00")}], [], None, []],
}, schema={"id": pl.String, "Ref": pl.String, "Name": pl.String, "Amount": pl.Decimal(18, 2),
           "Lines": pl.Int64, "Hold": pl.Boolean, "Date": pl.Date,
           "Modified": pl.Datetime("us", "UTC"), "MainContact": CONTACT, "Details": LINE})


def refs(text: str) -> list[str]:
    expr = filter_expr(text, FRAME.schema, ("Details",), "Bill")
    return FRAME.filter(expr)["Ref"].to_list()


# -- tokenizer -----------------------------------------------------------------------------------
def test_tokens_kinds_positions_and_escapes() -> None:
    toks = tokenize("MainContact/Email eq 'O''Brien' and Amount ge -1.5m or "
                    "Modified gt datetimeoffset'2024-06-01T00:00:00Z'")
    assert [(t.kind, t.text, t.pos) for t in toks[:7]] == [
        ("path", "MainContact/Email", 0), ("name", "eq", 18), ("str", "O'Brien", 21),
        ("name", "and", 32), ("name", "Amount", 36), ("name", "ge", 43), ("num", "-1.5m", 46)]
    typed = toks[-2]
    assert (typed.kind, typed.prefix, typed.text, typed.pos) == (
        "typed", "datetimeoffset", "2024-06-01T00:00:00Z", 67)
    assert toks[-1].kind == "end"


@pytest.mark.parametrize(("text", "message"), [
    ("Name eq 'open", "position 8: unterminated string literal"),
    ("Name eq #x", "position 8: unexpected character '#'"),
    ("Amount eq 12abc", "position 10: malformed number"),
    ("MainContact/ eq 'x'", "position 12: field name expected after '/'"),
])
def test_tokenizer_errors_name_the_position(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        tokenize(text)


# -- parser --------------------------------------------------------------------------------------
def test_and_binds_tighter_than_or_and_not_takes_the_comparison() -> None:
    tree = parse_filter("A eq 1 or not B eq 'x' and C")
    assert tree == Logical(
        "or", Compare("eq", Field(("A",), 0), Literal("num", 1, 5), 2),
        Logical("and",
                Not(Compare("eq", Field(("B",), 14), Literal("str", "x", 19), 16), 10),
                Field(("C",), 27)))


def test_parentheses_group() -> None:
    tree = parse_filter("(A eq 1 or B eq 2) and C eq 3")
    assert isinstance(tree, Logical) and tree.op == "and"
    assert isinstance(tree.left, Logical) and tree.left.op == "or"


def test_typed_literals_are_normalised_to_utc() -> None:
    tree = parse_filter("M gt datetimeoffset'2024-06-01T02:00:00.000+02:00'")
    assert isinstance(tree, Compare)
    assert tree.right == Literal("datetime", datetime(2024, 6, 1, tzinfo=UTC), 5)
    tree = parse_filter("id eq guid'7B89C293-62BD-EF11-A82C-000D3AE74153'")
    assert isinstance(tree, Compare) and tree.right == Literal("guid", GUID_B, 6)


@pytest.mark.parametrize(("text", "message"), [
    ("", "position 0: the filter is empty"),
    ("Name eq", "position 7: a field, literal or '\\(' expected, found the end"),
    ("Name eq 'a' Ref", "position 12: 'and', 'or' or the end of the filter expected, found 'Ref'"),
    ("(Name eq 'a'", "position 12: '\\)' expected, found the end"),
    ("startswith(Name 'a')", "position 16: ',' expected, found 'a'"),
    ("contains(Name,'a')", "Unknown function 'contains' at position 0"),
    ("Modified gt datetimeoffset'2024-06-01T00:00:00 00:00'", "URL-encode '\\+'"),
    ("id eq guid'not-a-guid'", "Invalid guid literal at position 6"),
    ("Amount eq 1.2.3", "position 10: malformed number"),
])
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_filter(text)


# -- compiled predicates -------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("Name eq 'O''Brien Steel'", ["B"]),
    ("Name eq 'RIDGE CONCRETE'", ["A"]),  # SQL Server's case-insensitive collation
    ("Name ne 'Ridge Concrete'", ["B", "C", "D"]),  # null is not equal to a value
    ("Name eq null", ["C"]),
    ("null ne Name", ["A", "B", "D"]),
    ("Amount gt 10", ["B"]),
    ("Amount ge 10.00 and Amount le 250.5", ["A", "B"]),
    ("Amount lt 0 or Lines eq 0", ["B", "C"]),
    ("not (Amount lt 0 or Lines eq 0)", ["A", "D"]),
    ("not Amount lt 0", ["A", "B", "D"]),  # a null is not less than 0 either
    ("Lines eq 1 or Lines eq 3 and Hold eq true", ["C"]),  # and first
    ("(Lines eq 1 or Lines eq 3) and Hold eq false", ["A", "C"]),
    ("Hold", ["B"]),
    ("not Hold", ["A", "C"]),
    ("startswith(Name,'ridge')", ["A", "D"]),
    ("endswith(Name,'STEEL')", ["B"]),
    ("substringof('con',Name)", ["A"]),
    ("startswith(Name,'Ridge') eq false", ["B", "C"]),
    ("Modified gt datetimeoffset'2024-06-01T00:00:00.000+00:00'", ["B", "C"]),
    ("Modified gt datetimeoffset'2024-06-01T14:30:00+02:00'", ["C"]),  # 12:30 UTC
    ("Modified ge datetimeoffset'2024-06-01T12:30:00Z'", ["B", "C"]),
    ("Modified lt datetime'2024-06-01T12:00:00'", ["A"]),  # no offset: UTC
    ("Date eq datetimeoffset'2024-06-01T00:00:00+00:00'", ["A"]),  # a date is midnight UTC
    ("Date lt datetimeoffset'2024-06-01T00:00:00-02:00'", ["A", "D"]),  # 02:00 UTC
    ("MainContact/Email eq 'ap@ridge.example'", ["A"]),
    ("MainContact/Email eq null", ["B", "C"]),  # a null linked entity has null fields
    ("maincontact/address/city eq 'portland'", ["B"]),  # field names ignore case [U]
    (f"id eq guid'{GUID_B.upper()}'", ["B"]),
    ("Ref eq 'A' or Ref eq 'D'", ["A", "D"]),
])
def test_filter_rows(text: str, expected: list[str]) -> None:
    assert refs(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("Details/Amount gt 0", "Filtering on detail entities is not supported: 'Details'"),
    ("Nope eq 'x'", "Unknown field 'Nope' in \\$filter at position 0: the Bill entity has no "
                    "field 'Nope'"),
    ("MainContact/Fax eq 'x'", "Unknown field 'MainContact/Fax'"),
    ("Name/Sub eq 'x'", "Unknown field 'Name/Sub'.*'Name' has no fields"),
    ("MainContact eq 'x'", "'MainContact' at position 0 is a linked entity"),
    ("Name eq 5", "Operator 'eq' at position 5 cannot compare str with num"),
    ("Amount gt null", "Operator 'gt' at position 7 cannot compare with null"),
    ("Hold gt false", "cannot order true/false"),
    ("Name", "position 0 is not a condition"),
    ("Hold and Amount", "position 9 is not a condition"),
    ("startswith(Amount,'1')", "Function 'startswith' at position 0 takes text"),
    ("Modified gt '2024-06-01'", "cannot compare datetime with str"),
])
def test_semantic_errors(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        refs(text)
