"""SuiteQL (NetSuite's Oracle-flavoured SQL) over DuckDB, for the NetSuite sandbox.

A query is parsed with sqlglot's Oracle dialect, checked (one SELECT, known tables and
columns), rewritten where Oracle and DuckDB differ (``TO_CHAR`` formats, ``ROWNUM``,
``BUILTIN.DF``, format strings with quoted literals or ``FF``) and run in DuckDB. The page is
cut in SQL and the total counted in SQL, so a large table never passes through Python.

The result is the ``/query/v1/suiteql`` envelope of ``erp_api_wire_formats.md`` §2.2 without
its top-level ``links`` (the HTTP layer knows the URLs). Tags there ([C]/[R]/[S]/[U]) apply.
Pure logic: no routing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

__all__ = ["SuiteQL", "SuiteQLError", "render_value"]

MAX_RESULTS = 100_000  # "Total result cap is 100,000 rows per query" [C]
MAX_LIMIT = 1000  # default and maximum page size [C]
INVALID_QUERY = "Invalid search query. Detailed unprocessed description follows. "
UNSUPPORTED = "Search error occurred: Invalid or unsupported search."  # [U] exact wording
PROBLEM_TYPE_400 = "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1"
_FORBIDDEN = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter,
              exp.Command, exp.TruncateTable)


class SuiteQLError(Exception):
    """A refused query or page request; ``body()`` is NetSuite's ``o:errorDetails`` body."""

    def __init__(self, message: str, status: int = 400, code: str = "INVALID_PARAMETER",
                 query_param: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.query_param = query_param  # o:errorQueryParam when a URL parameter is at fault

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"detail": self.message, "o:errorCode": self.code}
        if self.query_param:
            detail["o:errorQueryParam"] = self.query_param
        return {"type": PROBLEM_TYPE_400, "title": "Bad Request", "status": self.status,
                "o:errorDetails": [detail]}


def _query_error(reason: str) -> SuiteQLError:
    return SuiteQLError(INVALID_QUERY + reason)


# -- value rendering -----------------------------------------------------------------------------
def render_value(value: Any) -> str:
    """SuiteQL returns every value as text [S]. Dates and timestamps not wrapped in TO_CHAR use
    NetSuite's default user preference, ``M/D/YYYY`` and ``M/D/YYYY h:mm am`` [U]."""
    if isinstance(value, bool):  # before int: bool is an int
        return "T" if value else "F"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")  # keeps the column's scale: 2160.00 stays "2160.00"
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime):
        hour = value.hour % 12 or 12
        ampm = "am" if value.hour < 12 else "pm"
        return f"{value.month}/{value.day}/{value.year} {hour}:{value.minute:02d} {ampm}"
    if isinstance(value, date):
        return f"{value.month}/{value.day}/{value.year}"
    return str(value)


def _float_text(value: float) -> str:
    """Shortest round-trip digits, never an exponent; ``12.0`` → ``"12"`` [U]."""
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


# -- Oracle date formats -------------------------------------------------------------------------
# Oracle datetime format elements → strftime, longest first so HH24 wins over HH. FFn (fraction)
# has no strftime equivalent and is cut from %f (microseconds) instead.
_ORACLE_TOKENS = [
    ("YYYY", "%Y"), ("MONTH", "%B"), ("HH24", "%H"), ("HH12", "%I"), ("A.M.", "%p"),
    ("P.M.", "%p"), ("MON", "%b"), ("DDD", "%j"), ("DAY", "%A"), ("YY", "%y"), ("MM", "%m"),
    ("DD", "%d"), ("DY", "%a"), ("HH", "%I"), ("MI", "%M"), ("SS", "%S"), ("AM", "%p"),
    ("PM", "%p"),
]
_FRACTION = re.compile(r"FF([1-9]?)", re.IGNORECASE)
_PUNCTUATION = set(" -/,.;:")


