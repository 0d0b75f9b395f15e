"""Acumatica contract-based REST (endpoint ``Default``) over injected tables, for the sandbox.

Wire details follow ``erp_api_wire_formats.md`` §3 and ``docs/acumatica.md``; tags there
([C]/[R]/[S]/[U]) apply here. One instance per tenant, addressed by a path segment, as on a
real site with instances (``https://acme.acumatica.com/<instance>/entity/...``)::

    http://127.0.0.1:<port>/acumatica/<instance>/entity/Default/24.200.001/Bill?$expand=Details

Routes (under ``<prefix>/<instance>/entity``):

    POST /auth/login                              → 204 + session cookies
    POST /auth/logout                             → 204
    GET  /Default/<version>/<Entity>?$filter=&$top=&$skip=&$expand=&$select=&$custom=
    GET  /Default/<version>/<Entity>/<key1>[/<key2>…]  |  /Default/<version>/<Entity>/<guid>
    PUT  /Default/<version>/<Entity>?$expand=     create or update by key fields (or ``id``)

Sessions: login issues ``ASP.NET_SessionId`` and ``.ASPXAUTH`` (random per session) and
``CompanyID`` (the tenant name), all ``Path=/`` like ASP.NET [U]; every entity call needs the
first two to name a live session of that instance. A session holds one of ``sessions`` seats
until logout or until it is idle for ``idle_timeout`` seconds of ``ticker`` (monotonic time,
not the world clock, so advancing the world never logs clients out). A login that carries a
live session cookie of the instance replaces that session instead of taking a second seat.

Reads serve ``tables()`` merged with this API's write overlay, sorted by the entity's key
fields; the sorted frame is cached per entity until the provider returns a different frame
object or a write happens, so ``tables()`` must be cheap (return existing frames) and must
return a *new* frame object whenever the data changes. A request filters and slices in
polars and renders only its page, as JSON text built inside polars (see "rendering").

Not served: actions (``POST /<Entity>/<Action>``), files, DELETE, ``$adHocSchema``,
``swagger.json``, custom fields (``$custom`` is accepted and ignored), OAuth, ``$orderby``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs

import polars as pl
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from pipelines.sandbox import acumatica_writes as writes
from pipelines.sandbox.acumatica_filter import FilterError, Node, compile_filter, parse_filter
from pipelines.sandbox.common import (
    Gate,
    Limits,
    Slots,
    json_response,
    parse_int,
    run_in_slot,
)

__all__ = ["ENDPOINT_VERSION", "ENTITIES", "SANDBOX_USER", "VERSIONS", "AcumaticaApi",
           "AcumaticaTenant", "EntitySpec"]

SANDBOX_USER = ("sandbox-acumatica", "sandbox-acumatica-password")
ENDPOINT_VERSION = "24.200.001"
VERSIONS = ("20.200.001", "22.200.001", "23.200.001", "24.200.001", "25.200.001")  # [C]
SESSION_COOKIE, AUTH_COOKIE, COMPANY_COOKIE = "ASP.NET_SessionId", ".ASPXAUTH", "CompanyID"
IDLE_TIMEOUT = 600.0  # seconds; the site's timeout is configurable (20 min is common) [U]

NOT_LOGGED_IN = "You are not logged in."  # [U] exact text
INVALID_CREDENTIALS = "Invalid credentials. Please try again."  # "Invalid credentials" [C]
LICENSE_LIMIT = "The number of requests has exceeded the limit imposed by the license."  # [C]
NO_ENTITY = "No entity satisfies the condition."  # [U] recalled wording
META_FIELDS = frozenset({"id", "rowNumber", "note", "custom", "_links", "error", "files",
                         "delete"})


# -- entities ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EntitySpec:
    """One top-level entity of the Default endpoint."""

    name: str
    keys: tuple[str, ...]  # key fields, in URL order
    details: tuple[str, ...] = ()  # detail arrays ($expand only)
    linked: tuple[str, ...] = ()  # linked single entities ($expand only)
    files: str = ""  # "<graph>/<view>" in the files:put link [U except Bill]
    since: str = VERSIONS[0]  # first endpoint version that has the entity


ENTITIES: dict[str, EntitySpec] = {e.name: e for e in (
    EntitySpec("Vendor", ("VendorID",), linked=("MainContact",),
               files="PX.Objects.AP.VendorMaint/BAccount"),
    EntitySpec("CostCode", ("CostCodeID",), files="PX.Objects.PM.CostCodeMaint/Items"),
    EntitySpec("Project", ("ProjectID",), files="PX.Objects.PM.ProjectEntry/Project"),
    EntitySpec("ProjectTask", ("ProjectID", "ProjectTaskID"),
               files="PX.Objects.PM.ProjectTaskEntry/Task"),
    EntitySpec("Subcontract", ("SubcontractNbr",), ("Details",),
               files="PX.Objects.CN.Subcontracts.SC.Graphs.SubcontractEntry/Document",
               since="23.200.001"),  # not in 22.200.001 [C]
    EntitySpec("PurchaseOrder", ("Type", "OrderNbr"), ("Details",),
               files="PX.Objects.PO.POOrderEntry/Document"),
    EntitySpec("Bill", ("Type", "ReferenceNbr"), ("Details",),
               files="PX.Objects.AP.APInvoiceEntry/Document"),  # [R]
    EntitySpec("Check", ("Type", "ReferenceNbr"), ("Details",),
               files="PX.Objects.AP.APPaymentEntry/Document"),
    EntitySpec("ProjectTransaction", ("Module", "ReferenceNbr"), ("Details",),
               files="PX.Objects.PM.RegisterEntry/Document"),
    EntitySpec("ProjectBudget", ("ProjectID", "ProjectTaskID", "CostCode", "AccountGroup"),
               files="PX.Objects.PM.ProjectEntry/CostBudget"),
    # Change orders (PM308000): CCOs (AC-15) and budget changes (AC-12); written only.
    EntitySpec("ChangeOrder", ("RefNbr",), ("CostBudget", "Commitments"),
               files="PX.Objects.PM.ChangeOrderEntry/Document"),
)}
_BY_LOWER = {name.lower(): spec for name, spec in ENTITIES.items()}  # IIS routes ignore case [U]


@dataclass(frozen=True)
class AcumaticaTenant:
    """One tenant (company) served as one instance: who may log in and its entity frames.

    ``tables`` is called on every entity request: it must return existing frames (cheap) and
    a new frame object whenever an entity's data changes (see the module docstring).
    """

    tenant: str  # the login "tenant" name, e.g. "Cascade3"
    credentials: tuple[tuple[str, str], ...]  # accepted (name, password) pairs
    tables: Callable[[], Mapping[str, pl.DataFrame]]  # Entity name -> frame


# -- errors --------------------------------------------------------------------------------------
class AcumaticaError(Exception):
    """An error answer raised from inside request handling."""

    def __init__(self, status: int, body: Any):
        super().__init__(status)
        self.status, self.body = status, body

    def response(self) -> Response:
        return json_response(self.body, self.status)


def http_error(status: int, detail: str, exception_type: str = "PX.Data.PXException",
               message: str = "An error has occurred.") -> AcumaticaError:
    """Acumatica's ``HttpError`` body [C: swagger]; the sandbox has no stack to show."""
    return AcumaticaError(status, {"message": message, "exceptionMessage": detail,
                                   "exceptionType": exception_type, "stackTrace": ""})


