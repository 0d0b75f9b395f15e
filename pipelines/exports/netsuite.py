"""The NetSuite writer (docs/exports.md §8): documents to SuiteTalk REST record upserts.

Every write is ``PUT /record/v1/<type>/eid:<externalId>``, NetSuite's upsert by external id
(``erp_api_wire_formats.md`` §2.4): it creates the record or updates the one holding that
external id, never a second one, so a resend after a crash or a retry after a timeout is safe.
The external id is ``external_id(item_type, id)`` (``costbridge-<item_type>-<id>``). NetSuite's
``X-NetSuite-Idempotency-Key`` applies to async requests only, so the outbox key is logged, not
sent; the eid is the idempotency mechanism.

- company → ``vendor`` (NS-10)
- project → ``job``, never a sub job (NS-11, NS-6)
- wbs_code → ``otherChargePurchaseItem`` named ``[project number]-[flat code]`` (NS-3, NS-7,
  NS-8)
- subcontractor_invoice → ``vendorBill``; ``vendorCredit`` when the total is negative (NS-12,
  NS-13)

Sublists are sent with ``?replace=`` so an update replaces the lines instead of appending.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pipelines.config import Connection, Settings
from pipelines.exports.base import RecordRejected, WireRequest, external_id
from pipelines.http import ApiClient, ApiError

log = logging.getLogger("costbridge.exports")

RECORD = "record/v1"
DEFAULT_EXPENSE_ACCOUNT = "384"  # the default GL expense account new items post to (NS-8)
MAX_MAPPED_COST_TYPES = 10  # NS-8: a cost type may map to its own account, for at most 10
SUBSIDIARY = "1"  # one subsidiary per account (C-1), as the sandbox accounts have it
ID_KEYS = {"company": "vendor_id", "project": "project_id", "wbs_code": "wbs_code_id",
           "subcontractor_invoice": "requisition_id"}
RECORD_TYPES = {"company": "vendor", "project": "job", "wbs_code": "otherChargePurchaseItem"}


class NetSuiteWriter:
    """Writes export documents to one NetSuite account. Construction does no I/O: the signed
    client is built on the first call that needs it."""

    system = "netsuite"

    def __init__(self, connection: Connection,
                 client_factory: Callable[[Connection], ApiClient] | None = None,
                 expense_accounts: Mapping[str, str] | None = None,
                 subsidiary: str = SUBSIDIARY) -> None:
        accounts = dict(expense_accounts or {})
        if len(accounts) > MAX_MAPPED_COST_TYPES:
            raise ValueError(f"netsuite {connection.id}: {len(accounts)} cost types map to GL "
                             f"expense accounts; at most {MAX_MAPPED_COST_TYPES} may (NS-8)")
        self.connection = connection
        self.expense_accounts = accounts
        self.subsidiary = subsidiary
        self._factory = client_factory or _signed_client
        self._client: ApiClient | None = None

    # -- the protocol ----------------------------------------------------------------------------
    def requests(self, item_type: str, document: dict) -> list[WireRequest]:
        rtype, eid = record_type(item_type, document), external_id(
            item_type, _item_id(item_type, document))
        body, params = self._body(item_type, document)
        return [WireRequest("PUT", f"{RECORD}/{rtype}/eid:{eid}", body,
                            {"Content-Type": "application/json"}, params)]

    def find(self, item_type: str, document: dict, key: str) -> str | None:
        rtype = record_type(item_type, document)
        eid = external_id(item_type, _item_id(item_type, document))
        try:
            body, _ = self.client.get(f"{RECORD}/{rtype}/eid:{eid}", rtype)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return str(body["id"])

    def send(self, item_type: str, document: dict, key: str) -> str:
        (call,) = self.requests(item_type, document)
        rtype = call.path.split("/")[2]
        log.info("netsuite %s: PUT %s (outbox key %s)", self.connection.id, call.path, key)
        try:
            _, resp = self.client.write("PUT", call.path, rtype, call.body, call.params or None)
        except ApiError as exc:
            if exc.status == 400:
                raise RecordRejected(_rejection(rtype, call.path, exc.body), 400) from exc
            raise
        location = resp.headers.get("Location", "")
        erp_id = location.rstrip("/").rsplit("/", 1)[-1] if location else ""
        if erp_id.isdigit():
            return erp_id
        found = self.find(item_type, document, key)  # no Location: look the record up
        if found is None:
            raise ApiError(f"netsuite {rtype}: {call.path} answered {resp.status_code} but the "
                           "record is not there")
        return found

    def close(self) -> None:
        if self._client is not None:
            self._client.session.close()
            self._client = None

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = self._factory(self.connection)
        return self._client

    # -- documents to bodies ---------------------------------------------------------------------
    def _body(self, item_type: str, d: Mapping[str, Any]) -> tuple[dict, dict[str, str]]:
        if item_type == "company":
            return self.vendor(d), {"replace": "addressBook"}
        if item_type == "project":
            return self.job(d), {"replace": "addressBook"}
        if item_type == "wbs_code":
            return self.item(d), {}
        return self.bill(d), {"replace": "item"}

    def vendor(self, d: Mapping[str, Any]) -> dict[str, Any]:
        """NS-10: a company becomes a vendor (never a customer) of the connection's subsidiary."""
        return _compact({
            "companyName": d["name"], "isInactive": not d.get("is_active", True),
            "phone": d.get("phone"), "subsidiary": {"id": self.subsidiary},
            "addressBook": _address_book(d)})

    def job(self, d: Mapping[str, Any]) -> dict[str, Any]:
        """NS-11: a project becomes a top-level job (no parent: sub jobs are NS-6) whose
        entity id is the project number."""
        return _compact({
            "entityId": d.get("erp_job_id") or d["project_number"], "companyName": d["name"],
            "isInactive": not d.get("is_active", True), "subsidiary": {"id": self.subsidiary},
            "addressBook": _address_book(d)})

    def item(self, d: Mapping[str, Any]) -> dict[str, Any]:
        """NS-3/NS-7/NS-8: an Other Charge purchase item named ``[project#]-[flat code]``,
        posting to its cost type's mapped account or the default expense account."""
        account = self.expense_accounts.get(str(d.get("cost_type")), DEFAULT_EXPENSE_ACCOUNT)
        return _compact({
            "itemId": item_name(d), "displayName": d.get("description"),
            "purchaseDescription": d.get("description"), "expenseAccount": {"id": account},
            "subsidiary": {"items": [{"id": self.subsidiary}]}})

    def bill(self, d: Mapping[str, Any]) -> dict[str, Any]:
        """NS-12/NS-13: a vendor bill, or for a negative total a vendor credit whose lines
        carry the amounts negated (a credit's lines are positive). Each line is one Other
        Charge item coded to the project's job (``customer``)."""
        credit = is_credit(d)
        vendor = _ref(d, "vendor", "NS-10", "company_not_synced")
        job = _ref(d, "project", "NS-11", "project_not_synced")
        lines = []
        for line in d["lines"]:
            if not line.get("item_erp_ref"):
                raise RecordRejected(
                    f"netsuite subcontractor invoice {d.get('invoice_number')}: line "
                    f"{line.get('line_id')} ({line.get('wbs_code')}) has no NetSuite item "
                    "(NS-4 line_code_not_synced): export its WBS code first")
            amount = _money(line["amount"])
            amount = -amount if credit else amount
            lines.append(_compact({
                "item": {"id": str(line["item_erp_ref"])}, "quantity": 1, "rate": amount,
                "amount": amount, "description": line.get("description"),
                "customer": {"id": job}}))
        return _compact({
            "entity": {"id": vendor}, "tranId": d.get("invoice_number"),
            "tranDate": d.get("billing_date"),
            "dueDate": None if credit else d.get("payment_date"),
            "memo": _memo(d), "subsidiary": {"id": self.subsidiary},
            "item": {"items": lines}})


