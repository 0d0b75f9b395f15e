"""The Xero writer (docs/exports.md §3, §4, §8): documents become Xero Accounting API writes.

- company → Contact (XE-6), project → option of the connection's tracking category (XE-5),
  wbs_code → Item (XE-4), commitment → Purchase Order (XE-7), cco → lines appended to that
  Purchase Order (XE-8), subcontractor_invoice → ACCPAY bill with a retainage line (XE-9).
- Every PUT/POST carries ``Idempotency-Key``: a retry of the same call replays Xero's first
  answer instead of creating a second record.
- ``send`` looks the record up by its natural key first (``find``), so a record that already
  exists is updated (POST with its id) rather than duplicated; the update uses a key derived
  from the outbox key, since Xero refuses one key for two different requests.
- A 400 ``ValidationException`` is Xero refusing the record: ``RecordRejected`` with Xero's
  messages. Anything else stays an ``ApiError`` (retried by the push loop on a later run).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pipelines.config import Connection, Settings
from pipelines.exports.base import RecordRejected, WireRequest, external_id
from pipelines.http import ApiClient, ApiError
from pipelines.sources import xero as xero_source

API = "/api.xro/2.0"  # in dry-run paths; the client's base URL ends with it
ITEM_NAME_MAX = 50  # Xero Item.Name; the full description goes to PurchaseDescription
PLURAL = {"company": "Contacts", "wbs_code": "Items", "commitment": "PurchaseOrders",
          "cco": "PurchaseOrders", "subcontractor_invoice": "Invoices"}
ID_FIELD = {"Contacts": "ContactID", "Items": "ItemID", "PurchaseOrders": "PurchaseOrderID",
            "Invoices": "InvoiceID"}
LIVE_BILL_STATUSES = "DRAFT,SUBMITTED,AUTHORISED,PAID"


def item_code(cost_code: str, cost_type: str) -> str:
    """A Xero item per cost code and cost type (XE-4), spelt as the world's items are:
    ``01-100.L``."""
    return f"{cost_code}.{cost_type}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


class XeroWriter:
    system = "xero"

    def __init__(self, connection: Connection, settings: Settings,
                 client: ApiClient | None = None):
        self.connection, self.settings = connection, settings
        self._client = client  # opened on first use: construction does no I/O

    # -- protocol --------------------------------------------------------------------------
    def requests(self, item_type: str, document: dict) -> list[WireRequest]:
        """The calls ``send`` makes to create the record (no I/O). A project's option is put
        under the category's id, which ``send`` reads first (the GET listed before it); a CCO
        re-sends the Purchase Order's existing lines, read by the GET before it."""
        if item_type == "project":
            category = self._category_name(document)
            return [self._category_lookup(category),
                    WireRequest("PUT", f"{API}/TrackingCategories/{{{category}}}/Options",
                                self._option(document), self._headers("<key>"))]
        if item_type == "cco":
            ref = self._cco_ref(document)
            return [WireRequest("GET", f"{API}/PurchaseOrders/{ref}"),
                    WireRequest("POST", f"{API}/PurchaseOrders/{ref}",
                                self._cco_body(document, []), self._headers("<key>"))]
        plural = self._plural(item_type)
        return [WireRequest("PUT", f"{API}/{plural}", self.body(item_type, document),
                            self._headers("<key>"))]

    def send(self, item_type: str, document: dict, key: str) -> str:
        if item_type == "project":
            return self._send_option(document, key)
        if item_type == "cco":
            return self._send_cco(document, key)
        plural = self._plural(item_type)
        body = self.body(item_type, document)  # refuses a negative bill before any call
        existing = self.find(item_type, document, key)
        if existing is None:
            answer = self._write("PUT", f"{API}/{plural}", body, key, item_type, document)
        else:
            body[plural][0][ID_FIELD[plural]] = existing
            answer = self._write("POST", f"{API}/{plural}/{existing}", body,
                                 _update_key(key), item_type, document)
        return str(answer[plural][0][ID_FIELD[plural]])

    def find(self, item_type: str, document: dict, key: str) -> str | None:
        """The Xero id of the record this document makes, looked up by its natural key."""
        if item_type == "company":
            number = external_id("company", document["vendor_id"])
            return self._first("Contacts", "ContactID",
                               {"where": f'ContactNumber=="{number}"'})
        if item_type == "wbs_code":
            code = item_code(document["cost_code"], document["cost_type"])
            return self._first("Items", "ItemID", {"where": f'Code=="{code}"'})
        if item_type == "project":
            option = self._find_option(document)
            return option["TrackingOptionID"] if option else None
        if item_type == "commitment":
            return self._po_id(_text(document["number"]))
        if item_type == "cco":
            return self._cco_found(document)
        if item_type == "subcontractor_invoice":
            return self._first("Invoices", "InvoiceID", {
                "where": 'Type=="ACCPAY"', "InvoiceNumbers": _text(document["invoice_number"]),
                "ContactIDs": _text(document["vendor"]["erp_ref"]),
                "Statuses": LIVE_BILL_STATUSES})
        raise ValueError(f"xero: unsupported item type {item_type!r}")

    def close(self) -> None:
        if self._client is not None:
            self._client.session.close()
            self._client = None

    # -- bodies ----------------------------------------------------------------------------
    def body(self, item_type: str, document: dict) -> dict:
        """The enveloped body of a create, per the field maps of XE-6, XE-4, XE-7, XE-9."""
        builders = {"company": self._contact, "wbs_code": self._item,
                    "commitment": self._purchase_order,
                    "subcontractor_invoice": self._bill}
        if item_type not in builders:
            raise ValueError(f"xero: no create body for item type {item_type!r}")
        return {PLURAL[item_type]: [builders[item_type](document)]}

    def _contact(self, d: dict) -> dict:
        """XE-6: name, billing address (Xero's postal address), phone; ContactNumber holds
        costbridge's external id so ``find`` can look the contact up."""
        contact: dict[str, Any] = {"Name": d["name"],
                                   "ContactNumber": external_id("company", d["vendor_id"])}
        address = {k: d.get(f) for k, f in (("AddressLine1", "address"), ("City", "city"),
                                            ("Region", "state_code"),
                                            ("PostalCode", "postal_code")) if d.get(f)}
        if address:
            contact["Addresses"] = [{"AddressType": "POBOX", **address}]
        if d.get("phone"):
            contact["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": d["phone"]}]
        return contact

    def _item(self, d: dict) -> dict:
        """XE-4: code = cost code + cost type, name = description; accounts are set in Xero."""
        description = _text(d.get("description"))
        return {"Code": item_code(d["cost_code"], d["cost_type"]),
                "Name": description[:ITEM_NAME_MAX], "PurchaseDescription": description,
                "IsPurchased": True}

    def _option(self, d: dict) -> dict:
        return {"Name": d["name"]}  # XE-5: the option is the project name

    def _tracking(self, project: dict | None) -> list[dict]:
        if not project:
            return []
        track = {"Name": self.connection.tracking_category, "Option": _text(project["name"])}
        if project.get("erp_ref"):
            track["TrackingOptionID"] = project["erp_ref"]
        return [track]

    def _line(self, line: dict, project: dict | None, quantity: Any = None,
              unit: Any = None) -> dict:
        out: dict[str, Any] = {"Description": _text(line.get("description"))}
        if line.get("item_erp_ref", True) and line.get("cost_code") and line.get("cost_type"):
            out["ItemCode"] = item_code(line["cost_code"], line["cost_type"])
        if quantity and unit is not None:
            out |= {"Quantity": Decimal(str(quantity)), "UnitAmount": _money(unit)}
        else:  # amount-based: the amount on one unit
            out |= {"Quantity": Decimal(1), "UnitAmount": _money(line["amount"])}
        if tracking := self._tracking(project):
            out["Tracking"] = tracking
        return out

    def _purchase_order(self, d: dict) -> dict:
        """XE-7: date, order number, contact, reference = title, SOV lines (item, description,
        quantity, unit price, tracking = project), delivery instructions = ship via."""
        project = d.get("project")
        po: dict[str, Any] = {
            "PurchaseOrderNumber": _text(d["number"]), "Contact": {"ContactID":
                                                                   d["vendor"]["erp_ref"]},
            "Reference": _text(d.get("title")), "Status": "AUTHORISED",
            "LineAmountTypes": "NoTax",
            "LineItems": [self._line(x, project, x.get("quantity"), x.get("unit_cost"))
                          for x in d["lines"]]}
        if d.get("contract_date"):
            po["Date"] = _text(d["contract_date"])
        if d.get("ship_via"):
            po["DeliveryInstructions"] = d["ship_via"]
        return po

    def _bill(self, d: dict) -> dict:
        """XE-9: from = vendor, InvoiceNumber = invoice number, Date = billing date and DueDate
        = payment date (no dates at all without a payment date), one line per invoice line,
        retainage on its own negative line to the connection's retainage item."""
        total = sum((_money(x["amount"]) for x in d["lines"]), Decimal("0.00"))
        if total < 0:
            raise RecordRejected(f"XE-9: subcontractor invoice {d.get('invoice_number')} "
                                 f"(requisition {d.get('requisition_id')}) totals {total}: "
                                 "negative invoices do not export to Xero")
        project = d.get("project")
        bill: dict[str, Any] = {"Type": "ACCPAY",
                                "Contact": {"ContactID": d["vendor"]["erp_ref"]},
                                "InvoiceNumber": _text(d["invoice_number"])}
        if d.get("payment_date"):  # else Xero works the due date out from the terms
            bill["DueDate"] = _text(d["payment_date"])
            if d.get("billing_date"):
                bill = {**bill, "Date": _text(d["billing_date"])}
        lines = [self._line(x, project) for x in d["lines"]]
        retainage = _money(d.get("retainage") or 0)
        if retainage:
            ret: dict[str, Any] = {"Description": "Retainage", "Quantity": Decimal(1),
                                   "UnitAmount": -abs(retainage),
                                   "ItemCode": self.connection.retainage_item}
            if tracking := self._tracking(project):
                ret["Tracking"] = tracking
            lines.append(ret)
        return bill | {"Status": "AUTHORISED", "LineAmountTypes": "NoTax", "LineItems": lines}

    # -- CCOs (XE-8) -----------------------------------------------------------------------
    def cco_lines(self, document: dict) -> list[dict]:
        """One new line per commitment line the CCO changes: a line changed more than once by
        one CCO is summed into one line (XE-8), in first-seen order."""
        summed: dict[Any, dict] = {}
        for x in document["lines"]:
            key = x.get("line_id")
            if key in summed:
                summed[key]["amount"] = _money(summed[key]["amount"]) + _money(x["amount"])
            else:
                summed[key] = dict(x, amount=_money(x["amount"]))
        return [self._line(x, document.get("project")) for x in summed.values()]

    def _cco_ref(self, document: dict) -> str:
        ref = (document.get("commitment") or {}).get("erp_ref")
        if not ref:
            raise RecordRejected("XE-8: the CCO's commitment is not synced to a Xero purchase "
                                 "order")
        return str(ref)

    def _cco_body(self, document: dict, existing: list[dict]) -> dict:
        kept = [_resend_line(x) for x in existing]
        return {"PurchaseOrders": [{"PurchaseOrderID": self._cco_ref(document),
                                    "LineItems": kept + self.cco_lines(document)}]}

    def _send_cco(self, document: dict, key: str) -> str:
        ref = self._cco_ref(document)
        if self._cco_found(document):
            return ref
        po = self._get_po(ref)
        body = self._cco_body(document, po.get("LineItems", []))
        answer = self._write("POST", f"{API}/PurchaseOrders/{ref}", body, key, "cco", document)
        return str(answer["PurchaseOrders"][0]["PurchaseOrderID"])

    def _cco_found(self, document: dict) -> str | None:
        """The PO's id when its last lines already are this CCO's lines (a crashed send)."""
        ref = self._cco_ref(document)
        lines = self._get_po(ref).get("LineItems", [])
        new = self.cco_lines(document)
        tail = lines[-len(new):] if new else []
        if len(tail) == len(new) and all(_same_line(a, b) for a, b in zip(tail, new,
                                                                              strict=True)):
            return ref
        return None

    def _get_po(self, ref: str) -> dict:
        try:
            body, _ = self.client.get(f"PurchaseOrders/{ref}", "purchase_orders")
        except ApiError as exc:
            if exc.status == 404:
                raise RecordRejected(f"XE-8: purchase order {ref} is not in Xero",
                                     404) from exc
            raise
        return body["PurchaseOrders"][0]

    # -- tracking options (XE-5) -----------------------------------------------------------
    def _category_name(self, document: dict) -> str:
        return document.get("tracking_category") or self.connection.tracking_category

    def _category_lookup(self, name: str) -> WireRequest:
        return WireRequest("GET", f"{API}/TrackingCategories",
                           params={"where": f'Name=="{name}"'})

    def _category(self, document: dict) -> dict:
        name = self._category_name(document)
        req = self._category_lookup(name)
        body, _ = self.client.get(req.path.removeprefix(API), "tracking_categories",
                                  params=req.params)
        cats = body.get("TrackingCategories", [])
        if not cats:
            raise RecordRejected(f"XE-5: the Xero tracking category {name!r} of connection "
                                 f"{self.connection.id} does not exist")
        return cats[0]

    def _find_option(self, document: dict) -> dict | None:
        options = self._category(document).get("Options", [])
        return next((o for o in options if o["Name"] == document["name"]), None)

    def _send_option(self, document: dict, key: str) -> str:
        category = self._category(document)
        found = next((o for o in category.get("Options", []) if o["Name"] == document["name"]),
                     None)
        if found:
            return str(found["TrackingOptionID"])
        path = f"{API}/TrackingCategories/{category['TrackingCategoryID']}/Options"
        answer = self._write("PUT", path, self._option(document), key, "project", document)
        return str(answer["Options"][0]["TrackingOptionID"])

    # -- I/O -------------------------------------------------------------------------------
    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = xero_source.client(self.connection)
        return self._client

    def _headers(self, key: str) -> dict[str, str]:
        return {"Idempotency-Key": key}

    def _plural(self, item_type: str) -> str:
        if item_type not in PLURAL:
            raise ValueError(f"xero: unsupported item type {item_type!r}")
        return PLURAL[item_type]

    def _write(self, method: str, path: str, body: dict, key: str, item_type: str,
               document: dict) -> dict:
        resource = path.removeprefix(API).split("/")[1].lower()
        try:
            answer, _ = self.client.write(method, path.removeprefix(API), resource, body,
                                          headers=self._headers(key))
        except ApiError as exc:
            if exc.status == 400 and "ValidationException" in exc.body:
                raise RecordRejected(_rejection(item_type, document, exc.body), 400) from exc
            raise
        return answer

    def _first(self, plural: str, id_field: str, params: dict) -> str | None:
        body, _ = self.client.get(f"{plural}", plural.lower(), params=params)
        rows = body.get(plural, [])
        return str(rows[0][id_field]) if rows else None

    def _po_id(self, number: str) -> str | None:
        try:
            body, _ = self.client.get(f"PurchaseOrders/{number}", "purchase_orders")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        rows = [p for p in body.get("PurchaseOrders", []) if p.get("Status") != "DELETED"]
        return str(rows[0]["PurchaseOrderID"]) if rows else None


