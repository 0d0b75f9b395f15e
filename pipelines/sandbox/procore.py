"""The Procore REST API v1.0, served from the world under the prefix ``/procore``.

Reads come from the world; writes (the import direction and the write-back of ERP ids, see
``procore_writes.py``) land in an overlay merged into every read and kept across
``World.advance()``. Commitment payments are served as Procore's Contract Payments,
``GET /rest/v1.0/contract_payments?project_id=[&contract_id=]``. Commitment change orders
(``GET /rest/v1.0/projects/{project_id}/commitment_change_orders``, Construction Financials >
Commitments), budget changes (``GET /rest/v1.0/projects/{project_id}/budget_changes``, Budget
Changes) and Procore Pay payouts (``GET /rest/v1.0/companies/{company_id}/payments/payouts``,
[U] flattened from Procore's per-disbursement list) are served with their lines inline and an
``origin_id`` the write-back sets.

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

import copy
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.sandbox import procore_writes as pw
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
from pipelines.sandbox.procore_writes import Overlay
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


def _procore_vendors(w: World) -> pl.DataFrame:
    """Procore's companies: the ERP's vendors Procore holds, plus those only Procore has."""
    v = w.t["vendors"].filter(pl.col("in_procore"))
    only = w.t.get("procore_only_vendors")
    return v if only is None else pl.concat([v, only.select(v.columns)], how="vertical_relaxed")


def _build_vendors(w: World) -> pl.DataFrame:
    v = _procore_vendors(w).join(_companies(w), on="connection_id")
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
    names = _procore_vendors(w).select(
        "connection_id", vendor_id="procore_vendor_id", vendor_name="name")
    c = w.t["procore_commitments"].join(names, on=["connection_id", "vendor_id"], how="left")
    lines = w.t.get("procore_commitment_lines")
    if lines is not None:  # the schedule of values, once the world draws it
        sov = lines.sort("line_id").group_by("commitment_id", maintain_order=True).agg(
            line_items=pl.struct("line_id", "wbs_code_id", "flat_code", "description",
                                 "quantity", "unit_cost", "amount"))
        c = c.join(sov, on="commitment_id", how="left")
    return _scoped(c, "project_id", "commitment_id")


def _build_payments(w: World) -> pl.DataFrame:
    pays = w.t.get("procore_payments")
    if pays is None:  # the world does not draw Procore payments yet
        pays = pl.DataFrame(schema={
            "connection_id": pl.String, "payment_id": pl.Int64, "project_id": pl.Int64,
            "requisition_id": pl.Int64, "origin_id": pl.String, "amount": pl.Int64,
            "payment_date": pl.Date, "reference": pl.String, "created_at": UTC_TS,
            "updated_at": UTC_TS, "deleted_at": UTC_TS})
    # The commitment and invoice number come from the requisition unless the frame has them.
    wanted = [c for c in ("commitment_id", "invoice_number") if c not in pays.columns]
    p = pays.join(w.t["procore_requisitions"].select("requisition_id", *wanted),
                  on="requisition_id", how="left") if wanted else pays
    return _scoped(p, "project_id", "payment_id")


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


def _empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


CCO_SCHEMA = {"connection_id": pl.String, "change_order_id": pl.Int64, "project_id": pl.Int64,
              "commitment_id": pl.Int64, "number": pl.String, "title": pl.String,
              "status": pl.String, "created_at": UTC_TS, "updated_at": UTC_TS}
BUDGET_CHANGE_SCHEMA = {"connection_id": pl.String, "budget_change_id": pl.Int64,
                        "project_id": pl.Int64, "number": pl.String, "description": pl.String,
                        "status": pl.String, "created_at": UTC_TS, "updated_at": UTC_TS}
PAY_SCHEMA = {"connection_id": pl.String, "payment_id": pl.Int64, "disbursement_id": pl.Int64,
              "project_id": pl.Int64, "commitment_id": pl.Int64, "requisition_id": pl.Int64,
              "vendor_id": pl.Int64, "invoice_number": pl.String, "amount": pl.Int64,
              "payment_date": pl.Date, "reference": pl.String, "status": pl.String,
              "created_at": UTC_TS, "updated_at": UTC_TS}


def _with_lines(heads: pl.DataFrame, lines: pl.DataFrame | None, key: str,
                fields: tuple[str, ...]) -> pl.DataFrame:
    """Each record with its lines as a list of structs (``line_items``), in line id order."""
    if lines is None or lines.height == 0:
        return heads.with_columns(line_items=pl.lit(None))
    agg = lines.sort("line_id").group_by(key, maintain_order=True).agg(
        line_items=pl.struct(*fields))
    return heads.join(agg, on=key, how="left")


def _build_change_orders(w: World) -> pl.DataFrame:
    heads = w.t.get("procore_change_orders", _empty(CCO_SCHEMA))
    c = _with_lines(heads, w.t.get("procore_change_order_lines"), "change_order_id",
                    ("line_id", "commitment_line_id", "wbs_code_id", "flat_code",
                     "description", "amount"))
    return _scoped(c, "project_id", "change_order_id")


def _build_budget_changes(w: World) -> pl.DataFrame:
    heads = w.t.get("procore_budget_changes", _empty(BUDGET_CHANGE_SCHEMA))
    b = _with_lines(heads, w.t.get("procore_budget_change_lines"), "budget_change_id",
                    ("line_id", "wbs_code_id", "flat_code", "description", "amount"))
    return _scoped(b, "project_id", "budget_change_id")


def _build_payouts(w: World) -> pl.DataFrame:
    pays = w.t.get("procore_pay_payments", _empty(PAY_SCHEMA))
    p = pays.join(_companies(w), on="connection_id")
    return _scoped(p, "company_id", "payment_id")


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
        "address": r.get("address"), "city": r.get("city"),
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
        "origin_id": r.get("erp_commitment_id"),
        "line_items": [_commitment_line(li) for li in r.get("line_items") or []],
        **_stamps(r),
    }


def _amount(value: object) -> str | None:
    """World money is integer cents; a decimal value is already in units."""
    if value is None:
        return None
    return money(value) if isinstance(value, int) else format(Decimal(str(value)), ".2f")


def _commitment_line(li: dict) -> dict:
    return {"id": li["line_id"],
            "wbs_code": {"id": li["wbs_code_id"], "flat_code": li["flat_code"]},
            "description": li["description"], "quantity": li["quantity"],
            "unit_cost": _amount(li["unit_cost"]), "amount": _amount(li["amount"])}


def _payment(r: dict) -> dict:
    return {
        "id": r["payment_id"], "project_id": r["project_id"], "contract_id": r["commitment_id"],
        "requisition_id": r["requisition_id"], "invoice_number": r["invoice_number"],
        "amount": _amount(r["amount"]), "date": iso_date(r["payment_date"]),
        "notes": r["reference"], "check_number": None, "payment_number": None,
        "status": "paid", "origin_id": r["origin_id"], **_stamps(r),
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
    wbs = li.get("wbs_code_id")
    return {"id": li["line_item_id"], "origin_id": li["origin_id"],
            "wbs_code": {"id": wbs if wbs is not None and wbs > 0 else None,
                         "flat_code": li["flat_code"]}, "description": li["description"],
            "quantity": li["quantity"], "unit_cost": money(unit), "amount": money(amount)}


def _direct_cost(r: dict) -> dict:
    return {
        "id": r["direct_cost_id"], "direct_cost_type": r["direct_cost_type"],
        "status": "approved", "invoice_number": r["invoice_number"],
        "description": r["reference"], "vendor": {"id": None, "name": r["contact_name"]},
        "direct_cost_date": iso_date(r["txn_date"]), "received_date": None,
        "payment_date": None, "grand_total": money(r["grand_total"]),
        "origin_id": r["origin_id"],
        "line_items": [_direct_cost_line(li) for li in r["lines"] or []], **_stamps(r),
    }


def _change_order(r: dict) -> dict:
    """A Commitment Change Order (``/projects/{project_id}/commitment_change_orders``); its
    line items inline [U: Procore serves them with ``view=extended`` / a line items call]."""
    return {
        "id": r["change_order_id"], "number": r["number"], "title": r["title"],
        "status": r["status"], "contract_id": r["commitment_id"],
        "project_id": r["project_id"], "origin_id": None,
        "line_items": [{"id": li["line_id"],
                        "contract_line_item_id": li["commitment_line_id"],
                        "wbs_code": {"id": li["wbs_code_id"], "flat_code": li["flat_code"]},
                        "description": li["description"], "amount": money(li["amount"])}
                       for li in r.get("line_items") or []],
        **_stamps(r),
    }


def _budget_change(r: dict) -> dict:
    """A Budget Change (``/projects/{project_id}/budget_changes``) with its adjustment line
    items inline [U: Procore lists them at v2.0 ``…/budget_changes/adjustment_line_items``]."""
    return {
        "id": r["budget_change_id"], "number": r["number"], "description": r["description"],
        "status": r["status"], "project_id": r["project_id"], "origin_id": None,
        "adjustment_line_items": [
            {"id": li["line_id"],
             "wbs_code": {"id": li["wbs_code_id"], "flat_code": li["flat_code"]},
             "description": li["description"], "amount": money(li["amount"])}
            for li in r.get("line_items") or []],
        **_stamps(r),
    }


def _payout(r: dict) -> dict:
    """A Procore Pay payout: one payment to a business for an invoice, within a
    disbursement [U: Procore lists them per disbursement; the sandbox per company]."""
    return {
        "id": r["payment_id"], "disbursement_id": r["disbursement_id"],
        "project_id": r["project_id"], "contract_id": r["commitment_id"],
        "invoice_id": r["requisition_id"], "invoice_number": r["invoice_number"],
        "vendor": {"id": r["vendor_id"]}, "amount": money(r["amount"]),
        "paid_date": iso_date(r["payment_date"]), "reference": r["reference"],
        "status": r["status"], "origin_id": None, **_stamps(r),
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
    Resource("vendors", "company", ("vendors", "procore_only_vendors", "connections"),
             _build_vendors, _vendor),
    Resource("wbs_codes", "project", ("wbs_codes",), _build_wbs, _wbs_code),
    Resource("users", "company", ("procore_users",), _build_users, _user),
    # The list only changes when the world is rebuilt; "connections" stands for that.
    Resource("standard_cost_codes", "company", ("connections",), _build_standard_codes,
             _standard_code),
    Resource("budget_line_items", "project", ("wbs_codes",), _build_budget_lines,
             _budget_line),
    Resource("work_order_contracts", "project",
             ("procore_commitments", "vendors", "procore_only_vendors",
              "procore_commitment_lines"),
             _build_commitments, _commitment),
    # Commitment payments: Procore's Contract Payments (see procore_writes.py).
    Resource("contract_payments", "project", ("procore_payments", "procore_requisitions"),
             _build_payments, _payment),
    Resource("requisitions", "project",
             ("procore_requisitions", "procore_requisition_lines", "erp_txns"),
             _build_requisitions, _requisition),
    Resource("direct_costs", "project", ("procore_direct_costs", "procore_direct_cost_lines"),
             _build_direct_costs, _direct_cost),
    Resource("commitment_change_orders", "project",
             ("procore_change_orders", "procore_change_order_lines"), _build_change_orders,
             _change_order),
    Resource("budget_changes", "project",
             ("procore_budget_changes", "procore_budget_change_lines"), _build_budget_changes,
             _budget_change),
    Resource("payouts", "company", ("procore_pay_payments", "connections"), _build_payouts,
             _payout),
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
    "/rest/v1.0/contract_payments": ("contract_payments", "query"),
    "/rest/v1.0/projects/{project_id:int}/commitment_change_orders":
        ("commitment_change_orders", "path"),
    "/rest/v1.0/projects/{project_id:int}/budget_changes": ("budget_changes", "path"),
    # Procore Pay payouts [U: documented per disbursement, /payments/disbursements/{id}/payouts]
    "/rest/v1.0/companies/{company_id:int}/payments/payouts": ("payouts", None),
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
# Write routes: path -> (method, resource, where the scope comes from, action)
WRITES: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("/rest/v1.0/vendors/sync", "PATCH", "vendors", None, "sync"),
    ("/rest/v1.0/vendors/{id:int}", "PATCH", "vendors", None, "patch"),
    ("/rest/v1.0/projects/{id:int}", "PATCH", "projects", None, "patch"),
    ("/rest/v1.0/projects/{project_id:int}/work_breakdown_structure/wbs_codes/{id:int}",
     "PATCH", "wbs_codes", "path", "patch"),
    ("/rest/v1.0/work_order_contracts/{id:int}", "PATCH", "work_order_contracts", "query",
     "patch"),
    ("/rest/v1.0/requisitions/{id:int}", "PATCH", "requisitions", "query", "patch"),
    ("/rest/v1.0/projects/{project_id:int}/direct_costs/sync", "PATCH", "direct_costs",
     "path", "sync"),
    ("/rest/v1.0/contract_payments", "POST", "contract_payments", "body", "create"),
    ("/rest/v1.0/contract_payments/{id:int}", "PATCH", "contract_payments", "query", "patch"),
    ("/rest/v1.0/projects/{project_id:int}/commitment_change_orders/{id:int}", "PATCH",
     "commitment_change_orders", "path", "patch"),
    ("/rest/v1.0/projects/{project_id:int}/budget_changes/{id:int}", "PATCH", "budget_changes",
     "path", "patch"),
    ("/rest/v1.0/companies/{company_id:int}/payments/payouts/{id:int}", "PATCH", "payouts",
     None, "patch"),
)


class ProcoreApi:
    """Routes and request handling for ``/procore``."""

    def __init__(self, views: Views, tokens: TokenStore, gate: Gate, limits: Limits):
        self.views, self.tokens, self.gate, self.limits = views, tokens, gate, limits
        self.overlay = Overlay()  # what clients wrote: kept across world.advance()
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

        def write_for(resource: Resource, scope_from: str | None, action: str) -> Callable:
            async def endpoint(request: Request) -> Response:
                body = pw.loads(await request.body())
                return await self.gate.run(
                    request, lambda r: self.handle_write(r, resource, scope_from, action, body),
                    self.fault)
            return endpoint

        routes = [Route("/oauth/token", self.token, methods=["POST"])]
        # Write routes first: "vendors/sync" must not be taken for a vendor id.
        for path, method, name, scope_from, action in WRITES:
            routes.append(Route(path, write_for(RESOURCES[name], scope_from, action),
                                methods=[method]))
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

    def _admit(self, request: Request) -> tuple[dict[str, str], Response | None]:
        """Auth and rate limits, the same for reads and writes: (headers, refusal or None)."""
        token = bearer_token(request)
        if self.tokens.check("procore", token) != "ok":
            return {}, json_response({"errors": "401 Unauthorized"}, 401)  # [U]
        decision = self.limiter.hit(token or "")
        headers = _rate_headers(decision)
        if not decision.allowed:
            return headers, json_response(
                {"errors": "Rate limit exceeded"}, 429,  # [U] body
                headers | {"Retry-After": str(decision.retry_after())})
        return headers, None

    def handle(self, request: Request, res: Resource, project_from: str | None) -> Response:
        headers, refused = self._admit(request)
        if refused is not None:
            return refused
        # Written records are read under the lock that writes take; untouched lists need none.
        lock = self.views.lock if self.overlay.touches(res.name) else nullcontext()
        try:
            scope = self._scope(request, res, project_from)
            with lock:
                body, page_headers = self._page(request, res, scope)
        except ProcoreError as err:
            return json_response({"errors": err.message}, err.status, headers)
        return json_response(body, 200, headers | page_headers)

    # -- scope and company access ------------------------------------------------------------
    def _scope(self, request: Request, res: Resource, project_from: str | None,
               body: object = None) -> int:
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
        if project_from == "body":
            raw = body.get("project_id") if isinstance(body, dict) else None
        elif project_from == "path":
            raw = request.path_params.get("project_id")
        else:
            raw = request.query_params.get("project_id")
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
        # Frames another part of the world may not draw yet are optional sources; the view's
        # name carries which were present, so one appearing later builds a new view.
        present = tuple(s for s in res.sources if s in self.views.world.t)
        parts = self.views.get(f"procore:{res.name}:{','.join(present)}", present, build)
        return parts.get(scope, parts[-1])

    def _index(self, res: Resource, frame: pl.DataFrame, scope: int) -> pl.DataFrame:
        """The rows a list serves: the world's (``_row`` into ``frame``) with written
        ``updated_at``, and the records written here (``_row`` -1)."""
        base = frame.select("_id", "_updated", "_created", "_deleted").with_columns(
            _row=pl.int_range(pl.len(), dtype=pl.Int64))
        patches = self.overlay.patches.get(res.name, {})
        if patches:
            stamps = pl.DataFrame({"_id": list(patches), "_stamp": [p[1] for p in
                                                                     patches.values()]},
                                  schema={"_id": pl.Int64, "_stamp": UTC_TS})
            base = base.join(stamps, on="_id", how="left").with_columns(
                _updated=pl.coalesce("_stamp", "_updated")).drop("_stamp")
        made = self.overlay.in_scope(res.name, scope)
        extra = pl.DataFrame(
            {"_id": [int(w.record["id"]) for w in made], "_updated": [w.updated for w in made],
             "_created": [w.created for w in made], "_deleted": [w.deleted for w in made],
             "_row": [-1] * len(made)},
            schema={"_id": pl.Int64, "_updated": UTC_TS, "_created": UTC_TS,
                    "_deleted": UTC_TS, "_row": pl.Int64})
        return pl.concat([base.cast({"_updated": UTC_TS, "_created": UTC_TS,
                                     "_deleted": UTC_TS}), extra]).sort("_id")

    def _render(self, res: Resource, frame: pl.DataFrame, row: dict) -> dict:
        if row["_row"] < 0:
            return copy.deepcopy(self.overlay.created[res.name][row["_id"]].record)
        rendered = res.render(frame.row(row["_row"], named=True))
        patch = self.overlay.patch_of(res.name, row["_id"])
        return rendered if patch is None else {**rendered, **copy.deepcopy(patch)}

    def records(self, name: str, scope: int) -> list[dict]:
        """Every live record of a scope as served (world merged with writes)."""
        res = RESOURCES[name]
        frame = self._frame(res, scope)
        index = self._index(res, frame, scope).filter(pl.col("_deleted").is_null())
        return [self._render(res, frame, r) for r in index.iter_rows(named=True)]

    def _page(self, request: Request, res: Resource,
              scope: int) -> tuple[list[dict], dict[str, str]]:
        q = request.query_params
        frame = self._frame(res, scope)
        index = self._index(res, frame, scope) if self.overlay.touches(res.name) else \
            frame.select("_id", "_updated", "_created", "_deleted").with_columns(
                _row=pl.int_range(pl.len(), dtype=pl.Int64))
        deleted = q.get("filters[include_deleted]", "")
        if deleted == "only":
            index = index.filter(pl.col("_deleted").is_not_null())
        elif deleted != "with":
            index = index.filter(pl.col("_deleted").is_null())
        index = _range_filter(index, q.get("filters[updated_at]"), "_updated", "updated_at")
        index = _range_filter(index, q.get("filters[created_at]"), "_created", "created_at")
        page = max(_int(q.get("page"), "page") or 1, 1)
        per_page = min(max(_int(q.get("per_page"), "per_page") or DEFAULT_PER_PAGE, 1),
                       MAX_PER_PAGE)
        matches = _value_filters(q, res.name)
        if matches:  # filters on served values: render the scope, then page
            rows = [r for r in (self._render(res, frame, x) for x in index.iter_rows(named=True))
                    if all(str(r.get(k)) == v for k, v in matches.items())]
            total, out = len(rows), rows[(page - 1) * per_page: page * per_page]
        else:
            total = index.height
            out = [self._render(res, frame, x)
                   for x in index.slice((page - 1) * per_page, per_page).iter_rows(named=True)]
        headers = {"Total": str(total), "Per-Page": str(per_page),
                   "Link": _links(request, page, per_page, total)}
        return out, headers

    # -- writes ------------------------------------------------------------------------------
    def handle_write(self, request: Request, res: Resource, scope_from: str | None,
                     action: str, body: object) -> Response:
        headers, refused = self._admit(request)
        if refused is not None:
            return refused
        if body is None:
            return json_response({"errors": "The request body is not valid JSON"}, 400,  # [U]
                                 headers)
        try:
            with self.views.lock:
                status, out = self._write(request, res, scope_from, action, body)
        except ProcoreError as err:
            return json_response({"errors": err.message}, err.status, headers)
        except pw.WriteError as err:
            return json_response(err.body, err.status, headers)
        return json_response(out, status, headers)

    def _write(self, request: Request, res: Resource, scope_from: str | None, action: str,
               body: object) -> tuple[int, object]:
        rid = request.path_params.get("id")
        if action == "sync" and res.name == "direct_costs":
            return 200, self._sync_direct_costs(request, body)
        scope = self._scope(request, res, scope_from, body)
        ctx = self._ctx()
        if action == "sync":
            return 200, pw.sync(self.overlay, ctx, res.name, scope, body, pw.vendor_row)
        if action == "create":
            return 201, self._create_payment(scope, body)
        return 200, pw.patch_one(self.overlay, ctx, res.name, scope, int(rid), body)

    def _ctx(self) -> pw.Scope:
        return pw.Scope(self.records, self._project_companies().get, self.views.world.now)

    def _sync_direct_costs(self, request: Request, body: object) -> dict:
        """Unknown project: every row an error (HTTP 200 still), as the brief's contract has
        it [U: Procore may answer 404]; another company's project: 403 like a read."""
        project = int(request.path_params["project_id"])
        company = self._project_companies().get(project)
        if company is not None:
            self._check_company(request.headers.get("procore-company-id"), company)
        elif not request.headers.get("procore-company-id"):
            raise ProcoreError(403, "You do not have access to this company")  # [U]
        ctx = self._ctx()
        if company is None:
            return pw.sync(self.overlay, ctx, "direct_costs", project, body,
                           lambda row, old: (None, {}),
                           scope_error={"project_id": [f"project {project} not found"]})
        wbs = {r["id"]: r["flat_code"] for r in self.records("wbs_codes", project)}
        vendors = {r["id"]: r["name"] for r in self.records("vendors", company)}
        refs = pw.DirectCostRefs(project, wbs, vendors)
        return pw.sync(self.overlay, ctx, "direct_costs", project, body,
                       pw.direct_cost_row(refs), finish=pw.number_lines)

    def _create_payment(self, project: int, body: object) -> dict:
        reqs = {r["id"]: r["commitment_id"] for r in self.records("requisitions", project)}
        commitments = {r["id"] for r in self.records("work_order_contracts", project)}
        record = pw.payment_record(body, pw.PaymentRefs(project, commitments, reqs))
        record["id"] = self.overlay.new_id()
        return pw.save(self.overlay, "contract_payments", project, None, record,
                       self.views.world.now)


def _value_filters(q: object, resource: str) -> dict[str, str]:
    """``filters[origin_id]`` (and a contract payment list's ``contract_id``): matched on the
    served value."""
    out = {}
    if q.get("filters[origin_id]"):
        out["origin_id"] = q["filters[origin_id]"]
    if resource == "contract_payments" and q.get("contract_id"):
        out["contract_id"] = q["contract_id"]
    return out


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
