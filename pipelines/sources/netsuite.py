"""dlt source for NetSuite SuiteTalk REST, one NetSuite account per connection (C-1).

Reads transactions and their lines, vendors, items, jobs (projects), payment links and
deletions with SuiteQL (``POST /query/v1/suiteql``), into the ``raw_netsuite`` tables of
``docs/netsuite.md``.

- Token-Based Authentication: every request is OAuth 1.0a HMAC-SHA256 signed with the account
  id as realm (``pipelines/oauth1.py``). Credentials come the dlt way, per connection when set
  (``sources.netsuite.<connection_id>.token_id``), else shared (``sources.netsuite.token_id``).
- SuiteQL answers every value as text, and dates in the user's display format: timestamps are
  selected with ``TO_CHAR(col, 'YYYY-MM-DD HH24:MI:SS')`` (read as UTC), dates with
  ``TO_CHAR(col, 'YYYY-MM-DD')``, and each page is typed by column kind in Arrow (ids bigint,
  money DECIMAL(38, 9), dates, UTC timestamps; ``T``/``F`` flags stay text). Null columns are
  left out of SuiteQL items and arrive as nulls.
- Incremental on ``lastmodifieddate`` (``deleteddate`` for deletions), one cursor per
  connection, read from the last value minus a lag; rows merge on their keys. Lines follow
  their header's ``lastmodifieddate``, and a reloaded transaction replaces all its lines
  (merge key ``connection_id, transaction``).
- Paging is by keyset on the table's unique key: each page asks for the rows after the last
  key read (``limit`` rows, offset 0) until ``hasMore`` is false. A record modified or deleted
  while we page cannot shift another across a page boundary unseen (offset paging would), and
  no query ever reaches NetSuite's 100,000-rows-per-query cap (``MAX_RESULTS``).
- A 429 ``CONCURRENCY_LIMIT_EXCEEDED`` (no ``Retry-After``) is retried with exponential
  backoff by the shared client; a 401 fails naming the connection and the secrets to check.

API: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import dlt
import polars as pl
import pyarrow as pa

from pipelines.config import Connection
from pipelines.http import STATS, ApiClient, ApiError
from pipelines.oauth1 import OAuth1Credentials, OAuth1Signer
from pipelines.sources.common import KeyedCursor, keys_not_null, secret

log = logging.getLogger("costbridge.extract")

MAX_RESULTS = 100_000  # rows one SuiteQL query may return; a page never reaches past it
SUITEQL = "query/v1/suiteql"
SECRET_KEYS = ("consumer_key", "consumer_secret", "token_id", "token_secret")
TS_FORMAT, PY_TS_FORMAT = "YYYY-MM-DD HH24:MI:SS", "%Y-%m-%d %H:%M:%S"
# Column kinds. Ids and counts are integers; money, quantities and rates decimals (38, 9, as
# dlt stores decimals); flags stay the 'T'/'F' text NetSuite sends.
INT, DEC, DATE, TS, TEXT = "int", "decimal", "date", "timestamp", "text"
DTYPES: dict[str, pl.DataType] = {INT: pl.Int64(), DEC: pl.Decimal(38, 9), DATE: pl.Date(),
                                  TS: pl.Datetime("us", "UTC"), TEXT: pl.String()}


class NetSuiteLoginFailed(RuntimeError):
    """NetSuite refused a connection's credentials (401 INVALID_LOGIN)."""


class NetSuiteCredentialsMissing(ValueError):
    """A connection has no value for one of the TBA secrets."""


@dataclass(frozen=True)
class Col:
    """One selected column: its name in the item and the warehouse, how it is typed, and the
    SQL it is read from when that is not the plain column (a joined table's column)."""

    name: str
    kind: str = TEXT
    expr: str | None = None

    @property
    def sql(self) -> str:
        return self.expr or self.name

    def select(self) -> str:
        if self.kind == TS:
            return f"TO_CHAR({self.sql}, '{TS_FORMAT}') AS {self.name}"
        if self.kind == DATE:
            return f"TO_CHAR({self.sql}, 'YYYY-MM-DD') AS {self.name}"
        return self.sql if self.expr is None else f"{self.sql} AS {self.name}"