def _update_key(key: str) -> str:
    # Xero answers 400 to one key on two different requests: the update gets its own key.
    return f"update-{key}"[:128]


def _resend_line(line: dict) -> dict:
    """An existing PO line sent back unchanged (Xero deletes lines an update leaves out)."""
    keep = ("LineItemID", "Description", "Quantity", "UnitAmount", "ItemCode", "AccountCode",
            "Tracking")
    out = {k: line[k] for k in keep if line.get(k) is not None}
    if "Tracking" in out:
        out["Tracking"] = [{k: t[k] for k in ("Name", "Option", "TrackingOptionID") if k in t}
                           for t in out["Tracking"]]
    return out


def _same_line(have: dict, want: dict) -> bool:
    amount = _money(have.get("Quantity", 1)) * _money(have.get("UnitAmount", 0))
    return (have.get("ItemCode") == want.get("ItemCode")
            and _text(have.get("Description")) == want["Description"]
            and amount == _money(want["Quantity"]) * want["UnitAmount"])


def _messages(body: str) -> Iterator[str]:
    try:
        data = json.loads(body)
    except ValueError:
        yield body[:300]
        return
    for element in data.get("Elements") or []:
        for err in element.get("ValidationErrors") or []:
            yield err.get("Message", "")
    if not data.get("Elements"):
        yield data.get("Message", "")


def _rejection(item_type: str, document: dict, body: str) -> str:
    name = {"company": lambda d: f"company {d.get('vendor_id')} {d.get('name')!r}",
            "wbs_code": lambda d: f"WBS code {d.get('cost_code')}.{d.get('cost_type')}",
            "project": lambda d: f"project {d.get('project_number')} {d.get('name')!r}",
            "commitment": lambda d: f"commitment {d.get('number')}",
            "cco": lambda d: f"CCO on commitment {(d.get('commitment') or {}).get('number')}",
            "subcontractor_invoice": lambda d: f"subcontractor invoice "
                                               f"{d.get('invoice_number')}"}[item_type](document)
    return f"Xero refused {name}: " + "; ".join(m for m in _messages(body) if m)


def writer(connection: Connection, settings: Settings) -> XeroWriter:
    return XeroWriter(connection, settings)
