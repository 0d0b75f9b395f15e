"""The NetSuite writer: exact wire requests from hand-built documents (no I/O), then send and
find against the tiny world's sandbox over real loopback HTTP, signed with the credentials the
dlt way (environment, as tests/conftest.py sets them). Expected values are worked by hand."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from pipelines.config import Connection
from pipelines.exports import netsuite
from pipelines.exports.base import RecordRejected, WireRequest, parse_document
from pipelines.exports.netsuite import NetSuiteWriter, writer
from pipelines.http import ApiClient, CallStats
from pipelines.sandbox import world as world_mod
from pipelines.sandbox.netsuite_auth import SANDBOX_CREDENTIALS as CREDS
from pipelines.sandbox.server import SandboxServer

ACCOUNT = "7100002_SB1"  # netsuite-1 of the tiny world
JSON = {"Content-Type": "application/json"}


def company(vendor_id: int = 2010901, **kw: Any) -> dict[str, Any]:
    return {"vendor_id": vendor_id, "name": "Kauri Formwork Ltd", "address": "12 Quay St",
            "city": "Auckland", "state_code": "AUK", "postal_code": "1010",
            "phone": "+64 9 300 1000", "is_active": True, "erp_vendor_id": None, **kw}


def project(project_id: int = 2000901) -> dict[str, Any]:
    return {"project_id": project_id, "project_number": "P-2901", "name": "Kauri Heights",
            "address": None, "city": "Auckland", "is_active": True, "erp_job_id": "P-2901",
            "tracking_category": None}


def wbs(wbs_code_id: int = 2200901, cost_type: str = "L", **kw: Any) -> dict[str, Any]:
    return {"wbs_code_id": wbs_code_id, "project_id": 2000901, "project_number": "P-2901",
            "project_erp_ref": None, "cost_code": "03-100", "cost_type": cost_type,
            "flat_code": f"03-100.{cost_type}", "description": "Concrete - Labor",
            "erp_item_code": f"P-2901-03-100.{cost_type}", **kw}


def invoice(requisition_id: int, amounts: list[str], vendor: str | None = "20001000",
            job: str | None = "20002000", item: str | None = "20005004") -> dict[str, Any]:
    """As the mart writes it: JSON text with two-decimal numbers, read back with Decimals."""
    lines = ", ".join(
        f'{{"line_id": {n}, "wbs_code": "02-101.O", "cost_code": "02-101", "cost_type": "O", '
        f'"description": "Work {n}", "amount": {a}, '
        f'"item_erp_ref": {"null" if item is None else chr(34) + item + chr(34)}}}'
        for n, a in enumerate(amounts, 1))
    total = sum(Decimal(a) for a in amounts)

    def ref(value: str | None) -> str:
        return "null" if value is None else f'"{value}"'
    return parse_document(
        f'{{"requisition_id": {requisition_id}, "invoice_number": "SUB-{requisition_id}", '
        f'"status": "approved", "billing_date": "2026-06-20", "payment_date": "2026-07-20", '
        f'"total": {total}, "retainage": 0.00, '
        f'"commitment": {{"commitment_id": 77, "number": "SC-007", "erp_ref": null}}, '
        f'"vendor": {{"vendor_id": 2010000, "name": "Vendor 1", "erp_ref": {ref(vendor)}}}, '
        f'"project": {{"project_id": 2000100, "project_number": "P-2001", '
        f'"name": "Harbour View Residences 1", "erp_ref": {ref(job)}}}, '
        f'"lines": [{lines}]}}')


def _connection(base: str = "http://127.0.0.1:9/netsuite/7100002-sb1/services/rest"
                ) -> Connection:
    return Connection("netsuite-1", "netsuite", 4002, "Summit Builders 2", base, ACCOUNT)


def _no_io(conn: Connection) -> ApiClient:
    raise AssertionError("requests() must not build a client")


# -- wire requests (no I/O) ----------------------------------------------------------------------
def test_ns_10_company_is_a_vendor_upsert_by_external_id() -> None:
    """NS-10: a company becomes a vendor (never a customer), in the account's subsidiary."""
    w = NetSuiteWriter(_connection(), client_factory=_no_io)
    assert w.requests("company", company()) == [WireRequest(
        "PUT", "record/v1/vendor/eid:costbridge-company-2010901",
        {"companyName": "Kauri Formwork Ltd", "isInactive": False, "phone": "+64 9 300 1000",
         "subsidiary": {"id": "1"},
         "addressBook": {"items": [{"defaultBilling": True, "addressBookAddress": {
             "addr1": "12 Quay St", "city": "Auckland", "state": "AUK", "zip": "1010"}}]}},
        JSON, {"replace": "addressBook"})]
    inactive = w.requests("company", company(is_active=False, phone=None, address=None,
                                             city=None, state_code=None, postal_code=None))
    assert inactive[0].body == {"companyName": "Kauri Formwork Ltd", "isInactive": True,
                                "subsidiary": {"id": "1"}}