def _cols(alias: str | None, *specs: str) -> tuple[Col, ...]:
    """Columns from ``"name"`` / ``"name:kind"`` specs, read from ``alias.name`` if aliased."""
    out = []
    for spec in specs:
        name, _, kind = spec.partition(":")
        out.append(Col(name, kind or TEXT, f"{alias}.{name}" if alias else None))
    return tuple(out)


@dataclass(frozen=True)
class Query:
    """One warehouse table read with SuiteQL."""

    table: str  # warehouse table and dlt resource
    source: str  # FROM clause
    columns: tuple[Col, ...]
    key: tuple[str, ...]  # primary key (with connection_id)
    order: tuple[str, ...]  # unique order of the rows, the keyset to page on
    cursor: str | None = None  # the timestamp column incremental reads filter on
    where: str | None = None
    merge_key: tuple[str, ...] = ()  # (with connection_id) rows replaced whole per value
    hidden: tuple[str, ...] = ()  # selected to follow the cursor, not loaded

    def col(self, name: str) -> Col:
        return next(c for c in self.columns if c.name == name)


_LINES = "transactionline tl JOIN transaction t ON t.id = tl.transaction"
QUERIES: dict[str, Query] = {q.table: q for q in (
    Query("transactions", "transaction", _cols(
        None, "id:int", "tranid", "type", "status", "trandate:date", "duedate:date", "entity:int",
        "memo", "externalid", "foreigntotal:decimal", "posting", "createddate:timestamp",
        "lastmodifieddate:timestamp"), ("id",), ("id",), "lastmodifieddate"),
    # Lines carry no cursor of their own that a header change is sure to bump: they are read
    # for the headers modified in the window, and replace that header's lines whole.
    Query("transaction_lines", _LINES, _cols(
        "tl", "transaction:int", "id:int", "linesequencenumber:int", "mainline", "taxline",
        "item:int", "itemtype", "entity:int", "memo", "quantity:decimal", "rate:decimal",
        "netamount:decimal", "expenseaccount:int", "linelastmodifieddate:timestamp")
        + (Col("headerlastmodified", TS, "t.lastmodifieddate"),),
        ("transaction", "id"), ("transaction", "id"), "headerlastmodified",
        where="tl.mainline = 'F' AND tl.taxline = 'F'", merge_key=("transaction",),
        hidden=("headerlastmodified",)),
    Query("vendors", "vendor", _cols(
        None, "id:int", "entityid", "companyname", "phone", "email", "isperson", "isinactive",
        "externalid", "datecreated:timestamp", "lastmodifieddate:timestamp"),
        ("id",), ("id",), "lastmodifieddate"),
    Query("items", "item", _cols(
        None, "id:int", "itemid", "displayname", "itemtype", "subtype", "isinactive",
        "externalid", "createddate:timestamp", "lastmodifieddate:timestamp"),
        ("id",), ("id",), "lastmodifieddate"),
    Query("jobs", "job", _cols(
        None, "id:int", "entityid", "companyname", "altname", "parent:int", "isinactive",
        "externalid", "datecreated:timestamp", "lastmodifieddate:timestamp"),
        ("id",), ("id",), "lastmodifieddate"),
    # No cursor on the link table: read whole every run and replaced.
    Query("transaction_links", "nexttransactionlinelink", _cols(
        None, "previousdoc:int", "previousline:int", "previoustype", "nextdoc:int", "nextline:int",
        "nexttype", "linktype", "foreignamount:decimal"),
        ("previousdoc", "nextdoc"),
        ("previousdoc", "nextdoc", "previousline", "nextline", "linktype")),
    Query("deleted_records", "deletedrecord", _cols(
        None, "recordid:int", "recordtypename", "name", "deleteddate:timestamp"),
        ("recordtypename", "recordid"), ("recordtypename", "recordid"), "deleteddate"),
)}


# -- SuiteQL -------------------------------------------------------------------------------------
def _literal(kind: str, value: str) -> str:
    if kind == INT:
        return str(int(value))  # also refuses anything that is not an integer
    if kind == TS:
        return f"TO_TIMESTAMP('{value}', '{TS_FORMAT}')"
    return "'" + value.replace("'", "''") + "'"


