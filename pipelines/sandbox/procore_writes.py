"""Writes to the Procore sandbox: what the import direction and the write-back send.

Everything written lands in an ``Overlay`` kept beside the world (not in it), merged into every
read, and kept across ``World.advance()``: a record Procore holds stays when the ERP changes or
deletes its source (C-7). ``updated_at`` moves to the world's clock at the write, and only when
a value changed (as Rails does), so the Procore source's incremental extract
(``filters[updated_at]``) sees exactly the records written since its cursor.

Endpoints (Procore REST v1.0; bodies wrapped in the singular resource key):

- ``PATCH /rest/v1.0/vendors/{id}?company_id=`` ``{"vendor": {...}}``
- ``PATCH /rest/v1.0/projects/{id}?company_id=`` ``{"project": {...}}``
- ``PATCH /rest/v1.0/projects/{project_id}/work_breakdown_structure/wbs_codes/{id}``
  ``{"wbs_code": {...}}`` [U: Procore documents description/status there, not origin_id]
- ``PATCH /rest/v1.0/work_order_contracts/{id}?project_id=`` ``{"work_order_contract": {...}}``
- ``PATCH /rest/v1.0/requisitions/{id}?project_id=`` ``{"requisition": {...}}``
- ``PATCH /rest/v1.0/projects/{project_id}/commitment_change_orders/{id}``
  ``{"commitment_change_order": {...}}`` and ``PATCH
  /rest/v1.0/projects/{project_id}/budget_changes/{id}`` ``{"budget_change": {...}}`` [U:
  origin_id is not among their documented fields]; ``PATCH
  /rest/v1.0/companies/{company_id}/payments/payouts/{id}`` ``{"payout": {...}}`` [U]
- ``PATCH /rest/v1.0/vendors/sync?company_id=`` and
  ``PATCH /rest/v1.0/projects/{project_id}/direct_costs/sync``: ``{"updates": [...]}``, at most
  1,000 rows, each matched by ``id`` or ``origin_id`` (an unknown ``id`` is an error, an unknown
  ``origin_id`` creates). Always **HTTP 200** with ``entities`` (the Show shape) and ``errors``
  (the row as sent plus ``errors: {field: [message]}``) — Procore's "Using Sync Actions".
- Commitment payments: Procore's *Contract Payments* (Construction Financials > Commitments):
  ``GET /rest/v1.0/contract_payments?project_id=&contract_id=``,
  ``POST /rest/v1.0/contract_payments`` ``{project_id, contract_id, contract_payment: {...}}``
  → 201, ``PATCH /rest/v1.0/contract_payments/{id}?project_id=`` → 200. Procore has no sync
  action for them, so a writer finds by ``origin_id`` before it creates. [U] Procore requires
  ``contract_id`` on the list; the sandbox also lists a whole project without it.

Validation messages are the sandbox's own wording [U]; where they are raised is Procore's.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_SYNC_ROWS = 1000
FIRST_WRITTEN_ID = 900_000_001  # ids of records created here sit above every world id
DIRECT_COST_TYPES = ("invoice", "expense", "payroll", "subcontractor_invoice")
DIRECT_COST_STATUSES = ("draft", "pending", "revise_and_resubmit", "approved")
CENT = Decimal("0.01")

# Single-record PATCH: resource -> (body key, fields a write may set)
PATCHABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "vendors": ("vendor", ("origin_id", "name", "address", "city", "business_phone")),
    "projects": ("project", ("origin_id", "address", "city")),
    "wbs_codes": ("wbs_code", ("origin_id", "description")),
    "work_order_contracts": ("work_order_contract", ("origin_id",)),
    "requisitions": ("requisition", ("origin_id",)),
    "commitment_change_orders": ("commitment_change_order", ("origin_id",)),
    "budget_changes": ("budget_change", ("origin_id",)),
    "payouts": ("payout", ("origin_id",)),
    "contract_payments": ("contract_payment", (
        "origin_id", "amount", "date", "invoice_number", "check_number", "notes",
        "requisition_id")),
}


class WriteError(Exception):
    """A write refused as a whole (not a sync row): HTTP status and Procore-style body."""

    def __init__(self, status: int, body: Any):
        self.status, self.body = status, body


@dataclass
class Written:
    scope: int
    record: dict[str, Any]  # JSON as the Show action serves it
    updated: datetime
    created: datetime
    deleted: datetime | None = None


@dataclass
class Overlay:
    """Records written over the world: field overrides of world records and new records."""

    patches: dict[str, dict[int, tuple[dict[str, Any], datetime]]] = field(default_factory=dict)
    created: dict[str, dict[int, Written]] = field(default_factory=dict)
    version: int = 0
    next_id: int = FIRST_WRITTEN_ID

    def touches(self, resource: str) -> bool:
        return bool(self.patches.get(resource) or self.created.get(resource))

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def put(self, resource: str, scope: int, record: dict, stamp: datetime,
            is_new: bool) -> None:
        """Store ``record`` (complete JSON) written at ``stamp``."""
        rid = int(record["id"])
        self.version += 1
        made = self.created.setdefault(resource, {})
        if is_new or rid in made:
            old = made.get(rid)
            made[rid] = Written(scope, record, stamp, old.created if old else stamp)
        else:
            self.patches.setdefault(resource, {})[rid] = (record, stamp)

    def patch_of(self, resource: str, rid: int) -> dict | None:
        hit = self.patches.get(resource, {}).get(rid)
        return None if hit is None else hit[0]

    def in_scope(self, resource: str, scope: int) -> list[Written]:
        return [w for w in self.created.get(resource, {}).values() if w.scope == scope]


# -- values ----------------------------------------------------------------------------------
def loads(raw: bytes) -> Any:
    """A request body, numbers as Decimal (money stays exact); None when not JSON."""
    try:
        return json.loads(raw or b"{}", parse_float=Decimal)
    except ValueError:
        return None


def money(value: Any) -> str | None:
    """Procore money on the wire: a string with two decimals. Raises ValueError if not a
    number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        raise ValueError(value)
    try:
        dec = Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        raise ValueError(value) from None
    return format(dec, "f")