def writer(connection: Connection, settings: Settings) -> NetSuiteWriter:
    """The writer for one NetSuite connection (docs/exports.md §8); no I/O until used."""
    return NetSuiteWriter(connection)


# -- helpers -------------------------------------------------------------------------------------
def record_type(item_type: str, document: Mapping[str, Any]) -> str:
    if item_type == "subcontractor_invoice":
        return "vendorCredit" if is_credit(document) else "vendorBill"
    if item_type not in RECORD_TYPES:  # NS-1: commitments, budgets … never go to NetSuite
        raise RecordRejected(f"netsuite does not take {item_type} exports (NS-1)")
    return RECORD_TYPES[item_type]


def is_credit(document: Mapping[str, Any]) -> bool:
    """NS-13: a negative subcontractor invoice is a vendor credit."""
    return _money(document["total"]) < 0


def item_name(d: Mapping[str, Any]) -> str:
    """NS-3: ``[Procore project number]-[cost code].[cost type]`` plus custom segments, i.e.
    the project number and the flat code. A document whose ``erp_item_code`` says otherwise
    is refused rather than creating a misnamed item."""
    name = f"{d['project_number']}-{d['flat_code']}"
    given = d.get("erp_item_code")
    if given and given != name:
        raise RecordRejected(f"netsuite WBS code {d.get('wbs_code_id')}: item code {given!r} "
                             f"is not the NS-3 name {name!r}")
    return name


def _item_id(item_type: str, document: Mapping[str, Any]) -> Any:
    key = ID_KEYS.get(item_type)
    if key is None:
        raise RecordRejected(f"netsuite does not take {item_type} exports (NS-1)")
    return document[key]


def _signed_client(connection: Connection) -> ApiClient:
    from pipelines.sources.netsuite import signed_client  # dlt loads only when sending

    return signed_client(connection)


def _ref(d: Mapping[str, Any], key: str, rule: str, code: str) -> str:
    ref = (d.get(key) or {}).get("erp_ref")
    if not ref:
        raise RecordRejected(f"netsuite subcontractor invoice {d.get('invoice_number')}: its "
                             f"{key} is not synced ({rule} {code})")
    return str(ref)


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _memo(d: Mapping[str, Any]) -> str | None:
    number = (d.get("commitment") or {}).get("number")
    return f"Commitment {number}" if number else None


def _address_book(d: Mapping[str, Any]) -> dict[str, Any] | None:
    address = _compact({"addr1": d.get("address"), "city": d.get("city"),
                        "state": d.get("state_code"), "zip": d.get("postal_code")})
    if not address:
        return None
    return {"items": [{"defaultBilling": True, "addressBookAddress": address}]}


def _compact(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Fields without the unset ones: NetSuite keeps a field the body leaves out."""
    return {k: v for k, v in fields.items() if v is not None and v != ""}


def _rejection(rtype: str, path: str, body: str) -> str:
    """NetSuite's own words: each ``o:errorDetails`` detail with its ``o:errorPath``."""
    try:
        details = json.loads(body).get("o:errorDetails") or []
    except (ValueError, AttributeError):
        details = []
    said = "; ".join(f"{x.get('detail')}" + (f" [{x['o:errorPath']}]" if x.get("o:errorPath")
                                              else "") for x in details)
    return f"netsuite refused {rtype} {path.rsplit('/', 1)[-1]}: {said or body[:300]}"
