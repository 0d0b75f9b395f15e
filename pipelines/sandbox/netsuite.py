"""NetSuite SuiteTalk REST (SuiteQL + record API) over injected tables, for the sandbox.

Wire details follow ``erp_api_wire_formats.md`` §2; tags there ([C]/[R]/[S]/[U]) apply here.
Every request is TBA-verified (``netsuite_auth``), SuiteQL runs on ``suiteql.SuiteQL``, and
record writes land in a per-account in-memory overlay merged into the provider's frames, so a
later SuiteQL extract sees them.

The only deviation from the real URLs: NetSuite puts the account in the host name
(``https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/...``); on loopback the account
slug (account id lower-cased, ``_`` → ``-``) is a path segment instead::

    http://127.0.0.1:<port>/netsuite/1234567-sb1/services/rest/query/v1/suiteql

Base URLs are configuration in any client, so nothing else changes. The OAuth realm keeps the
original account id (``1234567_SB1``).

Routes (under ``<prefix>/<slug>/services/rest``):

    POST  /query/v1/suiteql?limit=&offset=      (needs ``Prefer: transient``)
    GET   /record/v1/<type>/<id>  |  /record/v1/<type>/eid:<externalId>
    POST  /record/v1/<type>                     → 204 + Location
    PUT   /record/v1/<type>/eid:<externalId>    → 204 upsert
    PATCH /record/v1/<type>/<id | eid:…>        → 204

Vendor bills and credits write their ``item`` and ``expense`` sublists as ``transactionline``
rows (line 0 the main line, as the world's transactions have them), so the next SuiteQL extract
sees them; on an update the sublist lines are appended unless ``?replace=item`` (or
``expense``) names the sublist, as on NetSuite [C: ``replace``; U: append on PUT upsert].
References (``entity``, ``customer``, ``item``, ``subsidiary``, ``expenseAccount`` …) must name
an existing record (400 ``INVALID_CONTENT`` with ``o:errorPath``), checked against the tables
the account serves; ``itemId`` and ``externalId`` are unique across all items.

Not served: record list/filter (``GET /record/v1/<type>``), other sublists (accepted but
ignored), DELETE, async (``Prefer: respond-async``), metadata-catalog.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.sandbox.common import (
    Gate,
    Limits,
    Slots,
    json_response,
    parse_int,
    run_in_slot,
)
from pipelines.sandbox.netsuite_auth import TbaCredentials, TbaVerifier, invalid_login_response
from pipelines.sandbox.suiteql import SuiteQL, SuiteQLError

__all__ = ["NetSuiteAccount", "NetSuiteApi", "RECORD_TYPES", "RecordType", "account_slug"]

MAX_RESULTS = 100_000  # SuiteQL cap per query [C]
DEFAULT_CONCURRENCY = 5  # developer accounts [C]; sandboxes match production
PROBLEM_TYPES = {
    400: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
    404: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5",
    405: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6",
    # The 429 carries the old rfc2616 type and the title "Bad Request" [S].
    429: "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
    500: "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1",
}
TITLES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 429: "Bad Request",
          500: "Internal Server Error"}
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."
# [U] wording, as commonly reported for a bad id
NONEXISTENT_DETAIL = "The record instance does not exist. Provide a valid record instance ID."


def account_slug(account_id: str) -> str:
    """``1234567_SB1`` → ``1234567-sb1``, as in NetSuite's host names [C]."""
    return account_id.lower().replace("_", "-")


@dataclass
class NetSuiteAccount:
    """One account: who may call it and the SuiteQL tables it serves.

    ``tables`` is called on every request (cheap: it returns existing frames), so a world that
    replaces frames is served as it changes; the SuiteQL engine is rebuilt only when the
    identity of a returned frame changes or a write happened.
    """

    account_id: str
    credentials: list[TbaCredentials]
    tables: Callable[[], Mapping[str, pl.DataFrame]]


@dataclass(frozen=True)
class RecordType:
    """A record API type served from a SuiteQL table, optionally one kind of row in it."""

    name: str  # camelCase record id in paths
    table: str
    kind_column: str | None = None
    kind: str | None = None
    required: tuple[str, ...] = ()  # body paths needed on create ("entity.id")
    defaults: Mapping[str, Any] = field(default_factory=dict)  # columns set on create
    copies: Mapping[str, str] = field(default_factory=dict)  # column <- column when unset
    unique: tuple[str, ...] = ()  # columns no two rows of the table may share ("itemid")
    lines: bool = False  # transactions whose item/expense sublists become transactionline
    credit: bool = False  # lines post negative, the main line positive (vendor credits)

    def rows(self, frame: pl.DataFrame) -> pl.DataFrame:
        if self.kind_column is None or self.kind_column not in frame.columns:
            return frame
        return frame.filter(pl.col(self.kind_column) == self.kind)