def test_ns_11_project_is_a_top_level_job_named_by_project_number() -> None:
    """NS-11: a job whose entity id is the project number; no parent (sub jobs, NS-6)."""
    (call,) = NetSuiteWriter(_connection(), client_factory=_no_io).requests("project", project())
    assert (call.method, call.path) == ("PUT", "record/v1/job/eid:costbridge-project-2000901")
    assert call.body == {"entityId": "P-2901", "companyName": "Kauri Heights",
                         "isInactive": False, "subsidiary": {"id": "1"},
                         "addressBook": {"items": [{"defaultBilling": True,
                                                    "addressBookAddress": {"city": "Auckland"}}]}}


def test_ns_3_ns_7_ns_8_wbs_code_is_an_other_charge_item_on_its_expense_account() -> None:
    """NS-3 name, NS-7 Other Charge record type, NS-8 default account 384 or the mapped one."""
    plain = NetSuiteWriter(_connection(), client_factory=_no_io)
    mapped = NetSuiteWriter(_connection(), client_factory=_no_io,
                            expense_accounts={"L": "385", "M": "386"})
    item = {"itemId": "P-2901-03-100.L", "displayName": "Concrete - Labor",
            "purchaseDescription": "Concrete - Labor", "expenseAccount": {"id": "384"},
            "subsidiary": {"items": [{"id": "1"}]}}
    assert plain.requests("wbs_code", wbs()) == [WireRequest(
        "PUT", "record/v1/otherChargePurchaseItem/eid:costbridge-wbs_code-2200901", item, JSON)]
    assert mapped.requests("wbs_code", wbs())[0].body == {**item, "expenseAccount": {"id": "385"}}
    other = mapped.requests("wbs_code", wbs(cost_type="E"))[0].body  # E is not mapped
    assert other["expenseAccount"] == {"id": "384"} and other["itemId"] == "P-2901-03-100.E"


def test_ns_8_at_most_ten_cost_types_map_to_accounts() -> None:
    ten = {f"T{i}": str(400 + i) for i in range(10)}
    assert NetSuiteWriter(_connection(), expense_accounts=ten).expense_accounts == ten
    with pytest.raises(ValueError, match="11 cost types .* at most 10 .*NS-8"):
        NetSuiteWriter(_connection(), expense_accounts={**ten, "T10": "410"})


def test_ns_3_a_misnamed_item_code_is_refused() -> None:
    with pytest.raises(RecordRejected, match="'P-2901-03100L' is not the NS-3 name "
                                             "'P-2901-03-100.L'"):
        NetSuiteWriter(_connection()).requests("wbs_code", wbs(erp_item_code="P-2901-03100L"))


