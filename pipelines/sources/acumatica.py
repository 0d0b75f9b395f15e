"""dlt source for Acumatica's contract-based REST API (endpoint ``Default/24.200.001``), one
tenant (company) per connection (C-1), into the ``raw_acumatica`` tables of
``docs/acumatica.md``.

- Cookie session: ``POST {base}/entity/auth/login`` with name, password, tenant (and branch),
  then every call replays the session cookies. A session holds one of the tenant's licensed
  API-user seats (two on a trial licence) until it times out, so each connection logs in
  once for the whole extract and always logs out (``finally``), also when a page fails or dlt
  closes the generator early. Connections are read one after another: one seat at a time.
- One dlt resource reads every table of a connection in that one session (a resource per
  table could not share it); each page carries its table's hints. Credentials come the dlt
  way, per connection when set (``sources.acumatica.<connection_id>.username``), else shared
  (``sources.acumatica.username``, ``password``, optional ``branch``).
- Incremental on ``LastModifiedDateTime``: ``$filter=LastModifiedDateTime gt
  datetimeoffset'<cursor − lag>'``, one cursor per connection and table; rows merge on
  ``connection_id, id``. Detail lines (``$expand=Details``) follow their header, and a reloaded
  header replaces all its lines (merge key ``connection_id, <header>_id``). A full refresh
  ignores the cursors and replaces tables whole: Acumatica has no deletion feed.
- Paging: ``$top``/``$skip`` until a short page; the server orders rows by key fields. Offset
  paging can miss a row when another one is deleted during the read (it shifts one place
  forward across a page boundary) until that row's next change or a full refresh; rows
  modified during the read are re-read next run (the cursor never passes the read's start).
- Wire values ``{"value": v}`` are unwrapped, ``{}`` is null, linked entities are flattened
  with ``__`` (``main_contact__address__city``), names are snake-cased by dlt's naming
  (``POOrderNbr`` → ``po_order_nbr``), and the meta fields ``_links``, ``note``, ``custom``,
  ``rowNumber`` are dropped. Columns are typed by field name (``*DateTime`` UTC timestamps,
  ``*Date`` dates, amounts and quantities DECIMAL(38, 9), a few flags and ids), so a page
  where a column is empty types it the same as any other.
- Errors: 429 (the licence's request limit, no ``Retry-After``) and 5xx are retried with
  exponential backoff by the shared client. Bad credentials (a 500 saying ``Invalid
  credentials``) fail at once naming the connection and the secrets; ``API Login Limit``
  (429, an HTML page) is retried a few times, then fails saying the seats are taken. A 401
  mid-run (the session expired) logs in again once and repeats the call.

API: https://help.acumatica.com/ (Integration Development Guide, contract-based REST API)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import dlt
import polars as pl
import pyarrow as pa
import requests
from dlt.common.normalizers.naming.snake_case import NamingConvention

from pipelines.config import Connection
from pipelines.http import STATS, ApiClient, ApiError
from pipelines.sources.common import KeyedCursor, keys_not_null, secret, to_arrow

log = logging.getLogger("costbridge.extract")

ENDPOINT = "entity/Default/24.200.001"
LOGIN, LOGOUT = "entity/auth/login", "entity/auth/logout"
# A taken seat frees only when another session logs out or times out: a few tries (0.5 …
# 4 s apart) catch a parallel job finishing; more would only delay the message.
LOGIN_ATTEMPTS = 5
LOGOUT_ATTEMPTS = 3
SECRET_KEYS = ("username", "password")
META = frozenset({"_links", "note", "custom", "rowNumber", "error", "files"})
# Column types by field name (the last segment of a linked path).
TS, DATE, DEC = pl.Datetime("us", "UTC"), pl.Date(), pl.Decimal(38, 9)
MONEY_SUFFIXES = ("Amount", "Total", "Balance", "Cost", "Qty", "Rate", "Paid", "Price")
FLAGS = frozenset({"Hold", "Default", "Released", "Billable", "Billed", "Allocated",
                   "NonBillable", "ApprovedForPayment", "Completed", "Closed", "Canceled",
                   "Cancelled"})
INTEGERS = frozenset({"TransactionID", "LineNbr", "POLine", "DocLineNbr"})
_NAMING = NamingConvention()


class AcumaticaLoginFailed(RuntimeError):
    """Acumatica refused a connection's login (credentials, tenant, or no free API seat)."""


