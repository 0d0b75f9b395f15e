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

Not served: record list/filter (``GET /record/v1/<type>``), sublists (``expense``/``item``/
``line`` bodies are accepted but ignored), DELETE, async (``Prefer: respond-async``),
metadata-catalog.
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

    def rows(self, frame: pl.DataFrame) -> pl.DataFrame:
        if self.kind_column is None or self.kind_column not in frame.columns:
            return frame
        return frame.filter(pl.col(self.kind_column) == self.kind)


RECORD_TYPES = {rt.name.lower(): rt for rt in (
    RecordType("vendor", "vendor", required=("companyName",)),
    RecordType("job", "job"),
    RecordType("vendorBill", "transaction", "type", "VendBill", ("entity.id", "tranDate")),
    RecordType("vendorCredit", "transaction", "type", "VendCred", ("entity.id", "tranDate")),
    RecordType("journalEntry", "transaction", "type", "Journal"),
    RecordType("otherChargePurchaseItem", "item", "itemtype", "OthCharge", ("itemId",),
               {"subtype": "Purchase"}),
)}

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
            self._snap = _Snapshot(base, self.version, tables)
            return self._snap

    def engine(self) -> SuiteQL:
        snap = self.snapshot()
        with self.lock:  # one build per snapshot, even with concurrent first queries
            if snap.engine is None:
                snap.engine = SuiteQL(snap.tables, max_results=self.max_results)
            return snap.engine

    def put_row(self, table: str, row: dict[str, Any]) -> None:
        with self.lock:
            self.overlay.setdefault(table, {})[str(row["id"])] = row
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
        body = json.loads(raw) if raw.strip() else None
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
            if eid is not None and not _find(rt, frame, f"eid:{eid}").is_empty():
                raise NetSuiteError(400, "USER_ERROR",  # [U] wording
                                    "A record with the same external ID already exists.",
                                    o_errorPath="externalId")
            new_id = self._insert(state, rt, frame, body, None)
        return _no_content(self._location(request, state, rt, new_id))

    def _read(self, state: _AccountState, request: Request, rt: RecordType,
              rid: str) -> Response:
        rows = _find(rt, _table(state, rt), rid)
        if rows.is_empty():
            raise NetSuiteError(404, "NONEXISTENT_ID", NONEXISTENT_DETAIL)  # [U] code
        records = f"{_origin(request)}{_record_root(request)}"
        return json_response(_record_json(rows.row(0, named=True), records,
                                          f"{_origin(request)}{_raw_path(request)}"))

    def _upsert(self, state: _AccountState, request: Request, rt: RecordType, eid: str,
                body: dict[str, Any]) -> Response:
        body = {**body, "externalId": eid}  # the path wins over the body
        with state.lock:
            frame = _table(state, rt)
            rows = _find(rt, frame, f"eid:{eid}")
            if rows.is_empty():
                rid = self._insert(state, rt, frame, body, None)
            else:
                rid = self._insert(state, rt, frame, body, rows.row(0, named=True))
        return _no_content(self._location(request, state, rt, rid))

    def _patch(self, state: _AccountState, request: Request, rt: RecordType, rid: str,
               body: dict[str, Any]) -> Response:
        with state.lock:
            frame = _table(state, rt)
            rows = _find(rt, frame, rid)
            if rows.is_empty():
                raise NetSuiteError(404, "NONEXISTENT_ID", NONEXISTENT_DETAIL)
            self._insert(state, rt, frame, body, rows.row(0, named=True))
        return _no_content(None)

    def _insert(self, state: _AccountState, rt: RecordType, frame: pl.DataFrame,
                body: dict[str, Any], existing: dict[str, Any] | None) -> str:
        """Write one row (new when ``existing`` is None) into the overlay; returns its id."""
        schema = dict(frame.schema)
        now = self.clock()
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
        row["lastmodifieddate"] = _coerce(now, schema.get("lastmodifieddate", pl.Datetime("us")),
                                          "lastModifiedDate")
        state.put_row(rt.table, row)
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
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
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