def test_ns_12_positive_invoice_is_a_vendor_bill_with_exact_decimal_lines() -> None:
    """NS-12: one item line per invoice line on the job; 1200.50 + 799.50 = 2000.00."""
    (call,) = NetSuiteWriter(_connection(), client_factory=_no_io).requests(
        "subcontractor_invoice", invoice(2400901, ["1200.50", "799.50"]))
    assert (call.path, call.params) == (
        "record/v1/vendorBill/eid:costbridge-subcontractor_invoice-2400901", {"replace": "item"})

    def line(n: int, amount: str) -> dict[str, Any]:
        return {"item": {"id": "20005004"}, "quantity": 1, "rate": Decimal(amount),
                "amount": Decimal(amount), "description": f"Work {n}",
                "customer": {"id": "20002000"}}
    assert call.body == {"entity": {"id": "20001000"}, "tranId": "SUB-2400901",
                         "tranDate": "2026-06-20", "dueDate": "2026-07-20",
                         "memo": "Commitment SC-007", "subsidiary": {"id": "1"},
                         "item": {"items": [line(1, "1200.50"), line(2, "799.50")]}}
    assert str(call.body["item"]["items"][0]["amount"]) == "1200.50"  # exact, never a float


def test_ns_13_negative_invoice_is_a_vendor_credit_with_positive_lines() -> None:
    """NS-13: total -150.25 (-200.00 + 49.75): a vendor credit, lines 200.00 and -49.75."""
    (call,) = NetSuiteWriter(_connection(), client_factory=_no_io).requests(
        "subcontractor_invoice", invoice(2400902, ["-200.00", "49.75"]))
    assert call.path == "record/v1/vendorCredit/eid:costbridge-subcontractor_invoice-2400902"
    assert [(x["amount"], x["rate"]) for x in call.body["item"]["items"]] == [
        (Decimal("200.00"), Decimal("200.00")), (Decimal("-49.75"), Decimal("-49.75"))]
    assert "dueDate" not in call.body


@pytest.mark.parametrize(("kw", "rule"), [
    ({"vendor": None}, "NS-10 company_not_synced"), ({"job": None}, "NS-11 project_not_synced"),
    ({"item": None}, "NS-4 line_code_not_synced")])
def test_invoice_with_an_unsynced_reference_is_refused_before_any_call(kw: dict,
                                                                       rule: str) -> None:
    with pytest.raises(RecordRejected, match=rule):
        NetSuiteWriter(_connection(), client_factory=_no_io).requests(
            "subcontractor_invoice", invoice(2400903, ["10.00"], **kw))


def test_ns_1_types_netsuite_never_takes_are_refused() -> None:
    with pytest.raises(RecordRejected, match="NS-1"):
        NetSuiteWriter(_connection()).requests("commitment", {"commitment_id": 1})


def test_writer_factory_does_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netsuite, "_signed_client", _no_io)
    w = writer(_connection(), settings=None)  # type: ignore[arg-type]
    assert w.system == "netsuite" and w.requests("project", project())
    w.close()


# -- against the sandbox -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(world_mod.generate(42, "tiny")) as srv:
        yield srv


@pytest.fixture()
def live(server: SandboxServer) -> Iterator[NetSuiteWriter]:
    w = writer(_connection(f"{server.url}/netsuite/7100002-sb1/services/rest"),
               settings=None)  # type: ignore[arg-type]
    yield w
    w.close()


def _rows(server: SandboxServer, q: str) -> list[dict[str, str]]:
    auth = OAuth1(CREDS.consumer_key, CREDS.consumer_secret, CREDS.token_id, CREDS.token_secret,
                  signature_method="HMAC-SHA256", realm=ACCOUNT)
    r = requests.post(f"{server.url}/netsuite/7100002-sb1/services/rest/query/v1/suiteql",
                      json={"q": q}, auth=auth, headers={"Prefer": "transient"}, timeout=10)
    assert r.status_code == 200, r.text
    return [{k: v for k, v in i.items() if k != "links"} for i in r.json()["items"]]


def test_ns_10_send_twice_creates_one_vendor_and_find_returns_it(
        live: NetSuiteWriter, server: SandboxServer) -> None:
    doc = company(2010950)
    assert live.find("company", doc, "k-1") is None
    first = live.send("company", doc, "k-1")
    again = live.send("company", {**doc, "phone": "+64 9 300 2000"}, "k-1")
    assert first == again == live.find("company", doc, "k-1")
    assert _rows(server, "SELECT id, companyname, phone FROM vendor "
                 "WHERE externalid = 'costbridge-company-2010950'") == [
        {"id": first, "companyname": "Kauri Formwork Ltd", "phone": "+64 9 300 2000"}]