def _after(q: Query, last: dict[str, str]) -> str:
    """Rows after ``last`` in the order ``q.order``: ``a > x OR (a = x AND b > y) …``."""
    terms = []
    for i, name in enumerate(q.order):
        if last.get(name) is None:
            raise ApiError(f"netsuite {q.table}: cannot page past a row without {name}")
        eq = [f"{q.col(n).sql} = {_literal(q.col(n).kind, last[n])}" for n in q.order[:i]]
        gt = f"{q.col(name).sql} > {_literal(q.col(name).kind, last[name])}"
        terms.append(" AND ".join([*eq, gt]))
    return " OR ".join(f"({t})" for t in terms)


def suiteql(q: Query, since: datetime | None, after: dict[str, str] | None = None) -> str:
    """The query for the rows modified since ``since`` (all when None) after row ``after``."""
    conds = [q.where] if q.where else []
    if since is not None and q.cursor:
        stamp = since.astimezone(UTC).strftime(PY_TS_FORMAT)
        conds.append(f"{q.col(q.cursor).sql} >= {_literal(TS, stamp)}")
    if after is not None:
        conds.append(_after(q, after))
    where = " WHERE " + " AND ".join(f"({c})" for c in conds) if conds else ""
    order = ", ".join(q.col(n).sql for n in q.order)
    return (f"SELECT {', '.join(c.select() for c in q.columns)} FROM {q.source}{where} "
            f"ORDER BY {order}")


def read_pages(client: ApiClient, q: Query, since: datetime | None,
               page_size: int) -> Iterator[list[dict]]:
    """Yield SuiteQL items page by page, each page the rows after the last one read."""
    limit = min(page_size, MAX_RESULTS)
    after: dict[str, str] | None = None
    while True:
        body, _ = client.post(SUITEQL, q.table, {"q": suiteql(q, since, after)},
                              params={"limit": limit, "offset": 0},
                              headers={"Prefer": "transient"})
        items = body.get("items") or []
        if items:
            yield items
        if not body.get("hasMore") or not items:
            return
        after = items[-1]


def to_frame(q: Query, items: list[dict]) -> pl.DataFrame:
    """A page typed by column kind; strict, so an unexpected value fails the page loudly."""
    text = pl.DataFrame(items, schema={c.name: pl.String for c in q.columns})
    try:
        return text.select(_typed(c) for c in q.columns)
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ValueError(f"netsuite {q.table}: a value does not fit its column: {first}") from exc


def _typed(c: Col) -> pl.Expr:
    col = pl.col(c.name)
    if c.kind == TS:
        return col.str.to_datetime(PY_TS_FORMAT, time_unit="us", time_zone="UTC")
    if c.kind == DATE:
        return col.str.to_date("%Y-%m-%d")
    return col.cast(DTYPES[c.kind])


def to_arrow(q: Query, frame: pl.DataFrame, connection_id: str) -> pa.Table:
    """The loaded columns of a page plus ``connection_id``, typed even when a page holds only
    nulls in a column, so every page of a table has one schema."""
    table = frame.drop(q.hidden).with_columns(
        connection_id=pl.lit(connection_id, pl.String)).to_arrow()
    return keys_not_null(table, {"connection_id", *q.key, *q.merge_key})


# -- credentials and clients ---------------------------------------------------------------------
def credentials(conn: Connection) -> tuple[OAuth1Credentials, list[str]]:
    """The connection's TBA credentials and the secret paths they came from."""
    values: dict[str, str] = {}
    used: list[str] = []
    for key in SECRET_KEYS:
        found = secret("netsuite", conn.id, key)
        if found:
            values[key] = found[0]
            used.append(found[1])
    missing = [k for k in SECRET_KEYS if k not in values]
    if missing:
        raise NetSuiteCredentialsMissing(
            f"netsuite connection {conn.id!r}: no {', '.join(missing)}; set "
            + ", ".join(f"sources.netsuite.{k}" for k in missing)
            + f" (env SOURCES__NETSUITE__{missing[0].upper()} …) in .dlt/secrets.toml, or "
            f"per connection under [sources.netsuite.{conn.id}]")
    return OAuth1Credentials(**values), used


def signed_client(conn: Connection) -> ApiClient:
    """The connection's TBA-signed client, as the extract uses it (the NetSuite writer too)."""
    return _client(conn, credentials(conn)[0])


