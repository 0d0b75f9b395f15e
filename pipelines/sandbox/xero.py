"""The Xero Accounting API 2.0 (read side), served from the world under the prefix ``/xero``.

One Xero organisation per world connection whose ``erp == "xero"``; its tenant id is the
connection's ``erp_tenant_id``. Paths, headers, envelope, ``\\/Date(ms+0000)\\/`` dates, paging,
``where``/``order``/``IDs``/``Statuses``, ``If-Modified-Since``, rate-limit headers and error
bodies follow ``erp_api_wire_formats.md`` §1; tags there ([C]/[R]/[S]/[U]) apply here.

Only JSON is served: a request whose ``Accept`` rules out JSON gets 406 (real Xero would answer
XML). Served views are built once per world state (``common.Views``) and partitioned per tenant,
sorted by ``(UpdatedDateUTC, id)``; a request filters and slices its tenant's frame and turns
only the rows of its page into JSON.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.sandbox.common import (
    XERO_TOKEN,
    Gate,
    Limits,
    RateDecision,
    RateLimiter,
    TokenStore,
    Views,
    Window,
    bearer_token,
    epoch_ms,
    issue_token,
    json_response,
    parse_int,
    parse_timestamp,
    text_response,
)
from pipelines.sandbox.world import World, cents
from pipelines.sandbox.xero_where import Field, QueryParseError, compile_where, parse_order
from pipelines.sandbox.xero_writes import XeroWrites

PROVIDER = "costbridge sandbox"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000  # [S] CData/partner docs; the OpenAPI states no maximum
NOT_FOUND = "The resource you're looking for cannot be found"  # [S] xero-python
ZERO = Decimal("0.00")
_NS = uuid.UUID("5b1c2f0e-8d7a-4c3e-9f61-2a4d6e8b0c13")  # namespace for derived sandbox ids
BANK_ACCOUNT = {"Code": "090", "Name": "Business Bank"}
__all__ = ["XeroApi", "XERO_TOKEN", "tracking_category_id"]


def tracking_category_id(tenant_id: str) -> str:
    """The "Job" tracking category of an organisation: stable for a tenant across runs."""
    return str(uuid.uuid5(_NS, f"tracking-category:{tenant_id}"))


def msdate(value: date | datetime, offset: bool = True) -> str:
    """``/Date(ms+0000)/``; the body is written with ``\\/`` later (``escape_slashes``)."""
    return f"/Date({epoch_ms(value)}{'+0000' if offset else ''})/"


def _date_string(value: date) -> str:
    return f"{value.isoformat()}T00:00:00"


# -- served views --------------------------------------------------------------------------------
def _tenants(w: World) -> pl.DataFrame:
    c = w.connections("xero").select("connection_id", "company_name", "tracking_category",
                                     "live_date", tenant=pl.col("erp_tenant_id").str.to_lowercase())
    return c.with_columns(tracking_category_id=pl.Series(
        [tracking_category_id(t) for t in c["tenant"]], dtype=pl.String))


def _reconciled(id_col: str) -> pl.Expr:
    # The world has no bank feed: call about 3 in 4 live records reconciled, decided by the
    # first hex digit of the id so the flag is stable and never flips without an update.
    return (pl.col("status") == "AUTHORISED") & (pl.col(id_col).str.slice(0, 1) < "c")


def _txns(w: World, types: list[str]) -> pl.DataFrame:
    t = w.t["erp_txns"].filter(pl.col("erp_type").is_in(types))
    return t.join(_tenants(w).select("connection_id", "tenant"), on="connection_id").with_columns(
        _id=pl.col("txn_id"), _updated=pl.col("updated_at"), IsReconciled=_reconciled("txn_id"))


def _build_invoices(w: World) -> pl.DataFrame:
    paid = (
        w.t["erp_payments"].filter(pl.col("status") == "AUTHORISED")
        .sort("payment_date", "payment_id")
        .group_by("txn_id")
        .agg(amount_paid=pl.col("amount").sum(),
             payments=pl.struct("payment_id", "payment_date", "amount", "reference"))
    )
    return _txns(w, ["ACCPAY"]).join(paid, on="txn_id", how="left")


def _build_bank_transactions(w: World) -> pl.DataFrame:
    return _txns(w, ["SPEND", "RECEIVE"])


def _build_credit_notes(w: World) -> pl.DataFrame:
    return _txns(w, ["ACCPAYCREDIT"])


def _build_payments(w: World) -> pl.DataFrame:
    inv = w.t["erp_txns"].select("txn_id", "invoice_number", "contact_id", "contact_name")
    return (
        w.t["erp_payments"].join(_tenants(w).select("connection_id", "tenant"), on="connection_id")
        .join(inv, on="txn_id", how="left")
        .with_columns(_id=pl.col("payment_id"), _updated=pl.col("updated_at"),
                      PaymentType=pl.lit("ACCPAYPAYMENT"), IsReconciled=_reconciled("payment_id"))
    )


def _build_contacts(w: World) -> pl.DataFrame:
    return w.t["vendors"].join(_tenants(w).select("connection_id", "tenant"),
                               on="connection_id").with_columns(
        _id=pl.col("contact_id"), _updated=pl.col("updated_at"),
        ContactStatus=pl.lit("ACTIVE"), IsSupplier=pl.lit(True), IsCustomer=pl.lit(False),
        contact_number=pl.lit(None, pl.String))  # set only by writes (XE-6)


def _build_items(w: World) -> pl.DataFrame:
    return w.t["erp_items"].join(_tenants(w).select("connection_id", "tenant"),
                                 on="connection_id").with_columns(
        _id=pl.col("item_id"), _updated=pl.col("updated_at"),
        IsPurchased=pl.lit(True), IsSold=pl.lit(False))


def _build_tracking(w: World) -> pl.DataFrame:
    opts = w.t["erp_options"].group_by("connection_id", maintain_order=True).agg(
        options=pl.struct("option_id", "name"))
    return _tenants(w).join(opts, on="connection_id", how="left").with_columns(
        _id=pl.col("tracking_category_id"), _updated=pl.col("live_date"),
        Name=pl.col("tracking_category"), Status=pl.lit("ACTIVE"))


def _build_purchase_orders(w: World) -> pl.DataFrame:
    """The world has no Xero purchase orders: they all come from writes (XE-7)."""
    return pl.DataFrame(schema={
        "tenant": pl.String, "_id": pl.String, "_updated": pl.Datetime("us", "UTC"),
        "txn_id": pl.String, "invoice_number": pl.String, "reference": pl.String,
        "status": pl.String, "txn_date": pl.Date, "contact_id": pl.String,
        "contact_name": pl.String})


def _build_lines(w: World) -> dict[str, pl.DataFrame]:
    """Line items of every Xero transaction, per tenant, in (txn_id, line_no) order."""
    opts = w.t["erp_options"].select("connection_id", tracking_option_id="option_id",
                                     option_name="name")
    lines = (
        w.t["erp_lines"].join(_tenants(w).select("connection_id", "tenant",
                                                 "tracking_category_id"), on="connection_id")
        .join(opts, on=["connection_id", "tracking_option_id"], how="left")
        .select("tenant", "txn_id", "line_no", "line_id", "description", "quantity",
                "unit_amount", "line_amount", "item_code", "tracking_option_id", "option_name",
                "tracking_category_id")
        .sort("txn_id", "line_no")
    )
    return {str(k[0]): g.drop("tenant") for k, g in lines.partition_by("tenant", as_dict=True)
            .items()}


# -- JSON per record -----------------------------------------------------------------------------
def _contact(r: dict) -> dict:
    return {"ContactID": r["contact_id"], "Name": r["contact_name"]}


def _line(r: dict) -> dict:
    tracking = [] if r["tracking_option_id"] is None else [{
        "TrackingCategoryID": r["tracking_category_id"],
        "TrackingOptionID": r["tracking_option_id"], "Name": r.get("category_name") or "Job",
        "Option": r["option_name"]}]
    return {
        "LineItemID": r["line_id"], "Description": r["description"],
        "Quantity": Decimal(repr(r["quantity"])).quantize(Decimal("0.0001")),
        "UnitAmount": cents(r["unit_amount"]), "ItemCode": r["item_code"],
        "AccountCode": "310", "TaxType": "NONE", "TaxAmount": ZERO,
        "LineAmount": cents(r["line_amount"]), "Tracking": tracking,
    }


def _dates(r: dict, due: bool = False) -> dict:
    out = {"Date": msdate(r["txn_date"]), "DateString": _date_string(r["txn_date"])}
    if due:
        out |= {"DueDate": msdate(r["due_date"]), "DueDateString": _date_string(r["due_date"])}
    return out


def _invoice(r: dict) -> dict:
    total, paid = cents(r["total"]), cents(r["amount_paid"] or 0)
    payments = [{"PaymentID": p["payment_id"], "Date": msdate(p["payment_date"]),
                 "Amount": cents(p["amount"]), "Reference": p["reference"]}
                for p in r["payments"] or []]
    return {
        "Type": "ACCPAY", "InvoiceID": r["txn_id"], "InvoiceNumber": r["invoice_number"],
        "Reference": r["reference"], "Contact": _contact(r), **_dates(r, due=True),
        "Status": r["status"], "LineAmountTypes": "NoTax", "SubTotal": total, "TotalTax": ZERO,
        "Total": total, "AmountDue": total - paid, "AmountPaid": paid, "AmountCredited": ZERO,
        "CurrencyCode": "NZD", "UpdatedDateUTC": msdate(r["updated_at"]),
        "HasAttachments": False, "Payments": payments,
    }


def _bank_transaction(r: dict) -> dict:
    total = cents(r["total"])
    return {
        "BankTransactionID": r["txn_id"], "Type": r["erp_type"], "Status": r["status"],
        "Contact": _contact(r), **_dates(r), "Reference": r["reference"],
        "LineAmountTypes": "NoTax", "SubTotal": total, "TotalTax": ZERO, "Total": total,
        "CurrencyCode": "NZD", "BankAccount": BANK_ACCOUNT, "IsReconciled": r["IsReconciled"],
        "HasAttachments": False, "UpdatedDateUTC": msdate(r["updated_at"]),
    }


def _credit_note(r: dict) -> dict:
    total = cents(r["total"])
    # No allocations exist in the world: a live credit note still has all of its credit.
    remaining = total if r["status"] in ("DRAFT", "SUBMITTED", "AUTHORISED") else ZERO
    return {
        "CreditNoteID": r["txn_id"], "CreditNoteNumber": r["invoice_number"],
        "Type": "ACCPAYCREDIT", "Status": r["status"], "Reference": r["reference"],
        "Contact": _contact(r), **_dates(r, due=True), "LineAmountTypes": "NoTax",
        "SubTotal": total, "TotalTax": ZERO, "Total": total, "RemainingCredit": remaining,
        "CurrencyCode": "NZD", "UpdatedDateUTC": msdate(r["updated_at"]),
    }


def _payment(r: dict) -> dict:
    return {
        "PaymentID": r["payment_id"], "Date": msdate(r["payment_date"]),
        "Amount": cents(r["amount"]), "BankAmount": cents(r["amount"]),
        "Reference": r["reference"], "Status": r["status"], "PaymentType": "ACCPAYPAYMENT",
        "IsReconciled": r["IsReconciled"],
        "Invoice": {"InvoiceID": r["txn_id"], "InvoiceNumber": r["invoice_number"],
                    "Type": "ACCPAY", "Contact": _contact(r)},
        "Account": {"Code": BANK_ACCOUNT["Code"]}, "UpdatedDateUTC": msdate(r["updated_at"]),
    }


def _contact_record(r: dict) -> dict:
    address = {"AddressType": r.get("address_type") or "STREET", "AddressLine1": r["address"],
               "City": r["city"]}
    address |= {k: r[c] for k, c in (("Region", "region"), ("PostalCode", "postal_code"))
                if r.get(c)}
    out = {
        "ContactID": r["contact_id"], "Name": r["name"],
        "ContactStatus": r.get("ContactStatus") or "ACTIVE",
        "IsSupplier": r.get("IsSupplier", True), "IsCustomer": False,
        "Addresses": [address],
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": r["phone"]}],
        "UpdatedDateUTC": msdate(r["updated_at"]), "HasAttachments": False,
    }
    if r.get("contact_number"):  # set through the API only (XE-6: costbridge's external id)
        out["ContactNumber"] = r["contact_number"]
    return out


def _item(r: dict) -> dict:
    out = {
        "ItemID": r["item_id"], "Code": r["code"], "Name": r["name"],
        "IsPurchased": r.get("IsPurchased", True), "IsSold": r.get("IsSold", False),
        "PurchaseDetails": {"AccountCode": "310"}, "UpdatedDateUTC": msdate(r["updated_at"]),
    }
    if r.get("description"):
        out["Description"] = r["description"]
    if r.get("purchase_description"):
        out["PurchaseDescription"] = r["purchase_description"]
    return out


def _purchase_order(r: dict) -> dict:
    total = cents(r["total"])
    out = {
        "PurchaseOrderID": r["txn_id"], "PurchaseOrderNumber": r["invoice_number"],
        "Type": "PURCHASEORDER", "Reference": r["reference"] or "", "Contact": _contact(r),
        **_dates(r), "Status": r["status"], "LineAmountTypes": "NoTax", "SubTotal": total,
        "TotalTax": ZERO, "Total": total, "CurrencyCode": "NZD",
        "DeliveryInstructions": r.get("delivery_instructions") or "", "SentToContact": False,
        "IsDiscounted": False, "HasAttachments": False, "UpdatedDateUTC": msdate(r["updated_at"]),
    }
    if r.get("delivery_date"):
        out |= {"DeliveryDate": msdate(r["delivery_date"]),
                "DeliveryDateString": _date_string(r["delivery_date"])}
    return out


def _tracking_category(r: dict) -> dict:
    return {
        "TrackingCategoryID": r["tracking_category_id"], "Name": r["Name"], "Status": "ACTIVE",
        "Options": [{"TrackingOptionID": o["option_id"], "Name": o["name"], "Status": "ACTIVE"}
                    for o in r["options"] or []],
    }


# -- resources -----------------------------------------------------------------------------------
def _fields(**extra: Field) -> dict[str, Field]:
    return {"UpdatedDateUTC": Field("_updated", "datetime"), **extra}


_TXN_FIELDS = dict(Status=Field("status", "str"), Reference=Field("reference", "str"),
                   Date=Field("txn_date", "date"),
                   **{"Contact.ContactID": Field("contact_id", "guid"),
                      "Contact.Name": Field("contact_name", "str")})


@dataclass(frozen=True)
class Resource:
    plural: str
    type_name: str  # the .NET type Xero names in query errors
    sources: tuple[str, ...]  # world frames the view is built from
    build: Callable[[World], pl.DataFrame]  # columns tenant, _id, _updated + the fields'
    render: Callable[[dict], dict]
    fields: dict[str, Field]
    pageable: bool = True
    lines: bool = False  # carries LineItems (paged or single GET only)
    modified_since: bool = True  # honours If-Modified-Since


_TXN_SOURCES = ("erp_txns", "connections")
RESOURCES: dict[str, Resource] = {r.plural: r for r in (
    Resource("Invoices", "Invoice", (*_TXN_SOURCES, "erp_payments"), _build_invoices, _invoice,
             _fields(Type=Field("erp_type", "str"), InvoiceID=Field("_id", "guid"),
                     InvoiceNumber=Field("invoice_number", "str"),
                     DueDate=Field("due_date", "date"), **_TXN_FIELDS), lines=True),
    Resource("BankTransactions", "BankTransaction", _TXN_SOURCES, _build_bank_transactions,
             _bank_transaction,
             _fields(Type=Field("erp_type", "str"), BankTransactionID=Field("_id", "guid"),
                     IsReconciled=Field("IsReconciled", "bool"), **_TXN_FIELDS), lines=True),
    Resource("CreditNotes", "CreditNote", _TXN_SOURCES, _build_credit_notes, _credit_note,
             _fields(Type=Field("erp_type", "str"), CreditNoteID=Field("_id", "guid"),
                     CreditNoteNumber=Field("invoice_number", "str"), **_TXN_FIELDS),
             lines=True),
    Resource("Payments", "Payment", ("erp_payments", "erp_txns", "connections"),
             _build_payments, _payment,
             _fields(PaymentID=Field("_id", "guid"), Status=Field("status", "str"),
                     PaymentType=Field("PaymentType", "str"),
                     Reference=Field("reference", "str"), Date=Field("payment_date", "date"),
                     IsReconciled=Field("IsReconciled", "bool"),
                     **{"Invoice.InvoiceID": Field("txn_id", "guid"),
                        "Invoice.InvoiceNumber": Field("invoice_number", "str")})),
    Resource("Contacts", "Contact", ("vendors", "connections"), _build_contacts,
             _contact_record,
             _fields(ContactID=Field("_id", "guid"), Name=Field("name", "str"),
                     ContactStatus=Field("ContactStatus", "str"),
                     IsSupplier=Field("IsSupplier", "bool"),
                     IsCustomer=Field("IsCustomer", "bool"),
                     ContactNumber=Field("contact_number", "str"))),
    Resource("Items", "Item", ("erp_items", "connections"), _build_items, _item,
             _fields(ItemID=Field("_id", "guid"), Code=Field("code", "str"),
                     Name=Field("name", "str"), IsPurchased=Field("IsPurchased", "bool"),
                     IsSold=Field("IsSold", "bool")), pageable=False),
    Resource("TrackingCategories", "TrackingCategory", ("erp_options", "connections"),
             _build_tracking, _tracking_category,
             {"TrackingCategoryID": Field("_id", "guid"), "Name": Field("Name", "str"),
              "Status": Field("Status", "str")}, pageable=False, modified_since=False),
    # No `where` on purchase orders in Xero's spec; the fields serve `order` [C].
    Resource("PurchaseOrders", "PurchaseOrder", ("connections",), _build_purchase_orders,
             _purchase_order,
             _fields(PurchaseOrderID=Field("_id", "guid"), Status=Field("status", "str"),
                     PurchaseOrderNumber=Field("invoice_number", "str"),
                     Date=Field("txn_date", "date"), Reference=Field("reference", "str")),
             lines=True),
)}
WRITABLE = ("Contacts", "Items", "Invoices", "PurchaseOrders")


# -- errors --------------------------------------------------------------------------------------
class XeroError(Exception):
    """An error answer, raised from deep inside request handling."""

    def __init__(self, response: Response):
        self.response = response


def _problem(status: int, title: str, detail: str) -> Response:
    # Problem-details body of Xero's identity layer (401/403) [R: pyxero #337, xeroizer #509].
    return json_response({"Type": None, "Title": title, "Status": status, "Detail": detail,
                          "Instance": str(uuid.uuid4()), "Extensions": {}}, status)


def _query_error(message: str) -> XeroError:
    # Real capture (Xero-NetStandard #512): {"ErrorNumber":16,"Type":"QueryParseException",...}
    return XeroError(json_response({"ErrorNumber": 16, "Type": "QueryParseException",
                                    "Message": message}, 400, escape_slashes=True))


def _validation_error(message: str) -> XeroError:
    return XeroError(json_response({"ErrorNumber": 10, "Type": "ValidationException",
                                    "Message": message, "Elements": []}, 400,
                                   escape_slashes=True))


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    value = parse_int(request.query_params.get(name), name,
                      lambda n, r: _validation_error(f"'{r}' is not a valid value for {n}"))
    return default if value is None else value


def _accepts_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return not accept or any(t in accept for t in ("json", "*/*", "application/*"))


# -- the API -------------------------------------------------------------------------------------
class XeroApi:
    """Routes and request handling for ``/xero``."""

    def __init__(self, views: Views, tokens: TokenStore, gate: Gate, limits: Limits):
        self.views, self.tokens, self.gate, self.limits = views, tokens, gate, limits
        self.limiter = RateLimiter([
            Window("minute", limits.xero_per_minute, 60),
            Window("day", limits.xero_per_day, 86_400),
            Window("appminute", limits.xero_app_per_minute, 60, shared=True),
        ])
        self.writes = XeroWrites(self)

    def routes(self) -> list[Route]:
        def list_endpoint(resource: Resource, single: bool) -> Callable:
            async def endpoint(request: Request) -> Response:
                item = request.path_params.get("item_id") if single else None
                return await self.gate.run(
                    request, lambda r: self.handle(r, resource, item), self.fault)
            return endpoint

        routes = [
            Route("/identity/connect/token", self.token, methods=["POST"]),
            # The SDK's IdentityApi asks for "/Connections"; Xero's paths are case-insensitive.
            Route("/connections", self.connections, methods=["GET"]),
            Route("/Connections", self.connections, methods=["GET"]),
        ]
        for res in RESOURCES.values():
            base = f"/api.xro/2.0/{res.plural}"
            routes.append(Route(base, list_endpoint(res, False), methods=["GET"]))
            if res.pageable:  # the resources with single GETs in the brief
                routes.append(Route(base + "/{item_id}", list_endpoint(res, True),
                                    methods=["GET"]))
        return routes + self._write_routes()

    def _write_routes(self) -> list[Route]:
        def write_endpoint(plural: str) -> Callable:
            async def endpoint(request: Request) -> Response:
                body = await request.body()
                item = request.path_params.get("item_id")
                return await self.gate.run(
                    request, lambda r: self.writes.handle(r, body, plural, item), self.fault)
            return endpoint

        routes = []
        for plural in WRITABLE:
            base = f"/api.xro/2.0/{plural}"
            routes += [Route(base, write_endpoint(plural), methods=["PUT", "POST"]),
                       Route(base + "/{item_id}", write_endpoint(plural), methods=["POST"])]
        base = "/api.xro/2.0/TrackingCategories"
        return routes + [Route(base, write_endpoint("TrackingCategories"), methods=["PUT"]),
                         Route(base + "/{item_id}/Options", write_endpoint("TrackingCategories"),
                               methods=["PUT"])]

    # -- identity ----------------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        async def issue(r: Request) -> Response:
            scope = "accounting.transactions.read accounting.contacts.read " \
                    "accounting.settings.read"
            return await issue_token(r, self.tokens, "xero", self.limits.xero_token_seconds,
                                     400, {"scope": scope})
        return await self.gate.run_async(request, issue)

    async def connections(self, request: Request) -> Response:
        return await self.gate.run(request, self._connections, self.fault)

    def _connections(self, request: Request) -> Response:
        if (err := self._check_token(request)) is not None:
            return err
        tenants = self.views.get("xero:tenants", ("connections",), _tenants)
        return json_response([{
            "id": str(uuid.uuid5(_NS, f"connection:{t['connection_id']}")),
            "authEventId": str(uuid.uuid5(_NS, f"auth-event:{t['connection_id']}")),
            "tenantId": t["tenant"], "tenantType": "ORGANISATION",
            "tenantName": t["company_name"],
            "createdDateUtc": t["live_date"].strftime("%Y-%m-%dT%H:%M:%S.0000000"),
            "updatedDateUtc": t["live_date"].strftime("%Y-%m-%dT%H:%M:%S.0000000"),
        } for t in tenants.iter_rows(named=True)])

    # -- faults and auth ---------------------------------------------------------------------
    def fault(self, kind: str) -> Response:
        if kind == "429":
            return text_response("Rate Limit Exceeded", 429, {
                "Retry-After": str(self.limits.fault_retry_after),
                "X-Rate-Limit-Problem": "minute", "X-MinLimit-Remaining": "0"})
        return json_response({"ErrorNumber": 500, "Type": "InternalServerError",
                              "Message": "An error occurred in Xero. (sandbox fault)"}, 500)

    def _check_token(self, request: Request) -> Response | None:
        status = self.tokens.check("xero", bearer_token(request))
        if status == "ok":
            return None
        detail = "TokenExpired: token expired" if status == "expired" \
            else "AuthenticationUnsuccessful"
        return _problem(401, "Unauthorized", detail)

    def _tenant(self, request: Request) -> str | None:
        tenant = (request.headers.get("xero-tenant-id") or "").strip().lower()
        tenants = self.views.get("xero:tenants", ("connections",), _tenants)
        return tenant if tenant and tenant in set(tenants["tenant"]) else None

    # -- data --------------------------------------------------------------------------------
    def preflight(self, request: Request) -> Response | tuple[str, dict[str, str]]:
        """Token, tenant, rate limit and Accept: an error answer, or (tenant, rate headers)."""
        if (err := self._check_token(request)) is not None:
            return err
        tenant = self._tenant(request)
        if tenant is None:
            return _problem(403, "Forbidden", "AuthenticationUnsuccessful")
        decision = self.limiter.hit(tenant)
        headers = _rate_headers(decision)
        if not decision.allowed:
            return text_response("Rate Limit Exceeded", 429, headers | {
                "Retry-After": str(decision.retry_after()),
                "X-Rate-Limit-Problem": decision.problem or "minute"})
        if not _accepts_json(request):
            return text_response("The sandbox answers application/json only", 406, headers)
        return tenant, headers

    def handle(self, request: Request, res: Resource, item_id: str | None) -> Response:
        pre = self.preflight(request)
        if isinstance(pre, Response):
            return pre
        tenant, headers = pre
        try:
            body = self._body(request, res, tenant, item_id)
        except XeroError as err:
            err.response.headers.update(headers)
            return err.response
        if body is None:
            return text_response(NOT_FOUND, 404, headers)
        return json_response(body, 200, headers, escape_slashes=True)

    def _frame(self, res: Resource, tenant: str) -> pl.DataFrame:
        def build(w: World) -> dict[str, pl.DataFrame]:
            frame = res.build(w).sort("_updated", "_id")
            parts = {str(k[0]): g for k, g in frame.partition_by("tenant", as_dict=True).items()}
            parts[""] = frame.clear()  # an organisation with no records
            return parts
        parts = self.views.get(f"xero:{res.plural}", res.sources, build)
        return self.writes.overlay.merged(res.plural, tenant, parts.get(tenant, parts[""]))

    def tenant_frame(self, plural: str, tenant: str) -> pl.DataFrame:
        """A tenant's served frame of a resource, written records included."""
        return self._frame(RESOURCES[plural], tenant)

    def envelope(self, plural: str, records: list[dict]) -> dict[str, Any]:
        return {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": PROVIDER,
                "DateTimeUTC": msdate(self.views.world.now, offset=False), plural: records}

    def render_one(self, plural: str, row: dict, lines: list[dict] | None) -> dict:
        """A written record as GET would show it, with its line items."""
        record = RESOURCES[plural].render(row)
        if RESOURCES[plural].lines:
            record["LineItems"] = [_line(x) for x in lines or []]
        return record

    def _body(self, request: Request, res: Resource, tenant: str,
              item_id: str | None) -> dict | None:
        frame = self._frame(res, tenant)
        page: int | None = None
        page_info: dict[str, int] | None = None
        if item_id is not None:
            frame = self._single(frame, res, item_id)
            if frame.height == 0:
                return None
        else:
            frame = self._filter(request, res, frame)
            if res.pageable:
                page = _int_param(request, "page", None)
            if page is not None:
                frame, page_info = _page(request, frame, page)
        rows = frame.to_dicts()
        records = [res.render(r) for r in rows]
        summary = request.query_params.get("summaryOnly", "").lower() == "true"
        if res.lines and (item_id is not None or page is not None) and not summary:
            lines = self._lines(tenant, [r["_id"] for r in rows])
            for record, row in zip(records, rows, strict=True):
                record["LineItems"] = lines.get(row["_id"], [])
        body = self.envelope(res.plural, records)
        if page_info is not None:  # before the records, where Xero puts it
            body = {k: v for k, v in body.items() if k != res.plural} | {
                "pagination": page_info, res.plural: records}
        return body

    def _single(self, frame: pl.DataFrame, res: Resource, item_id: str) -> pl.DataFrame:
        key = item_id.strip().lower()
        hit = frame.filter(pl.col("_id") == key)
        if hit.height == 0 and res.plural in ("Invoices", "PurchaseOrders"):
            # Xero also takes an InvoiceNumber / a PurchaseOrderNumber here
            hit = frame.filter(pl.col("invoice_number") == item_id)
        return hit.head(1)

    def _filter(self, request: Request, res: Resource, frame: pl.DataFrame) -> pl.DataFrame:
        q = request.query_params
        since = request.headers.get("if-modified-since")
        if since and res.modified_since:
            try:
                cutoff = parse_timestamp(since)
            except ValueError:
                raise _validation_error(f"If-Modified-Since '{since}' is not a valid "
                                        "timestamp (use YYYY-MM-DDTHH:MM:SS, UTC)") from None
            frame = frame.filter(pl.col("_updated") > cutoff)
        try:
            if q.get("where"):
                frame = frame.filter(compile_where(q["where"], res.fields, res.type_name))
            order = parse_order(q["order"], res.fields, res.type_name) if q.get("order") else []
        except QueryParseError as err:
            raise _query_error(str(err)) from None
        frame = _list_filter(frame, q.get("IDs"), "_id", lower=True)
        if "Status" in res.fields:
            frame = _list_filter(frame, q.get("Statuses"), res.fields["Status"].column)
        if res.plural == "Invoices":
            frame = _list_filter(frame, q.get("InvoiceNumbers"), "invoice_number")
            frame = _list_filter(frame, q.get("ContactIDs"), "contact_id", lower=True)
        if order:
            cols = [c for c, _ in order]
            frame = frame.sort([*cols, "_updated", "_id"],
                               descending=[d for _, d in order] + [False, False],
                               maintain_order=True)
        return frame

    def _lines(self, tenant: str, ids: list[str]) -> dict[str, list[dict]]:
        parts = self.views.get("xero:lines", ("erp_lines", "erp_options", "connections"),
                               _build_lines)
        frame = parts.get(tenant)
        out: dict[str, list[dict]] = {}
        if not ids:
            return out
        written = self.writes.overlay.txn_lines(tenant)
        if frame is not None:
            world_ids = [i for i in ids if i not in written]  # a rewrite replaces all lines
            for r in frame.filter(pl.col("txn_id").is_in(world_ids)).to_dicts():
                out.setdefault(r["txn_id"], []).append(_line(r))
        for i in ids:
            if i in written:
                out[i] = [_line(r) for r in written[i]]
        return out


def _list_filter(frame: pl.DataFrame, raw: str | None, column: str,
                 lower: bool = False) -> pl.DataFrame:
    """The comma-separated optimised filters (``IDs``, ``Statuses``, …)."""
    if not raw:
        return frame
    values = [v.strip().lower() if lower else v.strip() for v in raw.split(",") if v.strip()]
    return frame.filter(pl.col(column).is_in(values))


def _page(request: Request, frame: pl.DataFrame,
          page: int) -> tuple[pl.DataFrame, dict[str, int]]:
    size = _int_param(request, "pageSize", DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE
    size = min(max(size, 1), MAX_PAGE_SIZE)
    page = max(page, 1)
    total = frame.height
    info = {"page": page, "pageSize": size, "pageCount": -(-total // size), "itemCount": total}
    return frame.slice((page - 1) * size, size), info


def _rate_headers(d: RateDecision) -> dict[str, str]:
    return {"X-MinLimit-Remaining": str(d.remaining["minute"]),
            "X-DayLimit-Remaining": str(d.remaining["day"]),
            "X-AppMinLimit-Remaining": str(d.remaining["appminute"])}
