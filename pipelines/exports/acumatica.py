"""The Acumatica writer (docs/exports.md §4, §8): documents become contract-based REST PUTs.

Idempotency has no key header here: a record we name ourselves (Vendor ``VendorID``, Project
``ProjectID``, Subcontract ``SubcontractNbr``, PurchaseOrder ``Normal``/``OrderNbr``) is
PUT with ``If-None-Match: *``, so a repeat gets 412 and ``find`` answers the existing one.
Documents Acumatica numbers itself (Bill, ChangeOrder, Check) are looked up first by an
external reference, ``$filter`` on ``VendorRef`` + ``Vendor`` (bills, AC-16), ``ExternalRefNbr``
(change orders) or ``PaymentRef`` + ``Vendor`` (checks), and created only when absent; their
create is sent once, never retried blindly (a lost answer is found on the next run). Budget
lines (AC-11) already exist once their codes are exported (AC-10): each is updated with
``If-Match: *``, and a 412 names a code that is not exported.

One cookie session per writer, opened on the first call and logged out in ``close()``: a
session holds one of the tenant's licensed API seats (two on a trial licence).

Documents for types the contract leaves open (§3: "from a document"):

- ``cco``: ``change_order_id, number, title, date, commitment: {commitment_id, number, kind,
  erp_ref}, vendor: {erp_ref}, project: {erp_ref}, lines: [{line_id, wbs_code, cost_code,
  cost_type, task?, description, amount}]``;
- ``budget_change``: ``budget_change_id, number, description, date, project: {erp_ref},
  lines: [{line_id, wbs_code, cost_code, cost_type, task?, description, amount}]``;
- ``payment`` (a Procore Pay payment exported, AC-17): ``payment_id, invoice_number, amount,
  payment_date, reference, vendor: {erp_ref}, invoice: {erp_ref, reference_nbr}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from pipelines.config import Connection, Settings
from pipelines.exports.base import RecordRejected, WireRequest, external_id
from pipelines.http import ApiClient, ApiError
from pipelines.sources.acumatica import ENDPOINT, Session, credentials

__all__ = ["AcumaticaWriter", "ac_cost_code", "task_of", "writer"]

RULES = {"company": "AC-13", "project": "AC-7", "commitment": "AC-14", "cco": "AC-15",
         "subcontractor_invoice": "AC-16", "budget": "AC-11", "budget_change": "AC-12",
         "payment": "AC-17", "procore_pay_payment": "AC-17"}
PROJECT_NAME_MAX = 30  # AC-7
INSERT = {"If-None-Match": "*"}
UPDATE = {"If-Match": "*"}
DETAILS = {"$expand": "Details"}


def _w(value: Any) -> dict[str, Any]:
    return {"value": value}


def _fields(**values: Any) -> dict[str, Any]:
    """Wrapped fields, leaving out the ones without a value (``None``)."""
    return {k: _w(v) for k, v in values.items() if v is not None}


def _odata(text: object) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def ac_cost_code(code: str | None) -> str | None:
    """Procore's ``03-100.000`` is Acumatica's ``03100.000`` (AC-4, the other way)."""
    return code.replace("-", "", 1) if code else code


def task_of(line: dict[str, Any]) -> str | None:
    """The Acumatica task of a line: its ``task``, else the WBS code's task segments; a sub
    job task is ``B1 - 02`` (AC-9). ``01.03-100.000.LABOR`` → ``01``."""
    task = line.get("task")
    if not task:
        wbs, code, ctype = line.get("wbs_code"), line.get("cost_code"), line.get("cost_type")
        if not (wbs and code and ctype) or not wbs.endswith(f"{code}.{ctype}"):
            return None
        task = wbs[: -len(f"{code}.{ctype}")].rstrip(".")
    parts = [p.strip() for p in str(task).replace(" - ", ".").split(".") if p.strip()]
    return " - ".join(parts) if parts else None


def _no_commas(text: str | None) -> str | None:
    """AC-7: a project address has no commas."""
    return " ".join(text.replace(",", " ").split()) if text else text


@dataclass(frozen=True)
class Lookup:
    """How ``find`` answers a document: by key path or by ``$filter``; which field is the id."""

    entity: str
    keys: tuple[str, ...] | None = None  # GET <entity>/<key1>/<key2>
    where: str | None = None  # GET <entity>?$filter=
    id_field: str = "id"


@dataclass(frozen=True)
class Plan:
    item: str  # "<item_type> <label>" for messages
    rule: str
    entity: str
    calls: list[WireRequest]
    lookup: Lookup | None  # None: nothing to look up by (no key sent), or a budget
    numbered: bool = False  # Acumatica numbers it: find before create, create once
    budget_keys: list[tuple[str, str, str, str, Decimal]] = field(default_factory=list)


class AcumaticaWriter:
    system = "acumatica"

    def __init__(self, connection: Connection, settings: Settings | None = None,
                 client: ApiClient | None = None) -> None:
        self.conn = connection
        self.base = connection.erp_base_url.rstrip("/")
        self._client = client
        self._session: Session | None = None

    # -- the protocol ----------------------------------------------------------------------------
    def requests(self, item_type: str, document: dict) -> list[WireRequest]:
        return self.plan(item_type, document).calls

    def find(self, item_type: str, document: dict, key: str) -> str | None:
        return self._find(self.plan(item_type, document))

    def send(self, item_type: str, document: dict, key: str) -> str:
        plan = self.plan(item_type, document)
        if plan.entity == "ProjectBudget":
            return self._send_budget(plan)
        if plan.numbered:
            found = self._find(plan)
            if found is not None:
                return found
        (call,) = plan.calls
        try:
            body = self._call(lambda: self.client.write(
                call.method, call.path, plan.entity, call.body, call.params,
                call.headers, attempts=1 if plan.numbered else None)[0])
        except ApiError as exc:
            if exc.status == 412 and plan.lookup is not None and not plan.numbered:
                found = self._find(plan)
                if found is not None:
                    return found
            raise self._refusal(plan, exc) from None
        return str(_value(body, plan.lookup.id_field if plan.lookup else "id"))

    def close(self) -> None:
        if self._session is not None:
            self._session.logout()
            self._session = None

    # -- documents → calls -----------------------------------------------------------------------
    def plan(self, item_type: str, doc: dict) -> Plan:
        build: dict[str, Callable[[dict], Plan]] = {
            "company": self._vendor, "project": self._project, "commitment": self._commitment,
            "subcontractor_invoice": self._bill, "cco": self._change_order,
            "budget": self._budget, "budget_change": self._budget_change,
            "payment": self._check,
            # the queue's item type for an exported Procore Pay payment: "payment" is the
            # import direction's (ERP payments into Procore), routed to the Procore writer
            "procore_pay_payment": self._check}
        if item_type not in build:
            raise RecordRejected(f"acumatica {self.conn.id}: {item_type} is not exported to "
                                 "Acumatica")
        return build[item_type](doc)

    def _url(self, entity: str, *keys: str) -> str:
        tail = "".join(f"/{quote(str(k), safe='')}" for k in keys)
        return f"{self.base}/{ENDPOINT}/{entity}{tail}"

    def _put(self, entity: str, body: dict, headers: dict[str, str],
             params: dict[str, str] | None = None) -> WireRequest:
        return WireRequest("PUT", self._url(entity), body, dict(headers), dict(params or {}))

    def _vendor(self, doc: dict) -> Plan:
        """AC-13: VendorID as the approver typed it; no insurance data (none is sent)."""
        vid = doc.get("erp_vendor_id")
        address = _fields(AddressLine1=doc.get("address"), City=doc.get("city"),
                          State=doc.get("state_code"), PostalCode=doc.get("postal_code"))
        body = {**_fields(VendorID=vid, VendorName=doc.get("name"),
                          Status="Active" if doc.get("is_active", True) else "Inactive"),
                "MainContact": {**_fields(Phone1=doc.get("phone")), "Address": address}}
        return Plan(f"company {doc.get('name')!r}", "AC-13", "Vendor",
                    [self._put("Vendor", body, INSERT)],
                    Lookup("Vendor", (vid,), id_field="VendorID") if vid else None)

    def _project(self, doc: dict) -> Plan:
        """AC-7: Job ID as sanitised upstream, name cut to 30, address without commas,
        Active only. AC-8: the budget is its own export, never part of this one."""
        label = f"project {doc.get('project_number')} {doc.get('name')!r}"
        if not doc.get("is_active", True):
            raise RecordRejected(f"acumatica {self.conn.id}: {label} is not active; only "
                                 "active projects export (AC-7)")
        pid = doc.get("erp_job_id")
        body = {**_fields(ProjectID=pid, Description=(doc.get("name") or "")[:PROJECT_NAME_MAX],
                          Status="Active", Hold=False,
                          ExternalRefNbr=str(doc["project_id"]) if doc.get("project_id")
                          else None),
                "ProjectAddress": _fields(AddressLine1=_no_commas(doc.get("address")),
                                          City=_no_commas(doc.get("city")))}
        return Plan(label, "AC-7", "Project", [self._put("Project", body, INSERT)],
                    Lookup("Project", (pid,), id_field="ProjectID") if pid else None)

    def _line_refs(self, line: dict, project: str | None, task_field: str) -> dict[str, Any]:
        return _fields(Project=project, **{task_field: task_of(line)},
                       CostCode=ac_cost_code(line.get("cost_code")))

    def _commitment(self, doc: dict) -> Plan:
        """AC-14 (AC-1 "Use Procore Contract #"): the Procore number is the document number;
        a too long number or title is sent as it is and refused by Acumatica."""
        project, vendor = doc.get("project") or {}, doc.get("vendor") or {}
        number = doc.get("number")
        label = f"commitment {number} {doc.get('title')!r}"
        if doc.get("kind") == "purchase_order":
            lines = [{**_fields(LineDescription=x.get("description"), OrderQty=x.get("quantity"),
                                UnitCost=x.get("unit_cost"), ExtendedCost=x.get("amount")),
                      **self._line_refs(x, project.get("erp_ref"), "ProjectTask")}
                     for x in doc.get("lines") or []]
            body = {**_fields(Type="Normal", OrderNbr=number, Description=doc.get("title"),
                              Date=doc.get("contract_date"), VendorID=vendor.get("erp_ref"),
                              Project=project.get("erp_ref")), "Details": lines}
            return Plan(label, "AC-14", "PurchaseOrder",
                        [self._put("PurchaseOrder", body, INSERT, DETAILS)],
                        Lookup("PurchaseOrder", ("Normal", number)) if number else None)
        lines = [{**_fields(LineDescription=x.get("description"), OrderQty=x.get("quantity"),
                            UnitCost=x.get("unit_cost"), Amount=x.get("amount")),
                  **self._line_refs(x, project.get("erp_ref"), "Task")}
                 for x in doc.get("lines") or []]
        body = {**_fields(SubcontractNbr=number, Description=doc.get("title"),
                          Date=doc.get("contract_date"), VendorID=vendor.get("erp_ref")),
                "Details": lines}
        return Plan(label, "AC-14", "Subcontract",
                    [self._put("Subcontract", body, INSERT, DETAILS)],
                    Lookup("Subcontract", (number,)) if number else None)

    def _bill(self, doc: dict) -> Plan:
        """AC-16: VendorRef = the invoice number; lines on project, task and cost code, tied
        to the subcontract; a negative invoice is a debit adjustment."""
        project, vendor = doc.get("project") or {}, doc.get("vendor") or {}
        commitment = doc.get("commitment") or {}
        sign = -1 if Decimal(str(doc.get("total") or 0)) < 0 else 1
        po_type = "Normal" if commitment.get("kind") == "purchase_order" else "Subcontract"
        lines = [{**_fields(TransactionDescription=x.get("description"),
                            Amount=sign * Decimal(str(x.get("amount") or 0))),
                  **self._line_refs(x, project.get("erp_ref"), "ProjectTask"),
                  **(_fields(POOrderType=po_type, POOrderNbr=commitment.get("number"))
                     if commitment.get("number") else {})}
                 for x in doc.get("lines") or []]
        number, vendor_id = doc.get("invoice_number"), vendor.get("erp_ref")
        body = {**_fields(Type="Bill" if sign > 0 else "Debit Adj.", Vendor=vendor_id,
                          VendorRef=number, Date=doc.get("billing_date"),
                          Description=f"Procore invoice {number}", Hold=False),
                "Details": lines}
        where = f"VendorRef eq {_odata(number)} and Vendor eq {_odata(vendor_id)}"
        return Plan(f"subcontractor invoice {number}", "AC-16", "Bill",
                    [self._put("Bill", body, INSERT, DETAILS)], Lookup("Bill", where=where),
                    numbered=True)

    def _cost_budget(self, doc: dict, label: str) -> list[dict]:
        """Change order cost budget lines: each on an existing cost code and cost type."""
        lines = []
        for x in doc.get("lines") or []:
            if not (x.get("cost_code") and x.get("cost_type") and task_of(x)):
                raise RecordRejected(f"acumatica {self.conn.id}: {label} line "
                                     f"{x.get('line_id')} has no cost code, cost type or task; "
                                     "every change order line needs them (AC-15)")
            lines.append(_fields(ProjectTaskID=task_of(x),
                                 CostCode=ac_cost_code(x.get("cost_code")),
                                 AccountGroup=x.get("cost_type"),
                                 Description=x.get("description"), Amount=x.get("amount")))
        return lines

    def _change_order(self, doc: dict) -> Plan:
        """AC-15 (AC-1): Acumatica numbers the change order; it changes the cost budget and
        the commitment, line by line on existing cost codes."""
        label = f"commitment change order {doc.get('number')} {doc.get('title')!r}"
        project = (doc.get("project") or {}).get("erp_ref")
        commitment, vendor = doc.get("commitment") or {}, doc.get("vendor") or {}
        budget = self._cost_budget(doc, label)
        po_type = "Normal" if commitment.get("kind") == "purchase_order" else "Subcontract"
        commits = [{**_fields(POType=po_type, PONbr=commitment.get("number"),
                              Vendor=vendor.get("erp_ref"), LineDescription=x.get("description")),
                    **{k: v for k, v in b.items() if k in ("ProjectTaskID", "CostCode",
                                                           "Amount")}}
                   for x, b in zip(doc.get("lines") or [], budget, strict=True)]
        ref = external_id("cco", doc.get("change_order_id"))
        body = {**_fields(Class="COMMITMENT", ProjectID=project, ChangeDate=doc.get("date"),
                          Description=doc.get("title"), ExternalRefNbr=ref, Hold=False),
                "CostBudget": budget, "Commitments": commits}
        return self._numbered_co(label, "AC-15", body, ref)

    def _budget_change(self, doc: dict) -> Plan:
        """AC-12: posted On Hold as a potential budget change order, for an accounting admin
        to release."""
        label = f"budget change {doc.get('number')}"
        project = (doc.get("project") or {}).get("erp_ref")
        ref = external_id("budget_change", doc.get("budget_change_id"))
        text = f"Potential Budget CO {doc.get('number')}"
        if doc.get("description"):
            text += f": {doc['description']}"
        body = {**_fields(Class="BUDGET", ProjectID=project, ChangeDate=doc.get("date"),
                          Description=text, ExternalRefNbr=ref, Hold=True),
                "CostBudget": self._cost_budget(doc, label)}
        return self._numbered_co(label, "AC-12", body, ref)

    def _numbered_co(self, label: str, rule: str, body: dict, ref: str) -> Plan:
        return Plan(label, rule, "ChangeOrder", [self._put("ChangeOrder", body, INSERT,
                                            {"$expand": "CostBudget,Commitments"})],
                    Lookup("ChangeOrder", where=f"ExternalRefNbr eq {_odata(ref)}"),
                    numbered=True)

    def _budget(self, doc: dict) -> Plan:
        """AC-11: the original budget, amounts only (no unit of measure, no quantity), onto
        the budget lines the exported codes made (AC-10)."""
        project = (doc.get("project") or {}).get("erp_ref")
        calls, keys = [], []
        for x in doc.get("lines") or []:
            task, code = task_of(x), ac_cost_code(x.get("cost_code"))
            amount = Decimal(str(x.get("amount") or 0))
            body = _fields(ProjectID=project, ProjectTaskID=task, CostCode=code,
                           AccountGroup=x.get("cost_type"), OriginalBudgetedAmount=amount)
            calls.append(self._put("ProjectBudget", body, UPDATE))
            keys.append((str(project), str(task), str(code), str(x.get("cost_type")), amount))
        label = f"budget of project {(doc.get('project') or {}).get('project_number')}"
        return Plan(label, "AC-11", "ProjectBudget", calls, None, budget_keys=keys)

    def _check(self, doc: dict) -> Plan:
        """AC-17: a Procore Pay payment is a Check on hold, method PROCORE, applied to the
        invoice's bill."""
        vendor_id = (doc.get("vendor") or {}).get("erp_ref")
        invoice = doc.get("invoice") or {}
        ref = external_id("payment", doc.get("payment_id"))
        body = {**_fields(Type="Payment", Vendor=vendor_id, PaymentMethod="PROCORE", Hold=True,
                          PaymentRef=ref, ApplicationDate=doc.get("payment_date"),
                          PaymentAmount=doc.get("amount"), Description=doc.get("reference")),
                "Details": [_fields(DocType="Bill", ReferenceNbr=invoice.get("reference_nbr"),
                                    AmountPaid=doc.get("amount"))]}
        where = f"PaymentRef eq {_odata(ref)} and Vendor eq {_odata(vendor_id)}"
        return Plan(f"payment {doc.get('payment_id')} of invoice {doc.get('invoice_number')}",
                    "AC-17", "Check", [self._put("Check", body, INSERT, DETAILS)],
                    Lookup("Check", where=where), numbered=True)

    # -- I/O -------------------------------------------------------------------------------------
    @property
    def client(self) -> ApiClient:
        if self._client is None:  # more, longer retries on the licence's 429, as the extract
            self._client = ApiClient("acumatica", self.base, {}, max_attempts=8)
        return self._client

    def _open(self) -> Session:
        if self._session is None:
            session = Session(self.conn, credentials(self.conn), self.client)
            session.login()
            self._session = session
        return self._session

    def _call(self, fn: Callable[[], Any]) -> Any:
        """One call in the session; a 401 (the session expired) logs in again once."""
        session = self._open()
        try:
            return fn()
        except ApiError as exc:
            if exc.status != 401:
                raise
        session.logout()
        session.login()
        return fn()

    def _find(self, plan: Plan) -> str | None:
        if plan.entity == "ProjectBudget":
            return self._find_budget(plan)
        if plan.lookup is None:
            return None
        look = plan.lookup
        if look.keys is not None:
            try:
                body = self._call(lambda: self.client.get(
                    self._url(look.entity, *look.keys), look.entity)[0])
            except ApiError as exc:
                if exc.status == 404:
                    return None
                raise
            return str(_value(body, look.id_field))
        rows = self._call(lambda: self.client.get(
            self._url(look.entity), look.entity, {"$filter": look.where, "$top": "2"})[0])
        return str(_value(rows[0], look.id_field)) if rows else None

    def _find_budget(self, plan: Plan) -> str | None:
        """The project, when every line holds the document's original amount already."""
        for project, task, code, group, amount in plan.budget_keys:
            try:
                row = self._call(lambda p=project, t=task, c=code, g=group: self.client.get(
                    self._url("ProjectBudget", p, t, c, g), "ProjectBudget")[0])
            except ApiError as exc:
                if exc.status == 404:
                    return None
                raise
            if Decimal(str(_value(row, "OriginalBudgetedAmount") or 0)) != amount:
                return None
        return plan.budget_keys[0][0] if plan.budget_keys else None

    def _send_budget(self, plan: Plan) -> str:
        if not plan.calls:
            raise RecordRejected(f"acumatica {self.conn.id}: {plan.item} has no lines (AC-11)")
        for call in plan.calls:
            try:
                self._call(lambda c=call: self.client.write(
                    c.method, c.path, "ProjectBudget", c.body, c.params, c.headers))
            except ApiError as exc:
                if exc.status == 412:
                    line = {k: v.get("value") for k, v in call.body.items()}
                    raise RecordRejected(
                        f"acumatica {self.conn.id}: {plan.item}: budget line {line['ProjectID']}"
                        f" / {line['ProjectTaskID']} / {line['CostCode']} / "
                        f"{line['AccountGroup']} does not exist: its budget code is not "
                        "exported yet (AC-11)", 412) from None
                raise self._refusal(plan, exc) from None
        return plan.budget_keys[0][0]

    def _refusal(self, plan: Plan, exc: ApiError) -> Exception:
        """422/400: the record itself is refused, with every field error; else the ApiError."""
        if exc.status not in (400, 422):
            return exc
        return RecordRejected(f"acumatica {self.conn.id}: {plan.item} refused (HTTP "
                              f"{exc.status}, {plan.rule}): {'; '.join(field_errors(exc.body))}",
                              exc.status)