def bad_request(detail: str) -> AcumaticaError:
    return http_error(400, detail, "System.ArgumentException",  # [U] type and message
                      "The request is invalid.")


def _no_resource(request: Request) -> AcumaticaError:
    # ASP.NET Web API's routing 404 [U: Acumatica may answer differently]
    return AcumaticaError(404, {"message": "No HTTP resource was found that matches the "
                                           f"request URI '{request.url}'."})


def _no_entity() -> AcumaticaError:
    return http_error(404, NO_ENTITY, "PX.Api.ContractBased.NoEntitySatisfiesTheConditionException")


def license_limit_response() -> Response:
    """Too many requests in flight [C message]; no Retry-After (clients back off)."""
    return json_response({"message": LICENSE_LIMIT}, 429)


def login_limit_response(limit: int) -> Response:
    """Login over the seat limit: a styled HTML page [C: "API Login Limit"; U: markup]."""
    return HTMLResponse(
        "<!DOCTYPE html>\n<html><head><title>API Login Limit</title></head>\n<body>"
        "<div class=\"main\"><h1>API Login Limit</h1>\n<p>You have reached the maximum number "
        f"of concurrent API users ({limit}) allowed by your license. Log out of an existing "
        "session or wait until it expires, then try again.</p></div></body></html>\n",
        status_code=429)


# -- per-tenant state ----------------------------------------------------------------------------
@dataclass
class _Session:
    auth: str
    seen: float  # ticker time of the last request


class _Sessions:
    """Live API sessions (licence seats) of one tenant, expiring when idle."""

    def __init__(self, limit: int, idle: float, ticker: Callable[[], float]):
        self.limit, self.idle, self.ticker = limit, idle, ticker
        self._live: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def _purge(self, now: float) -> None:
        for sid in [s for s, v in self._live.items() if now - v.seen > self.idle]:
            del self._live[sid]

    def open(self, replaces: str | None) -> tuple[str, str] | None:
        """A new ``(session id, auth ticket)``, or None when every seat is taken."""
        with self._lock:
            now = self.ticker()
            self._purge(now)
            self._live.pop(replaces or "", None)
            if len(self._live) >= self.limit:
                return None
            sid, auth = secrets.token_hex(12), secrets.token_hex(64).upper()
            self._live[sid] = _Session(auth, now)
            return sid, auth

    def check(self, sid: str | None, auth: str | None, touch: bool = True) -> bool:
        with self._lock:
            now = self.ticker()
            self._purge(now)
            found = self._live.get(sid or "")
            if found is None or not secrets.compare_digest(found.auth, auth or ""):
                return False
            if touch:
                found.seen = now
            return True

    def close(self, sid: str | None, auth: str | None) -> None:
        if self.check(sid, auth, touch=False):
            with self._lock:
                self._live.pop(sid or "", None)

    def count(self) -> int:
        with self._lock:
            self._purge(self.ticker())
            return len(self._live)