class AcumaticaCredentialsMissing(ValueError):
    """A connection has no username or password."""


@dataclass(frozen=True)
class Entity:
    """One top-level entity read into a warehouse table, and its detail lines if expanded."""

    table: str
    name: str  # the Acumatica entity in the URL
    expand: tuple[str, ...] = ()
    details: str | None = None  # table of the ``Details`` lines
    parent: str | None = None  # their column holding the header's id

    def params(self, since: datetime | None, page_size: int) -> dict[str, Any]:
        params: dict[str, Any] = {"$top": page_size}
        if self.expand:
            params["$expand"] = ",".join(self.expand)
        if since is not None:
            params["$filter"] = f"LastModifiedDateTime gt datetimeoffset'{_literal(since)}'"
        return params


ENTITIES: tuple[Entity, ...] = (
    Entity("vendors", "Vendor", ("MainContact",)),
    Entity("cost_codes", "CostCode"),
    Entity("projects", "Project"),
    Entity("project_tasks", "ProjectTask"),
    Entity("subcontracts", "Subcontract"),  # headers: commitments' lines come from Procore
    Entity("purchase_orders", "PurchaseOrder"),
    Entity("bills", "Bill", ("Details",), "bill_details", "bill_id"),
    Entity("checks", "Check", ("Details",), "check_details", "check_id"),
    Entity("project_transactions", "ProjectTransaction", ("Details",),
           "project_transaction_details", "project_transaction_id"),
    Entity("project_budgets", "ProjectBudget"),
)
TABLES = tuple(t for e in ENTITIES for t in (e.table, e.details) if t)


def _literal(since: datetime) -> str:
    """``2024-06-01T10:00:00.000+00:00``: the datetimeoffset form Acumatica documents."""
    utc = since.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}+00:00"


# -- wire values → rows --------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def column_name(field_name: str) -> str:
    """dlt's snake case, as the contract names columns: ``VendorID`` → ``vendor_id``."""
    return _NAMING.normalize_identifier(field_name)


@lru_cache(maxsize=4096)
def field_type(field_name: str) -> pl.DataType | None:
    """The column type a field always has, or None to take what the values say."""
    if field_name.endswith("DateTime"):
        return TS
    if field_name.endswith("Date"):
        return DATE
    if field_name in FLAGS:
        return pl.Boolean()
    if field_name in INTEGERS:
        return pl.Int64()
    if field_name.endswith(MONEY_SUFFIXES):
        return DEC
    return None


def _convert(dtype: pl.DataType | None, value: Any) -> Any:
    if value is None or dtype is None:
        return value
    if dtype == TS:
        return datetime.fromisoformat(value).astimezone(UTC)
    if dtype == DATE:  # "2025-06-01T00:00:00+00:00": the date as written, not shifted to UTC
        return value if isinstance(value, date) else datetime.fromisoformat(value).date()
    if dtype == DEC and isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))  # a whole amount parsed as int: keep the column DECIMAL
    return value


