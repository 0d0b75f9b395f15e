"""Xero writes on the wire (wire reference §1.7, §5): PUT creates, POST creates or updates, 400
ValidationException per Xero rule, Idempotency-Key replay, and written records read back by GET,
If-Modified-Since, the dlt source's reader and the official SDK, also after world.advance().

Expected values are worked by hand from the request bodies, never read from the sandbox."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import polars as pl
import pytest
import requests

from pipelines.config import Connection
from pipelines.sandbox.common import XERO_TOKEN
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World
from pipelines.sources.xero import ENDPOINTS, client, read_pages

API = "/xero/api.xro/2.0"


def _write(http: requests.Session, server: SandboxServer, method: str, path: str,
           headers: dict, body: object, key: str | None = None, **params: str
           ) -> requests.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return http.request(method, f"{server.url}{API}/{path}", json=body, params=params,
                        headers=headers | extra, timeout=10)


def _get(http: requests.Session, server: SandboxServer, path: str, headers: dict,
         **params: object) -> requests.Response:
    return http.get(f"{server.url}{API}/{path}", headers=headers, params=params, timeout=10)


def _messages(resp: requests.Response) -> list[str]:
    body = resp.json()
    assert body["ErrorNumber"] == 10 and body["Type"] == "ValidationException"
    return [e["Message"] for el in body["Elements"] for e in el["ValidationErrors"]]


@pytest.fixture(scope="module")
def linked(world: World, xero_conn: dict) -> dict:
    """A world contact of the first Xero organisation."""
    return world.t["vendors"].filter(pl.col("connection_id") == xero_conn["connection_id"]
                                     ).row(0, named=True)


@pytest.fixture(scope="module")
def option(world: World, xero_conn: dict) -> dict:
    return world.t["erp_options"].filter(pl.col("connection_id") == xero_conn["connection_id"]
                                         ).row(0, named=True)


def _bill(contact_id: str, number: str, option_name: str, amount: str = "1000.50") -> dict:
    return {"Invoices": [{
        "Type": "ACCPAY", "Contact": {"ContactID": contact_id}, "InvoiceNumber": number,
        "Date": "2026-06-01", "DueDate": "2026-07-01", "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "LineItems": [
            {"Description": "Footings", "Quantity": 3, "UnitAmount": amount,
             "ItemCode": "03-102.S", "Tracking": [{"Name": "Job", "Option": option_name}]},
            {"Description": "Retainage", "Quantity": 1, "UnitAmount": "-100.05",
             "ItemCode": "RETAINAGE", "Tracking": [{"Name": "Job", "Option": option_name}]}]}]}


# -- validation per rule ---------------------------------------------------------------------------
def test_xe6_put_contact_with_a_taken_name_is_refused(http, server, xero_headers, linked) -> None:
    """XE-6 / §1.7: contact names are unique per organisation; PUT never updates."""
    resp = _write(http, server, "PUT", "Contacts", xero_headers,
                  {"Contacts": [{"Name": linked["name"].upper()}]})
    assert resp.status_code == 400
    assert _messages(resp) == [
        f"The contact name {linked['name'].upper()} is already assigned to another contact. "
        "The contact name must be unique across all active contacts."]


def test_xe6_post_with_contact_id_updates_the_contact(http, server, xero_headers,
                                                      linked) -> None:
    resp = _write(http, server, "POST", f"Contacts/{linked['contact_id']}", xero_headers,
                  {"Contacts": [{"Name": linked["name"],
                                 "Phones": [{"PhoneType": "DEFAULT",
                                             "PhoneNumber": "+64 9 000 1111"}]}]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["Contacts"][0]["ContactID"] == linked["contact_id"]
    got = _get(http, server, f"Contacts/{linked['contact_id']}", xero_headers).json()
    contact = got["Contacts"][0]
    assert contact["Phones"] == [{"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 000 1111"}]
    assert contact["Name"] == linked["name"] and contact["Addresses"][0]["City"] == linked["city"]


def test_xe6_contact_name_over_255_characters_is_refused(http, server, xero_headers) -> None:
    """XE-6 / Xero's Contact.Name limit (255): 256 refused, 255 accepted."""
    resp = _write(http, server, "PUT", "Contacts", xero_headers,
                  {"Contacts": [{"Name": "N" * 256}]})
    assert resp.status_code == 400
    assert _messages(resp) == ["Contact Name must not be more than 255 characters long."]
    ok = _write(http, server, "PUT", "Contacts", xero_headers, {"Contacts": [{"Name": "N" * 255}]})
    assert ok.status_code == 200 and ok.json()["Contacts"][0]["Name"] == "N" * 255