def test_ns_11_ns_3_ns_12_project_item_and_bill_chain(live: NetSuiteWriter,
                                                     server: SandboxServer) -> None:
    """A new job, its Other Charge item, a vendor, then a bill on them (sent twice: one bill,
    the same two lines): the next extract sees 300.00 + 450.25 = 750.25 on the job."""
    job = live.send("project", project(2000960), "k-p")
    item = live.send("wbs_code", wbs(2200960), "k-w")
    vendor = live.send("company", company(2010960), "k-c")
    doc = invoice(2400960, ["300.00", "450.25"], vendor=vendor, job=job, item=item)
    bill = live.send("subcontractor_invoice", doc, "k-i")
    assert live.send("subcontractor_invoice", doc, "k-i") == bill
    assert _rows(server, f"SELECT entityid FROM job WHERE id = {job}") == [{"entityid": "P-2901"}]
    assert _rows(server, f"SELECT itemid, expenseaccount FROM item WHERE id = {item}") == [
        {"itemid": "P-2901-03-100.L", "expenseaccount": "384"}]
    assert _rows(server, "SELECT id, type, entity, foreigntotal FROM transaction "
                 "WHERE externalid = 'costbridge-subcontractor_invoice-2400960'") == [
        {"id": bill, "type": "VendBill", "entity": vendor, "foreigntotal": "750.25"}]
    assert _rows(server, "SELECT id, item, entity, netamount FROM transactionline "
                 f"WHERE transaction = {bill} ORDER BY id") == [
        {"id": "0", "netamount": "-750.25"},
        {"id": "1", "item": item, "entity": job, "netamount": "300.00"},
        {"id": "2", "item": item, "entity": job, "netamount": "450.25"}]


def test_ns_13_negative_invoice_sent_as_a_vendor_credit(live: NetSuiteWriter,
                                                        server: SandboxServer) -> None:
    doc = invoice(2400970, ["-80.50"])
    credit = live.send("subcontractor_invoice", doc, "k-n")
    assert live.find("subcontractor_invoice", doc, "k-n") == credit
    assert _rows(server, "SELECT type, foreigntotal FROM transaction "
                 f"WHERE id = {credit}") == [{"type": "VendCred", "foreigntotal": "80.50"}]


def test_a_400_is_record_rejected_with_netsuites_detail(live: NetSuiteWriter) -> None:
    doc = invoice(2400980, ["10.00"], item="31337")
    with pytest.raises(RecordRejected) as err:
        live.send("subcontractor_invoice", doc, "k-x")
    assert err.value.http_status == 400
    assert str(err.value) == (
        "netsuite refused vendorBill eid:costbridge-subcontractor_invoice-2400980: Error while "
        "accessing a resource. You have entered an Invalid Field Value 31337 for the following "
        "field: item [item.items[0].item]")
    assert live.find("subcontractor_invoice", doc, "k-x") is None


def test_send_without_location_falls_back_to_get_eid(server: SandboxServer) -> None:
    from pipelines.sources.netsuite import signed_client

    class NoLocation(ApiClient):
        def write(self, *args: Any, **kwargs: Any) -> Any:
            body, resp = super().write(*args, **kwargs)
            del resp.headers["Location"]
            return body, resp

    stats = CallStats()

    def factory(conn: Connection) -> ApiClient:
        return NoLocation("netsuite", conn.erp_base_url, {}, stats=stats,
                          auth=signed_client(conn).session.auth)

    w = NetSuiteWriter(_connection(f"{server.url}/netsuite/7100002-sb1/services/rest"),
                       client_factory=factory)
    erp_id = w.send("company", company(2010990), "k-l")
    assert stats.calls[("netsuite", "vendor")] == 2  # the PUT, then GET eid: for the id
    assert _rows(server, "SELECT id FROM vendor WHERE externalid = "
                 "'costbridge-company-2010990'") == [{"id": erp_id}]
    w.close()