def _value(record: Any, name: str) -> Any:
    if name == "id":
        return record.get("id")
    wrapped = record.get(name)
    return wrapped.get("value") if isinstance(wrapped, dict) else None


def field_errors(text: str) -> list[str]:
    """``Field: message`` for every ``error`` member of a 422 body (detail lines as
    ``Details[1].CostCode``), the top-level one last; an HttpError's ``exceptionMessage``."""
    try:
        body = json.loads(text)
    except ValueError:
        return [text[:300]]
    if not isinstance(body, dict):
        return [text[:300]]
    if "exceptionMessage" in body:
        return [str(body["exceptionMessage"])]
    found: list[str] = []
    _walk(body, "", found)
    if body.get("error"):
        found.append(str(body["error"]))
    return found


def _walk(node: Any, at: str, found: list[str]) -> None:
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "error" and at and isinstance(value, str):
                found.append(f"{at}: {value}")
            elif name != "error":
                _walk(value, f"{at}.{name}" if at else name, found)
    elif isinstance(node, list):
        for i, item in enumerate(node, 1):
            _walk(item, f"{at}[{i}]", found)


def writer(connection: Connection, settings: Settings) -> AcumaticaWriter:
    """The writer of one Acumatica connection; no I/O until the first call."""
    return AcumaticaWriter(connection, settings)