_ENTITY = {"isinactive": "F"}
# A new bill is Open and posts (no approval routing in the sandbox accounts [U]).
_OPEN = {"status": "A", "posting": "T"}
RECORD_TYPES = {rt.name.lower(): rt for rt in (
    RecordType("vendor", "vendor", required=("companyName",),
               defaults={**_ENTITY, "isperson": "F"}, copies={"entityid": "companyname"}),
    RecordType("job", "job", required=("companyName",), defaults=_ENTITY,
               copies={"altname": "companyname"}),
    RecordType("vendorBill", "transaction", "type", "VendBill", ("entity.id", "tranDate"),
               _OPEN, lines=True),
    RecordType("vendorCredit", "transaction", "type", "VendCred", ("entity.id", "tranDate"),
               _OPEN, lines=True, credit=True),
    RecordType("journalEntry", "transaction", "type", "Journal"),
    RecordType("otherChargePurchaseItem", "item", "itemtype", "OthCharge", ("itemId",),
               {"subtype": "Purchase", "isinactive": "F"}, unique=("itemid",)),
)}
# The table a reference field must name a row of (checked when the account serves it). A line's
# ``customer`` is the project: jobs are the customers the sandbox has [U: customers proper].
REF_TABLES = {"entity": "vendor", "customer": "job", "parent": "job", "item": "item",
              "subsidiary": "subsidiary", "expenseaccount": "account", "account": "account"}
SUBLISTS = ("expense", "item")  # line order: expense lines first [U]
LINE_SCHEMA: dict[str, pl.DataType] = {
    "transaction": pl.Int64(), "id": pl.Int64(), "linesequencenumber": pl.Int64(),
    "mainline": pl.String(), "taxline": pl.String(), "item": pl.Int64(),
    "itemtype": pl.String(), "entity": pl.Int64(), "memo": pl.String(),
    "quantity": pl.Decimal(18, 4), "rate": pl.Decimal(18, 4), "netamount": pl.Decimal(18, 2),
    "expenseaccount": pl.Int64(), "linelastmodifieddate": pl.Datetime("us", "UTC")}
CENT, QTY_STEP = Decimal("0.01"), Decimal("0.0001")  # money; quantities and rates (18, 4)

# Record API names of lower-case SuiteQL columns; columns not listed keep their SuiteQL name
# [U: the real record field names differ in places and are not all known].
CAMEL = {c.lower(): c for c in (
    "companyName", "legalName", "entityId", "firstName", "lastName", "isPerson", "isInactive",
    "externalId", "itemId", "displayName", "fullName", "purchaseDescription", "itemType",
    "expenseAccount", "incomeAccount", "lastPurchasePrice", "tranId", "tranDate", "dueDate",
    "closeDate", "postingPeriod", "exchangeRate", "foreignTotal", "transactionNumber",
    "createdDate", "dateCreated", "lastModifiedDate", "startDate", "endDate",
    "projectedEndDate", "projectManager", "entityStatus", "jobType", "estimatedCost",
    "estimatedRevenue", "percentComplete", "altName", "payablesAccount", "taxIdNum",
    "printOnCheckAs",
)}
# Reference columns rendered as ``{"id", "links"}`` objects, with the record type they point
# at (refName is unknown to the sandbox and left out [U]).
REFERENCES = {"entity": "vendor", "customer": "customer", "parent": "job", "currency": "currency",
              "subsidiary": "subsidiary", "expenseaccount": "account",
              "incomeaccount": "account", "payablesaccount": "account", "terms": "term",
              "department": "department", "class": "classification", "location": "location"}
_SKIPPED_FIELDS = {"id", "links", "refname"}


class NetSuiteError(Exception):
    """An ``o:errorDetails`` answer raised from inside request handling."""

    def __init__(self, status: int, code: str, detail: str, **extra: str):
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra

    def response(self) -> Response:
        return error_response(self.status, self.code, self.detail, **self.extra)


def error_response(status: int, code: str, detail: str, **extra: str) -> Response:
    """NetSuite's error body: ``type``/``title``/``status``/``o:errorDetails`` [C]; ``extra``
    adds ``o:errorPath``-style keys (passed as ``o_errorPath``)."""
    item = {"detail": detail, "o:errorCode": code}
    item.update({k.replace("o_", "o:", 1): v for k, v in extra.items()})
    return json_response({"type": PROBLEM_TYPES[status], "title": TITLES[status],
                          "status": status, "o:errorDetails": [item]}, status)