def number(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(value) from None


def iso_date(value: Any) -> str | None:
    if value is None:
        return None
    return date.fromisoformat(str(value)).isoformat()


def iso_ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def stamped(record: dict, created: datetime, updated: datetime,
            deleted: datetime | None = None) -> dict:
    return {**record, "created_at": iso_ts(created), "updated_at": iso_ts(updated),
            "deleted_at": None if deleted is None else iso_ts(deleted)}


# -- context ---------------------------------------------------------------------------------
@dataclass
class Scope:
    """What a write may look up: the current merged records and the world's clock."""

    records: Callable[[str, int], list[dict]]  # resource, scope -> merged JSON records
    project_company: Callable[[int], int | None]
    now: datetime


def _find(records: list[dict], rid: Any = None, origin: Any = None) -> dict | None:
    for r in records:
        if rid is not None and r["id"] == rid:
            return r
        if rid is None and origin is not None and r.get("origin_id") == str(origin):
            return r
    return None


def _changed(old: dict, new: dict) -> bool:
    skip = {"updated_at", "created_at", "deleted_at"}
    return any(old.get(k) != v for k, v in new.items() if k not in skip)


def save(overlay: Overlay, resource: str, scope: int, old: dict | None, new: dict,
         now: datetime) -> dict:
    """Store ``new`` (its ``updated_at`` moves only when a value changed) and return it."""
    if old is not None and not _changed(old, new):
        return old
    created = old["created_at"] if old else iso_ts(now)
    record = {**new, "created_at": created, "updated_at": iso_ts(now)}
    overlay.put(resource, scope, record, now, is_new=old is None)
    return record


# -- single-record PATCH ---------------------------------------------------------------------
def patch_one(overlay: Overlay, ctx: Scope, resource: str, scope: int, rid: int,
              body: Any) -> dict:
    key, allowed = PATCHABLE[resource]
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise WriteError(400, {"errors": f"param is missing or the value is empty: {key}"})
    old = _find(ctx.records(resource, scope), rid=rid)
    if old is None:
        raise WriteError(404, {"errors": f"{resource} {rid} not found"})
    fields, errors = _coerce({k: v for k, v in body[key].items() if k in allowed})
    if errors:
        raise WriteError(422, {"errors": errors})
    return save(overlay, resource, scope, old, {**old, **fields}, ctx.now)


_MONEY_FIELDS = ("amount",)
_DATE_FIELDS = ("date", "direct_cost_date", "received_date", "payment_date")


def _coerce(fields: dict) -> tuple[dict, dict[str, list[str]]]:
    """Wire values into served ones: money as two-decimal strings, dates ISO, ids as text."""
    out, errors = dict(fields), {}
    for k in fields:
        try:
            if k in _MONEY_FIELDS:
                out[k] = money(fields[k])
            elif k in _DATE_FIELDS:
                out[k] = iso_date(fields[k])
            elif k == "origin_id" and fields[k] is not None:
                out[k] = str(fields[k])
        except ValueError:
            errors[k] = ["is invalid"]
    return out, errors


# -- sync actions ----------------------------------------------------------------------------
RowWriter = Callable[[dict, dict | None], tuple[dict | None, dict[str, list[str]]]]


def sync(overlay: Overlay, ctx: Scope, resource: str, scope: int, body: Any,
         build: RowWriter, scope_error: dict[str, list[str]] | None = None,
         finish: Callable[[dict], dict] = lambda r: r) -> dict:
    """Procore's sync action: every row created or updated, or listed under ``errors``."""
    if not isinstance(body, dict) or not isinstance(body.get("updates"), list):
        raise WriteError(400, {"errors": "param is missing or the value is empty: updates"})
    rows = body["updates"]
    if len(rows) > MAX_SYNC_ROWS:
        raise WriteError(400, {"errors": f"at most {MAX_SYNC_ROWS} updates per call"})
    entities, errors = [], []
    index = _Index([] if scope_error else ctx.records(resource, scope))
    for row in rows:
        if not isinstance(row, dict):
            errors.append({"row": row, "errors": {"base": ["must be an object"]}})
            continue
        if scope_error:
            errors.append({**row, "errors": scope_error})
            continue
        old = index.find(row.get("id"), row.get("origin_id"))
        if row.get("id") is not None and old is None:
            errors.append({**row, "errors": {"id": [f"{row['id']} not found"]}})
            continue
        new, problems = build(row, old)
        if problems or new is None:
            errors.append({**row, "errors": problems})
            continue
        if old is None:
            new["id"] = overlay.new_id()
        entities.append(index.add(save(overlay, resource, scope, old, finish(new), ctx.now)))
    return {"entities": entities, "errors": errors}


class _Index:
    """A scope's records by id and by origin_id, kept current while a sync call writes (a
    later row of the same call matches an earlier one's origin_id)."""

    def __init__(self, records: list[dict]):
        self.by_id: dict[Any, dict] = {}
        self.by_origin: dict[str, dict] = {}
        for r in records:
            self.add(r)

    def add(self, record: dict) -> dict:
        old = self.by_id.get(record["id"])
        if old is not None and old.get("origin_id") is not None:
            self.by_origin.pop(old["origin_id"], None)
        self.by_id[record["id"]] = record
        if record.get("origin_id") is not None:
            self.by_origin.setdefault(record["origin_id"], record)
        return record

    def find(self, rid: Any, origin: Any) -> dict | None:
        if rid is not None:
            return self.by_id.get(rid)
        return None if origin is None else self.by_origin.get(str(origin))


def _missing(row: dict, old: dict | None, names: tuple[str, ...]) -> dict[str, list[str]]:
    """Required on create only: an update may send just what changed."""
    if old is not None:
        return {}
    return {n: ["can't be blank"] for n in names if row.get(n) in (None, "")}


# -- vendors ---------------------------------------------------------------------------------
VENDOR_FIELDS = ("name", "address", "city", "business_phone", "origin_id")


def vendor_row(row: dict, old: dict | None) -> tuple[dict | None, dict[str, list[str]]]:
    errors = _missing(row, old, ("name",))
    fields, bad = _coerce({k: row[k] for k in VENDOR_FIELDS if k in row})
    errors |= bad
    if errors:
        return None, errors
    base = old or {"id": None, "name": None, "address": None, "city": None,
                   "business_phone": None, "is_active": True, "origin_id": None}
    return {**base, **fields}, {}


# -- direct costs ----------------------------------------------------------------------------
@dataclass
class DirectCostRefs:
    """The project's WBS codes (id -> flat code) and the company's vendors (id -> name)."""

    project_id: int
    wbs: dict[int, str]
    vendors: dict[int, str]


def direct_cost_row(refs: DirectCostRefs) -> RowWriter:
    def build(row: dict, old: dict | None) -> tuple[dict | None, dict[str, list[str]]]:
        errors = _missing(row, old, ("direct_cost_type", "direct_cost_date"))
        if old is None and not row.get("line_items"):
            errors["line_items"] = ["can't be blank"]
        if "direct_cost_type" in row and row["direct_cost_type"] not in DIRECT_COST_TYPES:
            errors.setdefault("direct_cost_type", []).append("is not included in the list")
        if "status" in row and row["status"] not in DIRECT_COST_STATUSES:
            errors["status"] = ["is not included in the list"]
        vendor = row.get("vendor_id")
        if vendor is not None and vendor not in refs.vendors:
            errors["vendor_id"] = [f"vendor {vendor} is not in the company directory"]
        fields, bad = _coerce({k: row[k] for k in (
            "direct_cost_type", "status", "invoice_number", "description", "direct_cost_date",
            "received_date", "payment_date", "origin_id") if k in row})
        errors |= bad
        lines = None
        if "line_items" in row:
            lines, line_errors = _lines(row["line_items"], refs)
            if line_errors:
                errors["line_items"] = line_errors
        if errors:
            return None, errors
        rec = old or {"id": None, "direct_cost_type": None, "status": "draft",
                      "invoice_number": None, "description": None,
                      "vendor": {"id": None, "name": None}, "direct_cost_date": None,
                      "received_date": None,
                      "payment_date": None, "grand_total": money(0), "origin_id": None,
                      "line_items": []}
        rec = {**copy.deepcopy(rec), **fields}
        if vendor is not None:
            rec["vendor"] = {"id": vendor, "name": refs.vendors[vendor]}
        if lines is not None:
            rec["line_items"] = lines
            rec["grand_total"] = money(sum((Decimal(li["amount"]) for li in lines),
                                           Decimal(0)))
        return rec, {}
    return build


def _lines(raw: Any, refs: DirectCostRefs) -> tuple[list[dict], list[str]]:
    if not isinstance(raw, list) or not raw:
        return [], ["can't be blank"]
    out, errors = [], []
    for n, li in enumerate(raw, start=1):
        if not isinstance(li, dict):
            errors.append(f"line {n}: must be an object")
            continue
        wbs = li.get("wbs_code_id")
        if wbs is None:
            errors.append(f"line {n}: wbs_code_id can't be blank")
        elif wbs not in refs.wbs:
            errors.append(f"line {n}: WBS code {wbs} is not on project {refs.project_id}")
        if li.get("amount") is None:
            errors.append(f"line {n}: amount can't be blank")
        try:
            amount, unit = money(li.get("amount")), money(li.get("unit_cost"))
            quantity = number(li.get("quantity"))
        except ValueError:
            errors.append(f"line {n}: amount, unit_cost and quantity must be numbers")
            continue
        out.append({"id": None, "origin_id": li.get("origin_id"),
                    "wbs_code": {"id": wbs, "flat_code": refs.wbs.get(wbs)},
                    "description": li.get("description"), "quantity": quantity,
                    "unit_cost": unit, "amount": amount})
    return out, errors


def number_lines(record: dict) -> dict:
    """Line item ids follow the served scheme: direct cost id * 1000 + position."""
    for n, li in enumerate(record.get("line_items") or [], start=1):
        li["id"] = record["id"] * 1000 + n
    return record


# -- contract payments -----------------------------------------------------------------------
@dataclass
class PaymentRefs:
    """The project's commitments (ids) and its requisitions (id -> commitment id)."""

    project_id: int
    commitments: set[int]
    requisitions: dict[int, int]


def payment_record(body: Any, refs: PaymentRefs) -> dict:
    """A new contract payment from a POST body; raises WriteError(422) naming the field."""
    if not isinstance(body, dict) or not isinstance(body.get("contract_payment"), dict):
        raise WriteError(400, {"errors": "param is missing or the value is empty: "
                                         "contract_payment"})
    contract, pay = body.get("contract_id"), body["contract_payment"]
    errors: dict[str, list[str]] = {}
    if contract not in refs.commitments:
        errors["contract_id"] = [f"commitment {contract} is not on project {refs.project_id}"]
    req = pay.get("requisition_id")
    if req is not None and refs.requisitions.get(req) != contract:
        errors["requisition_id"] = [f"requisition {req} is not an invoice of commitment "
                                    f"{contract}"]
    errors |= {n: ["can't be blank"] for n in ("amount", "date") if pay.get(n) is None}
    fields, bad = _coerce({k: pay[k] for k in PATCHABLE["contract_payments"][1] if k in pay})
    errors |= bad
    if errors:
        raise WriteError(422, {"errors": errors})
    return {"id": None, "project_id": refs.project_id, "contract_id": contract,
            "requisition_id": None, "amount": None, "date": None, "invoice_number": None,
            "check_number": None, "notes": None, "origin_id": None, "payment_number": None,
            "status": "paid", **fields}
