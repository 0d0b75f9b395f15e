"""The Procore REST API v1.0 (read side), served from the world under the prefix ``/procore``.

Each world connection's ``procore_company_id`` is a Procore company. Lists are bare JSON arrays
paged with ``page``/``per_page`` and ``Link``/``Total``/``Per-Page`` headers; ``filters[…]``,
``Procore-Company-Id``, and the hourly + 10-second rate limits follow
``anchors_mission_style.md`` §1.8. Error bodies Procore does not document are marked [U].

Served views are built once per world state, partitioned by scope (company or project) and
sorted by ``id`` (Procore's lists come in id order [U]; an order that does not move a record
when it is modified also keeps paging stable); a request filters and slices one partition and
renders only the rows of its page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.sandbox.acumatica_tables import guid
from pipelines.sandbox.common import (
    PROCORE_TOKEN,
    Gate,
    Limits,
    RateDecision,
    RateLimiter,
    TokenStore,
    Views,
    Window,
    bearer_token,
    issue_token,
    json_response,
    parse_int,
    parse_timestamp,
)
from pipelines.sandbox.world import AC_COST_TYPES, COST_TYPES, World, cents

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
BUDGET_LINE_ID_OFFSET = 50_000_000  # budget line item id = wbs_code_id + this
UTC_TS = pl.Datetime("us", "UTC")
__all__ = ["ProcoreApi", "PROCORE_TOKEN"]


def money(value: int) -> str:
    """Procore money: a JSON string with two decimals, e.g. ``"1234.50"``."""
    return format(cents(value), "f")


def iso_ts(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _deleted(frame: pl.DataFrame) -> pl.Expr:
    # The world has no Procore deletions yet; a `deleted_at` column, once added, is honoured.
    if "deleted_at" in frame.columns:
        return pl.col("deleted_at").cast(UTC_TS)
    return pl.lit(None, dtype=UTC_TS)


def _scoped(frame: pl.DataFrame, scope: str, id_col: str, updated: str = "updated_at",
            created: str = "created_at") -> pl.DataFrame:
    """Add the columns every served view has: _scope, _id, _updated, _created, _deleted."""
    return frame.with_columns(
        _scope=pl.col(scope).cast(pl.Int64), _id=pl.col(id_col).cast(pl.Int64),
        _updated=pl.col(updated), _created=pl.col(created), _deleted=_deleted(frame))


def _companies(w: World) -> pl.DataFrame:
    return w.t["connections"].select(
        "connection_id", company_id=pl.col("procore_company_id").cast(pl.Int64),
        company_name="company_name")


# -- served views --------------------------------------------------------------------------------
def _build_companies(w: World) -> pl.DataFrame:
    c = w.t["connections"].with_columns(scope=pl.lit(0))
    return _scoped(c, "scope", "procore_company_id", "live_date", "live_date")


def _build_projects(w: World) -> pl.DataFrame:
    p = w.t["procore_projects"].drop("company_id").join(_companies(w), on="connection_id")
    return _scoped(p, "company_id", "project_id")


def _build_vendors(w: World) -> pl.DataFrame:
    v = w.t["vendors"].filter(pl.col("in_procore")).join(_companies(w), on="connection_id")
    return _scoped(v, "company_id", "procore_vendor_id")


def _build_standard_codes(w: World) -> pl.DataFrame:
    codes = w.t.get("procore_standard_cost_codes")
    if codes is None:  # no Acumatica connection in this world
        codes = pl.DataFrame(schema={"standard_cost_code_id": pl.Int64, "company_id": pl.Int64,
                                     "cost_code": pl.String, "description": pl.String,
                                     "erp_code": pl.String,
                                     "updated_at": pl.Datetime("us", "UTC")})
    return _scoped(codes, "company_id", "standard_cost_code_id", created="updated_at")


def _build_users(w: World) -> pl.DataFrame:
    return _scoped(w.t["procore_users"], "company_id", "user_id", created="updated_at")


def _build_wbs(w: World) -> pl.DataFrame:
    return _scoped(w.t["wbs_codes"], "project_id", "wbs_code_id")


def _build_budget_lines(w: World) -> pl.DataFrame:
    b = w.t["wbs_codes"].filter(pl.col("on_budget")).with_columns(
        budget_line_item_id=pl.col("wbs_code_id") + BUDGET_LINE_ID_OFFSET)
    return _scoped(b, "project_id", "budget_line_item_id")


def _build_commitments(w: World) -> pl.DataFrame:
    names = w.t["vendors"].filter(pl.col("in_procore")).select(
        "connection_id", vendor_id="procore_vendor_id", vendor_name="name")
    c = w.t["procore_commitments"].join(names, on=["connection_id", "vendor_id"], how="left")
    return _scoped(c, "project_id", "commitment_id")


def _build_requisitions(w: World) -> pl.DataFrame:
    lines = w.t["procore_requisition_lines"].sort("requisition_line_id").group_by(
        "requisition_id", maintain_order=True).agg(
        total=pl.col("amount").sum(),
        lines=pl.struct("requisition_line_id", "wbs_code_id", "flat_code", "amount"))
    origin = w.t["erp_txns"].filter(pl.col("requisition_id") >= 0).select(
        "requisition_id", origin_id="txn_id").unique("requisition_id", keep="first")
    r = (w.t["procore_requisitions"].join(lines, on="requisition_id", how="left")
         .join(origin, on="requisition_id", how="left")
         .with_columns(pl.col("total").fill_null(0)))
    return _scoped(r, "project_id", "requisition_id")


def _build_direct_costs(w: World) -> pl.DataFrame:
    erps = w.t["connections"].select("connection_id", "erp")
    wbs = w.t["wbs_codes"].select("wbs_code_id", "flat_code")
    lines = (
        w.t["procore_direct_cost_lines"]
        .join(erps, on="connection_id", maintain_order="left")
        .join(wbs, on="wbs_code_id", how="left", maintain_order="left")
        .with_columns(line_item_id=pl.col("direct_cost_id") * 1000
                      + pl.int_range(pl.len()).over("direct_cost_id") + 1,
                      origin_id=_erp_record_id("line_id", "pm"))
        .group_by("direct_cost_id", maintain_order=True)
        .agg(grand_total=pl.col("amount").sum(),
             lines=pl.struct("line_item_id", "origin_id", "flat_code", "description",
                             "quantity", "unit_amount", "amount"))
    )
    d = (w.t["procore_direct_costs"].join(erps, on="connection_id", maintain_order="left")
         .with_columns(origin_id=_erp_record_id("txn_id", "pmtran"))
         .join(lines, on="direct_cost_id", how="left").with_columns(
             pl.col("grand_total").fill_null(0)))
    return _scoped(d, "procore_project_id", "direct_cost_id", updated="synced_at",
                   created="created_at")


def _erp_record_id(key: str, salt: str) -> pl.Expr:
    """The ERP's own id of a synced record, which Procore keeps as ``origin_id``: the world's
    key on Xero and NetSuite; on Acumatica the GUID of the project transaction (detail) the
    cost came from (``acumatica_tables``) [U]."""
    ac = pl.col(key).map_batches(lambda s: guid(s.to_list(), salt), return_dtype=pl.String)
    return pl.when(pl.col("erp") == "acumatica").then(ac).otherwise(pl.col(key))


# -- JSON per record -----------------------------------------------------------------------------
def _stamps(r: dict, deleted: bool = True) -> dict:
    out = {"created_at": iso_ts(r["_created"]), "updated_at": iso_ts(r["_updated"])}
    return out | {"deleted_at": iso_ts(r["_deleted"])} if deleted else out


def _company(r: dict) -> dict:
    return {"id": r["_id"], "name": r["company_name"], "is_active": True}


def _project(r: dict) -> dict:
    return {
        "id": r["project_id"], "name": r["name"],
        "display_name": f"{r['project_number']} - {r['name']}",
        "project_number": r["project_number"], "active": r["active"],
        "origin_id": r["erp_option_id"] if r["is_synced"] else None,
        # Whether the project uses the company's standard (ERP) cost code list (NS-9) [U].
        "standard_cost_code_list": r["uses_standard_list"],
        "company": {"id": r["company_id"], "name": r["company_name"]}, **_stamps(r),
    }


def _vendor(r: dict) -> dict:
    return {
        "id": r["procore_vendor_id"], "name": r["name"], "address": r["address"],
        "city": r["city"], "business_phone": r["phone"], "is_active": True,
        "origin_id": r["contact_id"] if r["is_linked"] else None, **_stamps(r, deleted=False),
    }


def _wbs_code(r: dict) -> dict:
    return {
        "id": r["wbs_code_id"], "flat_code": r["flat_code"], "description": r["description"],
        "status": "active", "origin_id": r["erp_item_id"],
        "segment_items": [
            # Acumatica WBS: an optional Sub Job and a Task segment come first (AC-6, AC-9).
            *([{"segment_name": "Sub Job", "code": r["sub_job"], "name": f"Sub Job {r['sub_job']}"}]
              if r.get("sub_job") else []),
            *([{"segment_name": "Task", "code": r["task"], "name": f"Task {r['task']}"}]
              if r.get("task") else []),
            {"segment_name": "Cost Code", "code": r["cost_code"], "name": r["cost_code_name"]},
            {"segment_name": "Cost Type", "code": r["cost_type"],
             "name": {**COST_TYPES, **AC_COST_TYPES}.get(r["cost_type"], r["cost_type"])},
            # Custom segments follow in Procore's order (NS-3 appends them to item names).
            *([{"segment_name": "Phase", "code": r["segment"], "name": f"Phase {r['segment']}"}]
              if r["segment"] else []),
        ],
        **_stamps(r, deleted=False),
    }


def _standard_code(r: dict) -> dict:
    return {"id": r["standard_cost_code_id"], "code": r["cost_code"], "full_code": r["cost_code"],
            "name": r["description"], "origin_id": r["erp_code"], **_stamps(r, deleted=False)}


def _user(r: dict) -> dict:
    return {
        "id": r["user_id"], "name": r["name"], "email_address": r["email"],
        "is_active": r["is_active"],
        # The ERP Integrations tool level and its `Can Push to Accounting` granular permission,
        # flattened onto the user [U: Procore serves them through permission templates].
        "erp_integrations_permission": r["erp_integrations_permission"],
        "can_push_to_accounting": r["can_push_to_accounting"], **_stamps(r, deleted=False),
    }


def _budget_line(r: dict) -> dict:
    return {
        "id": r["budget_line_item_id"], "project_id": r["project_id"],
        "wbs_code": {"id": r["wbs_code_id"], "flat_code": r["flat_code"],
                     "description": r["description"]},
        "original_budget_amount": money(r["budget_cents"]), **_stamps(r, deleted=False),
    }


def _commitment(r: dict) -> dict:
    return {
        "id": r["commitment_id"], "number": r["number"], "title": r["title"],
        "status": r["status"], "vendor": {"id": r["vendor_id"], "name": r["vendor_name"]},
        "project": {"id": r["project_id"]},
        # The ERP record the commitment was exported to (Acumatica Subcontract id) [U].
        "origin_id": r.get("erp_commitment_id"), **_stamps(r),
    }


def _requisition(r: dict) -> dict:
    total = r["total"]
    retainage = total * r["retainage_pct"] // 100
    return {
        "id": r["requisition_id"], "commitment_id": r["commitment_id"],
        "invoice_number": r["invoice_number"], "status": r["status"],
        "billing_date": iso_date(r["billing_date"]), "payment_date": iso_date(r["payment_date"]),
        "origin_id": r["origin_id"],
        "g702": {"total_completed_and_stored_to_date": money(total),
                 "total_retainage": money(retainage),
                 "current_payment_due": money(total - retainage)},
        "line_items": [{"id": li["requisition_line_id"],
                        "wbs_code": {"id": li["wbs_code_id"], "flat_code": li["flat_code"]},
                        "amount": money(li["amount"])} for li in r["lines"] or []],
        **_stamps(r, deleted=False),
    }


def _direct_cost_line(li: dict) -> dict:
    amount = li["amount"]
    # Credit notes arrive negated: keep the unit cost's sign with the amount's.
    unit = -abs(li["unit_amount"]) if amount < 0 else li["unit_amount"]
    return {"id": li["line_item_id"], "origin_id": li["origin_id"],
            "wbs_code": {"flat_code": li["flat_code"]}, "description": li["description"],
            "quantity": li["quantity"], "unit_cost": money(unit), "amount": money(amount)}


def _direct_cost(r: dict) -> dict:
    return {
        "id": r["direct_cost_id"], "direct_cost_type": r["direct_cost_type"],
        "status": "approved", "invoice_number": r["invoice_number"],
        "description": r["reference"], "vendor": {"name": r["contact_name"]},
        "direct_cost_date": iso_date(r["txn_date"]), "grand_total": money(r["grand_total"]),
        "origin_id": r["origin_id"],
        "line_items": [_direct_cost_line(li) for li in r["lines"] or []], **_stamps(r),
    }


# -- resources -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resource:
    name: str
    scope: str  # "global" | "company" (company_id query) | "project" (path or query)
    sources: tuple[str, ...]
    build: Callable[[World], pl.DataFrame]
    render: Callable[[dict], dict]


RESOURCES: dict[str, Resource] = {r.name: r for r in (
    Resource("companies", "global", ("connections",), _build_companies, _company),
    Resource("projects", "company", ("procore_projects", "connections"), _build_projects,
             _project),
    Resource("vendors", "company", ("vendors", "connections"), _build_vendors, _vendor),
    Resource("wbs_codes", "project", ("wbs_codes",), _build_wbs, _wbs_code),
    Resource("users", "company", ("procore_users",), _build_users, _user),
    # The list only changes when the world is rebuilt; "connections" stands for that.
    Resource("standard_cost_codes", "company", ("connections",), _build_standard_codes,
             _standard_code),
    Resource("budget_line_items", "project", ("wbs_codes",), _build_budget_lines,
             _budget_line),
    Resource("work_order_contracts", "project", ("procore_commitments", "vendors"),
             _build_commitments, _commitment),
    Resource("requisitions", "project",
             ("procore_requisitions", "procore_requisition_lines", "erp_txns"),
             _build_requisitions, _requisition),
    Resource("direct_costs", "project", ("procore_direct_costs", "procore_direct_cost_lines"),
             _build_direct_costs, _direct_cost),
)}

# path -> (resource, where the project id comes from: "path" | "query" | None)
PATHS: dict[str, tuple[str, str | None]] = {
    "/rest/v1.0/companies": ("companies", None),
    "/rest/v1.0/projects": ("projects", None),
    "/rest/v1.0/vendors": ("vendors", None),
    "/rest/v1.0/companies/{company_id:int}/users": ("users", None),
    # The company's cost code list imported from Acumatica (AC-3). Procore lists standard cost
    # codes per list (standard_cost_code_list_id); per company is a simplification [U].
    "/rest/v1.0/standard_cost_codes": ("standard_cost_codes", None),
    "/rest/v1.0/projects/{project_id:int}/work_breakdown_structure/wbs_codes":
        ("wbs_codes", "path"),
    "/rest/v1.0/budget_line_items": ("budget_line_items", "query"),
    "/rest/v1.0/work_order_contracts": ("work_order_contracts", "query"),
    "/rest/v1.0/requisitions": ("requisitions", "query"),
    "/rest/v1.0/projects/{project_id:int}/direct_costs": ("direct_costs", "path"),
}


class ProcoreError(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message


def _int(raw: str | None, name: str) -> int | None:
    # Error wording [U].
    return parse_int(raw, name, lambda n, r: ProcoreError(400, f"Invalid value for {n}: {r!r}"))


def _range_filter(frame: pl.DataFrame, raw: str | None, column: str,
                  name: str) -> pl.DataFrame:
    """``filters[updated_at]=<start>...<end>``: inclusive, either side may be empty."""
    if not raw:
        return frame
    start, sep, end = raw.partition("...")
    if not sep:
        raise ProcoreError(400, f"filters[{name}] must be a range 'start...end'")  # [U]
    try:
        lo = parse_timestamp(start) if start.strip() else None
        hi = parse_timestamp(end) if end.strip() else None
    except ValueError:
        raise ProcoreError(400, f"Invalid date range for filters[{name}]") from None  # [U]
    if lo is not None:
        frame = frame.filter(pl.col(column) >= lo)
    if hi is not None:
        frame = frame.filter(pl.col(column) <= hi)
    return frame


# -- the API -------------------------------------------------------------------------------------
class ProcoreApi:
    """Routes and request handling for ``/procore``."""

    def __init__(self, views: Views, tokens: TokenStore, gate: Gate, limits: Limits):
        self.views, self.tokens, self.gate, self.limits = views, tokens, gate, limits
        self.limiter = RateLimiter([
            Window("hour", limits.procore_per_hour, 3600),
            Window("spike", limits.procore_spike_per_10s, 10),
        ])

    def routes(self) -> list[Route]:
        def endpoint_for(resource: Resource, project_from: str | None) -> Callable:
            async def endpoint(request: Request) -> Response:
                return await self.gate.run(
                    request, lambda r: self.handle(r, resource, project_from), self.fault)
            return endpoint

        routes = [Route("/oauth/token", self.token, methods=["POST"])]
        for path, (name, project_from) in PATHS.items():
            routes.append(Route(path, endpoint_for(RESOURCES[name], project_from),
                                methods=["GET"]))
        return routes

    async def token(self, request: Request) -> Response:
        async def issue(r: Request) -> Response:
            return await issue_token(r, self.tokens, "procore",
                                     self.limits.procore_token_seconds, 401,
                                     {"created_at": int(time.time())})
        return await self.gate.run_async(request, issue)

    def fault(self, kind: str) -> Response:
        if kind == "429":
            reset = int(time.time()) + self.limits.fault_retry_after
            return json_response({"errors": "Rate limit exceeded"}, 429, {  # [U] body
                "Retry-After": str(self.limits.fault_retry_after), "X-Rate-Limit-Limit": "0",
                "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(reset)})
        return json_response({"errors": "Internal Server Error"}, 500)  # [U]

    def handle(self, request: Request, res: Resource, project_from: str | None) -> Response:
        token = bearer_token(request)
        if self.tokens.check("procore", token) != "ok":
            return json_response({"errors": "401 Unauthorized"}, 401)  # [U]
        decision = self.limiter.hit(token or "")
        headers = _rate_headers(decision)
        if not decision.allowed:
            return json_response({"errors": "Rate limit exceeded"}, 429,  # [U] body
                                 headers | {"Retry-After": str(decision.retry_after())})
        try:
            scope = self._scope(request, res, project_from)
            body, page_headers = self._page(request, res, scope)
        except ProcoreError as err:
            return json_response({"errors": err.message}, err.status, headers)
        return json_response(body, 200, headers | page_headers)

    # -- scope and company access ------------------------------------------------------------
    def _scope(self, request: Request, res: Resource, project_from: str | None) -> int:
        if res.scope == "global":
            return 0
        header = request.headers.get("procore-company-id")
        if res.scope == "company":  # in the path (companies/{id}/users) or the query
            raw = request.path_params.get("company_id", request.query_params.get("company_id"))
            company = _int(None if raw is None else str(raw), "company_id")
            if company is None:
                raise ProcoreError(400, "Missing required parameter: company_id")  # [U]
            self._check_company(header, company)
            return company
        raw = (request.path_params.get("project_id") if project_from == "path"
               else request.query_params.get("project_id"))
        project = _int(None if raw is None else str(raw), "project_id")
        if project is None:
            raise ProcoreError(400, "Missing required parameter: project_id")  # [U]
        if not header:  # say "no access" before revealing whether the project exists
            raise ProcoreError(403, "You do not have access to this company")  # [U]
        company = self._project_companies().get(project)
        if company is None:
            raise ProcoreError(404, "Project not found")  # [U]
        self._check_company(header, company)
        return project

    def _check_company(self, header: str | None, company: int) -> None:
        if (header or "").strip() != str(company):
            raise ProcoreError(403, "You do not have access to this company")  # [U]

    def _project_companies(self) -> dict[int, int]:
        def build(w: World) -> dict[int, int]:
            p = w.t["procore_projects"].drop("company_id").join(_companies(w), on="connection_id")
            return dict(zip(p["project_id"].to_list(), p["company_id"].to_list(), strict=True))
        return self.views.get("procore:project_companies", ("procore_projects", "connections"),
                              build)

    # -- listing -----------------------------------------------------------------------------
    def _frame(self, res: Resource, scope: int) -> pl.DataFrame:
        def build(w: World) -> dict[int, pl.DataFrame]:
            frame = res.build(w).sort("_id")
            parts: dict[int, pl.DataFrame] = {
                int(k[0]): g for k, g in frame.partition_by("_scope", as_dict=True).items()}
            parts[-1] = frame.clear()
            return parts
        parts = self.views.get(f"procore:{res.name}", res.sources, build)
        return parts.get(scope, parts[-1])

    def _page(self, request: Request, res: Resource,
              scope: int) -> tuple[list[dict], dict[str, str]]:
        q = request.query_params
        frame = self._frame(res, scope)
        deleted = q.get("filters[include_deleted]", "")
        if deleted == "only":
            frame = frame.filter(pl.col("_deleted").is_not_null())
        elif deleted != "with":
            frame = frame.filter(pl.col("_deleted").is_null())
        frame = _range_filter(frame, q.get("filters[updated_at]"), "_updated", "updated_at")
        frame = _range_filter(frame, q.get("filters[created_at]"), "_created", "created_at")
        page = max(_int(q.get("page"), "page") or 1, 1)
        per_page = min(max(_int(q.get("per_page"), "per_page") or DEFAULT_PER_PAGE, 1),
                       MAX_PER_PAGE)
        total = frame.height
        rows = frame.slice((page - 1) * per_page, per_page).to_dicts()
        headers = {"Total": str(total), "Per-Page": str(per_page),
                   "Link": _links(request, page, per_page, total)}
        return [res.render(r) for r in rows], headers


def _links(request: Request, page: int, per_page: int, total: int) -> str:
    """RFC 8288 ``Link``: first, prev (not on page 1), next (not on the last), last."""
    last = max(1, -(-total // per_page))

    def url(n: int) -> str:
        return str(request.url.include_query_params(page=n, per_page=per_page))

    rels: list[tuple[str, int]] = [("first", 1)]
    if page > 1:
        rels.append(("prev", min(page - 1, last)))
    if page < last:
        rels.append(("next", page + 1))
    rels.append(("last", last))
    return ", ".join(f'<{url(n)}>; rel="{rel}"' for rel, n in rels)


def _rate_headers(d: RateDecision) -> dict[str, str]:
    # Procore reports whichever window you are closest to exhausting.
    name = d.tightest()
    return {"X-Rate-Limit-Limit": str(d.limits[name]),
            "X-Rate-Limit-Remaining": str(d.remaining[name]),
            "X-Rate-Limit-Reset": str(int(d.reset_at[name]))}