def flatten(record: dict, row: dict, types: dict[str, pl.DataType], prefix: str = "") -> dict:
    """Unwrapped fields of ``record`` into ``row``; linked entities as ``parent__field``.

    Arrays are left out: ``Details`` become their own table, other arrays are not modelled.
    ``types`` collects the columns whose type the field name fixes."""
    for name, value in record.items():
        if name in META or isinstance(value, list):
            continue
        col = prefix + column_name(name)
        if isinstance(value, dict) and "value" in value:
            value = value["value"]
        elif isinstance(value, dict) and value:  # a linked entity (MainContact → Address)
            flatten(value, row, types, f"{col}__")
            continue
        elif isinstance(value, dict):
            value = None  # {}: a field with no value
        dtype = field_type(name)
        if dtype is not None:
            types[col] = dtype
        try:
            row[col] = _convert(dtype, value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{col}: {value!r} does not fit {dtype}: {exc}") from None
    return row


@dataclass
class Page:
    """One page of an entity as warehouse rows: headers and their detail lines."""

    entity: Entity
    connection_id: str
    headers: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    header_types: dict[str, pl.DataType] = field(default_factory=dict)
    line_types: dict[str, pl.DataType] = field(default_factory=dict)

    def add(self, record: dict) -> None:
        if not record.get("id"):
            raise ValueError(f"acumatica {self.entity.table}: a record without id")
        self.headers.append(flatten(record, {"connection_id": self.connection_id},
                                    self.header_types))
        if self.entity.details is None:
            return
        for line in record.get("Details") or []:
            if not line.get("id"):
                raise ValueError(f"acumatica {self.entity.details}: a line without id")
            start = {"connection_id": self.connection_id, self.entity.parent: record["id"]}
            self.lines.append(flatten(line, start, self.line_types))

    def newest(self) -> datetime | None:
        stamps = [r["last_modified_date_time"] for r in self.headers
                  if r.get("last_modified_date_time") is not None]
        return max(stamps, default=None)


def to_page(entity: Entity, records: list[dict], connection_id: str) -> Page:
    page = Page(entity, connection_id)
    for record in records:
        try:
            page.add(record)
        except ValueError as exc:
            raise ValueError(f"acumatica {connection_id} {entity.table}: {exc}") from None
    return page


# -- credentials and the session -----------------------------------------------------------------
@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)  # never in a log line or a traceback's locals
    branch: str | None = None
    paths: tuple[str, ...] = ()  # the secrets they came from, for messages

    def login_body(self, tenant: str) -> dict[str, str]:
        body = {"name": self.username, "password": self.password, "tenant": tenant}
        if self.branch:
            body["branch"] = self.branch
        return body


def _env(key: str, connection: str = "") -> str:
    return f"SOURCES__ACUMATICA__{connection}{key.upper()}"


def credentials(conn: Connection) -> Credentials:
    """The connection's login, per connection when set, else the shared one."""
    found = {key: secret("acumatica", conn.id, key) for key in (*SECRET_KEYS, "branch")}
    missing = [k for k in SECRET_KEYS if not found[k]]
    if missing:
        cid = conn.id.replace("-", "_").upper()
        raise AcumaticaCredentialsMissing(
            f"acumatica connection {conn.id!r}: no {', '.join(missing)}; set "
            + ", ".join(f"sources.acumatica.{k}" for k in missing)
            + f" (env {_env(missing[0])} …) in .dlt/secrets.toml, or per connection under "
            f"[sources.acumatica.{conn.id}] (env {_env(missing[0], cid + '__')})")
    values = {k: v[0] for k, v in found.items() if v}
    return Credentials(**values, paths=tuple(v[1] for v in found.values() if v))


def _client(conn: Connection) -> ApiClient:
    # The licence's request limit answers 429 until one of the tenant's requests ends, with
    # no Retry-After: more, longer retries than the default (0.5 … 32 s), as for NetSuite.
    return ApiClient("acumatica", conn.erp_base_url, {}, max_attempts=8)


def _bad_credentials(resp: requests.Response) -> bool:
    return resp.status_code == 500 and "Invalid credentials" in resp.text


