"""The Acumatica writer: exact payloads from hand-built documents, and send/find against the
sandbox over real loopback HTTP (tiny world, seed 42: tenant Ridge3, vendors V003000…,
projects P-3001…, tasks 01/02, cost codes 01100.000 and 02101.000, 48 bills, 17 checks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import requests

from pipelines import config, run
from pipelines.config import Connection, Settings
from pipelines.exports.acumatica import AcumaticaWriter, task_of, writer
from pipelines.exports.base import RecordRejected, parse_document
from pipelines.http import dumps_exact
from pipelines.sandbox import world as world_mod
from pipelines.sandbox.acumatica import SANDBOX_USER
from pipelines.sandbox.server import SandboxServer
from pipelines.sources.acumatica import acumatica_source

BASE = "http://127.0.0.1:9/acumatica/ridge3"  # nothing listens: building calls needs no I/O
EP = f"{BASE}/entity/Default/24.200.001"


def conn(base: str = BASE) -> Connection:
    return Connection(id="acumatica-1", erp="acumatica", procore_company_id=1,
                      company_name="Ridge", erp_base_url=base, erp_tenant_id="Ridge3")


def settings(c: Connection) -> Settings:
    return Settings(warehouse=Path("w.duckdb"), published=Path("p"), keep_snapshots=1,
                    procore_base_url="http://127.0.0.1:9/procore", connections=(c,))


def doc(value: dict) -> dict:
    """A document as the mart writes it and the push loop reads it (money as Decimal)."""
    return parse_document(json.dumps(value))


VENDOR = {"vendor_id": 9001, "name": "Quarry & Sons, Ltd", "address": "12 Quarry Rd",
          "city": "Joliet", "state_code": "IL", "postal_code": "60431", "phone": "555-0142",
          "is_active": True, "erp_vendor_id": "V009001"}
PROJECT = {"project_id": 777, "project_number": "P-9001",
           "name": "Harbour View Residences, Stage Two East", "address": "1 Quay St, Suite 4",
           "city": "Wellington", "is_active": True, "erp_job_id": "P-9001",
           "tracking_category": None}
PROJ_REF = {"project_id": 11, "project_number": "P-3001", "name": "Harbour", "erp_ref": "P-3001"}
VEND_REF = {"vendor_id": 21, "name": "Ridge Concrete", "erp_ref": "V003000"}
SUBCONTRACT = {
    "commitment_id": 501, "number": "SC-9001", "title": "Concrete package", "status": "Approved",
    "contract_date": "2026-06-01", "kind": "subcontract", "vendor": VEND_REF,
    "project": PROJ_REF, "lines": [
        {"line_id": 1, "wbs_code": "01.01-100.000.MATERIAL", "cost_code": "01-100.000",
         "cost_type": "MATERIAL", "description": "Footings", "quantity": 1.0,
         "unit_cost": 48000.00, "amount": 48000.00, "item_erp_ref": None},
        {"line_id": 2, "wbs_code": "02.02-101.000.LABOR", "cost_code": "02-101.000",
         "cost_type": "LABOR", "description": "Walls", "quantity": None, "unit_cost": None,
         "amount": 1250.50, "item_erp_ref": None}]}
INVOICE = {
    "requisition_id": 601, "invoice_number": "INV-9001", "status": "Approved",
    "billing_date": "2026-06-15", "payment_date": None, "total": 3000.00, "retainage": 300.00,
    "commitment": {"commitment_id": 501, "number": "SC-001", "erp_ref": "x"},
    "vendor": VEND_REF, "project": PROJ_REF, "lines": [
        {"line_id": 11, "wbs_code": "01.01-100.000.MATERIAL", "cost_code": "01-100.000",
         "cost_type": "MATERIAL", "description": "Footings progress", "amount": 2000.00,
         "item_erp_ref": None},
        {"line_id": 12, "wbs_code": "02.02-101.000.LABOR", "cost_code": "02-101.000",
         "cost_type": "LABOR", "description": "Walls progress", "amount": 1000.00,
         "item_erp_ref": None}]}
BUDGET = {"project": PROJ_REF, "lines": [
    {"budget_line_item_id": 1, "wbs_code": "01.01-100.000.MATERIAL", "cost_code": "01-100.000",
     "cost_type": "MATERIAL", "task": "01", "amount": 400000.00},
    {"budget_line_item_id": 2, "wbs_code": "02.01-100.000.SUBCON", "cost_code": "01-100.000",
     "cost_type": "SUBCON", "task": "02", "amount": 1500.00}]}
BUDGET_CHANGE = {"budget_change_id": 31, "number": "7", "description": "Slab thickening",
                 "date": "2026-06-20", "project": PROJ_REF, "lines": [
                     {"line_id": 1, "wbs_code": "01.01-100.000.MATERIAL",
                      "cost_code": "01-100.000", "cost_type": "MATERIAL",
                      "description": "Extra slab", "amount": 2500.00}]}
CCO = {"change_order_id": 41, "number": "CCO-3", "title": "Extra footings", "date": "2026-06-21",
       "commitment": {"commitment_id": 501, "number": "SC-001", "kind": "subcontract",
                      "erp_ref": "x"},
       "vendor": VEND_REF, "project": PROJ_REF, "lines": [
           {"line_id": 5, "wbs_code": "01.01-100.000.MATERIAL", "cost_code": "01-100.000",
            "cost_type": "MATERIAL", "description": "Two more footings", "amount": 850.25}]}
PAYMENT = {"payment_id": 71, "invoice_number": "SUP-AC000001", "amount": 1234.50,
           "payment_date": "2026-06-25", "reference": "Procore Pay 71",
           "vendor": {"erp_ref": "V003003"},
           "invoice": {"erp_ref": "x", "reference_nbr": "000001"}}


def w(v: object) -> dict:
    return {"value": v}


# -- payloads, no I/O ------------------------------------------------------------------------------
@pytest.fixture()
def offline() -> AcumaticaWriter:
    c = conn()
    return writer(c, settings(c))


def test_vendor_payload_carries_the_typed_vendor_id_and_no_insurance_AC_13(
        offline: AcumaticaWriter) -> None:
    """AC-13: VendorID = the ERP Vendor ID the approver typed; no insurance data."""
    (call,) = offline.requests("company", doc(VENDOR))
    assert (call.method, call.path, call.headers) == ("PUT", f"{EP}/Vendor",
                                                      {"If-None-Match": "*"})
    assert call.body == {
        "VendorID": w("V009001"), "VendorName": w("Quarry & Sons, Ltd"), "Status": w("Active"),
        "MainContact": {"Phone1": w("555-0142"), "Address": {
            "AddressLine1": w("12 Quarry Rd"), "City": w("Joliet"), "State": w("IL"),
            "PostalCode": w("60431")}}}
    assert "nsurance" not in json.dumps(call.body)


def test_project_payload_truncates_name_strips_commas_and_sends_no_budget_AC_7_AC_8(
        offline: AcumaticaWriter) -> None:
    """AC-7: Job ID as given, name cut to 30, no commas in the address, Active.
    AC-8: one call, the project only; the budget is its own export."""
    calls = offline.requests("project", doc(PROJECT))
    assert len(calls) == 1 and calls[0].path == f"{EP}/Project"
    # "Harbour View Residences, Stage Two East"[:30]: 7 + 1 + 4 + 1 + 11 + 1 + 5 = 30
    assert calls[0].body == {
        "ProjectID": w("P-9001"), "Description": w("Harbour View Residences, Stage"),
        "Status": w("Active"), "Hold": w(False), "ExternalRefNbr": w("777"),
        "ProjectAddress": {"AddressLine1": w("1 Quay St Suite 4"), "City": w("Wellington")}}
    with pytest.raises(RecordRejected, match=r"P-9001.*not active.*AC-7"):
        offline.requests("project", doc({**PROJECT, "is_active": False}))


def test_subcontract_and_purchase_order_payloads_AC_14(offline: AcumaticaWriter) -> None:
    """AC-14 (AC-1 "Use Procore Contract #"): the Procore number is the document number."""
    (call,) = offline.requests("commitment", doc(SUBCONTRACT))
    assert (call.path, call.params) == (f"{EP}/Subcontract", {"$expand": "Details"})
    assert call.body == {
        "SubcontractNbr": w("SC-9001"), "Description": w("Concrete package"),
        "Date": w("2026-06-01"), "VendorID": w("V003000"), "Details": [
            {"LineDescription": w("Footings"), "OrderQty": w(Decimal("1.0")),
             "UnitCost": w(Decimal("48000.0")), "Amount": w(Decimal("48000.0")),
             "Project": w("P-3001"), "Task": w("01"), "CostCode": w("01100.000")},
            {"LineDescription": w("Walls"), "Amount": w(Decimal("1250.5")),
             "Project": w("P-3001"), "Task": w("02"), "CostCode": w("02101.000")}]}
    assert '"Amount": {"value": 1250.5}' in dumps_exact(call.body)  # exact, not a float
    (po,) = offline.requests("commitment", doc({**SUBCONTRACT, "kind": "purchase_order"}))
    assert po.path == f"{EP}/PurchaseOrder"
    assert (po.body["Type"], po.body["OrderNbr"], po.body["Project"]) == (
        w("Normal"), w("SC-9001"), w("P-3001"))
    assert po.body["Details"][1] == {"LineDescription": w("Walls"),
                                     "ExtendedCost": w(Decimal("1250.5")),
                                     "Project": w("P-3001"), "ProjectTask": w("02"),
                                     "CostCode": w("02101.000")}


def test_bill_payload_vendor_ref_and_lines_AC_16(offline: AcumaticaWriter) -> None:
    """AC-16: VendorRef = invoice number; lines on project, task, cost code and the
    subcontract; no reference number (Acumatica numbers bills)."""
    (call,) = offline.requests("subcontractor_invoice", doc(INVOICE))
    assert call.path == f"{EP}/Bill" and "ReferenceNbr" not in call.body
    assert {k: v for k, v in call.body.items() if k != "Details"} == {
        "Type": w("Bill"), "Vendor": w("V003000"), "VendorRef": w("INV-9001"),
        "Date": w("2026-06-15"), "Description": w("Procore invoice INV-9001"), "Hold": w(False)}
    assert call.body["Details"][0] == {
        "TransactionDescription": w("Footings progress"), "Amount": w(Decimal("2000.0")),
        "Project": w("P-3001"), "ProjectTask": w("01"), "CostCode": w("01100.000"),
        "POOrderType": w("Subcontract"), "POOrderNbr": w("SC-001")}
    credit = dict(INVOICE, total=-150.0, lines=[dict(INVOICE["lines"][0], amount=-150.0)])
    (adj,) = offline.requests("subcontractor_invoice", doc(credit))
    assert adj.body["Type"] == w("Debit Adj.")
    assert adj.body["Details"][0]["Amount"] == w(Decimal("150.0"))


def test_budget_payload_is_amounts_only_AC_11(offline: AcumaticaWriter) -> None:
    """AC-11: one update per budget line, original amount only: no UOM, no quantity."""
    calls = offline.requests("budget", doc(BUDGET))
    assert [(c.method, c.path, c.headers) for c in calls] == [
        ("PUT", f"{EP}/ProjectBudget", {"If-Match": "*"})] * 2
    assert calls[1].body == {"ProjectID": w("P-3001"), "ProjectTaskID": w("02"),
                             "CostCode": w("01100.000"), "AccountGroup": w("SUBCON"),
                             "OriginalBudgetedAmount": w(Decimal("1500.0"))}
    assert not any(k in json.dumps(c.body, default=str) for c in calls
                   for k in ("UOM", "Qty", "UnitRate"))


def test_budget_change_and_cco_payloads_AC_12_AC_15(offline: AcumaticaWriter) -> None:
    """AC-12: On Hold, a potential budget CO. AC-15: numbered by Acumatica (no RefNbr sent),
    cost budget and commitment lines on existing cost codes."""
    (bc,) = offline.requests("budget_change", doc(BUDGET_CHANGE))
    assert bc.path == f"{EP}/ChangeOrder" and "RefNbr" not in bc.body
    assert (bc.body["Hold"], bc.body["Class"], bc.body["Description"]) == (
        w(True), w("BUDGET"), w("Potential Budget CO 7: Slab thickening"))
    assert bc.body["ExternalRefNbr"] == w("costbridge-budget_change-31")
    assert bc.body["CostBudget"] == [{
        "ProjectTaskID": w("01"), "CostCode": w("01100.000"), "AccountGroup": w("MATERIAL"),
        "Description": w("Extra slab"), "Amount": w(Decimal("2500.0"))}]
    (cco,) = offline.requests("cco", doc(CCO))
    assert cco.body["Commitments"] == [{
        "POType": w("Subcontract"), "PONbr": w("SC-001"), "Vendor": w("V003000"),
        "LineDescription": w("Two more footings"), "ProjectTaskID": w("01"),
        "CostCode": w("01100.000"), "Amount": w(Decimal("850.25"))}]
    no_type = dict(CCO, lines=[dict(CCO["lines"][0], cost_type=None)])
    with pytest.raises(RecordRejected, match=r"CCO-3.*line 5.*AC-15"):
        offline.requests("cco", doc(no_type))


def test_check_payload_procore_pay_on_hold_AC_17(offline: AcumaticaWriter) -> None:
    """AC-17: a Procore Pay payment is a Check with method PROCORE, On Hold."""
    (call,) = offline.requests("payment", doc(PAYMENT))
    assert call.body == {
        "Type": w("Payment"), "Vendor": w("V003003"), "PaymentMethod": w("PROCORE"),
        "Hold": w(True), "PaymentRef": w("costbridge-payment-71"),
        "ApplicationDate": w("2026-06-25"), "PaymentAmount": w(Decimal("1234.5")),
        "Description": w("Procore Pay 71"),
        "Details": [{"DocType": w("Bill"), "ReferenceNbr": w("000001"),
                     "AmountPaid": w(Decimal("1234.5"))}]}


@pytest.mark.parametrize(("line", "task"), [
    ({"wbs_code": "01.03-100.000.LABOR", "cost_code": "03-100.000", "cost_type": "LABOR"}, "01"),
    ({"wbs_code": "B1.02.03-100.000.LABOR", "cost_code": "03-100.000", "cost_type": "LABOR"},
     "B1 - 02"),
    ({"task": "B1.02"}, "B1 - 02"), ({"task": "B9 - 01"}, "B9 - 01"),
    ({"wbs_code": "03-100.000.LABOR", "cost_code": "03-100.000", "cost_type": "LABOR"}, None)])
def test_task_from_the_wbs_code_AC_9(line: dict, task: str | None) -> None:
    """AC-9: a sub job task is ``SubJobID - TaskID``."""
    assert task_of(line) == task


# -- against the sandbox ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def live() -> Iterator[tuple[SandboxServer, Connection]]:
    world = world_mod.generate(42, "tiny")
    with SandboxServer(world) as server:
        yield server, conn(f"{server.url}/acumatica/ridge3")


@pytest.fixture()
def acu(live: tuple[SandboxServer, Connection]) -> Iterator[AcumaticaWriter]:
    c = live[1]
    out = writer(c, settings(c))
    yield out
    out.close()


def _seats_free(base: str, n: int = 2) -> bool:
    """Whether ``n`` logins fit now (the sandbox allows two sessions per tenant)."""
    sessions = [requests.Session() for _ in range(n)]
    try:
        codes = [s.post(f"{base}/entity/auth/login", json={
            "name": SANDBOX_USER[0], "password": SANDBOX_USER[1], "tenant": "Ridge3"},
            timeout=10).status_code for s in sessions]
        return codes == [204] * n
    finally:
        for s in sessions:
            s.post(f"{base}/entity/auth/logout", timeout=10)


def _get(acu: AcumaticaWriter, path: str, **params: str) -> object:
    return acu.client.get(f"{acu.base}/entity/Default/24.200.001/{path}", "test", params)[0]


def test_vendor_and_project_sent_twice_create_one_each_AC_13_AC_7(acu: AcumaticaWriter) -> None:
    """AC-13 / AC-7: the keys we send; a repeat gets 412 and find answers the record."""
    assert acu.find("company", doc(VENDOR), "k1") is None
    assert acu.send("company", doc(VENDOR), "k1") == "V009001"
    assert acu.send("company", doc(VENDOR), "k1") == "V009001"
    assert acu.find("company", doc(VENDOR), "k1") == "V009001"
    assert len(_get(acu, "Vendor", **{"$filter": "VendorID eq 'V009001'"})) == 1
    assert acu.send("project", doc(PROJECT), "k2") == "P-9001"
    assert acu.send("project", doc(PROJECT), "k2") == "P-9001"
    saved = _get(acu, "Project/P-9001", **{"$expand": "ProjectAddress"})
    assert saved["Description"] == w("Harbour View Residences, Stage")
    assert saved["ProjectAddress"]["AddressLine1"] == w("1 Quay St Suite 4")


def test_bill_found_by_vendor_ref_before_create_AC_16(acu: AcumaticaWriter) -> None:
    """AC-16: the numbered bill is created once; the second send finds it by VendorRef."""
    assert acu.find("subcontractor_invoice", doc(INVOICE), "k3") is None
    bill_id = acu.send("subcontractor_invoice", doc(INVOICE), "k3")
    assert acu.send("subcontractor_invoice", doc(INVOICE), "k3") == bill_id
    assert acu.find("subcontractor_invoice", doc(INVOICE), "k3") == bill_id
    (bill,) = _get(acu, "Bill", **{"$filter": "VendorRef eq 'INV-9001'", "$expand": "Details"})
    assert bill["id"] == bill_id and bill["ReferenceNbr"] == w("000049")  # after 48 bills
    assert bill["Amount"] == w(Decimal("3000.00"))  # 2000.00 + 1000.00
    assert [d["CostCode"]["value"] for d in bill["Details"]] == ["01100.000", "02101.000"]


def test_commitment_sent_twice_and_refusals_name_the_record_AC_14(acu: AcumaticaWriter) -> None:
    """AC-14: the sandbox refuses a 16-character number and a 61-character title; the writer
    raises RecordRejected naming the commitment and each field."""
    sc_id = acu.send("commitment", doc(SUBCONTRACT), "k4")
    assert acu.send("commitment", doc(SUBCONTRACT), "k4") == sc_id
    saved = _get(acu, "Subcontract/SC-9001")
    assert saved["id"] == sc_id and saved["SubcontractTotal"] == w(Decimal("49250.50"))
    long = dict(SUBCONTRACT, number="SC-1234567890123", title="t" * 61)
    with pytest.raises(RecordRejected) as err:
        acu.send("commitment", doc(long), "k5")
    text = str(err.value)
    assert err.value.http_status == 422
    assert "commitment SC-1234567890123" in text and "AC-14" in text
    assert "SubcontractNbr: Error: 'SubcontractNbr' is too long: 16 characters" in text
    assert "Description: Error: 'Description' is too long: 61 characters" in text


def test_unknown_cost_code_is_a_field_refusal_AC_16(acu: AcumaticaWriter) -> None:
    bad = dict(INVOICE, invoice_number="INV-9002",
               lines=[dict(INVOICE["lines"][1], cost_code="99-999.000")])
    with pytest.raises(RecordRejected, match=r"subcontractor invoice INV-9002 refused \(HTTP "
                       r"422, AC-16\): Details\[1\]\.CostCode: Error: Cost Code '99999\.000'"):
        acu.send("subcontractor_invoice", doc(bad), "k6")


def test_vendor_without_typed_id_is_refused_AC_13(acu: AcumaticaWriter) -> None:
    """AC-13: the approver types the Vendor ID; without one Acumatica refuses the vendor (the
    sandbox does not auto-number vendor IDs) and nothing is found or created."""
    untyped = dict(VENDOR, erp_vendor_id=None, name="Nameless Ltd")
    assert acu.find("company", doc(untyped), "k12") is None
    with pytest.raises(RecordRejected, match=r"company 'Nameless Ltd' refused \(HTTP 422, "
                       r"AC-13\): VendorID: Error: 'VendorID' cannot be empty\."):
        acu.send("company", doc(untyped), "k12")
    assert _get(acu, "Vendor", **{"$filter": "VendorName eq 'Nameless Ltd'"}) == []


def test_budget_lines_updated_and_found_AC_11(acu: AcumaticaWriter) -> None:
    """AC-11: original amounts onto existing lines; a line of a code never exported is a
    refusal naming it."""
    assert acu.find("budget", doc(BUDGET), "k7") is None  # the world has 385337.00 and 0.00
    assert acu.send("budget", doc(BUDGET), "k7") == "P-3001"
    assert acu.find("budget", doc(BUDGET), "k7") == "P-3001"
    line = _get(acu, "ProjectBudget/P-3001/02/01100.000/SUBCON")
    assert line["OriginalBudgetedAmount"] == w(Decimal("1500.00"))
    assert line["RevisedBudgetedAmount"] == w(Decimal("1500.00"))  # 0.00 + 1500.00
    unexported = dict(BUDGET, lines=[dict(BUDGET["lines"][0], cost_type="EQUIP")])
    with pytest.raises(RecordRejected, match=r"P-3001 / 01 / 01100\.000 / EQUIP does not "
                       r"exist.*not exported.*AC-11"):
        acu.send("budget", doc(unexported), "k8")


def test_change_orders_numbered_once_each_AC_12_AC_15(acu: AcumaticaWriter) -> None:
    """AC-12: the budget change posts On Hold. AC-15: the CCO is numbered by Acumatica; both
    are found again by their external reference, so a resend creates nothing."""
    bc_id = acu.send("budget_change", doc(BUDGET_CHANGE), "k9")
    assert acu.send("budget_change", doc(BUDGET_CHANGE), "k9") == bc_id
    cco_id = acu.send("cco", doc(CCO), "k10")
    assert acu.send("cco", doc(CCO), "k10") == cco_id
    orders = {o["id"]: o for o in _get(acu, "ChangeOrder")}
    assert len(orders) == 2
    assert (orders[bc_id]["RefNbr"], orders[bc_id]["Status"]) == (w("000001"), w("On Hold"))
    assert (orders[cco_id]["RefNbr"], orders[cco_id]["Status"]) == (w("000002"), w("Open"))
    assert orders[cco_id]["CommitmentsChangeTotal"] == w(Decimal("850.25"))


def test_procore_pay_check_sent_twice_creates_one_AC_17(acu: AcumaticaWriter) -> None:
    """AC-17: PROCORE method, On Hold, found by PaymentRef + Vendor on the resend."""
    check_id = acu.send("payment", doc(PAYMENT), "k11")
    assert acu.send("payment", doc(PAYMENT), "k11") == check_id
    (check,) = _get(acu, "Check", **{"$filter": "PaymentRef eq 'costbridge-payment-71'"})
    assert check["id"] == check_id and check["ReferenceNbr"] == w("000018")  # after 17
    assert (check["PaymentMethod"], check["Status"]) == (w("PROCORE"), w("On Hold"))
    assert check["PaymentAmount"] == w(Decimal("1234.50"))


def test_close_logs_out_so_both_seats_are_free(live: tuple[SandboxServer, Connection]) -> None:
    """Seats are limited to two: a writer holds one while open and frees it on close."""
    c = live[1]
    out = writer(c, settings(c))
    assert out.find("company", doc(dict(VENDOR, erp_vendor_id="V003000")), "k") == "V003000"
    assert not _seats_free(c.erp_base_url)  # the writer's session + 2 > 2
    out.close()
    assert _seats_free(c.erp_base_url)
    out.close()  # a second close is harmless


def test_the_next_extract_sees_written_records(acu: AcumaticaWriter, tmp_path: Path) -> None:
    """The real dlt source, run after the writes, loads them stamped with the write time
    (the world clock, 2026-06-30), so the queue can show them synced."""
    assert acu.send("company", doc(VENDOR), "k1") == "V009001"
    bill_id = acu.send("subcontractor_invoice", doc(INVOICE), "k3")
    acu.close()  # one seat for the extract's own session
    cfg = config.parse({
        "warehouse": {"path": str(tmp_path / "wh.duckdb"),
                      "published": str(tmp_path / "published")},
        "procore": {"base_url": "http://127.0.0.1:1/procore"},
        "connections": [{"id": "acumatica-1", "erp": "acumatica", "procore_company_id": 1,
                         "erp_base_url": acu.base, "erp_tenant_id": "Ridge3"}]})
    run._pipeline("acumatica", cfg).run(acumatica_source(cfg.active("acumatica")),
                                        loader_file_format="parquet")
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        vendors = con.execute("select vendor_name, last_modified_date_time from "
                              "raw_acumatica.vendors where vendor_id = 'V009001'").fetchall()
        bills = con.execute("select id, reference_nbr, amount from raw_acumatica.bills "
                            "where vendor_ref = 'INV-9001'").fetchall()
    assert vendors == [("Quarry & Sons, Ltd", datetime(2026, 6, 30, tzinfo=UTC))]
    assert bills == [(bill_id, "000049", Decimal("3000.000000000"))]


def test_an_ended_session_is_renewed_once(acu: AcumaticaWriter) -> None:
    """A session ended on the server (timeout, admin) answers 401: the writer logs in again
    and repeats the call."""
    known = dict(VENDOR, erp_vendor_id="V003001")
    assert acu.find("company", doc(known), "k") == "V003001"
    ended = requests.post(f"{acu.base}/entity/auth/logout",
                          cookies=acu.client.session.cookies.get_dict(), timeout=10)
    assert ended.status_code == 204
    assert requests.get(f"{acu.base}/entity/Default/24.200.001/Vendor/V003001",
                        cookies=acu.client.session.cookies.get_dict(),
                        timeout=10).status_code == 401
    assert acu.find("company", doc(known), "k") == "V003001"
