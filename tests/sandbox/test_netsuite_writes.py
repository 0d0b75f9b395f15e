"""NetSuite record writes on the tiny world's sandbox over real loopback HTTP, signed by an
independent OAuth1 client (requests-oauthlib), read back through SuiteQL and through the
extract's own queries. Expected values are worked by hand from the bodies sent and the world's
ids (account ``7100002_SB1`` = connection netsuite-1: vendors 20001000-20001007, jobs up to
20003001, items up to 20005019, transactions up to 20900014; the world's clock is
2026-06-30 00:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from pipelines.http import ApiClient, CallStats
from pipelines.oauth1 import OAuth1Signer
from pipelines.sandbox.netsuite_auth import SANDBOX_CREDENTIALS as CREDS
from pipelines.sandbox.server import SandboxServer
from pipelines.sources import netsuite as source

ACCOUNT = "7100002_SB1"
NOW = "2026-06-30 00:00:00"  # world.now: the lastmodifieddate of every write here
VENDOR, JOB, ITEM = "20001000", "20002000", "20005004"  # P-2001 and its item P-2001-02-101.O
INVENTORY_ITEM = "20004005"  # CONCRETE-MIX-C30, an InvtPart


class Ns:
    def __init__(self, server: SandboxServer):
        self.base = f"{server.url}/netsuite/7100002-sb1/services/rest"
        self.server = server
        self.auth = OAuth1(CREDS.consumer_key, CREDS.consumer_secret, CREDS.token_id,
                           CREDS.token_secret, signature_method="HMAC-SHA256", realm=ACCOUNT)

    def record(self, method: str, path: str, body: Any = None,
               params: dict | None = None) -> requests.Response:
        return requests.request(method, f"{self.base}/record/v1/{path}", json=body,
                                params=params, auth=self.auth, timeout=10)

    def rows(self, q: str) -> list[dict[str, str]]:
        r = requests.post(f"{self.base}/query/v1/suiteql", json={"q": q}, auth=self.auth,
                          headers={"Prefer": "transient"}, timeout=10)
        assert r.status_code == 200, r.text
        return [{k: v for k, v in i.items() if k != "links"} for i in r.json()["items"]]


@pytest.fixture(scope="module")
def ns(server: SandboxServer) -> Ns:
    return Ns(server)


def _detail(r: requests.Response) -> dict[str, Any]:
    assert r.status_code == 400, r.text
    return r.json()["o:errorDetails"][0]


def _lines(ns: Ns, txn: str) -> list[dict[str, str]]:
    return ns.rows("SELECT id, mainline, item, itemtype, entity, memo, quantity, rate, netamount, "
                   f"expenseaccount FROM transactionline WHERE transaction = {txn} ORDER BY id")


def _bill(*lines: tuple[str, str], vendor: str = VENDOR) -> dict[str, Any]:
    return {"entity": {"id": vendor}, "tranId": "SUB-77", "tranDate": "2026-06-20",
            "dueDate": "2026-07-20", "subsidiary": {"id": "1"},
            "item": {"items": [{"item": {"id": ITEM}, "quantity": 1, "rate": Decimal(a),
                                "amount": Decimal(a), "description": d,
                                "customer": {"id": JOB}} for a, d in lines]}}


def _put(ns: Ns, path: str, body: Any, params: dict | None = None) -> str:
    r = ns.record("PUT", path, body, params)
    assert r.status_code == 204 and r.content == b"", r.text
    return r.headers["Location"].rsplit("/", 1)[-1]


# -- vendors and jobs ----------------------------------------------------------------------------
def test_ns_10_post_vendor_is_204_with_location_and_a_suiteql_row(ns: Ns) -> None:
    """NS-10: a company exported as a vendor; POST answers 204, no body, Location = new id."""
    r = ns.record("POST", "vendor", {"externalId": "costbridge-company-9001",
                                     "companyName": "Kauri Formwork Ltd", "phone": "+64 9 300 1000",
                                     "subsidiary": {"id": "1"}})
    assert r.status_code == 204 and r.content == b""
    assert r.headers["Location"] == f"{ns.base}/record/v1/vendor/20001008"
    assert ns.rows("SELECT id, entityid, companyname, phone, isperson, isinactive, externalid, "
                   "TO_CHAR(datecreated, 'YYYY-MM-DD HH24:MI:SS') AS created, "
                   "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified "
                   "FROM vendor WHERE id = 20001008") == [{
        "id": "20001008", "entityid": "Kauri Formwork Ltd", "companyname": "Kauri Formwork Ltd",
        "phone": "+64 9 300 1000", "isperson": "F", "isinactive": "F",
        "externalid": "costbridge-company-9001", "created": NOW, "modified": NOW}]


def test_ns_11_put_eid_twice_is_one_job_and_get_by_eid_and_id_agree(ns: Ns) -> None:
    """NS-11: upsert by external id creates the job once, then updates that same job."""
    first = _put(ns, "job/eid:costbridge-project-77", {"entityId": "P-2077",
                                                        "companyName": "Kauri Heights"})
    second = _put(ns, "job/eid:costbridge-project-77", {"entityId": "P-2077",
                                                         "companyName": "Kauri Heights 2"})
    assert first == second == "20003002"
    assert ns.rows("SELECT id, entityid, companyname, altname, isinactive FROM job "
                   "WHERE externalid = 'costbridge-project-77'") == [{
        "id": "20003002", "entityid": "P-2077", "companyname": "Kauri Heights 2",
        "altname": "Kauri Heights", "isinactive": "F"}]  # altname is set on create only
    by_eid = ns.record("GET", "job/eid:costbridge-project-77").json()
    by_id = ns.record("GET", "job/20003002").json()
    assert by_eid["id"] == by_id["id"] == "20003002"
    assert by_id["companyName"] == "Kauri Heights 2" and by_id["entityId"] == "P-2077"
    assert by_id["lastModifiedDate"] == "2026-06-30T00:00:00Z"
    assert ns.record("PATCH", "job/20003002", {"isInactive": True}).status_code == 204
    assert ns.rows("SELECT isinactive FROM job WHERE id = 20003002") == [{"isinactive": "T"}]


# -- items ---------------------------------------------------------------------------------------
def test_ns_3_ns_8_other_charge_item_written_with_its_expense_account(ns: Ns) -> None:
    """NS-3: the item is named [project#]-[code].[type]; NS-8: it posts to the account sent."""
    item = _put(ns, "otherChargePurchaseItem/eid:costbridge-wbs_code-501", {
        "itemId": "P-2001-03-102.L", "displayName": "Concrete - Labor",
        "expenseAccount": {"id": "385"}, "subsidiary": {"items": [{"id": "1"}]}})
    assert item == "20005020"
    assert ns.rows("SELECT id, itemid, displayname, itemtype, subtype, isinactive, "
                   "expenseaccount, externalid FROM item WHERE id = 20005020") == [{
        "id": "20005020", "itemid": "P-2001-03-102.L", "displayname": "Concrete - Labor",
        "itemtype": "OthCharge", "subtype": "Purchase", "isinactive": "F",
        "expenseaccount": "385", "externalid": "costbridge-wbs_code-501"}]


def test_ns_3_duplicate_item_id_is_refused(ns: Ns) -> None:
    """NS-3: one item per name: another external id with the same itemId is a 400."""
    _put(ns, "otherChargePurchaseItem/eid:costbridge-wbs_code-601", {"itemId": "P-2001-09-130.M"})
    r = ns.record("PUT", "otherChargePurchaseItem/eid:costbridge-wbs_code-602",
                  {"itemId": "P-2001-09-130.M"})
    assert _detail(r)["o:errorCode"] == "USER_ERROR"
    assert _detail(r)["o:errorPath"] == "itemId"
    assert ns.rows("SELECT COUNT(*) AS n FROM item WHERE itemid = 'P-2001-09-130.M'") == [
        {"n": "1"}]


def test_ns_7_other_charge_type_never_serves_an_inventory_item(ns: Ns) -> None:
    """NS-7: an inventory item is not an Other Charge item: not found under that type."""
    r = ns.record("GET", f"otherChargePurchaseItem/{INVENTORY_ITEM}")
    assert r.status_code == 404 and r.json()["o:errorDetails"][0]["o:errorCode"] == \
        "NONEXISTENT_ID"
    assert ns.record("GET", f"otherChargePurchaseItem/{ITEM}").json()["itemId"] == \
        "P-2001-02-101.O"


# -- bills and credits ---------------------------------------------------------------------------
def test_ns_12_vendor_bill_lines_become_transaction_lines_like_the_worlds(ns: Ns) -> None:
    """NS-12: a vendor bill's item lines are transaction lines on the job and the item:
    main line -2000.00, lines +1200.50 and +799.50, account 384 from the item."""
    txn = _put(ns, "vendorBill/eid:costbridge-subcontractor_invoice-1",
               _bill(("1200.50", "Footings"), ("799.50", "Slab")), {"replace": "item"})
    assert txn == "20900015"
    assert ns.rows("SELECT id, tranid, type, status, entity, externalid, foreigntotal, posting, "
                   "TO_CHAR(trandate, 'YYYY-MM-DD') AS d, TO_CHAR(duedate, 'YYYY-MM-DD') AS due, "
                   "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified "
                   f"FROM transaction WHERE id = {txn}") == [{
        "id": txn, "tranid": "SUB-77", "type": "VendBill", "status": "A", "entity": VENDOR,
        "externalid": "costbridge-subcontractor_invoice-1", "foreigntotal": "2000.00",
        "posting": "T", "d": "2026-06-20", "due": "2026-07-20", "modified": NOW}]
    line = {"mainline": "F", "item": ITEM, "itemtype": "OthCharge", "entity": JOB,
            "quantity": "1.0000", "expenseaccount": "384"}
    assert _lines(ns, txn) == [
        {"id": "0", "mainline": "T", "netamount": "-2000.00"},
        {"id": "1", **line, "memo": "Footings", "rate": "1200.5000", "netamount": "1200.50"},
        {"id": "2", **line, "memo": "Slab", "rate": "799.5000", "netamount": "799.50"}]


def test_ns_12_resent_bill_replaces_its_lines_and_appends_without_replace(ns: Ns) -> None:
    """Upsert twice with ?replace=item: still one bill, lines replaced (total 500.00); a PATCH
    without replace appends (NetSuite's default): 500.00 + 100.00 = 600.00."""
    path = "vendorBill/eid:costbridge-subcontractor_invoice-2"
    first = _put(ns, path, _bill(("300.00", "a"), ("400.00", "b")), {"replace": "item"})
    again = _put(ns, path, _bill(("500.00", "c")), {"replace": "item"})
    assert first == again
    assert [(x["id"], x["netamount"]) for x in _lines(ns, first)] == [("0", "-500.00"),
                                                                      ("1", "500.00")]
    more = {"item": {"items": [{"item": {"id": ITEM}, "amount": 100}]}}
    assert ns.record("PATCH", f"vendorBill/{first}", more).status_code == 204
    assert [(x["id"], x["netamount"]) for x in _lines(ns, first)] == [
        ("0", "-600.00"), ("1", "500.00"), ("2", "100.00")]
    assert ns.rows("SELECT foreigntotal FROM transaction WHERE externalid = "
                   "'costbridge-subcontractor_invoice-2'") == [{"foreigntotal": "600.00"}]


def test_ns_13_vendor_credit_posts_negative_lines_and_a_positive_total(ns: Ns) -> None:
    """NS-13: a vendor credit's lines are sent positive and post negative, main line +150.25,
    as the world's credits; the record API shows the line amount positive."""
    txn = _put(ns, "vendorCredit/eid:costbridge-subcontractor_invoice-3",
               _bill(("150.25", "Back charge")), {"replace": "item"})
    assert ns.rows(f"SELECT type, foreigntotal FROM transaction WHERE id = {txn}") == [
        {"type": "VendCred", "foreigntotal": "150.25"}]
    assert [(x["id"], x["netamount"]) for x in _lines(ns, txn)] == [("0", "150.25"),
                                                                    ("1", "-150.25")]
    record = ns.record("GET", f"vendorCredit/{txn}", params={"expandSubResources": "true"}).json()
    assert record["foreignTotal"] == 150.25
    assert [(i["line"], i["item"]["id"], i["customer"]["id"], i["amount"], i["description"])
            for i in record["item"]["items"]] == [(1, ITEM, JOB, 150.25, "Back charge")]


# -- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "body", "code", "error_path", "value"), [
    ("vendorBill/eid:bad-1", _bill(("1.00", "x"), vendor="999"), "INVALID_CONTENT", "entity",
     "999"),
    ("vendorBill/eid:bad-2", {**_bill(("1.00", "x")), "item": {"items": [
        {"item": {"id": "31337"}, "amount": 1}]}}, "INVALID_CONTENT", "item.items[0].item",
     "31337"),
    ("vendorBill/eid:bad-3", {**_bill(("1.00", "x")), "item": {"items": [
        {"item": {"id": ITEM}, "amount": 1, "customer": {"id": "4242"}}]}}, "INVALID_CONTENT",
     "item.items[0].customer", "4242"),
    ("vendorBill/eid:bad-4", {**_bill(), "item": {"items": []}}, "USER_ERROR", "item", None),
    ("vendorCredit/eid:bad-5", {"tranDate": "2026-06-20"}, "USER_ERROR", "entity.id", None),
    ("otherChargePurchaseItem/eid:bad-6", {"itemId": "P-9-1", "expenseAccount": {"id": "1"}},
     "INVALID_CONTENT", "expenseAccount", "1"),
    ("job/eid:bad-7", {"entityId": "P-9"}, "USER_ERROR", "companyName", None),
    ("vendor/eid:bad-8", {"companyName": "X", "subsidiary": {"id": "2"}}, "INVALID_CONTENT",
     "subsidiary", "2"),
])
def test_invalid_writes_are_o_error_details_and_write_nothing(
        ns: Ns, path: str, body: dict, code: str, error_path: str, value: str | None) -> None:
    r = ns.record("PUT", path, body)
    assert r.json()["type"] == "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1"
    assert r.json()["title"] == "Bad Request" and r.json()["status"] == 400
    detail = _detail(r)
    assert (detail["o:errorCode"], detail["o:errorPath"]) == (code, error_path)
    if value is not None:
        assert detail["detail"] == ("Error while accessing a resource. You have entered an "
                                    f"Invalid Field Value {value} for the following field: "
                                    f"{error_path.rsplit('.', 1)[-1]}")
    eid = path.split("eid:")[1]
    assert ns.record("GET", path).status_code == 404, eid