def oracle_format_segments(fmt: str) -> list[str | int]:
    """An Oracle format as strftime pieces (str) and fraction widths (int, for FFn)."""
    out: list[str | int] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == '"':  # quoted literal, e.g. "T"
            end = fmt.find('"', i + 1)
            if end < 0:
                raise _query_error(f"Search error occurred: Invalid date format {fmt!r}.")
            out.append(fmt[i + 1:end].replace("%", "%%"))
            i = end + 1
            continue
        m = _FRACTION.match(fmt, i)
        if m:
            out.append(int(m.group(1) or 6))
            i = m.end()
            continue
        token = next((t for t in _ORACLE_TOKENS if fmt[i:i + len(t[0])].upper() == t[0]), None)
        if token is not None:
            out.append(token[1])
            i += len(token[0])
        elif fmt[i] in _PUNCTUATION:
            out.append(fmt[i])
            i += 1
        else:
            raise _query_error(f"Search error occurred: Invalid date format {fmt!r}.")
    return _merge_text(out)


def _merge_text(parts: list[str | int]) -> list[str | int]:
    merged: list[str | int] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        else:
            merged.append(p)
    return merged


def _strftime(value: exp.Expression, fmt: str) -> exp.Expression:
    return exp.Anonymous(this="STRFTIME", expressions=[value.copy(), exp.Literal.string(fmt)])


def _to_char(node: exp.ToChar) -> exp.Expression:
    """``TO_CHAR(x, 'fmt')`` as DuckDB ``STRFTIME`` pieces joined with ``||`` (which keeps NULL
    as NULL, as Oracle does); without a format, plain text."""
    fmt = node.args.get("format")
    if fmt is None:
        return exp.cast(node.this.copy(), exp.DataType.Type.VARCHAR)
    if not isinstance(fmt, exp.Literal) or not fmt.is_string:
        raise _query_error(UNSUPPORTED)
    pieces: list[exp.Expression] = []
    for seg in oracle_format_segments(fmt.this):
        if isinstance(seg, int):
            micro = _strftime(node.this, "%f")
            pieces.append(exp.Substring(this=micro, start=exp.Literal.number(1),
                                        length=exp.Literal.number(seg)))
        else:
            pieces.append(_strftime(node.this, seg))
    out = pieces[0]
    for piece in pieces[1:]:
        out = exp.DPipe(this=out, expression=piece, safe=True)
    return exp.Paren(this=out) if len(pieces) > 1 else out


def _fix_parse_format(node: exp.StrToTime | exp.StrToDate) -> None:
    """sqlglot maps the Oracle tokens of TO_TIMESTAMP/TO_DATE formats but leaves quoted
    literals (``"T"``) quoted and ``FFn`` untouched; finish the job for DuckDB's strptime."""
    fmt = node.args.get("format")
    if fmt is None:
        if isinstance(node, exp.StrToDate):  # TO_DATE('6/1/2024'): the user's date format [U]
            node.set("format", exp.Literal.string("%m/%d/%Y"))
        return
    if not isinstance(fmt, exp.Literal) or not fmt.is_string:
        raise _query_error(UNSUPPORTED)
    text = re.sub(r'"([^"]*)"', lambda m: m.group(1).replace("%", "%%"), fmt.this)
    node.set("format", exp.Literal.string(_FRACTION.sub("%f", text)))


# -- rewrites ------------------------------------------------------------------------------------
def _name_projections(select: exp.Select) -> None:
    """Unaliased expressions come back as ``expr1``, ``expr2``, … [U]; plain columns keep their
    name. Done first, so later rewrites (BUILTIN.DF → its argument) keep the NetSuite name."""
    n = 0
    for i, proj in enumerate(select.expressions):
        if isinstance(proj, exp.Alias | exp.Column | exp.Star):
            continue
        n += 1
        select.expressions[i] = exp.alias_(proj, f"expr{n}")
    select.set("expressions", select.expressions)