def concurrency_response() -> Response:
    """The REST 429 [S]; deliberately without Retry-After (NetSuite sends none)."""
    return error_response(429, "CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL)


# -- per-account state ---------------------------------------------------------------------------
@dataclass
class _Snapshot:
    base: tuple[tuple[str, pl.DataFrame], ...]  # provider frames, compared by identity
    version: int  # overlay version
    tables: dict[str, pl.DataFrame]  # merged, names and columns lower-case
    engine: SuiteQL | None = None


class _AccountState:
    """Verifier, concurrency slots, write overlay and the cached merged tables of one account."""

    def __init__(self, account: NetSuiteAccount, concurrency: int, max_results: int):
        self.account = account
        self.slug = account_slug(account.account_id)
        self.verifier = TbaVerifier(account.account_id, account.credentials)
        self.slots = Slots(concurrency)
        self.max_results = max_results
        self.lock = threading.RLock()
        # table -> str(id) -> full row; replaces the provider's row with that id, or adds one.
        self.overlay: dict[str, dict[str, dict[str, Any]]] = {}
        # str(transaction id) -> all its transactionline rows; replaces the provider's lines.
        self.lines: dict[str, list[dict[str, Any]]] = {}
        self.version = 0
        self._snap: _Snapshot | None = None

    def snapshot(self) -> _Snapshot:
        base = tuple((name.lower(), frame) for name, frame in self.account.tables().items())
        with self.lock:
            s = self._snap
            if (s is not None and s.version == self.version and len(s.base) == len(base)
                    and all(a[0] == b[0] and a[1] is b[1] for a, b in zip(s.base, base,
                                                                         strict=True))):
                return s
            tables = {name: _lower_columns(frame) for name, frame in base}
            for name, rows in self.overlay.items():
                tables[name] = _merge(tables.get(name, _EMPTY), rows)
            if self.lines:
                tables["transactionline"] = _merge_lines(tables.get("transactionline"),
                                                         self.lines)
            self._snap = _Snapshot(base, self.version, tables)
            return self._snap

    def engine(self) -> SuiteQL:
        snap = self.snapshot()
        with self.lock:  # one build per snapshot, even with concurrent first queries
            if snap.engine is None:
                snap.engine = SuiteQL(snap.tables, max_results=self.max_results)
            return snap.engine

    def put_row(self, table: str, row: dict[str, Any],
                lines: list[dict[str, Any]] | None = None) -> None:
        """Write a row and, for a transaction, all its lines (None: lines unchanged)."""
        with self.lock:
            self.overlay.setdefault(table, {})[str(row["id"])] = row
            if lines is not None:
                self.lines[str(row["id"])] = lines
            self.version += 1


_EMPTY = pl.DataFrame(schema={"id": pl.Int64})


def _lower_columns(frame: pl.DataFrame) -> pl.DataFrame:
    if all(c == c.lower() for c in frame.columns):
        return frame
    return frame.rename({c: c.lower() for c in frame.columns})


def _merge(base: pl.DataFrame, rows: Mapping[str, dict[str, Any]]) -> pl.DataFrame:
    """``base`` with overlay rows replacing same-id rows and new rows appended."""
    kept = base.filter(~pl.col("id").cast(pl.String).is_in(list(rows)))
    extra = pl.from_dicts(list(rows.values()), schema_overrides=dict(base.schema),
                          infer_schema_length=None)
    return pl.concat([kept, extra], how="diagonal_relaxed")


def _merge_lines(base: pl.DataFrame | None, lines: Mapping[str, list[dict[str, Any]]]
                 ) -> pl.DataFrame:
    """``base`` lines with every written transaction's lines replaced by its overlay lines."""
    schema = dict(base.schema) if base is not None else LINE_SCHEMA
    rows = [row for group in lines.values() for row in group]
    written = pl.from_dicts(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    if base is None:
        return written
    ids = pl.Series([int(t) for t in lines], dtype=pl.Int64)
    kept = base.filter(~pl.col("transaction").cast(pl.Int64).is_in(ids.implode()))
    return pl.concat([kept, written], how="diagonal_relaxed").sort("transaction", "id")


# -- request helpers -----------------------------------------------------------------------------
def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else request.url.path


def signed_url(request: Request) -> str:
    """The URL exactly as the client sent (and signed) it: Host header, undecoded path, raw
    query. ``request.url`` would decode the path, which breaks signatures over ``%xx``."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{_origin(request)}{_raw_path(request)}" + (f"?{query}" if query else "")


def _record_root(request: Request) -> str:
    """``<prefix>/<slug>/services/rest/record/v1`` of this request."""
    path = _raw_path(request)
    return path[: path.index("/record/v1") + len("/record/v1")]


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw, parse_float=Decimal) if raw.strip() else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise NetSuiteError(400, "INVALID_CONTENT",
                            "The request body must be a valid JSON object.")  # [U] wording
    return body


def _int_param(request: Request, name: str, default: int) -> int:
    value = parse_int(request.query_params.get(name), name,
                      lambda n, r: SuiteQLError(f"Invalid query parameter value: {n}.",
                                                query_param=n))  # [U] wording
    return default if value is None else value


def _prefers_transient(request: Request) -> bool:
    prefer = request.headers.get("prefer", "")
    return any(p.strip().lower() == "transient" for p in prefer.split(","))


# -- the API -------------------------------------------------------------------------------------
class NetSuiteApi:
    """Routes and request handling for SuiteTalk REST, one or more accounts."""

    def __init__(self, accounts: Mapping[str, NetSuiteAccount], max_results: int = MAX_RESULTS,
                 concurrency: int = DEFAULT_CONCURRENCY, gate: Gate | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.max_results = max_results
        self.concurrency = concurrency
        self.clock = clock  # lastmodifieddate of writes
        # Request counting and injected faults, as for the other sandbox systems.
        self.gate = gate or Gate("netsuite", Limits())
        self.states = {account_slug(a.account_id): _AccountState(a, concurrency, max_results)
                       for a in accounts.values()}

    def routes(self, prefix: str = "/netsuite") -> list[Route]:
        base = f"{prefix}/{{slug}}/services/rest"
        record = f"{base}/record/v1/{{rtype}}"
        return [
            Route(f"{base}/query/v1/suiteql", self._endpoint(self.suiteql), methods=["POST"]),
            Route(record, self._endpoint(self.create), methods=["POST"]),
            Route(f"{record}/{{rid}}", self._endpoint(self.record),
                  methods=["GET", "PUT", "PATCH"]),
        ]

    def fault(self, kind: str) -> Response:
        if kind == "429":
            return concurrency_response()
        return error_response(500, "UNEXPECTED_ERROR",  # [U] code and wording
                              "An unexpected error occurred. (sandbox fault)")

    # -- the front door ------------------------------------------------------------------------
    def _endpoint(self, handler: Callable[[_AccountState, Request, bytes], Response]
                  ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            state = self.states.get(request.path_params["slug"])
            if state is None:  # a real client would fail DNS; say which accounts exist [U]
                return error_response(404, "INVALID_ACCOUNT",
                                      f"Unknown account; served: {sorted(self.states)}.")
            raw = await request.body()
            reason = state.verifier.verify(request.method, signed_url(request), request.headers,
                                           raw, request.headers.get("content-type"))
            if reason is not None:
                status, body, headers = invalid_login_response(state.account.account_id)
                return json_response(body, status, headers)
            # Counted after authentication: unauthenticated noise takes no slot [U].
            return await run_in_slot(state.slots, self.gate, request,
                                     lambda r: _guarded(handler, state, r, raw),
                                     concurrency_response, self.fault)
        return endpoint

    # -- SuiteQL -------------------------------------------------------------------------------
    def suiteql(self, state: _AccountState, request: Request, raw: bytes) -> Response:
        if not _prefers_transient(request):
            raise NetSuiteError(400, "INVALID_HEADER",  # [U] code and wording
                                "The SuiteQL endpoint requires the header 'Prefer: transient'.",
                                o_errorHeader="Prefer")
        body = _json_object(raw)
        q = body.get("q")
        if not isinstance(q, str) or not q.strip():
            raise NetSuiteError(400, "INVALID_CONTENT", "The request body needs a query in 'q'.",
                                o_errorPath="q")  # [U] wording
        engine = state.engine()
        try:
            limit = _int_param(request, "limit", engine.max_limit)
            offset = _int_param(request, "offset", 0)
            page = engine.query(q, limit, offset)
        except SuiteQLError as err:
            return json_response(err.body(), err.status)
        here = f"{_origin(request)}{_raw_path(request)}"
        return json_response({"links": _page_links(here, limit, offset, page), **page})

    # -- record API ----------------------------------------------------------------------------
    def record(self, state: _AccountState, request: Request, raw: bytes) -> Response:
        rt = _record_type(request)
        rid = request.path_params["rid"]
        if request.method == "GET":
            return self._read(state, request, rt, rid)
        body = _json_object(raw)
        if request.method == "PUT":
            if not rid.startswith("eid:"):  # upsert is by external id only [C]
                raise NetSuiteError(405, "INVALID_METHOD",  # [U] code and wording
                                    "PUT is supported only as upsert: <type>/eid:<externalId>.")
            return self._upsert(state, request, rt, rid[4:], body)
        return self._patch(state, request, rt, rid, body)

    def create(self, state: _AccountState, request: Request, raw: bytes) -> Response:
        rt = _record_type(request)
        body = _json_object(raw)
        with state.lock:  # id allocation and the externalId check must not interleave
            frame = _table(state, rt)
            eid = body.get("externalId")
            if eid is not None and not _find_any(frame, f"eid:{eid}").is_empty():
                raise NetSuiteError(400, "USER_ERROR",  # [U] wording
                                    "A record with the same external ID already exists.",
                                    o_errorPath="externalId")
            new_id = self._insert(state, rt, body, None, _replaced(request))
        return _no_content(self._location(request, state, rt, new_id))

    def _read(self, state: _AccountState, request: Request, rt: RecordType,
              rid: str) -> Response:
        rows = _find(rt, _table(state, rt), rid)
        if rows.is_empty():
            raise NetSuiteError(404, "NONEXISTENT_ID", NONEXISTENT_DETAIL)  # [U] code
        records = f"{_origin(request)}{_record_root(request)}"
        row = rows.row(0, named=True)
        out = _record_json(row, records, f"{_origin(request)}{_raw_path(request)}")
        if rt.lines and request.query_params.get("expandSubResources") == "true":
            out["item"] = _item_sublist(state, row["id"], records, rt.credit)
        return json_response(out)

    def _upsert(self, state: _AccountState, request: Request, rt: RecordType, eid: str,
                body: dict[str, Any]) -> Response:
        body = {**body, "externalId": eid}  # the path wins over the body
        with state.lock:
            frame = _table(state, rt)
            rows = _find(rt, frame, f"eid:{eid}")
            if rows.is_empty() and not _find_any(frame, f"eid:{eid}").is_empty():
                raise NetSuiteError(400, "USER_ERROR",  # another type holds it [U] wording
                                    "A record with the same external ID already exists.",
                                    o_errorPath="externalId")
            existing = None if rows.is_empty() else rows.row(0, named=True)
            rid = self._insert(state, rt, body, existing, _replaced(request))
        return _no_content(self._location(request, state, rt, rid))

    def _patch(self, state: _AccountState, request: Request, rt: RecordType, rid: str,
               body: dict[str, Any]) -> Response:
        with state.lock:
            rows = _find(rt, _table(state, rt), rid)
            if rows.is_empty():
                raise NetSuiteError(404, "NONEXISTENT_ID", NONEXISTENT_DETAIL)
            self._insert(state, rt, body, rows.row(0, named=True), _replaced(request))
        return _no_content(None)

    def _insert(self, state: _AccountState, rt: RecordType, body: dict[str, Any],
                existing: dict[str, Any] | None, replace: frozenset[str]) -> str:
        """Write one row (new when ``existing`` is None) and, for bills and credits, its
        lines into the overlay; returns its id. Validates before anything is written."""
        tables = state.snapshot().tables
        frame = tables.get(rt.table, _EMPTY)
        schema = dict(frame.schema)
        now = self.clock()
        _check_references(body, tables)
        if existing is None:
            _check_required(rt, body)
            row: dict[str, Any] = dict.fromkeys(frame.columns)
            row["id"] = _coerce(_next_id(frame), schema.get("id", pl.Int64), "id")
            if rt.kind_column:
                row[rt.kind_column] = rt.kind
            row.update({k: v for k, v in rt.defaults.items() if k in schema})
            for created in ("datecreated", "createddate"):
                if created in schema:
                    row[created] = _coerce(now, schema[created], created)
        else:
            row = dict(existing)
        row.update(_fields(body, schema))
        for column, source in rt.copies.items():
            if column in schema and row.get(column) is None:
                row[column] = row.get(source)
        _check_unique(rt, frame, row)
        row["lastmodifieddate"] = _coerce(now, schema.get("lastmodifieddate", pl.Datetime("us")),
                                          "lastModifiedDate")
        lines = _written_lines(rt, tables, row, body, existing is None, replace, now)
        if lines is not None and "foreigntotal" in schema:  # positive, credits too
            main = lines[0]["netamount"]
            row["foreigntotal"] = _coerce(main if rt.credit else -main, schema["foreigntotal"],
                                          "total")
        state.put_row(rt.table, row, lines)
        return str(row["id"])

    @staticmethod
    def _location(request: Request, state: _AccountState, rt: RecordType, rid: str) -> str:
        return f"{_origin(request)}{_record_root(request)}/{rt.name}/{rid}"


# -- handler plumbing ----------------------------------------------------------------------------
def _guarded(handler: Callable[[_AccountState, Request, bytes], Response], state: _AccountState,
             request: Request, raw: bytes) -> Response:
    try:
        return handler(state, request, raw)
    except NetSuiteError as err:
        return err.response()


def _no_content(location: str | None) -> Response:
    return Response(status_code=204, headers={"Location": location} if location else None)


def _page_links(here: str, limit: int, offset: int, page: Mapping[str, Any]) -> list[dict]:
    """§2.2 ``links``: previous (past the first page), next (while hasMore), last, self."""
    def link(rel: str, at: int) -> dict[str, str]:
        return {"rel": rel, "href": f"{here}?limit={limit}&offset={at}"}

    total = int(page["totalResults"])
    last = max(0, (total - 1) // limit * limit)
    links = [link("previous", max(0, offset - limit))] if offset > 0 else []
    if page["hasMore"]:
        links.append(link("next", offset + limit))
    return [*links, link("last", last), link("self", offset)]


# -- records -------------------------------------------------------------------------------------
def _record_type(request: Request) -> RecordType:
    name = request.path_params["rtype"]
    rt = RECORD_TYPES.get(name.lower())  # camelCase is canonical; lower case is seen too [S]
    if rt is None:
        raise NetSuiteError(400, "INVALID_PARAMETER",  # [U] status, code and wording
                            f"Record type '{name}' is not served by the sandbox.")
    return rt


def _table(state: _AccountState, rt: RecordType) -> pl.DataFrame:
    return state.snapshot().tables.get(rt.table, _EMPTY)


def _find(rt: RecordType, frame: pl.DataFrame, rid: str) -> pl.DataFrame:
    """Rows of type ``rt`` with internal id ``rid`` or, for ``eid:<x>``, external id ``x``."""
    if rid.startswith("eid:"):
        if "externalid" not in frame.columns:
            return frame.clear()
        match = pl.col("externalid").cast(pl.String) == rid[4:]
    else:
        match = pl.col("id").cast(pl.String) == rid
    return rt.rows(frame).filter(match)


def _find_any(frame: pl.DataFrame, rid: str) -> pl.DataFrame:
    """Rows of any type in the table: external ids are unique across a table's types."""
    return _find(RecordType("any", ""), frame, rid)


def _replaced(request: Request) -> frozenset[str]:
    """Sublists ``?replace=item,expense`` replaces instead of appending to [C]."""
    names = request.query_params.get("replace", "")
    return frozenset(n.strip().lower() for n in names.split(",") if n.strip())


def _invalid_value(value: Any, key: str, path: str) -> NetSuiteError:
    return NetSuiteError(400, "INVALID_CONTENT",  # wording as in §2.5's example [C]
                         "Error while accessing a resource. You have entered an Invalid Field "
                         f"Value {value} for the following field: {key}", o_errorPath=path)


def _sublist_lines(body: Mapping[str, Any], name: str) -> list[Any] | None:
    sub = body.get(name)
    if isinstance(sub, Mapping) and isinstance(sub.get("items"), list):
        return sub["items"]
    return None


def _check_references(body: Mapping[str, Any], tables: Mapping[str, pl.DataFrame]) -> None:
    """Every ``{"id": …}`` reference, in the body and its sublist lines, names a row of the
    table it points at (when the account serves that table)."""
    refs = [(k, v, k) for k, v in body.items()]
    for name in SUBLISTS:
        for i, line in enumerate(_sublist_lines(body, name) or []):
            if isinstance(line, Mapping):
                refs += [(k, v, f"{name}.items[{i}].{k}") for k, v in line.items()]
    for key, value, path in refs:
        table = tables.get(REF_TABLES.get(key.lower(), ""))
        if table is None or not isinstance(value, Mapping) or "id" not in value:
            continue
        if not (table["id"].cast(pl.String) == str(value["id"])).any():
            raise _invalid_value(value["id"], key, path)


def _check_unique(rt: RecordType, frame: pl.DataFrame, row: Mapping[str, Any]) -> None:
    for column in rt.unique:
        value = row.get(column)
        if value is None or column not in frame.columns:
            continue
        clash = frame.filter((pl.col(column).cast(pl.String) == str(value))
                             & (pl.col("id").cast(pl.String) != str(row["id"])))
        if not clash.is_empty():
            raise NetSuiteError(400, "USER_ERROR",  # [U] wording
                                f"The name {value} is already used by another record. "
                                "Please choose a different name.",
                                o_errorPath=CAMEL.get(column, column))


def _written_lines(rt: RecordType, tables: Mapping[str, pl.DataFrame], row: dict[str, Any],
                   body: Mapping[str, Any], is_new: bool, replace: frozenset[str],
                   now: datetime) -> list[dict[str, Any]] | None:
    """All transactionline rows of a written bill or credit, main line first; None when the
    write leaves its lines as they are."""
    if not rt.lines:
        return None
    sent = {name: _sublist_lines(body, name) for name in SUBLISTS}
    if not is_new and all(v is None for v in sent.values()) and not replace:
        return None
    detail = [] if is_new else _kept_lines(tables, row["id"], replace)
    for name in SUBLISTS:
        for i, line in enumerate(sent[name] or []):
            detail.append(_line(tables, name, i, line, rt.credit))
    if not detail:
        raise NetSuiteError(400, "USER_ERROR",  # [U] wording
                            "You must enter at least one line item for this transaction.",
                            o_errorPath="item")
    txn = int(row["id"])
    base = tables.get("transactionline")
    stamp = _coerce(now, base.schema["linelastmodifieddate"] if base is not None else
                    LINE_SCHEMA["linelastmodifieddate"], "lastModifiedDate")
    main = dict.fromkeys(LINE_SCHEMA)
    main.update(mainline="T", taxline="F", netamount=-sum(d["netamount"] for d in detail))
    out = []
    for n, line in enumerate([main, *detail]):
        out.append({**line, "transaction": txn, "id": n, "linesequencenumber": n,
                    "linelastmodifieddate": stamp})
    return out


def _kept_lines(tables: Mapping[str, pl.DataFrame], txn: Any,
                replace: frozenset[str]) -> list[dict[str, Any]]:
    """An existing transaction's detail lines not in a replaced sublist (an expense line is
    one without an item)."""
    lines = tables.get("transactionline")
    if lines is None:
        return []
    mine = lines.filter((pl.col("transaction").cast(pl.String) == str(txn))
                        & (pl.col("mainline") == "F")).sort("id")
    kept = []
    for line in mine.iter_rows(named=True):
        sublist = "expense" if line.get("item") is None else "item"
        if sublist not in replace:
            kept.append({c: line.get(c) for c in LINE_SCHEMA})
    return kept


def _line(tables: Mapping[str, pl.DataFrame], sublist: str, i: int, line: Any,
          credit: bool) -> dict[str, Any]:
    """One sublist line as a transactionline row; amounts signed as posted."""
    path = f"{sublist}.items[{i}]"
    if not isinstance(line, Mapping):
        raise _invalid_value(line, sublist, path)
    qty = _decimal(line, "quantity", path, Decimal(1))
    amount = _decimal(line, "amount", path, None)
    rate = _decimal(line, "rate", path, None)
    if amount is None:
        if rate is None:
            raise NetSuiteError(400, "USER_ERROR", "Please enter value(s) for: amount.",
                                o_errorPath=f"{path}.amount")  # [U] wording
        amount = qty * rate
    amount = amount.quantize(CENT)
    rate = (amount / qty if rate is None and qty else rate or Decimal(0)).quantize(QTY_STEP)
    qty = qty.quantize(QTY_STEP)
    row = dict.fromkeys(LINE_SCHEMA)
    row.update(mainline="F", taxline="F", memo=line.get("description") or line.get("memo"),
               quantity=qty, rate=rate, netamount=-amount if credit else amount,
               entity=_ref_id(line.get("customer")))
    if sublist == "item":
        item_id = _ref_id(line.get("item"))
        if item_id is None:
            raise NetSuiteError(400, "USER_ERROR", "Please enter value(s) for: item.",
                                o_errorPath=f"{path}.item")  # [U] wording
        row.update(item=item_id, **_item_facts(tables, item_id))
    else:
        row["expenseaccount"] = _ref_id(line.get("account"))
    return row


def _ref_id(ref: Any) -> int | None:
    if isinstance(ref, Mapping) and ref.get("id") is not None:
        return int(ref["id"])
    return None


def _item_facts(tables: Mapping[str, pl.DataFrame], item_id: int) -> dict[str, Any]:
    """The item's type and the expense account its lines post to (NS-8)."""
    items = tables.get("item")
    found = None if items is None else items.filter(
        pl.col("id").cast(pl.Int64) == item_id)
    if found is None or found.is_empty():
        return {"itemtype": None, "expenseaccount": None}
    item = found.row(0, named=True)
    return {"itemtype": item.get("itemtype"), "expenseaccount": item.get("expenseaccount")}


def _decimal(line: Mapping[str, Any], key: str, path: str,
             default: Decimal | None) -> Decimal | None:
    value = line.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        raise _invalid_value(value, key, f"{path}.{key}")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _invalid_value(value, key, f"{path}.{key}") from None


def _item_sublist(state: _AccountState, txn: Any, records: str,
                  credit: bool) -> dict[str, Any]:
    """The ``item`` sublist as ``expandSubResources=true`` shows it, amounts positive."""
    lines = state.snapshot().tables.get("transactionline")
    items = []
    if lines is not None:
        mine = lines.filter((pl.col("transaction").cast(pl.String) == str(txn))
                            & (pl.col("mainline") == "F") & pl.col("item").is_not_null())
        for line in mine.sort("id").iter_rows(named=True):
            out: dict[str, Any] = {"links": [], "line": line["id"]}
            for key, column, target in (("item", "item", "otherChargePurchaseItem"),
                                        ("customer", "entity", "job")):
                if line.get(column) is not None:
                    out[key] = {"id": str(line[column]), "links": [
                        {"rel": "self", "href": f"{records}/{target}/{line[column]}"}]}
            amount = line["netamount"]
            out.update(quantity=line["quantity"], rate=line["rate"],
                       amount=-amount if credit else amount, description=line["memo"])
            items.append({k: v for k, v in out.items() if v is not None})
    return {"links": [], "items": items, "totalResults": len(items)}


def _next_id(frame: pl.DataFrame) -> int:
    """Above every id in the table (ids are shared by all record types of a table)."""
    if frame.is_empty():
        return 1
    top = frame["id"].cast(pl.Int64, strict=False).max()
    return int(top) + 1 if top is not None else 1


def _check_required(rt: RecordType, body: Mapping[str, Any]) -> None:
    for path in rt.required:
        value: Any = body
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None or value == "":
            raise NetSuiteError(400, "USER_ERROR",  # [U] wording
                                f"Please enter value(s) for: {path.split('.')[0]}.",
                                o_errorPath=path)


def _fields(body: Mapping[str, Any], schema: Mapping[str, pl.DataType]) -> dict[str, Any]:
    """Body fields as table columns: ``companyName`` → ``companyname``, a reference
    ``{"id": "7"}`` → its id. Fields without a column and sublists (``{"items": …}``) are
    ignored [U: NetSuite would refuse unknown fields or write the sublist lines]."""
    out: dict[str, Any] = {}
    for key, value in body.items():
        column = key.lower()
        if column in _SKIPPED_FIELDS or isinstance(value, list):
            continue
        if isinstance(value, Mapping):
            if "id" not in value:
                continue
            value = value["id"]
        if column in schema or column == "externalid":
            out[column] = _coerce(value, schema.get(column, pl.String), key)
    return out


def _coerce(value: Any, dtype: pl.DataType, key: str) -> Any:
    """A JSON value as the Python value of a column of ``dtype``; 400 when it does not fit."""
    if value is None:
        return None
    try:
        return _convert(value, dtype)
    except (ValueError, TypeError, InvalidOperation):
        raise NetSuiteError(400, "INVALID_CONTENT",  # wording as in §2.5's example [C]
                            "Error while accessing a resource. You have entered an Invalid Field "
                            f"Value {value} for the following field: {key}",
                            o_errorPath=key) from None


def _convert(value: Any, dtype: pl.DataType) -> Any:
    if dtype.is_integer():
        if isinstance(value, bool) or (isinstance(value, float | Decimal)
                                       and value != int(value)):
            raise ValueError(value)
        return int(value)
    if isinstance(dtype, pl.Decimal):
        return Decimal(str(value))
    if dtype.is_float():
        return float(value)
    if dtype == pl.Boolean:
        if not isinstance(value, bool):
            raise TypeError(value)
        return value
    if isinstance(dtype, pl.Datetime):
        stamp = value if isinstance(value, datetime) else \
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if stamp.tzinfo is not None and dtype.time_zone is None:
            return stamp.astimezone(UTC).replace(tzinfo=None)  # naive columns hold UTC
        return stamp
    if dtype == pl.Date:
        return value.date() if isinstance(value, datetime) else date.fromisoformat(str(value))
    if isinstance(value, bool):  # SuiteQL's check boxes are 'T'/'F' [C]
        return "T" if value else "F"
    return str(value)


def _record_json(row: Mapping[str, Any], records: str, self_href: str) -> dict[str, Any]:
    """A record as the record API shows it: ``links`` first, then ``id`` and the fields
    (nulls left out; dates ``YYYY-MM-DD``, datetimes ISO UTC ``Z`` [C])."""
    out: dict[str, Any] = {"links": [{"rel": "self", "href": self_href}], "id": str(row["id"])}
    for column, value in row.items():
        if value is None or column == "id":
            continue
        key = CAMEL.get(column, column)
        if column in REFERENCES:
            ref = str(value)
            out[key] = {"id": ref, "links": [
                {"rel": "self", "href": f"{records}/{REFERENCES[column]}/{ref}"}]}
        else:
            out[key] = _record_value(column, value)
    return out


def _record_value(column: str, value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if column.startswith("is") and value in ("T", "F"):  # check boxes are booleans here [U]
        return value == "T"
    if isinstance(value, bool | int | Decimal | str):
        return value
    if isinstance(value, float):
        return value
    return str(value)