class Session:
    """One login on one tenant: read in it, log in again once if it expires, always log out."""

    def __init__(self, conn: Connection, creds: Credentials, client: ApiClient) -> None:
        self.conn, self.creds, self.client = conn, creds, client
        # Whether a session may be open on the server: a login that got no answer (timeout,
        # dropped connection) may have opened one, a refused login did not.
        self.open = False

    @property
    def who(self) -> str:
        return f"acumatica connection {self.conn.id!r} (tenant {self.conn.erp_tenant_id})"

    def login(self) -> None:
        failure: Exception
        self.open = True
        try:
            self.client.post(LOGIN, "login", self.creds.login_body(self.conn.erp_tenant_id),
                             attempts=LOGIN_ATTEMPTS, give_up=_bad_credentials)
            return
        except ApiError as exc:
            self.open = exc.status is None
            failure = self._login_failure(exc)
        raise failure  # outside the except: the run reports this message, not the HTTP one

    def _login_failure(self, exc: ApiError) -> Exception:
        tenant = self.conn.erp_tenant_id
        if exc.status == 500 and "Invalid credentials" in exc.body:
            cid = self.conn.id.replace("-", "_").upper()
            return AcumaticaLoginFailed(
                f"{self.who}: login refused (Invalid credentials). Check the secrets "
                f"{', '.join(p for p in self.creds.paths if not p.endswith('.branch'))} "
                f"(env {_env('username')} / {_env('password')}, or per connection "
                f"{_env('username', cid + '__')} / …PASSWORD): the user must exist in tenant "
                f"{tenant!r} with API access, and the tenant name must be the company's")
        if exc.status == 429 and "API Login Limit" in exc.body:
            return AcumaticaLoginFailed(
                f"{self.who}: login refused after {LOGIN_ATTEMPTS} attempts (HTTP 429 API "
                f"Login Limit): every API-user seat of the licence is taken by open sessions. "
                f"Log out the other API sessions (or let them time out), or raise the "
                f"licence's API-user limit")
        return ApiError(f"{self.who}: login failed: {exc}", exc.status, exc.body)

    def logout(self) -> None:
        """Free the seat; never raises, so it cannot hide the error that ended a read."""
        if not self.open:
            return
        try:
            self.client.post(LOGOUT, "logout", None, attempts=LOGOUT_ATTEMPTS)
            self.open = False
        except (ApiError, requests.RequestException) as exc:
            log.warning("%s: logout failed (%s); the session keeps an API-user seat until it "
                        "times out", self.who, exc)
        finally:
            self.client.session.cookies.clear()

    def get(self, entity: Entity, params: dict[str, Any]) -> list[dict]:
        """One list call; a 401 (the session expired) logs in again once and repeats it."""
        body, expired = self._get(entity, params)
        if expired:
            log.warning("%s: session expired reading %s; logging in again", self.who,
                        entity.table)
            self.logout()  # if the server still counts the old session, free its seat
            self.login()
            body, expired = self._get(entity, params)
            if expired:
                raise AcumaticaLoginFailed(f"{self.who}: HTTP 401 reading {entity.table} "
                                           "right after a fresh login")
        if not isinstance(body, list):
            raise ApiError(f"{self.who} {entity.table}: expected a JSON array, got "
                           f"{type(body).__name__}")
        return body

    def _get(self, entity: Entity, params: dict[str, Any]) -> tuple[Any, bool]:
        """``(body, False)``, or ``(None, True)`` when the session is gone."""
        failure: ApiError
        try:
            return self.client.get(f"{ENDPOINT}/{entity.name}", entity.table, params)[0], False
        except ApiError as exc:
            if exc.status == 401:
                return None, True
            failure = ApiError(f"{self.who}: {exc}", exc.status, exc.body)
        raise failure


def read_pages(session: Session, entity: Entity, since: datetime | None,
               page_size: int) -> Iterator[list[dict]]:
    """The entity's records modified after ``since`` (all when None), page by page."""
    params, skip = entity.params(since, page_size), 0
    while True:
        records = session.get(entity, {**params, "$skip": skip})
        if records:
            yield records
        if len(records) < page_size:
            return
        skip += len(records)


# -- resources -----------------------------------------------------------------------------------
def _arrow(rows: list[dict], table: str, key: tuple[str, ...], merge_key: tuple[str, ...],
           types: dict[str, pl.DataType], disposition: str) -> object:
    hints = dlt.mark.make_hints(table_name=table, write_disposition=disposition,
                                primary_key=list(key),
                                **({"merge_key": list(merge_key)} if merge_key else {}))
    return dlt.mark.with_hints(to_arrow(rows, keys=key, dtypes=types), hints,
                               create_table_variant=True)