def _leftmost_select(tree: exp.Query) -> exp.Select:
    """The SELECT whose projections name a UNION's columns (as in Oracle)."""
    node: exp.Expression = tree
    while isinstance(node, exp.SetOperation | exp.Subquery):
        node = node.this
    if not isinstance(node, exp.Select):
        raise _query_error(UNSUPPORTED)
    return node


def _rewrite_builtin_df(tree: exp.Expression) -> None:
    """``BUILTIN.DF(col)`` is the display text of a list/record reference. The sandbox has no
    display names, so it is the value itself, rendered as text like every value."""
    for dot in list(tree.find_all(exp.Dot)):
        fn = dot.expression
        owner = dot.this.name if isinstance(dot.this, exp.Identifier | exp.Column) else ""
        if owner.upper() != "BUILTIN" or not isinstance(fn, exp.Anonymous):
            continue
        if str(fn.this).upper() != "DF" or len(fn.expressions) != 1:
            raise _query_error(f"Search error occurred: Unknown function BUILTIN.{fn.this}.")
        dot.replace(fn.expressions[0].copy())


def _is_rownum(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column) and not node.table and node.name.lower() == "rownum"


def _rownum_bound(cond: exp.Expression) -> int | None:
    """``n`` for ``ROWNUM <= n``, ``ROWNUM < n+1``, ``ROWNUM = 1`` (either side); else None."""
    if not isinstance(cond, exp.LTE | exp.LT | exp.GTE | exp.GT | exp.EQ):
        return None
    left, right = cond.this, cond.expression
    flipped = {exp.GTE: exp.LTE, exp.GT: exp.LT, exp.LTE: exp.GTE, exp.LT: exp.GT}
    kind = type(cond)
    if _is_rownum(right) and not _is_rownum(left):
        left, right, kind = right, left, flipped.get(kind, kind)
    if not _is_rownum(left) or not (isinstance(right, exp.Literal) and right.is_int):
        return None
    n = int(right.this)
    if kind is exp.LTE:
        return n
    if kind is exp.LT:
        return n - 1
    if kind is exp.EQ and n == 1:
        return 1
    return None


def _rewrite_rownum(select: exp.Select) -> None:
    """``WHERE … AND ROWNUM <= n`` → ``LIMIT n``. Oracle numbers rows before ORDER BY; the
    sandbox limits after it, which is what callers mean and agrees when there is no ORDER BY
    [U]. Any other use of ROWNUM is refused later as unsupported."""
    where = select.args.get("where")
    if where is None:
        return
    keep: list[exp.Expression] = []
    bound: int | None = None
    for cond in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
        n = _rownum_bound(cond)
        if n is None:
            keep.append(cond)
        else:
            bound = n if bound is None else min(bound, n)
    if bound is None:
        return
    select.set("where", exp.Where(this=exp.and_(*keep)) if keep else None)
    current = _literal_limit(select)
    select.set("limit", exp.Limit(expression=exp.Literal.number(
        max(0, bound if current is None else min(current, bound)))))


def _literal_limit(query: exp.Query) -> int | None:
    node = query.args.get("limit")
    if node is None:
        return None
    value = node.args.get("count") if isinstance(node, exp.Fetch) else node.expression
    if not (isinstance(value, exp.Literal) and value.is_int):
        raise _query_error(UNSUPPORTED)
    return int(value.this)


def _literal_offset(query: exp.Query) -> int:
    node = query.args.get("offset")
    if node is None:
        return 0
    if not (isinstance(node.expression, exp.Literal) and node.expression.is_int):
        raise _query_error(UNSUPPORTED)
    return int(node.expression.this)


def _lower_identifiers(tree: exp.Expression) -> None:
    """Oracle folds unquoted identifiers; the frames are registered lower-case."""
    for ident in tree.find_all(exp.Identifier):
        if not ident.quoted:
            ident.set("this", ident.this.lower())


