"""The Procore writer (docs/exports.md §8): imports from the ERP into Procore, and the
write-back of ERP ids onto exported Procore items.

Imports, each keyed by the ERP's id as Procore ``origin_id``:

- direct_cost → ``PATCH /rest/v1.0/projects/{project_id}/direct_costs/sync``, status
  ``approved`` (C-5; XE-13, NS-15, AC-21). A sync action matches a row by ``origin_id``, so a
  resend updates the direct cost it made instead of adding a second one.
- vendor_update → ``PATCH /rest/v1.0/vendors/sync?company_id=`` matched by Procore ``id``, with
  only the fields the ERP changed (NS-10, AC-1; ``phone`` is Procore's ``business_phone``).
- payment → a commitment payment, Procore's *Contract Payments*:
  ``POST /rest/v1.0/contract_payments`` (``PATCH /rest/v1.0/contract_payments/{id}`` once
  found by ``origin_id``), on the commitment of the paid subcontractor invoice (XE-10, NS-12,
  AC-17). Procore has no sync action for payments, so ``send`` finds before it creates.

Sync actions answer HTTP 200 even when a row fails: ``send`` reads every row of ``errors`` and
raises ``RecordRejected`` naming the row and Procore's messages. Procore takes no idempotency
key; ``origin_id`` is the mechanism, so the outbox key is not sent. Nothing is ever deleted in
Procore (C-7: deletions in the ERP are not propagated).

Write-back: ``write_back(item_type, procore_id, project_id, erp_id)`` PATCHes ``origin_id`` on
the vendor, project, WBS code, work order contract, requisition, commitment change order
(``/projects/{project_id}/commitment_change_orders/{id}``), budget change
(``/projects/{project_id}/budget_changes/{id}``) or Procore Pay payout
(``/companies/{company_id}/payments/payouts/{id}``, item type ``procore_pay_payment``), the
body wrapped in the singular resource key; repeating it changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from pipelines.config import Connection, Settings
from pipelines.exports.base import RecordRejected, WireRequest
from pipelines.http import ApiClient, ApiError

API = "rest/v1.0"
# The document's direct cost type (§4) -> Procore's enum.
DIRECT_COST_TYPES = {"Invoice": "invoice", "Subcontractor Invoice": "subcontractor_invoice",
                     "Expense": "expense", "Payroll": "payroll"}
VENDOR_FIELDS = {"name": "name", "address": "address", "city": "city",
                 "phone": "business_phone"}
# item_type -> (path, body key, scope: "company" | "project" | "path")
WRITE_BACK: dict[str, tuple[str, str, str]] = {
    "company": (f"{API}/vendors/{{id}}", "vendor", "company"),
    "project": (f"{API}/projects/{{id}}", "project", "company"),
    "wbs_code": (f"{API}/projects/{{project_id}}/work_breakdown_structure/wbs_codes/{{id}}",
                 "wbs_code", "path"),
    "commitment": (f"{API}/work_order_contracts/{{id}}", "work_order_contract", "project"),
    "subcontractor_invoice": (f"{API}/requisitions/{{id}}", "requisition", "project"),
    "cco": (f"{API}/projects/{{project_id}}/commitment_change_orders/{{id}}",
            "commitment_change_order", "path"),
    "budget_change": (f"{API}/projects/{{project_id}}/budget_changes/{{id}}", "budget_change",
                      "path"),
    # a Procore Pay payout (AC-17); "payment" is the import direction's item type
    "procore_pay_payment": (f"{API}/companies/{{company_id}}/payments/payouts/{{id}}", "payout",
                            "company_path"),
}
NO_ORIGIN_ID = {"budget"}  # budgets carry no origin_id in Procore (AC-11): nothing to record
DELETED = {"DELETED", "deleted"}
REFUSED = {400, 404, 409, 422}  # the record itself was refused; anything else may pass


class ProcoreWriter:
    """Writes import documents to one Procore company. Construction does no I/O: the client
    is built on the first call that needs it."""

    system = "procore"

    def __init__(self, connection: Connection, base_url: str,
                 client_factory: Callable[[], ApiClient] | None = None,
                 page_size: int = 1000) -> None:
        self.connection = connection
        self.company = connection.procore_company_id
        self.base_url = base_url
        self.page_size = page_size
        self._factory = client_factory or (lambda: _client(base_url))
        self._client: ApiClient | None = None

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = self._factory()
        return self._client

    @property
    def headers(self) -> dict[str, str]:
        return {"Procore-Company-Id": str(self.company)}

    # -- the protocol ------------------------------------------------------------------------
    def requests(self, item_type: str, document: dict) -> list[WireRequest]:
        if item_type == "direct_cost":
            return [self._direct_cost_request(document)]
        if item_type == "vendor_update":
            req = self._vendor_request(document)
            return [] if req is None else [req]
        if item_type == "payment":
            contract = document.get("commitment_id") or (
                f"<commitment of requisition {document.get('requisition_id')}>")
            return [self._payment_create(document, contract)]
        raise ValueError(f"procore writer: {item_type!r} is not imported into Procore")

    def find(self, item_type: str, document: dict, key: str) -> str | None:
        if item_type == "direct_cost":
            found = self._list(f"{API}/projects/{document['project_id']}/direct_costs",
                               "direct_costs", {"filters[origin_id]": _origin(document)})
            return next((str(r["id"]) for r in found if r.get("origin_id") ==
                         _origin(document)), None)
        if item_type == "vendor_update":
            return self._find_vendor(document)
        if item_type == "payment":
            hit = self._find_payment(document, self._contract(document))
            return None if hit is None else str(hit["id"])
        raise ValueError(f"procore writer: {item_type!r} is not imported into Procore")

    def send(self, item_type: str, document: dict, key: str) -> str:
        if item_type == "direct_cost":
            req = self._direct_cost_request(document)
            return str(self._sync(req, f"direct cost {_origin(document)}")["id"])
        if item_type == "vendor_update":
            req = self._vendor_request(document)
            if req is None:  # the ERP changed nothing Procore keeps
                return str(document["vendor_id"])
            return str(self._sync(req, f"vendor {document['vendor_id']}")["id"])
        if item_type == "payment":
            return self._send_payment(document)
        raise ValueError(f"procore writer: {item_type!r} is not imported into Procore")

    def close(self) -> None:
        if self._client is not None:
            self._client.session.close()
            self._client = None

    # -- write-back --------------------------------------------------------------------------
    def write_back_request(self, item_type: str, procore_id: int, project_id: int | None,
                           erp_id: str) -> WireRequest | None:
        if item_type in NO_ORIGIN_ID:
            return None
        if item_type not in WRITE_BACK:
            raise ValueError(f"procore write-back: no origin_id for {item_type!r}")
        path, key, scope = WRITE_BACK[item_type]
        if scope not in ("company", "company_path") and project_id is None:
            raise ValueError(f"procore write-back of {item_type} {procore_id}: no project id")
        params = ({"company_id": str(self.company)} if scope == "company" else
                  {"project_id": str(project_id)} if scope == "project" else {})
        return WireRequest("PATCH", path.format(id=procore_id, project_id=project_id,
                                                company_id=self.company),
                           {key: {"origin_id": str(erp_id)}}, self.headers, params)

    def write_back(self, item_type: str, procore_id: int, project_id: int | None,
                   erp_id: str) -> None:
        """Record the ERP id on the Procore item as its ``origin_id`` (idempotent)."""
        req = self.write_back_request(item_type, procore_id, project_id, erp_id)
        if req is not None:
            self.client.write(req.method, req.path, f"{item_type}_write_back", req.body,
                              params=req.params, headers=req.headers)

    # -- direct costs and vendors (sync actions) ---------------------------------------------
    def _direct_cost_request(self, d: dict) -> WireRequest:
        name = f"procore direct cost {_origin(d)}"
        if str(d.get("status", "")).lower() != "approved":
            raise RecordRejected(f"{name}: status {d.get('status')!r}; imported direct costs "
                                 "arrive Approved (C-5)")
        kind = DIRECT_COST_TYPES.get(d.get("direct_cost_type"))
        if kind is None:
            raise RecordRejected(f"{name}: direct cost type {d.get('direct_cost_type')!r} is "
                                 f"not one of {', '.join(DIRECT_COST_TYPES)}")
        row = {"origin_id": _origin(d), "direct_cost_type": kind, "status": "approved",
               "invoice_number": d.get("invoice_number"), "description": d.get("description"),
               "direct_cost_date": d.get("direct_cost_date"),
               "received_date": d.get("received_date"),
               "line_items": [_line(li) for li in d.get("lines") or []]}
        if d.get("vendor_id") is not None:
            row["vendor_id"] = int(d["vendor_id"])
        return WireRequest("PATCH", f"{API}/projects/{d['project_id']}/direct_costs/sync",
                           {"updates": [row]}, self.headers)

    def _vendor_request(self, d: dict) -> WireRequest | None:
        changes = d.get("changes") or {}
        unknown = sorted(set(changes) - set(VENDOR_FIELDS))
        if unknown:
            raise RecordRejected(f"procore vendor {d.get('vendor_id')}: the import updates "
                                 f"name, address, city and phone only, not {', '.join(unknown)}")
        if not changes:
            return None
        row: dict[str, Any] = {"id": int(d["vendor_id"])}
        # Matched by Procore's id; origin_id is left as the link already holds it.
        row |= {VENDOR_FIELDS[k]: v for k, v in changes.items()}
        return WireRequest("PATCH", f"{API}/vendors/sync", {"updates": [row]}, self.headers,
                           {"company_id": str(self.company)})

    def _sync(self, req: WireRequest, name: str) -> dict:
        """Send one sync row; a row under ``errors`` (still HTTP 200) is a RecordRejected."""
        try:
            body, _ = self.client.write(req.method, req.path, "sync", req.body,
                                        params=req.params, headers=req.headers)
        except ApiError as exc:
            raise _refused(exc, name) from exc
        errors = (body or {}).get("errors") or []
        if errors:
            raise RecordRejected(f"procore {name}: " + "; ".join(
                _messages(e.get("errors")) for e in errors), 200)
        entities = (body or {}).get("entities") or []
        if len(entities) != 1:
            raise ApiError(f"procore {name}: sync answered {len(entities)} entities for 1 row")
        return entities[0]

    def _find_vendor(self, d: dict) -> str | None:
        """The vendor, if it already holds every change (the update landed)."""
        wanted = {VENDOR_FIELDS[k]: v for k, v in (d.get("changes") or {}).items()
                  if k in VENDOR_FIELDS}
        for r in self._list(f"{API}/vendors?company_id={self.company}", "vendors", {}):
            if r["id"] == int(d["vendor_id"]):
                done = all(r.get(k) == v for k, v in wanted.items())
                return str(r["id"]) if done else None
        return None

    # -- payments ----------------------------------------------------------------------------
    def _send_payment(self, d: dict) -> str:
        name = f"payment {d.get('erp_payment_id')}"
        if str(d.get("status", "")) in DELETED:
            raise RecordRejected(f"procore {name}: deleted in the ERP; deletions are not "
                                 "propagated to Procore (C-7, XE-10)")
        contract = self._contract(d)
        existing = self._find_payment(d, contract)
        try:
            if existing is None:
                # A create is not safe to repeat: one attempt; a failed run's retry finds first.
                req = self._payment_create(d, contract)
                body, _ = self.client.write(req.method, req.path, "contract_payments",
                                            req.body, headers=req.headers, attempts=1)
            else:
                body, _ = self.client.write(
                    "PATCH", f"{API}/contract_payments/{existing['id']}", "contract_payments",
                    {"contract_payment": _payment_fields(d)},
                    params={"project_id": str(d["project_id"])}, headers=self.headers)
        except ApiError as exc:
            raise _refused(exc, name) from exc
        return str(body["id"])

    def _payment_create(self, d: dict, contract: object) -> WireRequest:
        if d.get("requisition_id") is None:
            raise RecordRejected(f"procore payment {d.get('erp_payment_id')}: not a payment of "
                                 "a subcontractor invoice; only those are imported (AC-17)")
        return WireRequest("POST", f"{API}/contract_payments", {
            "project_id": int(d["project_id"]), "contract_id": contract,
            "contract_payment": _payment_fields(d)}, self.headers)

    def _contract(self, d: dict) -> int:
        """The commitment of the paid subcontractor invoice (requisition)."""
        if d.get("commitment_id") is not None:
            return int(d["commitment_id"])
        req = d.get("requisition_id")
        if req is None:
            raise RecordRejected(f"procore payment {d.get('erp_payment_id')}: not a payment of "
                                 "a subcontractor invoice; only those are imported (AC-17)")
        for r in self._list(f"{API}/requisitions?project_id={d['project_id']}",
                            "requisitions", {}):
            if r["id"] == int(req):
                return int(r["commitment_id"])
        raise RecordRejected(f"procore payment {d.get('erp_payment_id')}: subcontractor "
                             f"invoice {req} is not on project {d['project_id']}", 404)

    def _find_payment(self, d: dict, contract: int) -> dict | None:
        # Procore documents no origin_id filter on contract payments: match on the rows.
        path = f"{API}/contract_payments?project_id={d['project_id']}&contract_id={contract}"
        origin = str(d["erp_payment_id"])
        return next((r for r in self._list(path, "contract_payments", {})
                     if r.get("origin_id") == origin), None)

    # -- reading -----------------------------------------------------------------------------
    def _list(self, path: str, resource: str, params: dict[str, str]) -> Iterator[dict]:
        """Every row of a list endpoint, following ``Link: rel="next"``."""
        url: str | None = path
        query: dict | None = {"per_page": self.page_size, "page": 1, **params}
        while url:
            body, resp = self.client.get(url, resource, params=query, headers=self.headers)
            yield from body or []
            nxt = resp.links.get("next", {}).get("url")
            url, query = (nxt, None) if nxt else (None, None)


def _origin(d: dict) -> str:
    return str(d["erp_txn_id"])


def _line(li: dict) -> dict:
    return {"origin_id": None if li.get("origin_id") is None else str(li["origin_id"]),
            "wbs_code_id": li.get("wbs_code_id"), "description": li.get("description"),
            "quantity": li.get("quantity"), "unit_cost": _money(li.get("unit_cost")),
            "amount": _money(li.get("amount"))}


def _payment_fields(d: dict) -> dict:
    return {"origin_id": str(d["erp_payment_id"]), "requisition_id": d.get("requisition_id"),
            "amount": _money(d.get("amount")), "date": d.get("payment_date"),
            "invoice_number": d.get("invoice_number"), "notes": d.get("reference")}


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _messages(errors: Any) -> str:
    if isinstance(errors, dict):
        return ", ".join(f"{k}: {'; '.join(map(str, v)) if isinstance(v, list) else v}"
                         for k, v in errors.items())
    return str(errors)


def _refused(exc: ApiError, name: str) -> Exception:
    """A 4xx naming the record is Procore refusing it; anything else stays an ApiError."""
    if exc.status in REFUSED:
        return RecordRejected(f"procore {name}: HTTP {exc.status} {exc.body[:300]}", exc.status)
    return exc


def _token() -> str:
    token = os.environ.get("SOURCES__PROCORE__ACCESS_TOKEN")
    if token:
        return token
    import dlt  # the dlt way (secrets.toml), only when sending

    token = dlt.secrets.get("sources.procore.access_token")
    if not token:
        raise ApiError("procore: no access token (SOURCES__PROCORE__ACCESS_TOKEN or "
                       "[sources.procore] access_token)")
    return str(token)


def _client(base_url: str) -> ApiClient:
    # Built as the Procore source builds its own (pipelines/sources/procore.py).
    return ApiClient("procore", base_url, {"Authorization": f"Bearer {_token()}"})


def writer(connection: Connection, settings: Settings) -> ProcoreWriter:
    return ProcoreWriter(connection, settings.procore_base_url, page_size=settings.page_size)