def arrow_items(page: Page, disposition: str) -> Iterator[object]:
    """dlt items for one page: the headers, then their lines (each table with its hints)."""
    e = page.entity
    yield _arrow(page.headers, e.table, ("connection_id", "id"), (), page.header_types,
                 disposition)
    if e.details and e.parent and page.lines:
        yield _arrow(page.lines, e.details, ("connection_id", e.parent, "id"),
                     ("connection_id", e.parent), page.line_types, disposition)


def _empty(table: str, disposition: str) -> object:
    """A table with no rows: a full refresh still replaces it (every row was deleted)."""
    entity = next(e for e in ENTITIES if table in (e.table, e.details))
    key = ("connection_id", "id") if table == entity.table else (
        "connection_id", entity.parent or "", "id")
    empty = keys_not_null(pa.table({k: pa.array([], pa.string()) for k in key}), set(key))
    return dlt.mark.with_hints(empty, dlt.mark.make_hints(
        table_name=table, write_disposition=disposition, primary_key=list(key)),
        create_table_variant=True)


def _entity_rows(session: Session, entity: Entity, cursor: KeyedCursor, page_size: int,
                 full_refresh: bool, loaded: set[str]) -> Iterator[object]:
    """One table of one connection; its cursor moves once the last page is out."""
    conn = session.conn
    key = f"{entity.table}/{conn.id}"
    since = None if full_refresh else cursor.start(key)
    disposition = "replace" if full_refresh else "merge"
    started, n = datetime.now(UTC), 0
    for records in read_pages(session, entity, since, page_size):
        page = to_page(entity, records, conn.id)
        newest = page.newest()
        if newest is not None:
            cursor.observe(key, newest)
        n += len(page.headers)
        STATS.add("rows", "acumatica", entity.table, len(page.headers))
        if entity.details and page.lines:
            STATS.add("rows", "acumatica", entity.details, len(page.lines))
            loaded.add(entity.details)
        loaded.add(entity.table)
        yield from arrow_items(page, disposition)
    log.info("acumatica %s %s: %d records%s", conn.id, entity.table, n,
             f" modified since {since:%Y-%m-%d %H:%M:%S}" if since else "")
    cursor.commit(key, ceiling=started)


def _connection_rows(conn: Connection, creds: Credentials, cursor: KeyedCursor,
                     page_size: int, full_refresh: bool, loaded: set[str]) -> Iterator[object]:
    """Every table of one connection in one session, logged out whatever happens."""
    session = Session(conn, creds, _client(conn))
    try:
        session.login()
        for entity in ENTITIES:
            yield from _entity_rows(session, entity, cursor, page_size, full_refresh, loaded)
    finally:  # also on GeneratorExit, when dlt closes the resource early
        session.logout()


def _resource_rows(connections: list[Connection], creds: dict[str, Credentials],
                   page_size: int, lag_seconds: int, full_refresh: bool) -> Iterator[object]:
    cursor = KeyedCursor("acumatica", lag_seconds)  # keys "<table>/<connection id>"
    loaded: set[str] = set()
    for conn in connections:
        yield from _connection_rows(conn, creds[conn.id], cursor, page_size, full_refresh,
                                    loaded)
    if full_refresh:
        for table in TABLES:
            if table not in loaded:
                yield _empty(table, "replace")


@dlt.source(name="acumatica")
def acumatica_source(connections: list[Connection], page_size: int = 1000,
                     lag_seconds: int = 300, full_refresh: bool = False):
    """One resource reading every ``raw_acumatica`` table, connection after connection (one
    login each). Credentials are looked up first, so a missing one fails before any call."""
    creds = {conn.id: credentials(conn) for conn in connections}
    # A full refresh replaces tables whole, so rows deleted at the source go too.
    resource = dlt.resource(_resource_rows, name="acumatica",
                            write_disposition="replace" if full_refresh else "merge")
    yield resource(connections, creds, page_size, lag_seconds, full_refresh)