def test_xe4_item_code_over_30_characters_and_duplicate_codes_are_refused(
        http, server, xero_headers) -> None:
    """XE-4 / Xero's Item.Code: at most 30 characters, unique per organisation."""
    long = _write(http, server, "PUT", "Items", xero_headers, {"Items": [{"Code": "C" * 31}]})
    assert long.status_code == 400
    assert _messages(long) == ["Item Code must not be more than 30 characters long."]
    dup = _write(http, server, "PUT", "Items", xero_headers, {"Items": [{"Code": "01-100.L"}]})
    assert dup.status_code == 400
    assert _messages(dup) == ["Item code '01-100.L' already exists. Item codes must be unique."]
    ok = _write(http, server, "PUT", "Items", xero_headers,
                {"Items": [{"Code": "C" * 30, "Name": "Thirty", "IsPurchased": True}]})
    assert ok.status_code == 200
    item = ok.json()["Items"][0]
    assert (item["Code"], item["Name"], item["IsPurchased"], item["StatusAttributeString"]) == (
        "C" * 30, "Thirty", True, "OK")


def test_xe5_at_most_two_active_tracking_categories(http, server, xero_headers) -> None:
    """XE-5: at most 2 ACTIVE tracking categories. The world's organisation has one (Job):
    a second is accepted, a third refused."""
    second = _write(http, server, "PUT", "TrackingCategories", xero_headers, {"Name": "Area"})
    assert second.status_code == 200, second.text
    assert second.json()["TrackingCategories"][0]["Name"] == "Area"
    third = _write(http, server, "PUT", "TrackingCategories", xero_headers, {"Name": "Phase"})
    assert third.status_code == 400
    assert _messages(third) == ["You can only have 2 active tracking categories."]
    names = [c["Name"] for c in
             _get(http, server, "TrackingCategories", xero_headers).json()["TrackingCategories"]]
    assert names == ["Job", "Area"]


def test_xe5_option_put_and_its_name_unique(http, server, xero_headers) -> None:
    """XE-5: a project's option is PUT under the category; a second of the same name fails."""
    cats = _get(http, server, "TrackingCategories", xero_headers,
                where='Name=="Job"').json()["TrackingCategories"]
    path = f"TrackingCategories/{cats[0]['TrackingCategoryID']}/Options"
    before = len(cats[0]["Options"])
    made = _write(http, server, "PUT", path, xero_headers, {"Name": "P-9001 Quay Lofts"})
    assert made.status_code == 200
    opt = made.json()["Options"][0]
    assert (opt["Name"], opt["Status"], opt["IsActive"]) == ("P-9001 Quay Lofts", "ACTIVE", True)
    again = _write(http, server, "PUT", path, xero_headers, {"Name": "P-9001 Quay Lofts"})
    assert again.status_code == 400
    after = _get(http, server, "TrackingCategories", xero_headers,
                 where='Name=="Job"').json()["TrackingCategories"][0]["Options"]
    assert len(after) == before + 1 and after[-1]["TrackingOptionID"] == opt["TrackingOptionID"]