# -- validation ----------------------------------------------------------------------------------
def _check_statement(parsed: list[exp.Expression | None]) -> exp.Query:
    statements = [s for s in parsed if s is not None]
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise _query_error(UNSUPPORTED)
    if any(isinstance(node, _FORBIDDEN) for node in statements[0].walk()):
        raise _query_error(UNSUPPORTED)
    return statements[0]


def _scope_chain(scope: Scope) -> Iterator[Scope]:
    s: Scope | None = scope
    while s is not None:
        yield s
        s = s.parent


def _source_columns(source: Any, schema: Mapping[str, Mapping[str, Any]]) -> set[str] | None:
    """Column names a FROM source offers; None when unknown (a derived table with ``*``)."""
    if isinstance(source, exp.Table):
        return set(schema.get(source.name, {}))
    if isinstance(source, Scope) and isinstance(source.expression, exp.Select):
        if source.expression.is_star:
            return None
        return {name.lower() for name in source.expression.named_selects}
    return None


def _record_name(alias: str, source: Any) -> str:
    return source.name if isinstance(source, exp.Table) else alias  # derived table: its alias


class _Validator:
    """Unknown tables and columns fail with NetSuite's wording instead of a DuckDB message."""

    def __init__(self, schema: Mapping[str, Mapping[str, Any]]):
        self.schema = schema

    def check(self, tree: exp.Query) -> None:
        for scope in traverse_scope(tree):
            for source in scope.sources.values():
                if isinstance(source, exp.Table) and source.name not in self.schema:
                    raise _query_error(
                        f"Search error occurred: Record '{source.name}' was not found.")
            for column in scope.columns:
                self._check_column(scope, column)

    def _check_column(self, scope: Scope, column: exp.Column) -> None:
        if isinstance(column.this, exp.Star):
            return
        name = column.name
        if name == "rownum":
            raise _query_error(UNSUPPORTED)
        sources = [
            (alias, src) for s in _scope_chain(scope) for alias, src in s.sources.items()
            if not column.table or alias == column.table
        ]
        if column.table and not sources:
            raise _query_error(f"Search error occurred: Record '{column.table}' was not found.")
        offered = [_source_columns(src, self.schema) for _, src in sources]
        if any(cols is None or name in cols for cols in offered):
            return
        record = _record_name(*sources[0]) if sources else "unknown"
        raise _query_error(
            f"Search error occurred: Field '{name}' for record '{record}' was not found.")


