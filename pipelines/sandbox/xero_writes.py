"""Xero writes in the sandbox (``erp_api_wire_formats.md`` §1.7, §5): PUT creates, POST creates
or updates, plural envelopes in and out, 400 ``ValidationException`` like Xero, and an
``Idempotency-Key`` cache that replays the first answer.

Written records live in a per-tenant overlay (``Overlay``), never in the world's frames: the
world stays the generator's truth (``ledger()``), and ``World.advance()``, which replaces frames
with edited copies of themselves, cannot drop a written record. ``XeroApi`` merges the overlay
into every read, so GET paging, ``where``, ``If-Modified-Since`` and the dlt source see written
records shaped exactly like the world's. ``UpdatedDateUTC`` of a write is the world's clock
(``world.now``), the clock every read is stamped with, so incremental cursors stay consistent.

Messages quoted from Xero are tagged [R]; the others are the sandbox's own wording [U].
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response

from pipelines.sandbox.common import json_response, text_response

if TYPE_CHECKING:
    from pipelines.sandbox.xero import XeroApi

IDEMPOTENCY_SECONDS = 360  # [S] keys are cached about 6 minutes
IDEMPOTENCY_MAX = 128  # [C] "128 character max"
MAX_ACTIVE_CATEGORIES = 2  # [C] developer.xero.com tracking-categories page
MAX_CATEGORIES = 4
DEFAULT_DUE_DAYS = 30  # the sandbox organisation's bill terms: 30 days after the bill date
LIMITS = {"Contact.Name": 255, "Contact.ContactNumber": 50, "Item.Code": 30, "Item.Name": 50,
          "TrackingCategory.Name": 100, "TrackingOption.Name": 100,
          "Invoice.InvoiceNumber": 255, "PurchaseOrder.PurchaseOrderNumber": 255,
          "PurchaseOrder.Reference": 255}
_MSDATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")
_NS = uuid.UUID("0d7c4e52-61b3-4f0e-9a8d-5f2e7b1c3a90")


class Invalid(Exception):
    """One element failed validation; the message is Xero's ValidationError text."""


# -- the overlay ----------------------------------------------------------------------------------
@dataclass
class Overlay:
    """Records written per tenant, as rows in the columns of the served frames."""

    rows: dict[tuple[str, str], dict[str, dict]] = field(default_factory=dict)  # (tenant, plural)
    lines: dict[str, dict[str, list[dict]]] = field(default_factory=dict)  # tenant -> txn -> lines
    categories: dict[str, list[dict]] = field(default_factory=dict)  # tenant -> new categories
    options: dict[tuple[str, str], list[dict]] = field(default_factory=dict)  # (tenant, cat)
    version: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    _cache: dict[tuple[str, str], tuple[int, int, pl.DataFrame]] = field(default_factory=dict)

    def put(self, tenant: str, plural: str, row: dict) -> None:
        with self.lock:
            self.rows.setdefault((tenant, plural), {})[row["_id"]] = row
            self.version += 1

    def merged(self, plural: str, tenant: str, base: pl.DataFrame) -> pl.DataFrame:
        """The served frame of a tenant with its written records: a written record replaces
        the world's record of the same id; order stays (UpdatedDateUTC, id)."""
        with self.lock:
            if plural == "TrackingCategories":
                return self._tracking(tenant, base)
            written = self.rows.get((tenant, plural))
            if not written:
                return base
            hit = self._cache.get((tenant, plural))
            if hit and hit[0] == id(base) and hit[1] == self.version:
                return hit[2]
            extra = pl.DataFrame(list(written.values()), infer_schema_length=None)
            kept = base.filter(~pl.col("_id").is_in(list(written)))
            out = pl.concat([kept, extra], how="diagonal_relaxed").sort("_updated", "_id")
            self._cache[(tenant, plural)] = (id(base), self.version, out)
            return out

    def _tracking(self, tenant: str, base: pl.DataFrame) -> pl.DataFrame:
        cats = self.categories.get(tenant, [])
        if not cats and not any(t == tenant for t, _ in self.options):
            return base
        rows = base.to_dicts() + [dict(c) for c in cats]
        for r in rows:
            extra = self.options.get((tenant, r["tracking_category_id"]), [])
            r["options"] = [*(r["options"] or []), *extra]
        return pl.DataFrame(rows, schema=base.schema) if rows else base

    def txn_lines(self, tenant: str) -> dict[str, list[dict]]:
        with self.lock:
            return self.lines.get(tenant, {})