@pytest.mark.parametrize("change, message", [
    ({"Contact": {"ContactID": "00000000-0000-0000-0000-000000000001"}},
     "The contact ContactID '00000000-0000-0000-0000-000000000001' could not be found."),
    ({"LineItems": []}, "At least one line item is required."),
    ({"LineItems": [{"Description": "x", "UnitAmount": 1, "ItemCode": "NOPE"}]},
     "Item code 'NOPE' is not valid."),
    ({"LineItems": [{"Description": "x", "UnitAmount": 1,
                     "Tracking": [{"Name": "Job", "Option": "No Such Job"}]}]},
     "The tracking option 'No Such Job' is not valid for the tracking category 'Job'."),
])
def test_xe9_bill_needs_contact_lines_valid_items_and_options(
        http, server, xero_headers, linked, option, change, message) -> None:
    """XE-9 on the wire: a bill needs an existing contact, a line, valid items and options."""
    body = _bill(linked["contact_id"], "BAD-1", option["name"])
    body["Invoices"][0] |= change
    resp = _write(http, server, "PUT", "Invoices", xero_headers, body)
    assert resp.status_code == 400 and _messages(resp) == [message]
    found = _get(http, server, "Invoices", xero_headers, InvoiceNumbers="BAD-1").json()
    assert found["Invoices"] == []


def test_summarize_errors_false_answers_200_per_element(http, server, xero_headers) -> None:
    resp = _write(http, server, "PUT", "Items", xero_headers,
                  {"Items": [{"Code": "SUM-OK"}, {"Code": "S" * 31}]}, summarizeErrors="false")
    assert resp.status_code == 200
    a, b = resp.json()["Items"]
    assert (a["Code"], a["StatusAttributeString"]) == ("SUM-OK", "OK")
    assert b["StatusAttributeString"] == "ERROR"
    assert b["ValidationErrors"] == [
        {"Message": "Item Code must not be more than 30 characters long."}]


# -- idempotency ---------------------------------------------------------------------------------
def test_idempotency_key_replays_the_first_answer(http, server, xero_headers, linked,
                                                  option) -> None:
    body = _bill(linked["contact_id"], "IDEM-1", option["name"])
    first = _write(http, server, "PUT", "Invoices", xero_headers, body, key="bill-idem-1")
    second = _write(http, server, "PUT", "Invoices", xero_headers, body, key="bill-idem-1")
    assert first.status_code == second.status_code == 200
    assert second.content == first.content  # the same answer, byte for byte
    found = _get(http, server, "Invoices", xero_headers, InvoiceNumbers="IDEM-1").json()
    assert [i["InvoiceID"] for i in found["Invoices"]] == [
        first.json()["Invoices"][0]["InvoiceID"]]


def test_idempotency_key_with_another_body_is_refused(http, server, xero_headers, linked,
                                                      option) -> None:
    body = _bill(linked["contact_id"], "IDEM-2", option["name"])
    assert _write(http, server, "PUT", "Invoices", xero_headers, body,
                  key="bill-idem-2").status_code == 200
    other = _bill(linked["contact_id"], "IDEM-2", option["name"], amount="1000.51")
    resp = _write(http, server, "PUT", "Invoices", xero_headers, other, key="bill-idem-2")
    assert resp.status_code == 400
    assert _messages(resp) == [
        "The Idempotency-Key 'bill-idem-2' was already used with a different request"]
    too_long = _write(http, server, "PUT", "Invoices", xero_headers, other, key="k" * 129)
    assert too_long.status_code == 400
    found = _get(http, server, "Invoices", xero_headers, InvoiceNumbers="IDEM-2").json()
    assert len(found["Invoices"]) == 1