def _client(conn: Connection, creds: OAuth1Credentials) -> ApiClient:
    # Concurrency 429s clear when another integration's request ends: more, longer retries
    # than the default (0.5 … 32 s).
    return ApiClient("netsuite", conn.erp_base_url, {}, max_attempts=8,
                     auth=OAuth1Signer(conn.erp_tenant_id, creds))


def _login_failed(conn: Connection, q: Query, used: list[str]) -> NetSuiteLoginFailed:
    return NetSuiteLoginFailed(
        f"netsuite connection {conn.id!r} (account {conn.erp_tenant_id}): login refused "
        f"(HTTP 401 INVALID_LOGIN) reading {q.table}. Check the token-based authentication "
        f"secrets {', '.join(used)} (env SOURCES__NETSUITE__…): the token must be issued to "
        f"that consumer for account {conn.erp_tenant_id}, and not revoked")


# -- resources -----------------------------------------------------------------------------------
def _resource_rows(q: Query, connections: list[Connection],
                   clients: dict[str, tuple[ApiClient, list[str]]], page_size: int,
                   lag_seconds: int, full_refresh: bool) -> Iterator[pa.Table]:
    cursor = KeyedCursor(q.table, lag_seconds) if q.cursor else None
    for conn in connections:
        yield from _connection_rows(q, conn, clients[conn.id], cursor, page_size, full_refresh)


def _connection_rows(q: Query, conn: Connection, client: tuple[ApiClient, list[str]],
                     cursor: KeyedCursor | None, page_size: int,
                     full_refresh: bool) -> Iterator[pa.Table]:
    """One connection's pages of one table; its cursor moves once the last page is out."""
    since = None if (full_refresh or cursor is None) else cursor.start(conn.id)
    started, n = datetime.now(UTC), 0
    failure: Exception | None = None
    try:
        for items in read_pages(client[0], q, since, page_size):
            frame = to_frame(q, items)
            if cursor is not None and q.cursor:
                newest = frame[q.cursor].max()
                if isinstance(newest, datetime):
                    cursor.observe(conn.id, newest)
            n += frame.height
            STATS.add("rows", "netsuite", q.table, frame.height)
            yield to_arrow(q, frame, conn.id)
    except ApiError as exc:
        failure = _failure(conn, q, client[1], exc, full_refresh)
        if failure is None:
            return
    if failure is not None:
        raise failure  # outside the except: the run reports this message, not the 401's
    log.info("netsuite %s %s: %d records%s", conn.id, q.table, n,
             f" modified since {since:%Y-%m-%d %H:%M:%S}" if since else "")
    if cursor is not None:
        cursor.commit(conn.id, ceiling=started)


def _failure(conn: Connection, q: Query, used: list[str], exc: ApiError,
             full_refresh: bool) -> Exception | None:
    """What to raise for a failed read, or None to skip this table for this connection."""
    if exc.status == 401:
        return _login_failed(conn, q, used)
    # 403: the role lacks the permission for this table. Skip it (its cursor stays) and say
    # so, unless this is a full refresh, which replaces tables whole and must not miss one.
    if exc.status == 403 and not full_refresh and q.cursor:
        why = f"netsuite {conn.id} {q.table}: HTTP 403"
        log.warning("skipped %s: %s", why, exc)
        STATS.skipped.append(why)
        return None
    return exc


@dlt.source(name="netsuite")
def netsuite_source(connections: list[Connection], page_size: int = 1000,
                    lag_seconds: int = 300, full_refresh: bool = False):
    """One resource per raw table, across all NetSuite connections."""
    clients = {}
    for conn in connections:
        creds, used = credentials(conn)
        clients[conn.id] = (_client(conn, creds), used)
    for q in QUERIES.values():
        incremental = q.cursor is not None and not full_refresh
        # A full refresh replaces tables whole, so rows deleted at the source go too.
        resource = dlt.resource(
            _resource_rows, name=q.table, primary_key=["connection_id", *q.key],
            merge_key=["connection_id", *q.merge_key] if q.merge_key else None,
            write_disposition="merge" if incremental else "replace")
        yield resource(q, connections, clients, page_size, lag_seconds, full_refresh)