class _TenantState:
    """Seats, request slots, the write overlay and the sorted merged frames of one tenant."""

    def __init__(self, tenant: AcumaticaTenant, slots: Slots, sessions: _Sessions):
        self.tenant, self.slots, self.sessions = tenant, slots, sessions
        self.lock = threading.RLock()
        # Entity -> id -> full row; replaces the provider's row with that id, or adds one.
        self.overlay: dict[str, dict[str, dict[str, Any]]] = {}
        self.versions: dict[str, int] = {}  # entity -> overlay version
        # entity -> (provider frame, overlay version, merged and sorted frame)
        self._cache: dict[str, tuple[pl.DataFrame | None, int, pl.DataFrame | None]] = {}

    def frame(self, spec: EntitySpec) -> pl.DataFrame | None:
        """The entity's rows sorted by key fields, or None when there is no such table."""
        base = self.tenant.tables().get(spec.name)
        with self.lock:
            version = self.versions.get(spec.name, 0)
            hit = self._cache.get(spec.name)
            if hit is not None and hit[0] is base and hit[1] == version:
                return hit[2]
            merged = _merge(base, self.overlay.get(spec.name, {}), spec)
            if merged is not None:
                keys = [k for k in spec.keys if k in merged.columns]
                merged = merged.sort(keys, maintain_order=True) if keys else merged
            self._cache[spec.name] = (base, version, merged)
            return merged

    def put_row(self, spec: EntitySpec, row: dict[str, Any]) -> None:
        with self.lock:
            self.overlay.setdefault(spec.name, {})[str(row["id"])] = row
            self.versions[spec.name] = self.versions.get(spec.name, 0) + 1


def _minimal_schema(spec: EntitySpec) -> dict[str, pl.DataType]:
    """Columns of an entity the provider has no frame for (written to by PUT only)."""
    return {"id": pl.String(), **{k: pl.String() for k in spec.keys},
            "LastModifiedDateTime": pl.Datetime("us", "UTC")}


def _merge(base: pl.DataFrame | None, rows: Mapping[str, dict[str, Any]],
           spec: EntitySpec) -> pl.DataFrame | None:
    if not rows:
        return base
    schema = dict(base.schema) if base is not None else _minimal_schema(spec)
    extra = pl.from_dicts(list(rows.values()), schema=schema)
    if base is None:
        return extra
    kept = base.filter(~pl.col("id").cast(pl.String).is_in(list(rows)))
    return pl.concat([kept, extra], how="vertical")


# -- rendering -----------------------------------------------------------------------------------
# Pages are rendered to JSON text inside polars: one string expression per entity, built from
# the schema, so no value of the page passes through Python (a 1000-bill page with details
# takes a few milliseconds instead of ~150 ms for dicts + a Python encoder).
_S = pl.String()