# -- idempotency ----------------------------------------------------------------------------------
@dataclass
class IdempotencyCache:
    """First answer per (tenant, key) with the request it answered, for about 6 minutes."""

    clock: Callable[[], float] = time.time
    _seen: dict[tuple[str, str], tuple[float, str, int, bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def lookup(self, tenant: str, key: str, fingerprint: str) -> Response | None | Invalid:
        with self._lock:
            hit = self._seen.get((tenant, key))
            if hit is None or hit[0] < self.clock() - IDEMPOTENCY_SECONDS:
                return None
        if hit[1] != fingerprint:
            return Invalid(f"The Idempotency-Key '{key}' was already used with a different "
                           "request")
        return Response(hit[3], status_code=hit[2], media_type="application/json; charset=utf-8")

    def store(self, tenant: str, key: str, fingerprint: str, response: Response) -> None:
        with self._lock:
            self._seen[(tenant, key)] = (self.clock(), fingerprint, response.status_code,
                                         bytes(response.body))


# -- parsing helpers ------------------------------------------------------------------------------
def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(f"'{value}' is not a valid value for {name}") from None


def _cents(value: Decimal) -> int:
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def parse_date(value: Any, name: str) -> date | None:
    """``YYYY-MM-DD`` (optionally with a time) or ``/Date(ms)/``, as Xero accepts on write."""
    if value in (None, ""):
        return None
    text = str(value)
    if m := _MSDATE.fullmatch(text):
        return datetime.fromtimestamp(int(m.group(1)) / 1000).date()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise Invalid(f"'{text}' is not a valid date for {name}") from None


def _check_length(kind: str, value: str | None) -> None:
    limit = LIMITS[kind]
    if value is not None and len(value) > limit:
        obj, fld = kind.split(".")
        raise Invalid(f"{obj} {fld} must not be more than {limit} characters long.")


def _new_id(*parts: str) -> str:
    return str(uuid.uuid5(_NS, ":".join(parts) + f":{uuid.uuid4()}"))


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method} {path.lower()}\n".encode() + body).hexdigest()


# -- the write API --------------------------------------------------------------------------------
class XeroWrites:
    """PUT/POST handlers of ``XeroApi``; reads go through the api so they see the overlay."""

    def __init__(self, api: XeroApi):
        self.api = api
        self.overlay = Overlay()
        self.idempotency = IdempotencyCache()

    # -- entry point ------------------------------------------------------------------------
    def handle(self, request: Request, body: bytes, plural: str, item_id: str | None) -> Response:
        """Auth, rate limits, idempotency, then the write; every answer is JSON like Xero's."""
        pre = self.api.preflight(request)
        if isinstance(pre, Response):
            return pre
        tenant, headers = pre
        key = request.headers.get("idempotency-key")
        fp = fingerprint(request.method, request.url.path, body)
        if key is not None:
            if len(key) > IDEMPOTENCY_MAX:
                return _errors(f"Idempotency-Key must not be more than {IDEMPOTENCY_MAX} "
                               "characters long.", headers)
            with self.overlay.lock:  # one writer at a time: a replay never races its original
                return self._keyed(request, body, plural, item_id, tenant, key, fp, headers)
        with self.overlay.lock:
            return self._write(request, body, plural, item_id, tenant, headers)

    def _keyed(self, request: Request, body: bytes, plural: str, item_id: str | None,
               tenant: str, key: str, fp: str, headers: dict) -> Response:
        hit = self.idempotency.lookup(tenant, key, fp)
        if isinstance(hit, Invalid):
            return _errors(str(hit), headers)
        if hit is not None:
            hit.headers.update(headers)
            return hit
        response = self._write(request, body, plural, item_id, tenant, headers)
        self.idempotency.store(tenant, key, fp, response)
        return response

    def _write(self, request: Request, body: bytes, plural: str, item_id: str | None,
               tenant: str, headers: dict) -> Response:
        try:
            data = _loads(body)
        except ValueError:
            return _errors("The request body is not valid JSON", headers)
        if plural == "TrackingCategories":
            return self._tracking(request, data, tenant, item_id, headers)
        elements = data.get(plural) if isinstance(data, dict) else None
        if not isinstance(elements, list) or not all(isinstance(e, dict) for e in elements):
            return _errors(f"The request body must be {{\"{plural}\": [...]}}", headers)
        if item_id is not None:
            for e in elements:
                e.setdefault(ID_FIELDS[plural], item_id)
        create_only = request.method == "PUT"
        summarize = request.query_params.get("summarizeErrors", "true").lower() != "false"
        return self._elements(plural, elements, tenant, create_only, summarize, headers)

    def _elements(self, plural: str, elements: list[dict], tenant: str, create_only: bool,
                  summarize: bool, headers: dict) -> Response:
        handler = {"Contacts": self._contact, "Items": self._item, "Invoices": self._invoice,
                   "PurchaseOrders": self._purchase_order}[plural]
        planned: list[tuple[dict, Callable[[], dict] | None, str | None]] = []
        for e in elements:
            try:
                planned.append((e, handler(tenant, e, create_only), None))
            except Invalid as err:
                planned.append((e, None, str(err)))
        failed = any(err for _, _, err in planned)
        if failed and summarize:
            return json_response({
                "ErrorNumber": 10, "Type": "ValidationException",
                "Message": "A validation exception occurred",
                "Elements": [{**e, "ValidationErrors": [{"Message": err}] if err else []}
                             for e, _, err in planned]}, 400, headers, escape_slashes=True)
        out = []
        for e, commit, err in planned:
            if commit is None:
                out.append({**e, "StatusAttributeString": "ERROR", "HasErrors": True,
                            "ValidationErrors": [{"Message": err}]})
            else:
                out.append({**commit(), "StatusAttributeString": "OK"})
        return json_response(self.api.envelope(plural, out), 200, headers, escape_slashes=True)

    # -- lookups over the merged reads ------------------------------------------------------
    def _rows(self, tenant: str, plural: str) -> pl.DataFrame:
        return self.api.tenant_frame(plural, tenant)

    def _stamp(self) -> datetime:
        return self.api.views.world.now

    def _find_contact(self, tenant: str, ref: dict) -> dict:
        frame = self._rows(tenant, "Contacts")
        if ref.get("ContactID"):
            hit = frame.filter(pl.col("_id") == str(ref["ContactID"]).lower())
        elif ref.get("ContactNumber"):
            hit = frame.filter(pl.col("contact_number") == ref["ContactNumber"])
        else:
            hit = frame.filter(pl.col("name").str.to_lowercase() == str(ref.get("Name", ""))
                               .lower())
        if hit.height == 0:
            what = next((f"{k} '{ref[k]}'" for k in ("ContactID", "ContactNumber", "Name")
                         if ref.get(k)), "(none given)")
            raise Invalid(f"The contact {what} could not be found.")
        return hit.row(0, named=True)

    # -- contacts ---------------------------------------------------------------------------
    def _contact(self, tenant: str, e: dict, create_only: bool) -> Callable[[], dict]:
        frame = self._rows(tenant, "Contacts")
        existing = None
        if e.get("ContactID"):
            if create_only:
                raise Invalid("ContactID cannot be set when creating a contact with PUT.")
            existing = self._find_contact(tenant, {"ContactID": e["ContactID"]})
        elif e.get("ContactNumber"):
            hit = frame.filter(pl.col("contact_number") == e["ContactNumber"])
            if hit.height and create_only:
                raise Invalid(f"The contact number {e['ContactNumber']} is already assigned to "
                              "another contact.")
            existing = hit.row(0, named=True) if hit.height else None
        name = e.get("Name", existing["name"] if existing else None)
        if not name or not str(name).strip():
            raise Invalid("The contact name must be specified.")
        _check_length("Contact.Name", name)
        _check_length("Contact.ContactNumber", e.get("ContactNumber"))
        others = frame.filter((pl.col("name").str.to_lowercase() == str(name).lower())
                              & (pl.col("ContactStatus") == "ACTIVE"))
        if existing is not None:
            others = others.filter(pl.col("_id") != existing["_id"])
        if others.height:
            # [R] a real Xero validation message
            raise Invalid(f"The contact name {name} is already assigned to another contact. "
                          "The contact name must be unique across all active contacts.")
        row = self._contact_row(tenant, e, existing, str(name))
        return lambda: self._commit(tenant, "Contacts", row)

    def _contact_row(self, tenant: str, e: dict, old: dict | None, name: str) -> dict:
        old = old or {}
        addresses = e.get("Addresses") or []
        billing = next((a for a in addresses if a.get("AddressType") == "POBOX"),
                       addresses[0] if addresses else {})
        phone = next((p for p in e.get("Phones") or [] if p.get("PhoneType") == "DEFAULT"), {})
        cid = old.get("_id") or _new_id(tenant, "contact", name)

        def pick(new: Any, key: str) -> Any:
            return new if new is not None else old.get(key)
        return {
            "tenant": tenant, "_id": cid, "contact_id": cid, "name": name,
            "contact_number": pick(e.get("ContactNumber"), "contact_number"),
            "address": pick(billing.get("AddressLine1"), "address"),
            "city": pick(billing.get("City"), "city"),
            "region": pick(billing.get("Region"), "region"),
            "postal_code": pick(billing.get("PostalCode"), "postal_code"),
            "address_type": billing.get("AddressType") or old.get("address_type") or "STREET",
            "phone": pick(phone.get("PhoneNumber"), "phone"),
            "ContactStatus": e.get("ContactStatus") or old.get("ContactStatus") or "ACTIVE",
            "IsSupplier": old.get("IsSupplier", False), "IsCustomer": False,
            "updated_at": self._stamp(), "_updated": self._stamp(),
        }

    # -- items ------------------------------------------------------------------------------
    def _item(self, tenant: str, e: dict, create_only: bool) -> Callable[[], dict]:
        frame = self._rows(tenant, "Items")
        code = e.get("Code")
        if not code:
            raise Invalid("Item Code must be specified.")
        _check_length("Item.Code", code)
        _check_length("Item.Name", e.get("Name"))
        existing = None
        if e.get("ItemID") and not create_only:
            hit = frame.filter(pl.col("_id") == str(e["ItemID"]).lower())
            if hit.height == 0:
                raise Invalid(f"The item ItemID '{e['ItemID']}' could not be found.")
            existing = hit.row(0, named=True)
        same = frame.filter(pl.col("code") == code)
        if existing is not None:
            same = same.filter(pl.col("_id") != existing["_id"])
        elif same.height and not create_only:
            existing, same = same.row(0, named=True), same.clear()  # POST upserts by Code
        if same.height:
            raise Invalid(f"Item code '{code}' already exists. Item codes must be unique.")
        old = existing or {}
        iid = old.get("_id") or _new_id(tenant, "item", code)
        row = {"tenant": tenant, "_id": iid, "item_id": iid, "code": code,
               "name": e.get("Name", old.get("name")),
               "description": e.get("Description", old.get("description")),
               "purchase_description": e.get("PurchaseDescription",
                                             old.get("purchase_description")),
               "IsPurchased": bool(e.get("IsPurchased", old.get("IsPurchased", False))),
               "IsSold": bool(e.get("IsSold", old.get("IsSold", False))),
               "updated_at": self._stamp(), "_updated": self._stamp()}
        return lambda: self._commit(tenant, "Items", row)

    def _commit(self, tenant: str, plural: str, row: dict) -> dict:
        self.overlay.put(tenant, plural, row)
        return self.api.render_one(plural, row, self.overlay.txn_lines(tenant).get(row["_id"]))

    # -- tracking ---------------------------------------------------------------------------
    def _tracking(self, request: Request, data: Any, tenant: str, category_id: str | None,
                  headers: dict) -> Response:
        if request.method != "PUT" or not isinstance(data, dict):
            return _errors("Expected a single TrackingCategory or TrackingOption object", headers)
        try:
            if category_id is None:
                return json_response(self.api.envelope("TrackingCategories",
                                                       [self._category(tenant, data)]),
                                     200, headers, escape_slashes=True)
            option = self._option(tenant, category_id.lower(), data)
        except LookupError:
            return text_response(_not_found(), 404, headers)
        except Invalid as err:
            return _errors(str(err), headers)
        return json_response(self.api.envelope("Options", [option]), 200, headers,
                             escape_slashes=True)

    def _category(self, tenant: str, data: dict) -> dict:
        name = data.get("Name") or data.get("name")
        if not name:
            raise Invalid("Tracking category name must be specified.")
        _check_length("TrackingCategory.Name", name)
        cats = self._rows(tenant, "TrackingCategories")
        if cats.filter(pl.col("Name").str.to_lowercase() == str(name).lower()).height:
            raise Invalid(f"A tracking category named '{name}' already exists.")
        if cats.filter(pl.col("Status") == "ACTIVE").height >= MAX_ACTIVE_CATEGORIES:
            raise Invalid("You can only have 2 active tracking categories.")
        if cats.height >= MAX_CATEGORIES:
            raise Invalid("You can only have 4 tracking categories (active and archived).")
        cid = _new_id(tenant, "category", name)
        row = {"tracking_category_id": cid, "_id": cid, "Name": name, "Status": "ACTIVE",
               "tenant": tenant, "options": []}
        self.overlay.categories.setdefault(tenant, []).append(row)
        self.overlay.version += 1
        return {"TrackingCategoryID": cid, "Name": name, "Status": "ACTIVE", "Options": [],
                "StatusAttributeString": "OK"}

    def _option(self, tenant: str, category_id: str, data: dict) -> dict:
        cats = self._rows(tenant, "TrackingCategories").filter(pl.col("_id") == category_id)
        if cats.height == 0:
            raise LookupError(category_id)
        name = data.get("Name") or data.get("name")
        if not name:
            raise Invalid("Tracking option name must be specified.")
        _check_length("TrackingOption.Name", name)
        if any(o["name"].lower() == str(name).lower() for o in cats.row(0, named=True)["options"]
               or []):
            raise Invalid(f"The tracking option '{name}' already exists in this category.")
        oid = _new_id(tenant, "option", name)
        self.overlay.options.setdefault((tenant, category_id), []).append(
            {"option_id": oid, "name": name})
        self.overlay.version += 1
        return {"TrackingOptionID": oid, "Name": name, "Status": "ACTIVE",
                "HasValidationErrors": False, "IsDeleted": False, "IsArchived": False,
                "IsActive": True}

    # -- bills and purchase orders ----------------------------------------------------------
    def _invoice(self, tenant: str, e: dict, create_only: bool) -> Callable[[], dict]:
        if e.get("Type", None if e.get("InvoiceID") else "") not in (None, "ACCPAY"):
            raise Invalid("The sandbox accepts bills only: Type must be ACCPAY.")
        _check_length("Invoice.InvoiceNumber", e.get("InvoiceNumber"))
        return self._document(tenant, e, create_only, "Invoices", "InvoiceID")

    def _purchase_order(self, tenant: str, e: dict, create_only: bool) -> Callable[[], dict]:
        _check_length("PurchaseOrder.PurchaseOrderNumber", e.get("PurchaseOrderNumber"))
        _check_length("PurchaseOrder.Reference", e.get("Reference"))
        number = e.get("PurchaseOrderNumber")
        if number:
            same = self._rows(tenant, "PurchaseOrders").filter(
                pl.col("invoice_number") == number)
            if e.get("PurchaseOrderID"):
                same = same.filter(pl.col("_id") != str(e["PurchaseOrderID"]).lower())
            if same.height:
                raise Invalid(f"Purchase Order number {number} already exists.")
        return self._document(tenant, e, create_only, "PurchaseOrders", "PurchaseOrderID")

    def _document(self, tenant: str, e: dict, create_only: bool, plural: str,
                  id_field: str) -> Callable[[], dict]:
        old: dict = {}
        if e.get(id_field):
            if create_only:
                raise Invalid(f"{id_field} cannot be set when creating with PUT.")
            hit = self._rows(tenant, plural).filter(pl.col("_id") == str(e[id_field]).lower())
            if hit.height == 0:
                raise Invalid(f"The document {id_field} '{e[id_field]}' could not be found.")
            old = hit.row(0, named=True)
        contact = self._find_contact(tenant, e["Contact"]) if e.get("Contact") else None
        if contact is None and not old:
            raise Invalid("A Contact must be specified for this type of transaction")
        status = e.get("Status") or old.get("status") or "DRAFT"
        allowed = {"Invoices": ("DRAFT", "SUBMITTED", "AUTHORISED", "VOIDED", "DELETED"),
                   "PurchaseOrders": ("DRAFT", "SUBMITTED", "AUTHORISED", "BILLED", "DELETED")}
        if status not in allowed[plural]:
            raise Invalid(f"'{status}' is not a valid Status.")
        doc_id = old.get("_id") or _new_id(tenant, plural, str(e.get("InvoiceNumber")))
        keep = e.get("LineItems") is None and bool(old)  # an update that leaves lines alone
        lines = [] if keep else self._lines(tenant, doc_id, e.get("LineItems"))
        total = old["total"] if keep else sum(line["line_amount"] for line in lines)
        if total < 0:
            raise Invalid("The document total cannot be negative.")
        row = self._document_row(tenant, e, old, contact, doc_id, status, total, plural)
        if plural == "PurchaseOrders":
            row["delivery_instructions"] = e.get("DeliveryInstructions",
                                                 old.get("delivery_instructions"))
            row["delivery_date"] = parse_date(e.get("DeliveryDate"), "DeliveryDate") \
                or old.get("delivery_date")

        def commit() -> dict:
            if not keep:
                self.overlay.lines.setdefault(tenant, {})[doc_id] = lines
            return self._commit(tenant, plural, row)
        return commit

    def _document_row(self, tenant: str, e: dict, old: dict, contact: dict | None, doc_id: str,
                      status: str, total: int, plural: str) -> dict:
        today = self._stamp().date()
        day = parse_date(e.get("Date"), "Date") or old.get("txn_date") or today
        due = parse_date(e.get("DueDate"), "DueDate") or old.get("due_date") \
            or day + timedelta(days=DEFAULT_DUE_DAYS)
        number_key = "InvoiceNumber" if plural == "Invoices" else "PurchaseOrderNumber"
        number = e.get(number_key, old.get("invoice_number"))
        if plural == "PurchaseOrders" and not number:
            number = f"PO-{len(self.overlay.rows.get((tenant, plural), {})) + 1:04d}"
        return {
            "tenant": tenant, "_id": doc_id, "txn_id": doc_id,
            "erp_type": "ACCPAY" if plural == "Invoices" else "PURCHASEORDER",
            "invoice_number": number, "reference": e.get("Reference", old.get("reference") or ""),
            "contact_id": contact["contact_id"] if contact else old["contact_id"],
            "contact_name": contact["name"] if contact else old["contact_name"],
            "txn_date": day, "due_date": due, "status": status, "total": total,
            "amount_paid": None, "payments": None, "IsReconciled": False,
            "updated_at": self._stamp(), "_updated": self._stamp(),
        }

    def _lines(self, tenant: str, doc_id: str, given: Any) -> list[dict]:
        """Line items as the world stores them (cents, resolved item and tracking). On update,
        a line with a known LineItemID keeps its id; lines left out are deleted [S]."""
        before = {x["line_id"]: x for x in self.overlay.txn_lines(tenant).get(doc_id, [])}
        if not isinstance(given, list) or not given:
            raise Invalid("At least one line item is required.")
        items = set(self._rows(tenant, "Items")["code"].to_list())
        cats = self._rows(tenant, "TrackingCategories").to_dicts()
        out = []
        for n, li in enumerate(given, start=1):
            prev = before.get(str(li.get("LineItemID") or "").lower(), {})
            code = li.get("ItemCode", prev.get("item_code"))
            if code is not None and code not in items:
                raise Invalid(f"Item code '{code}' is not valid.")
            qty = _decimal(li.get("Quantity", prev.get("quantity", 1)), "Quantity")
            unit = li.get("UnitAmount")
            unit = _decimal(unit, "UnitAmount") if unit is not None else \
                Decimal(prev.get("unit_amount", 0)) / 100
            amount = _decimal(li["LineAmount"], "LineAmount") if li.get("LineAmount") \
                is not None else qty * unit
            track = self._tracking_ref(cats, li.get("Tracking"), prev)
            out.append({
                "txn_id": doc_id, "line_no": n, "line_id": prev.get("line_id") or
                _new_id(tenant, "line", doc_id, str(n)),
                "description": li.get("Description", prev.get("description")),
                "quantity": float(qty), "unit_amount": _cents(unit),
                "line_amount": _cents(amount), "item_code": code, **track})
        return out

    def _tracking_ref(self, cats: list[dict], given: Any, prev: dict) -> dict:
        keys = ("tracking_option_id", "option_name", "tracking_category_id", "category_name")
        if not given:
            return {k: prev.get(k) for k in keys}
        if not isinstance(given, list) or len(given) > 2:
            raise Invalid("A line item can have at most 2 tracking categories.")
        t = given[0]  # the world's lines carry one category (the job)
        for c in cats:
            if t.get("TrackingCategoryID", "").lower() not in ("", c["tracking_category_id"]) \
                    or (t.get("Name") and t["Name"].lower() != c["Name"].lower()):
                continue
            for o in c["options"] or []:
                if (t.get("TrackingOptionID") or "").lower() == o["option_id"] or \
                        (not t.get("TrackingOptionID") and t.get("Option") == o["name"]):
                    return dict(zip(keys, (o["option_id"], o["name"],
                                           c["tracking_category_id"], c["Name"]), strict=True))
        what = t.get("Option") or t.get("TrackingOptionID")
        raise Invalid(f"The tracking option '{what}' is not valid for the tracking category "
                      f"'{t.get('Name') or t.get('TrackingCategoryID')}'.")


ID_FIELDS = {"Contacts": "ContactID", "Items": "ItemID", "Invoices": "InvoiceID",
             "PurchaseOrders": "PurchaseOrderID"}


def _loads(body: bytes) -> Any:
    import json
    return json.loads(body or b"{}", parse_float=Decimal)


def _not_found() -> str:
    from pipelines.sandbox.xero import NOT_FOUND
    return NOT_FOUND


def _errors(message: str, headers: dict) -> Response:
    return json_response({"ErrorNumber": 10, "Type": "ValidationException",
                          "Message": "A validation exception occurred",
                          "Elements": [{"ValidationErrors": [{"Message": message}]}]},
                         400, headers, escape_slashes=True)