# -- what the next extract sees ------------------------------------------------------------------
def test_written_rows_survive_advance_and_the_extract_queries_read_them(ns: Ns) -> None:
    """Writes stay across world.advance(); the extract's own SuiteQL (incremental since just
    before the write) reads the written bill and its lines, typed as the source types them."""
    txn = _put(ns, "vendorBill/eid:costbridge-subcontractor_invoice-4",
               _bill(("250.10", "Rebar"), ("49.90", "Ties")), {"replace": "item"})
    requests.post(f"{ns.server.url}/_sandbox/advance", json={"n": 1}, timeout=30).raise_for_status()
    client = ApiClient("netsuite", ns.base, {}, stats=CallStats(),
                       auth=OAuth1Signer(ACCOUNT, CREDS))
    since = datetime(2026, 6, 29, 23, 59, 59, tzinfo=UTC)  # the write is at 2026-06-30 00:00
    q = source.QUERIES["transactions"]
    heads = [source.to_frame(q, p) for p in source.read_pages(client, q, since, 1000)]
    mine = [r for f in heads for r in f.to_dicts() if r["id"] == int(txn)]
    assert [(r["type"], r["foreigntotal"], r["externalid"]) for r in mine] == [
        ("VendBill", Decimal("300.000000000"), "costbridge-subcontractor_invoice-4")]
    q = source.QUERIES["transaction_lines"]
    lines = [r for p in source.read_pages(client, q, since, 1000)
             for r in source.to_frame(q, p).to_dicts() if r["transaction"] == int(txn)]
    assert [(r["id"], r["item"], r["entity"], r["netamount"], r["memo"]) for r in lines] == [
        (1, int(ITEM), int(JOB), Decimal("250.10"), "Rebar"),
        (2, int(ITEM), int(JOB), Decimal("49.90"), "Ties")]  # main line filtered by the query