# -- engine --------------------------------------------------------------------------------------
class SuiteQL:
    """SuiteQL over in-memory DuckDB copies of ``tables`` (names and columns lower-cased)."""

    def __init__(self, tables: Mapping[str, pl.DataFrame], max_results: int = MAX_RESULTS,
                 max_limit: int = MAX_LIMIT):
        self.max_results = max_results
        self.max_limit = max_limit
        self._db = duckdb.connect(":memory:")
        self._db.execute("SET TimeZone = 'UTC'")
        self.schema: dict[str, dict[str, pl.DataType]] = {}
        for name, frame in tables.items():
            self._register(name.lower(), frame)

    def _register(self, name: str, frame: pl.DataFrame) -> None:
        lowered = [c.lower() for c in frame.columns]
        if len(set(lowered)) != len(lowered):
            raise ValueError(f"table {name!r} has columns that differ only in case")
        frame = frame.rename(dict(zip(frame.columns, lowered, strict=True)))
        # A real table, not a view over the frame: cursors on other threads see it, and the
        # caller may drop or replace the frame afterwards.
        self._db.register("_incoming", frame)
        self._db.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming')
        self._db.unregister("_incoming")
        self.schema[name] = dict(frame.schema)

    # -- public ------------------------------------------------------------------------------
    def translate(self, q: str) -> exp.Query:
        """The checked DuckDB-ready AST of a SuiteQL query (raises ``SuiteQLError``)."""
        try:
            parsed = sqlglot.parse(q, read="oracle")
        except SqlglotError as exc:
            raise _query_error(UNSUPPORTED) from exc
        tree = _check_statement(parsed)
        _lower_identifiers(tree)
        _name_projections(_leftmost_select(tree))
        for select in list(tree.find_all(exp.Select)):
            _rewrite_rownum(select)
        _rewrite_builtin_df(tree)
        for node in list(tree.find_all(exp.ToChar)):
            node.replace(_to_char(node))
        for node in list(tree.find_all(exp.StrToTime, exp.StrToDate)):
            _fix_parse_format(node)
        _Validator(self.schema).check(tree)
        return tree

    def to_duckdb(self, q: str) -> str:
        return self.translate(q).sql(dialect="duckdb", identify=True)

    def query(self, q: str, limit: int = MAX_LIMIT, offset: int = 0) -> dict[str, Any]:
        """One page of results: ``count``, ``hasMore``, ``offset``, ``totalResults``, ``items``
        (the HTTP layer adds ``links``)."""
        self._check_paging(limit, offset)
        tree = self.translate(q)
        total = self._count(tree)
        if total > self.max_results and offset + limit > self.max_results:
            raise _query_error(
                f"Search error occurred: The query returned more than {self.max_results} "
                "results. Narrow the query (e.g. by date or id range) to page through it.")
        names, rows = self._fetch(self._page(tree, limit, offset))
        items = [_item(names, row) for row in rows]
        return {
            "count": len(items),
            # True while real rows remain, even past the cap: the next page then fails loudly
            # instead of the client silently stopping short [U].
            "hasMore": offset + len(items) < total,
            "offset": offset,
            "totalResults": min(total, self.max_results),
            "items": items,
        }

    # -- internals ---------------------------------------------------------------------------
    def _check_paging(self, limit: int, offset: int) -> None:
        if not 1 <= limit <= self.max_limit:
            raise SuiteQLError(
                f"Invalid query parameter value: limit. The value must be between 1 and "
                f"{self.max_limit}.", query_param="limit")  # [U] wording
        if offset < 0 or offset % limit:
            raise SuiteQLError(
                "Invalid query parameter value: offset. The value must be a non-negative "
                "multiple of limit.", query_param="offset")  # [S] rule, [U] wording

    @staticmethod
    def _page(tree: exp.Query, limit: int, offset: int) -> exp.Query:
        """Rows ``[offset, offset+limit)`` of the result, composed with the query's own
        FETCH FIRST/OFFSET/ROWNUM limit instead of wrapping it (a wrapper could lose the
        order)."""
        inner_limit, inner_offset = _literal_limit(tree), _literal_offset(tree)
        n = limit if inner_limit is None else max(0, min(limit, inner_limit - offset))
        page = tree.copy()
        page.set("limit", None)
        page.set("offset", None)
        return page.limit(n, copy=False).offset(inner_offset + offset, copy=False)

    def _count(self, tree: exp.Query) -> int:
        sql = f"SELECT COUNT(*) FROM ({tree.sql(dialect='duckdb', identify=True)}) AS q"
        _, rows = self._run(sql)
        return int(rows[0][0])

    def _fetch(self, tree: exp.Query) -> tuple[list[str], list[tuple[Any, ...]]]:
        return self._run(tree.sql(dialect="duckdb", identify=True))

    def _run(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self._db.cursor()  # one cursor per call: safe from the HTTP layer's threads
        try:
            cur.execute(sql)
            names = [d[0].lower() for d in cur.description or []]
            return names, cur.fetchall()
        except duckdb.Error as exc:
            # DuckDB's own words after NetSuite's prefix [U]: useful, if not NetSuite's text.
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise _query_error(f"Search error occurred: {first}") from exc
        finally:
            cur.close()


def _item(names: list[str], row: tuple[Any, ...]) -> dict[str, Any]:
    """One row: lower-case keys, values as text, null columns left out [U], ``links: []``."""
    item: dict[str, Any] = {"links": []}
    for name, value in zip(names, row, strict=True):
        if value is not None:
            item[name] = render_value(value)
    return item
