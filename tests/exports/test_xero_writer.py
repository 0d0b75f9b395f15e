"""The Xero writer: field maps per rule (XE-4 … XE-9) worked by hand from the documents, and
send/find round trips against the live sandbox (real loopback HTTP, the tiny world)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import requests

from pipelines.config import Connection, Settings
from pipelines.exports.base import RecordRejected, parse_document
from pipelines.exports.xero import XeroWriter, writer
from pipelines.sandbox import world as world_mod
from pipelines.sandbox.common import XERO_TOKEN
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World
from pipelines.sources.xero import client

PROJECT = {"project_id": 1000100, "project_number": "P-1001", "name": "Harbour View Residences 1",
           "erp_ref": "ce050974-6f6a-4c0a-a3c6-d19aa302d2b0"}
TRACK = [{"Name": "Job", "Option": "Harbour View Residences 1",
          "TrackingOptionID": "ce050974-6f6a-4c0a-a3c6-d19aa302d2b0"}]


def _doc(obj: dict) -> dict:
    """A document as the mart writes it and the push loop reads it (numbers as Decimal)."""
    return parse_document(json.dumps(obj))


def _settings(conn: Connection) -> Settings:
    return Settings(warehouse=Path("unused.duckdb"), published=Path("unused"), keep_snapshots=1,
                    procore_base_url="http://127.0.0.1:9", connections=(conn,))


def _offline() -> XeroWriter:
    conn = Connection("xero-1", "xero", 4001, "Harbour Builders 1", "http://127.0.0.1:9/xero",
                      "tenant")
    return writer(conn, _settings(conn))


def company(vendor_id: int = 2000123, name: str = "Ridge Concrete Ltd") -> dict:
    return _doc({"vendor_id": vendor_id, "name": name, "address": "12 Quay St",
                 "city": "Auckland", "state_code": "AKL", "postal_code": "1010",
                 "phone": "+64 9 555 1234", "is_active": True, "erp_vendor_id": None})


def commitment(vendor_ref: str, project: dict, number: str = "SC-0042") -> dict:
    return _doc({
        "commitment_id": 1300999, "number": number, "title": "Concrete package",
        "status": "Approved", "contract_date": "2026-05-04", "kind": "subcontract",
        "vendor": {"vendor_id": 2000123, "name": "Ridge Concrete Ltd", "erp_ref": vendor_ref},
        "project": project,
        "lines": [
            {"line_id": 1, "wbs_code": "03-102.S", "cost_code": "03-102", "cost_type": "S",
             "description": "Footings", "quantity": 12, "unit_cost": 180.00, "amount": 2160.00,
             "item_erp_ref": "i1"},
            {"line_id": 2, "wbs_code": "03-102.L", "cost_code": "03-102", "cost_type": "L",
             "description": "Labour", "quantity": None, "unit_cost": None, "amount": 500.25,
             "item_erp_ref": "i2"}]})


def cco(po_ref: str, project: dict | None = None) -> dict:
    return _doc({
        "commitment": {"commitment_id": 1300999, "number": "SC-0042", "erp_ref": po_ref},
        **({"project": project} if project else {}),
        "lines": [
            {"line_id": 7, "wbs_code": "03-102.S", "cost_code": "03-102", "cost_type": "S",
             "description": "Extra footings", "amount": 100.10},
            {"line_id": 8, "wbs_code": "03-102.L", "cost_code": "03-102", "cost_type": "L",
             "description": "Overtime", "amount": 20.00},
            {"line_id": 7, "wbs_code": "03-102.S", "cost_code": "03-102", "cost_type": "S",
             "description": "Extra footings", "amount": 50.05}]})


def invoice(vendor_ref: str, project: dict, number: str = "INV-7781",
            payment_date: str | None = "2026-07-15", amounts: tuple = (1000.00, 250.50),
            retainage: float = 125.05) -> dict:
    lines = [{"line_id": 10 + i, "wbs_code": f"03-102.{t}", "cost_code": "03-102",
              "cost_type": t, "description": f"Progress {t}", "amount": a, "item_erp_ref": "i"}
             for i, (t, a) in enumerate(zip(("S", "L"), amounts, strict=True))]
    return _doc({
        "requisition_id": 1400999, "invoice_number": number, "status": "Approved",
        "billing_date": "2026-06-30", "payment_date": payment_date, "total": sum(amounts),
        "retainage": retainage, "commitment": {"commitment_id": 1300999, "number": "SC-0042",
                                               "erp_ref": None},
        "vendor": {"vendor_id": 2000123, "name": "Ridge Concrete Ltd", "erp_ref": vendor_ref},
        "project": project, "lines": lines})


# -- field maps (no I/O) -------------------------------------------------------------------------
def test_xe6_company_becomes_a_contact_with_contact_number() -> None:
    """XE-6: name, billing address, phone; ContactNumber = the external id (find's key)."""
    [req] = _offline().requests("company", company())
    assert (req.method, req.path) == ("PUT", "/api.xro/2.0/Contacts")
    assert req.body == {"Contacts": [{
        "Name": "Ridge Concrete Ltd", "ContactNumber": "costbridge-company-2000123",
        "Addresses": [{"AddressType": "POBOX", "AddressLine1": "12 Quay St", "City": "Auckland",
                       "Region": "AKL", "PostalCode": "1010"}],
        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 555 1234"}]}]}
    assert "Idempotency-Key" in req.headers


def test_xe4_wbs_code_becomes_an_item_coded_cost_code_and_type() -> None:
    """XE-4: code = cost code + cost type as the world's items spell it, name = description."""
    doc = _doc({"wbs_code_id": 1, "project_id": 1000100, "project_number": "P-1001",
                "project_erp_ref": "x", "cost_code": "03-102", "cost_type": "L",
                "flat_code": "03-102.L",
                "description": "Concrete Labor for footings, slabs, walls and the core",
                "erp_item_code": "03-102L"})
    [req] = _offline().requests("wbs_code", doc)
    assert req.body == {"Items": [{
        "Code": "03-102.L", "Name": "Concrete Labor for footings, slabs, walls and the ",
        "PurchaseDescription": "Concrete Labor for footings, slabs, walls and the core",
        "IsPurchased": True}]}  # Name cut to Xero's 50 characters


def test_xe5_project_becomes_an_option_of_the_tracking_category() -> None:
    """XE-5: the project name becomes an option of the connection's tracking category."""
    doc = _doc({"project_id": 1, "project_number": "P-1", "name": "Quay Lofts", "address": None,
                "city": None, "is_active": True, "erp_job_id": "P-1",
                "tracking_category": "Job"})
    get, put = _offline().requests("project", doc)
    assert (get.method, get.path, get.params) == ("GET", "/api.xro/2.0/TrackingCategories",
                                                  {"where": 'Name=="Job"'})
    assert (put.method, put.path, put.body) == (
        "PUT", "/api.xro/2.0/TrackingCategories/{Job}/Options", {"Name": "Quay Lofts"})


def test_xe7_commitment_becomes_a_purchase_order() -> None:
    """XE-7: date, order number, contact, reference = title, SOV lines with tracking."""
    [req] = _offline().requests("commitment", commitment("c-1", PROJECT))
    assert req.body == {"PurchaseOrders": [{
        "PurchaseOrderNumber": "SC-0042", "Contact": {"ContactID": "c-1"},
        "Reference": "Concrete package", "Status": "AUTHORISED", "LineAmountTypes": "NoTax",
        "Date": "2026-05-04",
        "LineItems": [
            {"Description": "Footings", "ItemCode": "03-102.S", "Quantity": Decimal(12),
             "UnitAmount": Decimal("180.00"), "Tracking": TRACK},
            # amount-based line: one unit of the amount
            {"Description": "Labour", "ItemCode": "03-102.L", "Quantity": Decimal(1),
             "UnitAmount": Decimal("500.25"), "Tracking": TRACK}]}]}


def test_xe8_cco_lines_changed_twice_are_summed_into_one() -> None:
    """XE-8: line 7 is changed twice by the CCO: 100.10 + 50.05 = 150.15 goes as one line."""
    lines = _offline().cco_lines(cco("po-1", PROJECT))
    assert lines == [
        {"Description": "Extra footings", "ItemCode": "03-102.S", "Quantity": Decimal(1),
         "UnitAmount": Decimal("150.15"), "Tracking": TRACK},
        {"Description": "Overtime", "ItemCode": "03-102.L", "Quantity": Decimal(1),
         "UnitAmount": Decimal("20.00"), "Tracking": TRACK}]
    get, post = _offline().requests("cco", cco("po-1"))
    assert (get.method, get.path) == ("GET", "/api.xro/2.0/PurchaseOrders/po-1")
    assert (post.method, post.path) == ("POST", "/api.xro/2.0/PurchaseOrders/po-1")
    assert [x["UnitAmount"] for x in post.body["PurchaseOrders"][0]["LineItems"]] == [
        Decimal("150.15"), Decimal("20.00")]


def test_xe9_invoice_becomes_a_bill_with_a_retainage_line() -> None:
    """XE-9: ACCPAY bill, Date = billing date, DueDate = payment date, a line per invoice
    line with tracking = project, and retainage (125.05) negative on the retainage item."""
    [req] = _offline().requests("subcontractor_invoice", invoice("c-1", PROJECT))
    assert req.body == {"Invoices": [{
        "Type": "ACCPAY", "Contact": {"ContactID": "c-1"}, "InvoiceNumber": "INV-7781",
        "Date": "2026-06-30", "DueDate": "2026-07-15", "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "LineItems": [
            {"Description": "Progress S", "ItemCode": "03-102.S", "Quantity": Decimal(1),
             "UnitAmount": Decimal("1000.00"), "Tracking": TRACK},
            {"Description": "Progress L", "ItemCode": "03-102.L", "Quantity": Decimal(1),
             "UnitAmount": Decimal("250.50"), "Tracking": TRACK},
            {"Description": "Retainage", "Quantity": Decimal(1),
             "UnitAmount": Decimal("-125.05"), "ItemCode": "RETAINAGE", "Tracking": TRACK}]}]}


def test_xe9_no_dates_are_sent_without_a_payment_date() -> None:
    """XE-9: no payment date, no dates at all (Xero works the due date out from terms)."""
    [req] = _offline().requests("subcontractor_invoice",
                                invoice("c-1", PROJECT, payment_date=None))
    bill = req.body["Invoices"][0]
    assert "Date" not in bill and "DueDate" not in bill
    assert bill["InvoiceNumber"] == "INV-7781"


def test_xe9_negative_invoice_is_refused_without_calling_xero() -> None:
    """XE-9: -300.00 + 100.00 = -200.00: refused before the client is even opened."""
    w = _offline()
    doc = invoice("c-1", PROJECT, amounts=(-300.00, 100.00), retainage=0)
    with pytest.raises(RecordRejected, match=r"XE-9.*INV-7781.*-200\.00"):
        w.send("subcontractor_invoice", doc, "key-neg")
    with pytest.raises(RecordRejected, match="XE-9"):
        w.requests("subcontractor_invoice", doc)
    assert w._client is None


def test_writer_construction_does_no_io() -> None:
    w = _offline()  # the address is closed: any call would fail
    assert w.system == "xero" and w._client is None
    w.close()


# -- live round trips -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world() -> World:
    return world_mod.generate(42, "tiny")


@pytest.fixture(scope="module")
def live(world: World) -> Iterator[tuple[XeroWriter, SandboxServer]]:
    row = world.connections("xero").row(0, named=True)
    with SandboxServer(world) as server:
        conn = Connection(row["connection_id"], "xero", row["procore_company_id"],
                          row["company_name"], f"{server.url}/xero", row["erp_tenant_id"])
        w = XeroWriter(conn, _settings(conn), client(conn, XERO_TOKEN))
        yield w, server
        w.close()


def _contacts(w: XeroWriter, number: str) -> list[dict]:
    body, _ = w.client.get("Contacts", "contacts",
                           params={"where": f'ContactNumber=="{number}"'})
    return body["Contacts"]


def test_company_send_find_and_send_again_makes_one_contact(live) -> None:
    """XE-6: send, find by ContactNumber, send again with the same key: one contact."""
    w, _ = live
    doc = company(2000501, "Quay Scaffolding Ltd")
    assert w.find("company", doc, "k-company-501") is None
    cid = w.send("company", doc, "k-company-501")
    assert w.find("company", doc, "k-company-501") == cid
    assert w.send("company", doc, "k-company-501") == cid  # the same key again
    [contact] = _contacts(w, "costbridge-company-2000501")
    assert (contact["ContactID"], contact["Name"], contact["Phones"][0]["PhoneNumber"]) == (
        cid, "Quay Scaffolding Ltd", "+64 9 555 1234")


def test_xe6_refusal_names_the_company_and_xeros_message(live, world) -> None:
    """XE-6: a name taken by another contact is Xero's refusal: RecordRejected, not retried."""
    w, _ = live
    taken = world.t["vendors"].filter(pl.col("connection_id") == "xero-1")["name"][0]
    with pytest.raises(RecordRejected) as err:
        w.send("company", company(2000502, taken), "k-company-502")
    assert err.value.http_status == 400
    assert str(err.value) == (
        f"Xero refused company 2000502 {taken!r}: The contact name {taken} is already "
        "assigned to another contact. The contact name must be unique across all active "
        "contacts.")


def test_project_wbs_commitment_cco_and_bill_round_trip(live, world) -> None:
    """XE-5, XE-4, XE-7, XE-8, XE-9 against the live sandbox: each send returns the id find
    returns, a second send with the same key creates nothing, totals worked by hand."""
    w, _ = live
    vendor = w.send("company", company(2000601, "Pier Concrete Ltd"), "k-c-601")
    pdoc = _doc({"project_id": 1000900, "project_number": "P-1901", "name": "Quay Lofts 9",
                 "address": None, "city": None, "is_active": True, "erp_job_id": "P-1901",
                 "tracking_category": "Job"})
    option = w.send("project", pdoc, "k-p-1000900")
    assert w.find("project", pdoc, "k-p-1000900") == option
    assert w.send("project", pdoc, "k-p-1000900") == option
    project = {"project_id": 1000900, "project_number": "P-1901", "name": "Quay Lofts 9",
               "erp_ref": option}
    for ctype in ("S", "L"):
        wdoc = _doc({"wbs_code_id": 9, "project_id": 1000900, "project_number": "P-1901",
                     "project_erp_ref": option, "cost_code": "03-102", "cost_type": ctype,
                     "flat_code": f"03-102.{ctype}", "description": f"Concrete {ctype}",
                     "erp_item_code": None})
        # 03-102.S and 03-102.L are in the world already: found, and updated, not duplicated
        item = w.send("wbs_code", wdoc, f"k-w-{ctype}")
        assert w.find("wbs_code", wdoc, f"k-w-{ctype}") == item
    new_code = _doc({"wbs_code_id": 10, "project_id": 1000900, "project_number": "P-1901",
                     "project_erp_ref": option, "cost_code": "09-900", "cost_type": "L",
                     "flat_code": "09-900.L", "description": "Finishes labour",
                     "erp_item_code": None})
    assert w.find("wbs_code", new_code, "k-w-new") is None
    assert w.send("wbs_code", new_code, "k-w-new") == w.find("wbs_code", new_code, "k-w-new")

    cdoc = commitment(vendor, project, number="SC-1901")
    po = w.send("commitment", cdoc, "k-cm-1")
    assert w.find("commitment", cdoc, "k-cm-1") == po
    assert w.send("commitment", cdoc, "k-cm-1") == po
    # 12 x 180.00 + 500.25 = 2660.25
    assert _po(w, po)["Total"] == Decimal("2660.25")

    change = cco(po, project)
    assert w.find("cco", change, "k-cco-1") is None
    assert w.send("cco", change, "k-cco-1") == po
    assert w.find("cco", change, "k-cco-1") == po
    assert w.send("cco", change, "k-cco-1") == po  # found: not appended twice
    got = _po(w, po)
    assert [(x["ItemCode"], x["LineAmount"]) for x in got["LineItems"]] == [
        ("03-102.S", Decimal("2160.00")), ("03-102.L", Decimal("500.25")),
        ("03-102.S", Decimal("150.15")), ("03-102.L", Decimal("20.00"))]
    assert got["Total"] == Decimal("2830.40")  # 2660.25 + 150.15 + 20.00

    idoc = invoice(vendor, project, number="INV-1901")
    bill = w.send("subcontractor_invoice", idoc, "k-inv-1")
    assert w.find("subcontractor_invoice", idoc, "k-inv-1") == bill
    assert w.send("subcontractor_invoice", idoc, "k-inv-1") == bill
    body, _ = w.client.get("Invoices", "invoices",
                           params={"InvoiceNumbers": "INV-1901", "page": 1})
    [got_bill] = body["Invoices"]
    # 1000.00 + 250.50 - 125.05 retainage = 1125.45
    assert (got_bill["InvoiceID"], got_bill["Total"], got_bill["Status"]) == (
        bill, Decimal("1125.45"), "AUTHORISED")
    assert [x["Tracking"][0]["TrackingOptionID"] for x in got_bill["LineItems"]] == [option] * 3
    assert got_bill["LineItems"][-1]["ItemCode"] == "RETAINAGE"


def _po(w: XeroWriter, po: str) -> dict:
    body, _ = w.client.get(f"PurchaseOrders/{po}", "purchase_orders")
    return body["PurchaseOrders"][0]


def test_send_twice_with_the_same_key_after_a_lost_answer(live) -> None:
    """The answer to the create is cut (a truncated body); ApiClient retries the PUT with the
    same Idempotency-Key, the sandbox replays its first answer, and a later send with that key
    finds the contact: one contact, one id throughout."""
    w, server = live
    w.client.sleep = lambda s: None
    doc = company(2000701, "Lost Answer Scaffolds Ltd")
    requests.post(f"{server.url}/_sandbox/faults", json={"system": "xero", "kind": "truncate"},
                  timeout=5).raise_for_status()
    answer = w._write("PUT", "/api.xro/2.0/Contacts", w.body("company", doc), "k-company-701",
                      "company", doc)
    cid = answer["Contacts"][0]["ContactID"]
    assert w.send("company", doc, "k-company-701") == cid
    assert [c["ContactID"] for c in _contacts(w, "costbridge-company-2000701")] == [cid]


def test_writer_opens_the_sources_client_with_the_configured_token(live, world,
                                                                   monkeypatch) -> None:
    """writer() reads the token the extract reads (sources.xero.access_token) on first use;
    find() then returns the world's item 01-100.L by its Code (XE-4)."""
    w, _ = live
    monkeypatch.setenv("SOURCES__XERO__ACCESS_TOKEN", XERO_TOKEN)
    fresh = writer(w.connection, w.settings)
    expected = world.t["erp_items"].filter((pl.col("connection_id") == w.connection.id)
                                           & (pl.col("code") == "01-100.L"))["item_id"][0]
    try:
        assert fresh.find("wbs_code", _doc({"cost_code": "01-100", "cost_type": "L"}),
                          "k") == expected
    finally:
        fresh.close()