def _key(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def _json_text(expr: pl.Expr) -> pl.Expr:
    """A string expression as a JSON string literal (escaped by polars); null → ``null``."""
    return (pl.struct(expr.cast(_S).alias("v")).struct.json_encode()
            .str.strip_prefix('{"v":').str.strip_suffix("}"))


def _wrapped_json(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A data field: ``{"value": v}``, or ``{}`` when null [R]."""
    return pl.when(expr.is_null()).then(pl.lit("{}")).otherwise(_value_json(expr, dtype))


def _value_json(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Boolean:
        return pl.when(expr).then(pl.lit('{"value":true}')).otherwise(pl.lit('{"value":false}'))
    if isinstance(dtype, pl.Decimal):  # money: a JSON number with at least two decimals [C]
        if dtype.scale is None or dtype.scale < 2:
            expr = expr.cast(pl.Decimal(min(38, (dtype.precision or 36) + 2), 2))
        return pl.concat_str(pl.lit('{"value":'), expr.cast(_S), pl.lit("}"))
    if dtype.is_integer():
        return pl.concat_str(pl.lit('{"value":'), expr.cast(_S), pl.lit("}"))
    if dtype == pl.Date:  # date fields are midnight UTC [R]
        return pl.concat_str(pl.lit('{"value":"'), expr.dt.strftime("%Y-%m-%d"),
                             pl.lit('T00:00:00+00:00"}'))
    if isinstance(dtype, pl.Datetime):  # milliseconds, UTC [R]; a naive column holds UTC
        utc = expr.dt.convert_time_zone("UTC") if dtype.time_zone else expr
        return pl.concat_str(pl.lit('{"value":"'), utc.dt.strftime("%Y-%m-%dT%H:%M:%S%.3f"),
                             pl.lit('+00:00"}'))
    if dtype.is_float():  # polars writes NaN/inf as null
        return pl.struct(expr.alias("value")).struct.json_encode()
    return pl.struct(expr.cast(_S).alias("value")).struct.json_encode()


def _nested_json(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A linked entity (one object) or a detail array (objects numbered 1..n)."""
    if isinstance(dtype, pl.Struct):
        return _object_json(dtype.fields, expr.struct.field, pl.lit(1))
    assert isinstance(dtype, pl.List)
    inner = dtype.inner
    if isinstance(inner, pl.Struct):
        lines = expr.list.eval(_object_json(inner.fields, pl.element().struct.field,
                                            pl.int_range(1, pl.len() + 1)))
    else:  # a plain list: not among the served entities [U]
        lines = expr.list.eval(_json_text(pl.element()))
    return pl.concat_str(pl.lit("["), lines.list.join(",").fill_null(""), pl.lit("]"))


def _object_json(fields: Iterable[pl.Field], get: Callable[[str], pl.Expr],
                 row_number: pl.Expr, tail: pl.Expr | None = None) -> pl.Expr:
    """An entity, linked entity or detail line: ``id``, ``rowNumber``, ``note``, the fields,
    ``custom`` and ``tail`` (``_links``). A null linked entity keeps its shape with every
    field empty [U]."""
    parts: list[pl.Expr] = [pl.lit("{")]
    fields = list(fields)
    if any(f.name == "id" for f in fields):
        parts += [pl.lit('"id":'), _json_text(get("id")), pl.lit(",")]
    parts += [pl.lit('"rowNumber":'), row_number.cast(_S), pl.lit(',"note":{"value":""}')]
    for f in fields:
        if f.name == "id":
            continue
        value = (_nested_json(get(f.name), f.dtype) if _is_nested(f.dtype)
                 else _wrapped_json(get(f.name), f.dtype))
        parts += [pl.lit(f",{_key(f.name)}:"), value]
    parts.append(pl.lit(',"custom":{}'))
    if tail is not None:
        parts += [pl.lit(',"_links":'), tail]
    parts.append(pl.lit("}"))
    return pl.concat_str(parts)


def _is_nested(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Struct | pl.List)


@dataclass(frozen=True)
class _Query:
    where: Node | None
    top: int | None
    skip: int
    expand: tuple[str, ...]
    select: tuple[str, ...] | None


def _query(request: Request) -> _Query:
    params = request.query_params
    raw_filter = params.get("$filter")
    try:
        where = parse_filter(raw_filter) if raw_filter and raw_filter.strip() else None
    except FilterError as err:
        raise bad_request(f"$filter: {err}") from None
    return _Query(where, _count(params.get("$top"), "$top"), _count(params.get("$skip"), "$skip")
                  or 0, _names(params.get("$expand")), _names(params.get("$select")) or None)


def _count(raw: str | None, name: str) -> int | None:
    def error(n: str, r: str) -> AcumaticaError:
        return bad_request(f"The value '{r}' of {n} is not a non-negative integer.")
    value = parse_int(raw, name, error)
    if value is not None and value < 0:
        raise error(name, str(raw))
    return value


def _names(raw: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (raw or "").split(",") if p.strip())


class _View:
    """The columns one request shows and the JSON text of a page of them."""

    def __init__(self, spec: EntitySpec, schema: Mapping[str, pl.DataType], query: _Query,
                 links: str):
        lower = {c.lower(): c for c in schema}
        nested_cols = {c for c, t in schema.items() if _is_nested(t)} | \
            {c for c in (*spec.details, *spec.linked) if c in schema}
        expandable = {n.lower(): n for n in (*spec.details, *spec.linked, *nested_cols)}
        expand = [_expand_name(n, expandable) for n in query.expand]
        data = [c for c in schema if c != "id" and c not in nested_cols]
        if query.select is not None:
            chosen = {_select_name(n, lower) for n in query.select}
            data = [c for c in data if c in chosen]
        shown = [c for c in schema if c in nested_cols and c in expand]
        self.columns = ["id", *data, *shown] if "id" in schema else [*data, *shown]
        files = f"{links.rsplit('/', 1)[0]}/files/{spec.files}"  # …/entity/Default/<version>
        rid = pl.col("id").cast(_S) if "id" in schema else pl.lit("")
        link = pl.concat_str(
            pl.lit('{"self":'), _json_text(pl.concat_str(pl.lit(f"{links}/"), rid)),
            pl.lit(',"files:put":'),
            _json_text(pl.concat_str(pl.lit(f"{files}/"), rid, pl.lit("/{filename}"))),
            pl.lit("}"))
        self.expr = _object_json([pl.Field(c, schema[c]) for c in self.columns], pl.col,
                                 pl.int_range(1, pl.len() + 1), link.fill_null("{}"))

    def items(self, page: pl.DataFrame) -> list[str]:
        """One JSON text per row, numbered 1..n."""
        if page.is_empty():
            return []
        return page.select(self.expr.alias("json")).to_series().to_list()

    def array(self, page: pl.DataFrame) -> Response:
        return _json_bytes("[" + ",".join(self.items(page)) + "]")

    def single(self, rows: pl.DataFrame) -> Response:
        return _json_bytes(self.items(rows.head(1))[0])


def _json_bytes(text: str) -> Response:
    return Response(text.encode("utf-8"), media_type="application/json; charset=utf-8")


def _expand_name(name: str, expandable: Mapping[str, str]) -> str:
    head = name.split("/", 1)[0]  # MainContact/Address: Address comes with MainContact
    found = expandable.get(head.lower())
    if found is None:
        raise bad_request(f"$expand: '{name}' is not a detail or linked entity of this entity.")
    return found


def _select_name(name: str, lower: Mapping[str, str]) -> str:
    head = name.split("/", 1)[0]  # Details/Amount selects Details (when expanded) [U]
    if head in META_FIELDS:
        return head
    found = lower.get(head.lower())
    if found is None:
        raise bad_request(f"$select: the field '{name}' is not found.")
    return found


# -- writes --------------------------------------------------------------------------------------
def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")  # [U] wording
    return body


def _wrapped(body: Mapping[str, Any], name: str) -> Any:
    v = body.get(name)
    return v.get("value") if isinstance(v, dict) else None


def _coerce(value: Any, dtype: pl.DataType) -> Any:
    """A JSON value as the Python value of a ``dtype`` column; raises ValueError/TypeError."""
    if value is None:
        return None
    if isinstance(dtype, pl.Decimal):
        if isinstance(value, bool):
            raise TypeError(value)
        return Decimal(str(value))
    if dtype.is_integer():
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        return int(value)
    if dtype.is_float():
        return float(value)
    if dtype == pl.Boolean:
        if not isinstance(value, bool):
            raise TypeError(value)
        return value
    if dtype == pl.Date:  # "2024-06-01" or a full date-time are both sent [S]
        return datetime.fromisoformat(str(value)).date()
    if isinstance(dtype, pl.Datetime):
        stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
        return stamp if dtype.time_zone else stamp.replace(tzinfo=None)
    if isinstance(value, dict | list):
        raise TypeError(value)
    return str(value)


class _Writer:
    """Applies a PUT body to a row, collecting field errors by top-level field."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def value(self, current: Any, given: Any, dtype: pl.DataType, path: str) -> Any:
        if isinstance(dtype, pl.Struct):
            return self.struct(current, given, dtype, path)
        if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
            return self.lines(current, given, dtype.inner, path)
        if not isinstance(given, dict):
            return self.fail(path, f"'{path}' must be sent as {{\"value\": …}}.", current)
        if "value" not in given:  # an empty wrapper changes nothing
            return current
        try:
            return _coerce(given["value"], dtype)
        except (ValueError, TypeError, InvalidOperation):
            return self.fail(path, f"'{given['value']}' is not a valid value for '{path}'.",
                             current)

    def struct(self, current: Any, given: Any, dtype: pl.Struct, path: str) -> Any:
        if not isinstance(given, dict):
            return self.fail(path, f"'{path}' must be an object.", current)
        out = dict(current) if current else {f.name: None for f in dtype.fields}
        for f in dtype.fields:
            if f.name in given and f.name not in META_FIELDS:
                out[f.name] = self.value(out.get(f.name), given[f.name], f.dtype,
                                         f"{path}/{f.name}")
        return out

    def lines(self, current: Any, given: Any, dtype: pl.Struct, path: str) -> Any:
        """Lines with a known ``id`` are updated (or removed with ``"delete": true``), other
        lines are added [C]."""
        if not isinstance(given, list):
            return self.fail(path, f"'{path}' must be an array.", current)
        out = [dict(x) for x in current or ()]
        for line in given:
            if not isinstance(line, dict):
                return self.fail(path, f"'{path}' lines must be objects.", current)
            target = next((x for x in out if line.get("id") and x.get("id") == line["id"]), None)
            if line.get("delete") is True:
                out = [x for x in out if x is not target]
                continue
            if target is None:
                target = {f.name: None for f in dtype.fields}
                if "id" in target:
                    target["id"] = str(uuid.uuid4())
                out.append(target)
            target.update(self.struct(target, line, dtype, path))
        return out

    def fail(self, path: str, message: str, current: Any) -> Any:
        self.errors.setdefault(path.split("/", 1)[0], f"Error: {message}")
        return current


def _unprocessable(spec: EntitySpec, body: Mapping[str, Any], errors: writes.Errors,
                   inserting: bool) -> AcumaticaError:
    """422: the entity echoed with ``error`` inside the failing fields' wrappers, detail
    lines included (``Details[i].CostCode.error``), and a top-level ``error`` [R]."""
    echo: dict[str, Any] = json.loads(json.dumps(body))  # a deep copy of plain JSON
    for path, message in errors:
        holder: Any = echo
        for step in path[:-1]:
            holder = holder[step]
        name = path[-1]
        given = holder.get(name)
        holder[name] = {**given, "error": message} if isinstance(given, dict) else \
            {"error": message}
    verb = "Inserting" if inserting else "Updating"
    echo["error"] = f"{verb} '{spec.name}' record raised at least one error. " \
        "Please review the errors."  # [S]
    return AcumaticaError(422, echo)


# -- the API -------------------------------------------------------------------------------------
class AcumaticaApi:
    """Routes and request handling for the contract-based REST API, one or more instances."""

    def __init__(self, tenants: Mapping[str, AcumaticaTenant], sessions: int = 2,
                 concurrency: int = 10, gate: Gate | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 idle_timeout: float = IDLE_TIMEOUT,
                 ticker: Callable[[], float] = time.monotonic):
        self.clock = clock  # LastModifiedDateTime / CreatedDateTime of writes
        self.gate = gate or Gate("acumatica", Limits())
        self.states = {slug.lower(): _TenantState(t, Slots(concurrency),
                                                  _Sessions(sessions, idle_timeout, ticker))
                       for slug, t in tenants.items()}

    def routes(self, prefix: str = "/acumatica") -> list[BaseRoute]:
        base = f"{prefix}/{{instance}}/entity"
        entity = f"{base}/{{endpoint}}/{{version}}/{{entity}}"
        return [
            Route(f"{base}/auth/login", self._endpoint(self.login), methods=["POST"]),
            Route(f"{base}/auth/logout", self._endpoint(self.logout), methods=["POST"]),
            Route(entity, self._endpoint(self.entity), methods=["GET", "PUT"]),
            Route(f"{entity}/{{keys:path}}", self._endpoint(self.one), methods=["GET"]),
        ]

    def fault(self, kind: str) -> Response:
        if kind == "429":
            return license_limit_response()
        return http_error(500, "An unexpected error occurred. (sandbox fault)",  # [U]
                          "System.Exception").response()

    def live_sessions(self, instance: str) -> int:
        """Seats in use on ``instance`` (for tests and the admin view)."""
        return self.states[instance.lower()].sessions.count()

    # -- the front door ------------------------------------------------------------------------
    def _endpoint(self, handler: Callable[[_TenantState, Request, bytes], Response]
                  ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            state = self.states.get(request.path_params["instance"].lower())
            if state is None:
                return _no_resource(request).response()
            raw = await request.body()
            # Every call of the tenant takes a slot, login too [U].
            return await run_in_slot(state.slots, self.gate, request,
                                     lambda r: _guarded(handler, state, r, raw),
                                     license_limit_response, self.fault)
        return endpoint

    # -- auth ----------------------------------------------------------------------------------
    def login(self, state: _TenantState, request: Request, raw: bytes) -> Response:
        form = _login_form(request, raw)
        tenant = form.get("tenant")
        known = (str(form.get("name")), str(form.get("password"))) in state.tenant.credentials
        # One tenant per instance: a login without "tenant" picks it [U]; names ignore case.
        if not known or (tenant is not None and str(tenant).lower() != state.tenant.tenant.lower()):
            raise http_error(500, INVALID_CREDENTIALS)
        opened = state.sessions.open(replaces=_session_of(state, request))
        if opened is None:
            return login_limit_response(state.sessions.limit)
        response = Response(status_code=204)
        sid, auth = opened
        response.set_cookie(SESSION_COOKIE, sid, path="/", httponly=True, samesite="lax")
        response.set_cookie(AUTH_COOKIE, auth, path="/", httponly=True, samesite="lax")
        response.set_cookie(COMPANY_COOKIE, state.tenant.tenant, path="/", samesite="lax")
        return response

    def logout(self, state: _TenantState, request: Request, raw: bytes) -> Response:
        state.sessions.close(request.cookies.get(SESSION_COOKIE), request.cookies.get(AUTH_COOKIE))
        response = Response(status_code=204)
        response.delete_cookie(AUTH_COOKIE, path="/")  # the session id cookie stays [U]
        return response

    # -- entities ------------------------------------------------------------------------------
    def entity(self, state: _TenantState, request: Request, raw: bytes) -> Response:
        if request.method == "PUT":
            return self.put(state, request, raw)
        spec, version = _authorised(state, request)
        query = _query(request)
        frame = state.frame(spec)
        if frame is None:  # no table for this entity: valid requests get an empty list
            return json_response([])
        view = _View(spec, frame.schema, query, _links(request, spec, version))
        if query.where is not None:
            frame = frame.filter(_compile(query.where, frame, spec))
        return view.array(frame.slice(query.skip, query.top))

    def one(self, state: _TenantState, request: Request, raw: bytes) -> Response:
        spec, version = _authorised(state, request)
        parts = [p for p in request.path_params["keys"].split("/") if p]
        if not parts:  # "…/Bill/" is the list
            return self.entity(state, request, raw)
        query = _query(request)
        frame = state.frame(spec)
        if frame is None:
            raise _no_entity()
        rows = _find(frame, spec, parts)
        if rows.is_empty():
            raise _no_entity()
        return _View(spec, frame.schema, query, _links(request, spec, version)).single(rows)

    def put(self, state: _TenantState, request: Request, raw: bytes) -> Response:
        spec, version = _authorised(state, request)
        body = _json_object(raw)
        query = _query(request)
        with state.lock:  # the existence check and the write must not interleave
            frame = state.frame(spec)
            schema = dict(frame.schema) if frame is not None else _minimal_schema(spec)
            existing = _existing(frame, spec, body)
            _preconditions(request, existing is not None)
            row = self._apply(state, spec, frame, schema, body, existing)
            if "LastModifiedDateTime" in schema:
                row["LastModifiedDateTime"] = _coerce(self._now(),
                                                      schema["LastModifiedDateTime"])
            state.put_row(spec, row)
            if spec.name == "Project" and existing is None:
                self._template_tasks(state, str(row["ProjectID"]))
            saved = state.frame(spec)
        assert saved is not None
        rows = saved.filter(pl.col("id").cast(pl.String) == str(row["id"]))
        return _View(spec, saved.schema, query, _links(request, spec, version)).single(rows)

    def _apply(self, state: _TenantState, spec: EntitySpec, frame: pl.DataFrame | None,
               schema: Mapping[str, pl.DataType], body: Mapping[str, Any],
               existing: dict[str, Any] | None) -> dict[str, Any]:
        """The row a PUT saves, or a 422 with every field error of the body."""
        writer = _Writer()
        row = dict(existing) if existing is not None else self._new_row(schema)
        for name, given in body.items():
            if name in schema and name not in META_FIELDS:
                row[name] = writer.value(row.get(name), given, schema[name], name)
        errors: writes.Errors = [((name,), message) for name, message in writer.errors.items()]
        if existing is None:
            errors += _missing_keys(spec, frame, row)
        project = row.get("ProjectID") if spec.name in ("ChangeOrder", "ProjectBudget") \
            else row.get("Project")
        errors += writes.validate(spec.name, body, project, _refs(state))
        if errors:
            raise _unprocessable(spec, body, errors, existing is None)
        writes.derive(spec.name, row, existing is None, existing)
        return row

    def _template_tasks(self, state: _TenantState, project_id: str) -> None:
        """A new project's template tasks, as rows of the tenant's ProjectTask frame."""
        spec = ENTITIES["ProjectTask"]
        frame = state.frame(spec)
        schema = dict(frame.schema) if frame is not None else _minimal_schema(spec)
        for values in writes.project_tasks(project_id):
            row = self._new_row(schema)
            row.update({k: v for k, v in values.items() if k in schema})
            if "LastModifiedDateTime" in schema:
                row["LastModifiedDateTime"] = _coerce(self._now(),
                                                      schema["LastModifiedDateTime"])
            state.put_row(spec, row)

    def _now(self) -> datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=UTC)  # a naive clock tells UTC

    def _new_row(self, schema: Mapping[str, pl.DataType]) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(schema)
        row["id"] = str(uuid.uuid4())
        if "CreatedDateTime" in schema:
            row["CreatedDateTime"] = _coerce(self._now(), schema["CreatedDateTime"])
        return row


# -- handler plumbing ----------------------------------------------------------------------------
def _guarded(handler: Callable[[_TenantState, Request, bytes], Response], state: _TenantState,
             request: Request, raw: bytes) -> Response:
    try:
        return handler(state, request, raw)
    except AcumaticaError as err:
        return err.response()


def _login_form(request: Request, raw: bytes) -> dict[str, Any]:
    """Login fields from JSON or a form body [C]; anything unreadable is no credentials."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _session_of(state: _TenantState, request: Request) -> str | None:
    sid = request.cookies.get(SESSION_COOKIE)
    if state.sessions.check(sid, request.cookies.get(AUTH_COOKIE), touch=False):
        return sid
    return None


def _authorised(state: _TenantState, request: Request) -> tuple[EntitySpec, str]:
    """The entity and endpoint version of an entity call, after the session check."""
    if not state.sessions.check(request.cookies.get(SESSION_COOKIE),
                                request.cookies.get(AUTH_COOKIE)):
        raise AcumaticaError(401, {"message": NOT_LOGGED_IN})
    p = request.path_params
    version = p["version"]
    spec = _BY_LOWER.get(p["entity"].lower())
    if (p["endpoint"].lower() != "default" or version not in VERSIONS or spec is None
            or VERSIONS.index(version) < VERSIONS.index(spec.since)):
        raise _no_resource(request)
    return spec, version


def _links(request: Request, spec: EntitySpec, version: str) -> str:
    """``<prefix>/<instance>/entity/Default/<version>/<Entity>``: the self link without id."""
    path = request.url.path
    return f"{path[: path.index('/entity/')]}/entity/Default/{version}/{spec.name}"


def _compile(where: Node, frame: pl.DataFrame, spec: EntitySpec) -> pl.Expr:
    try:
        return compile_filter(where, frame.schema, spec.details, spec.name)
    except FilterError as err:
        raise bad_request(f"$filter: {err}") from None


def _key_match(frame: pl.DataFrame, spec: EntitySpec, values: list[str]) -> pl.Expr | None:
    if len(values) != len(spec.keys) or any(k not in frame.columns for k in spec.keys):
        return None
    expr = pl.lit(True)
    for key, value in zip(spec.keys, values, strict=True):  # keys ignore case, like SQL [U]
        expr &= pl.col(key).cast(pl.String).str.to_lowercase() == value.lower()
    return expr


def _find(frame: pl.DataFrame, spec: EntitySpec, parts: list[str]) -> pl.DataFrame:
    """Rows addressed by a URL: one GUID segment (the ``id``) or the key values in order."""
    if len(parts) == 1 and _is_guid(parts[0]):
        hit = frame.filter(pl.col("id").cast(pl.String).str.to_lowercase() == parts[0].lower())
        if not hit.is_empty():
            return hit
    match = _key_match(frame, spec, parts)
    return frame.clear() if match is None else frame.filter(match)


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _existing(frame: pl.DataFrame | None, spec: EntitySpec,
              body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The row a PUT updates: by ``id`` when sent and known, else by the key fields [C]."""
    if frame is None:
        return None
    rid = body.get("id")
    if isinstance(rid, str) and rid:
        hit = frame.filter(pl.col("id").cast(pl.String) == rid)
        if not hit.is_empty():
            return hit.row(0, named=True)
    keys = [_wrapped(body, k) for k in spec.keys]
    if any(k in (None, "") for k in keys):
        return None
    match = _key_match(frame, spec, [str(k) for k in keys])
    hit = frame.clear() if match is None else frame.filter(match)
    return None if hit.is_empty() else hit.row(0, named=True)


def _missing_keys(spec: EntitySpec, frame: pl.DataFrame | None,
                  row: dict[str, Any]) -> writes.Errors:
    """Key fields an insert lacks; an auto-numbered one gets the next number instead [C]."""
    errors: writes.Errors = []
    for key in spec.keys:
        if row.get(key) not in (None, ""):
            continue
        if writes.AUTO_NUMBERED.get(spec.name) == key:
            taken = frame[key].to_list() if frame is not None and key in frame.columns else []
            row[key] = writes.next_number(taken)
            continue
        errors.append(((key,), f"Error: '{key}' cannot be empty."))  # [U] wording
    return errors


def _keys_of(state: _TenantState, entity: str, *fields: str) -> frozenset | None:
    frame = state.frame(ENTITIES[entity])
    if frame is None or any(f not in frame.columns for f in fields):
        return None
    cols = [frame[f].cast(pl.String).str.to_lowercase().to_list() for f in fields]
    return frozenset(cols[0]) if len(cols) == 1 else frozenset(zip(*cols, strict=True))


def _refs(state: _TenantState) -> writes.Refs:
    """What the tenant holds now (written rows included), for reference checks."""
    return writes.Refs(
        vendors=_keys_of(state, "Vendor", "VendorID"),
        projects=_keys_of(state, "Project", "ProjectID"),
        tasks=_keys_of(state, "ProjectTask", "ProjectID", "ProjectTaskID"),
        cost_codes=_keys_of(state, "CostCode", "CostCodeID"),
        bills=_keys_of(state, "Bill", "Type", "ReferenceNbr"))


def _preconditions(request: Request, exists: bool) -> None:
    """``If-None-Match: *`` inserts only, ``If-Match: *`` updates only [C]; 412 otherwise."""
    if request.headers.get("if-none-match", "").strip() == "*" and exists:
        raise http_error(412, "The entity already exists.")  # [U] wording
    if request.headers.get("if-match", "").strip() == "*" and not exists:
        raise http_error(412, "The entity does not exist.")  # [U] wording