def test_truncated_answer_then_retry_with_the_key_creates_one_record(
        http, server, xero_headers) -> None:
    """A write whose answer is lost (a proxy cuts the body) is retried with the same key:
    the retry replays the first answer, so the contact exists once."""
    requests.post(f"{server.url}/_sandbox/faults", json={"system": "xero", "kind": "truncate"},
                  timeout=5)
    body = {"Contacts": [{"Name": "Lost Answer Ltd", "ContactNumber": "costbridge-company-77"}]}
    cut = _write(http, server, "PUT", "Contacts", xero_headers, body, key="contact-77")
    with pytest.raises(ValueError):
        cut.json()
    retry = _write(http, server, "PUT", "Contacts", xero_headers, body, key="contact-77")
    assert retry.status_code == 200
    found = _get(http, server, "Contacts", xero_headers,
                 where='ContactNumber=="costbridge-company-77"').json()["Contacts"]
    assert [c["ContactID"] for c in found] == [retry.json()["Contacts"][0]["ContactID"]]


# -- written records in the reads ------------------------------------------------------------------
@pytest.fixture(scope="module")
def written(server: SandboxServer, xero_headers: dict, option: dict) -> dict:
    """A contact and a bill written once for the read-back tests below."""
    with requests.Session() as http:
        made = _write(http, server, "PUT", "Contacts", xero_headers, {"Contacts": [{
            "Name": "Harbour Formwork Ltd", "ContactNumber": "costbridge-company-501",
            "Addresses": [{"AddressType": "POBOX", "AddressLine1": "1 Wharf Rd",
                           "City": "Napier", "Region": "HKB", "PostalCode": "4110"}],
            "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "+64 6 555 0101"}]}]})
        contact_id = made.json()["Contacts"][0]["ContactID"]
        bill = _write(http, server, "PUT", "Invoices", xero_headers,
                      _bill(contact_id, "HF-1", option["name"])).json()["Invoices"][0]
    return {"contact_id": contact_id, "bill": bill}


def test_written_contact_and_bill_seen_with_if_modified_since(
        http, server, xero_headers, world, written, option) -> None:
    since = (world.now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    contact_id, bill = written["contact_id"], written["bill"]
    headers = xero_headers | {"If-Modified-Since": since}
    contacts = _get(http, server, "Contacts", xero_headers | {"If-Modified-Since": since},
                    page=1).json()["Contacts"]
    mine = next(c for c in contacts if c["ContactID"] == contact_id)
    assert mine["ContactNumber"] == "costbridge-company-501"
    assert mine["Addresses"] == [{"AddressType": "POBOX", "AddressLine1": "1 Wharf Rd",
                                  "City": "Napier", "Region": "HKB", "PostalCode": "4110"}]
    bills = _get(http, server, "Invoices", headers, page=1, where='Type=="ACCPAY"').json()
    got = next(b for b in bills["Invoices"] if b["InvoiceID"] == bill["InvoiceID"])
    # 3 x 1000.50 = 3001.50, less 100.05 retainage = 2901.45
    assert got["Total"] == 2901.45 and got["Status"] == "AUTHORISED"
    assert (got["Contact"]["ContactID"], got["DateString"], got["DueDateString"]) == (
        contact_id, "2026-06-01T00:00:00", "2026-07-01T00:00:00")
    lines = got["LineItems"]
    assert [(x["ItemCode"], x["Quantity"], x["UnitAmount"], x["LineAmount"]) for x in lines] == [
        ("03-102.S", 3.0, 1000.50, 3001.50), ("RETAINAGE", 1.0, -100.05, -100.05)]
    assert lines[0]["Tracking"] == [{"TrackingCategoryID": lines[0]["Tracking"][0][
        "TrackingCategoryID"], "TrackingOptionID": option["option_id"], "Name": "Job",
        "Option": option["name"]}]
    # shaped like the world's lines: the same keys
    world_bill = _get(http, server, "Invoices", xero_headers, page=1, pageSize=1,
                      where='Type=="ACCPAY"').json()["Invoices"][0]
    assert set(lines[0]) == set(world_bill["LineItems"][0])
    assert set(got) == set(world_bill)


def test_world_records_older_than_if_modified_since_stay_out(http, server, xero_headers,
                                                             world, linked, written) -> None:
    since = (world.now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    contacts = _get(http, server, "Contacts", xero_headers | {"If-Modified-Since": since},
                    page=1).json()["Contacts"]
    world_ids = set(world.t["vendors"]["contact_id"])
    # of the world's contacts at most the one POSTed to above is newer than the cut
    assert {c["ContactID"] for c in contacts} & world_ids <= {linked["contact_id"]}
    assert written["contact_id"] in {c["ContactID"] for c in contacts}
    assert all(c["UpdatedDateUTC"] == f"/Date({int(world.now.timestamp() * 1000)}+0000)/"
               for c in contacts)


def test_dlt_source_reader_sees_written_records(server, xero_conn, world, written) -> None:
    """The source's own paging code (what the dlt resources run) reads written records."""
    conn = Connection(xero_conn["connection_id"], "xero", 1, "x", f"{server.url}/xero",
                      xero_conn["erp_tenant_id"])
    api = client(conn, XERO_TOKEN)
    since = world.now - timedelta(minutes=1)
    contacts = [r for page in read_pages(api, "contacts", ENDPOINTS["contacts"], 1000, since)
                for r in page]
    assert "costbridge-company-501" in {c.get("ContactNumber") for c in contacts}
    bills = [r for page in read_pages(api, "invoices", ENDPOINTS["invoices"], 1000, since)
             for r in page]
    hf = next(b for b in bills if b["InvoiceNumber"] == "HF-1")
    assert hf["Total"] == Decimal("2901.45")
    assert [x["LineAmount"] for x in hf["LineItems"]] == [Decimal("3001.50"), Decimal("-100.05")]


def test_written_records_survive_world_advance(http, server, xero_headers, written) -> None:
    requests.post(f"{server.url}/_sandbox/advance", json={"n": 1}, timeout=30).raise_for_status()
    found = _get(http, server, "Contacts", xero_headers,
                 where='ContactNumber=="costbridge-company-501"').json()["Contacts"]
    assert [c["Name"] for c in found] == ["Harbour Formwork Ltd"]
    bills = _get(http, server, "Invoices", xero_headers, InvoiceNumbers="HF-1").json()
    assert [b["Total"] for b in bills["Invoices"]] == [2901.45]


def test_purchase_order_put_and_get_by_id_and_number(http, server, xero_headers, linked,
                                                     option) -> None:
    """XE-7 on the wire: a PO is created, then read by id and by PurchaseOrderNumber."""
    body = {"PurchaseOrders": [{
        "PurchaseOrderNumber": "SC-0900", "Contact": {"ContactID": linked["contact_id"]},
        "Date": "2026-05-04", "Reference": "Concrete package", "Status": "AUTHORISED",
        "DeliveryInstructions": "Truck", "LineItems": [
            {"Description": "Footings", "Quantity": 12, "UnitAmount": "180.00",
             "ItemCode": "03-102.S", "Tracking": [{"Name": "Job", "Option": option["name"]}]}]}]}
    made = _write(http, server, "PUT", "PurchaseOrders", xero_headers, body)
    assert made.status_code == 200, made.text
    po = made.json()["PurchaseOrders"][0]
    assert (po["Total"], po["Reference"], po["DeliveryInstructions"]) == (
        2160.00, "Concrete package", "Truck")  # 12 x 180.00
    by_id = _get(http, server, f"PurchaseOrders/{po['PurchaseOrderID']}", xero_headers).json()
    by_no = _get(http, server, "PurchaseOrders/SC-0900", xero_headers).json()
    assert by_id["PurchaseOrders"][0]["PurchaseOrderNumber"] == "SC-0900"
    assert by_no["PurchaseOrders"][0]["PurchaseOrderID"] == po["PurchaseOrderID"]
    dup = _write(http, server, "PUT", "PurchaseOrders", xero_headers, body)
    assert dup.status_code == 400
    paged = _get(http, server, "PurchaseOrders", xero_headers, page=1).json()
    assert paged["pagination"]["itemCount"] == 1


def test_official_sdk_creates_a_contact(server, xero_conn) -> None:
    """xero-python's create_contacts (PUT /Contacts with its Idempotency-Key) works here."""
    from xero_python.accounting import AccountingApi, Contact, Contacts
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    from pipelines.sandbox.common import CLIENT_ID, CLIENT_SECRET
    token = {"access_token": XERO_TOKEN, "token_type": "Bearer", "expires_in": 1800,
             "scope": ["accounting.contacts"]}
    api_client = ApiClient(Configuration(oauth2_token=OAuth2Token(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET)), pool_threads=1)
    api_client.oauth2_token_getter(lambda: token)
    api_client.oauth2_token_saver(lambda new: token.update(new))
    api = AccountingApi(api_client, base_url=f"{server.url}/xero/api.xro/2.0")
    made = api.create_contacts(xero_conn["erp_tenant_id"],
                               Contacts(contacts=[Contact(name="SDK Scaffolding Ltd",
                                                          contact_number="SDK-1")]),
                               idempotency_key="sdk-contact-1")
    contact = made.contacts[0]
    assert (contact.name, contact.contact_number) == ("SDK Scaffolding Ltd", "SDK-1")
    got = api.get_contacts(xero_conn["erp_tenant_id"], where='ContactNumber=="SDK-1"')
    assert [c.contact_id for c in got.contacts] == [contact.contact_id]


def test_dlt_xero_source_loads_written_contact_and_bill(server, xero_conn, written, tmp_path,
                                                        monkeypatch) -> None:
    """The real dlt Xero source, run into DuckDB, loads the written contact (with its
    ContactNumber) and the bill with its two lines (item codes and amounts as written)."""
    import dlt

    from pipelines.sources.xero import xero_source
    monkeypatch.setenv("SOURCES__XERO__ACCESS_TOKEN", XERO_TOKEN)
    conn = Connection(xero_conn["connection_id"], "xero", 1, "x", f"{server.url}/xero",
                      xero_conn["erp_tenant_id"])
    pipeline = dlt.pipeline(pipeline_name="xero_writes_test", pipelines_dir=str(tmp_path),
                            destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")),
                            dataset_name="raw_xero")
    source = xero_source([conn]).with_resources("contacts", "invoices")
    pipeline.run(source)
    with pipeline.sql_client() as sql:
        contact = sql.execute_sql("select name, contact_number from contacts where contact_id = "
                                  "%s", written["contact_id"])
        lines = sql.execute_sql(
            "select l.item_code, l.line_amount from invoices i join invoices__line_items l "
            "on l._parent_id = i.invoice_id where i.invoice_number = 'HF-1' "
            "order by l.line_amount desc")
    assert contact == [("Harbour Formwork Ltd", "costbridge-company-501")]
    assert [(code, Decimal(str(amount))) for code, amount in lines] == [
        ("03-102.S", Decimal("3001.50")), ("RETAINAGE", Decimal("-100.05"))]


def test_post_status_to_a_world_bill_keeps_its_lines_and_total(http, server, xero_headers,
                                                               world, xero_conn) -> None:
    """§1.7: POST /Invoices/{id} with only a Status voids the bill; lines and total stay."""
    bills = world.t["erp_txns"].filter(
        (pl.col("connection_id") == xero_conn["connection_id"]) & (pl.col("erp_type") == "ACCPAY")
        & (pl.col("status") == "AUTHORISED") & (pl.col("requisition_id") == -1))
    bill = bills.row(0, named=True)
    n_lines = world.t["erp_lines"].filter(pl.col("txn_id") == bill["txn_id"]).height
    resp = _write(http, server, "POST", f"Invoices/{bill['txn_id']}", xero_headers,
                  {"Invoices": [{"Status": "VOIDED"}]})
    assert resp.status_code == 200, resp.text
    got = _get(http, server, f"Invoices/{bill['txn_id']}", xero_headers).json()["Invoices"][0]
    assert (got["Status"], got["Total"], len(got["LineItems"])) == (
        "VOIDED", float(Decimal(bill["total"]) / 100), n_lines)
