"""NetSuite SuiteTalk REST over real loopback HTTP, signed by an independent client
(requests-oauthlib), with small hand-made tables injected."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
import requests
import uvicorn
from requests_oauthlib import OAuth1
from starlette.applications import Starlette

from pipelines.sandbox.netsuite import NetSuiteAccount, NetSuiteApi
from pipelines.sandbox.netsuite_auth import INVALID_LOGIN_DETAIL, TbaCredentials
from pipelines.sandbox.server import _bind, _config

ACCOUNT = "1234567_SB1"
CREDS = TbaCredentials("ck-integration-1", "cs-secret/1+=", "tok-abc", "ts-secret~2")
CONCURRENCY = 2
OLD = datetime(2024, 6, 1, 12, 0, 0)
TYPES = ("VendBill", "VendCred", "Journal")


def _tables() -> dict[str, pl.DataFrame]:
    n = 25
    return {
        # Mixed-case names on purpose: the API serves them lower-case.
        "Transaction": pl.DataFrame({
            "id": list(range(1, n + 1)),
            "tranid": [f"T-{i:03d}" for i in range(1, n + 1)],
            "type": [TYPES[i % 3] for i in range(n)],
            "trandate": [date(2024, 5, 1) + timedelta(days=i) for i in range(n)],
            "entity": [1 + i % 3 for i in range(n)],
            "externalid": [f"EXT-{i}" for i in range(1, n + 1)],
            "memo": [None if i % 5 == 0 else f"memo {i}" for i in range(n)],
            "lastmodifieddate": [OLD] * n,
        }),
        "vendor": pl.DataFrame({
            "id": [1, 2, 3],
            "companyname": ["Ridge Concrete", "Summit Steel", "Valley Timber"],
            "isinactive": ["F", "F", "T"],
            "externalid": ["VEND-1", None, "VEND-3"],
            "lastmodifieddate": [OLD] * 3,
        }),
        "item": pl.DataFrame({
            "id": [10, 11], "itemid": ["CC-01", "INV-1"], "itemtype": ["OthCharge", "InvtPart"],
            "subtype": ["Purchase", None], "externalid": [None, None],
            "lastmodifieddate": [OLD] * 2,
        }),
        "job": pl.DataFrame({"id": [7731], "companyname": ["Lot 4"], "lastmodifieddate": [OLD]}),
    }


class Provider:
    """Table provider that can hold requests inside the handler, to fill concurrency slots."""

    def __init__(self) -> None:
        self.frames = _tables()
        self.blocking = False
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def __call__(self) -> dict[str, pl.DataFrame]:
        if self.blocking:
            self.entered.release()
            self.release.wait(10)
        return self.frames


@dataclass
class Sandbox:
    api: NetSuiteApi
    provider: Provider
    base: str  # …/services/rest

    def auth(self, token_secret: str = CREDS.token_secret) -> OAuth1:
        return OAuth1(CREDS.consumer_key, CREDS.consumer_secret, CREDS.token_id, token_secret,
                      signature_method="HMAC-SHA256", realm=ACCOUNT)

    def suiteql(self, q: str, url: str | None = None, transient: bool = True,
                **kwargs: Any) -> requests.Response:
        headers = {"Prefer": "transient"} if transient else {}
        return requests.post(url or f"{self.base}/query/v1/suiteql", json={"q": q},
                             headers=headers, auth=kwargs.pop("auth", self.auth()), timeout=10,
                             **kwargs)

    def record(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.base}/record/v1/{path}", json=body,
                                auth=self.auth(), timeout=10)


@pytest.fixture()
def ns() -> Iterator[Sandbox]:
    provider = Provider()
    api = NetSuiteApi({ACCOUNT: NetSuiteAccount(ACCOUNT, [CREDS], provider)},
                      concurrency=CONCURRENCY)
    sock = _bind("127.0.0.1", 0)
    server = uvicorn.Server(_config(Starlette(routes=api.routes())))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        threading.Event().wait(0.005)
    port = sock.getsockname()[1]
    try:
        yield Sandbox(api, provider, f"http://127.0.0.1:{port}/netsuite/1234567-sb1/services/rest")
    finally:
        provider.release.set()
        server.should_exit = True
        thread.join(10)
        sock.close()


def _detail(r: requests.Response) -> dict[str, Any]:
    return r.json()["o:errorDetails"][0]


# -- SuiteQL -------------------------------------------------------------------------------------
def test_suiteql_pages_follow_next_links_to_the_end(ns: Sandbox) -> None:
    q = "SELECT id, tranid, memo FROM transaction ORDER BY id"
    url: str | None = f"{ns.base}/query/v1/suiteql?limit=10&offset=0"
    seen: list[str] = []
    pages = []
    while url is not None:
        r = ns.suiteql(q, url)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        seen += [item["id"] for item in page["items"]]
        url = next((ln["href"] for ln in page["links"] if ln["rel"] == "next"), None)
    assert seen == [str(i) for i in range(1, 26)]
    assert [(p["count"], p["hasMore"], p["offset"], p["totalResults"]) for p in pages] == [
        (10, True, 0, 25), (10, True, 10, 25), (5, False, 20, 25)]
    first, middle, last = pages
    item = first["items"][0]
    assert item == {"links": [], "id": "1", "tranid": "T-001"}  # null memo is left out
    assert first["items"][1] == {"links": [], "id": "2", "tranid": "T-002", "memo": "memo 1"}
    assert all(isinstance(v, str) for p in pages for it in p["items"] for k, v in it.items()
               if k != "links")
    rels = {ln["rel"]: ln["href"] for ln in middle["links"]}
    assert rels == {
        "previous": f"{ns.base}/query/v1/suiteql?limit=10&offset=0",
        "next": f"{ns.base}/query/v1/suiteql?limit=10&offset=20",
        "last": f"{ns.base}/query/v1/suiteql?limit=10&offset=20",
        "self": f"{ns.base}/query/v1/suiteql?limit=10&offset=10"}
    assert [ln["rel"] for ln in first["links"]] == ["next", "last", "self"]
    assert [ln["rel"] for ln in last["links"]] == ["previous", "last", "self"]


def test_suiteql_needs_prefer_transient(ns: Sandbox) -> None:
    r = ns.suiteql("SELECT id FROM vendor", transient=False)
    assert r.status_code == 400
    assert _detail(r)["o:errorCode"] == "INVALID_HEADER"
    assert _detail(r)["o:errorHeader"] == "Prefer"


def test_suiteql_bad_sql_and_bad_paging(ns: Sandbox) -> None:
    r = ns.suiteql("SELECT nosuchcolumn FROM vendor")
    assert r.status_code == 400
    assert r.json()["status"] == 400
    assert "nosuchcolumn" in _detail(r)["detail"]
    r = ns.suiteql("SELECT id FROM vendor", f"{ns.base}/query/v1/suiteql?limit=abc")
    assert r.status_code == 400 and _detail(r)["o:errorQueryParam"] == "limit"
    r = ns.suiteql("SELECT id FROM vendor", f"{ns.base}/query/v1/suiteql?limit=2000")
    assert r.status_code == 400 and _detail(r)["o:errorQueryParam"] == "limit"


def test_bad_signature_is_invalid_login(ns: Sandbox) -> None:
    for r in (ns.suiteql("SELECT id FROM vendor", auth=ns.auth(token_secret="wrong")),
              requests.get(f"{ns.base}/record/v1/vendor/1", timeout=10)):  # unsigned
        assert r.status_code == 401
        assert r.json()["o:errorDetails"] == [
            {"detail": INVALID_LOGIN_DETAIL, "o:errorCode": "INVALID_LOGIN"}]
        assert r.headers["www-authenticate"] == (
            f'OAuth realm="{ACCOUNT}", error="token_rejected", '
            'error_description="Invalid login attempt."')


# -- record reads --------------------------------------------------------------------------------
def test_record_get_by_id_and_external_id(ns: Sandbox) -> None:
    r = ns.record("GET", "vendorBill/1")
    assert r.status_code == 200, r.text
    bill = r.json()
    assert bill["id"] == "1" and bill["tranId"] == "T-001" and bill["tranDate"] == "2024-05-01"
    assert bill["links"] == [{"rel": "self", "href": f"{ns.base}/record/v1/vendorBill/1"}]
    assert bill["entity"] == {"id": "1", "links": [
        {"rel": "self", "href": f"{ns.base}/record/v1/vendor/1"}]}
    assert bill["lastModifiedDate"] == "2024-06-01T12:00:00Z"
    assert ns.record("GET", "vendorBill/eid:EXT-1").json()["id"] == "1"
    vendor = ns.record("GET", "vendor/eid:VEND-3").json()
    assert vendor["companyName"] == "Valley Timber" and vendor["isInactive"] is True
    assert ns.record("GET", "otherChargePurchaseItem/10").json()["itemId"] == "CC-01"


@pytest.mark.parametrize("path", ["vendorBill/2", "vendorBill/999", "vendor/eid:NOPE",
                                  "otherChargePurchaseItem/11"])
def test_record_get_unknown_is_404(ns: Sandbox, path: str) -> None:
    # vendorBill/2 is a VendCred and item 11 an inventory part: wrong type is not found either.
    r = ns.record("GET", path)
    assert r.status_code == 404
    assert _detail(r)["o:errorCode"] == "NONEXISTENT_ID"


# -- record writes -------------------------------------------------------------------------------
def _since(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def test_post_vendor_then_incremental_suiteql_sees_it(ns: Sandbox) -> None:
    before = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1)
    r = ns.record("POST", "vendor", {"companyName": "New Co", "externalId": "VEND-9",
                                     "subsidiary": {"id": "1"}, "email": "ap@new.example"})
    assert r.status_code == 204 and r.content == b""
    assert r.headers["Location"] == f"{ns.base}/record/v1/vendor/4"
    q = ("SELECT id, companyname, externalid FROM vendor WHERE lastmodifieddate > "
         f"TO_TIMESTAMP('{_since(before)}', 'YYYY-MM-DD HH24:MI:SS') ORDER BY id")
    items = ns.suiteql(q).json()["items"]
    assert items == [{"links": [], "id": "4", "companyname": "New Co", "externalid": "VEND-9"}]
    assert ns.suiteql("SELECT COUNT(*) AS n FROM vendor").json()["items"][0]["n"] == "4"
    dup = ns.record("POST", "vendor", {"companyName": "Again", "externalId": "VEND-9"})
    assert dup.status_code == 400 and _detail(dup)["o:errorPath"] == "externalId"


def test_put_eid_upserts_one_record(ns: Sandbox) -> None:
    first = ns.record("PUT", "vendor/eid:VEND-NEW", {"companyName": "Draft"})
    second = ns.record("PUT", "vendor/eid:VEND-NEW", {"companyName": "Final"})
    assert first.status_code == second.status_code == 204
    assert first.headers["Location"] == second.headers["Location"] == \
        f"{ns.base}/record/v1/vendor/4"
    rows = ns.suiteql("SELECT id, companyname FROM vendor WHERE externalid = 'VEND-NEW'")
    assert rows.json()["items"] == [{"links": [], "id": "4", "companyname": "Final"}]
    # An existing record keeps its id.
    assert ns.record("PUT", "vendor/eid:VEND-1", {"companyName": "Ridge 2"}).headers[
        "Location"].endswith("/vendor/1")
    assert ns.record("GET", "vendor/1").json()["companyName"] == "Ridge 2"


def test_percent_encoded_external_id_is_signed_and_decoded(ns: Sandbox) -> None:
    # The client signs "eid:VEND%207"; the verifier must see the path undecoded.
    r = ns.record("PUT", "vendor/eid:VEND 7", {"companyName": "Spaced"})
    assert r.status_code == 204, r.text
    vendor = ns.record("GET", "vendor/eid:VEND%207").json()
    assert vendor["externalId"] == "VEND 7" and vendor["companyName"] == "Spaced"


def test_patch_updates_fields_and_lastmodifieddate(ns: Sandbox) -> None:
    r = ns.record("PATCH", "vendorBill/1", {"memo": "Lot 4 footings", "tranDate": "2024-07-01"})
    assert r.status_code == 204
    bill = ns.record("GET", "vendorBill/1").json()
    assert bill["memo"] == "Lot 4 footings" and bill["tranDate"] == "2024-07-01"
    assert bill["lastModifiedDate"] > "2025"
    assert bill["tranId"] == "T-001"  # untouched fields stay
    assert ns.record("PATCH", "vendorBill/999", {"memo": "x"}).status_code == 404


def test_post_vendor_bill_maps_fields_and_shares_transaction_ids(ns: Sandbox) -> None:
    r = ns.record("POST", "vendorBill", {
        "externalId": "ELT-BILL-1", "entity": {"id": "2"}, "tranId": "SUP-7781",
        "tranDate": "2024-06-01", "expense": {"items": [{"amount": 1.0}]}})
    assert r.status_code == 204
    assert r.headers["Location"] == f"{ns.base}/record/v1/vendorBill/26"
    q = ("SELECT id, type, entity, tranid, TO_CHAR(trandate, 'YYYY-MM-DD') AS d "
         "FROM transaction WHERE externalid = 'ELT-BILL-1'")
    assert ns.suiteql(q).json()["items"] == [{"links": [], "id": "26", "type": "VendBill",
                                              "entity": "2", "tranid": "SUP-7781",
                                              "d": "2024-06-01"}]
    item = ns.record("POST", "otherChargePurchaseItem", {"itemId": "CC-03-300"})
    assert item.headers["Location"].endswith("/otherChargePurchaseItem/12")
    assert ns.record("GET", "otherChargePurchaseItem/12").json()["subtype"] == "Purchase"


@pytest.mark.parametrize(("path", "body", "code", "error_path"), [
    ("vendor", {"email": "x@y"}, "USER_ERROR", "companyName"),
    ("vendorBill", {"entity": {"id": "1"}}, "USER_ERROR", "tranDate"),
    ("vendorBill", {"tranDate": "2024-06-01"}, "USER_ERROR", "entity.id"),
    ("vendorBill", {"entity": {"id": "1"}, "tranDate": "June 1"}, "INVALID_CONTENT", "tranDate"),
    ("otherChargePurchaseItem", {"displayName": "x"}, "USER_ERROR", "itemId"),
    ("vendor", [1, 2], "INVALID_CONTENT", None),
])
def test_invalid_writes_are_400(ns: Sandbox, path: str, body: Any, code: str,
                                error_path: str | None) -> None:
    r = ns.record("POST", path, body)
    assert r.status_code == 400
    assert _detail(r)["o:errorCode"] == code
    assert _detail(r).get("o:errorPath") == error_path


# -- governance ----------------------------------------------------------------------------------
def test_concurrency_limit_is_429_without_retry_after(ns: Sandbox) -> None:
    ns.provider.blocking = True
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        held = [pool.submit(ns.suiteql, "SELECT id FROM vendor") for _ in range(CONCURRENCY)]
        for _ in range(CONCURRENCY):  # both slots taken: the requests wait inside the handler
            assert ns.provider.entered.acquire(timeout=10)
        refused = ns.record("GET", "vendor/1")
        ns.provider.blocking = False
        ns.provider.release.set()
        assert [f.result(timeout=10).status_code for f in held] == [200] * CONCURRENCY
    assert refused.status_code == 429
    assert refused.json() == {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
        "title": "Bad Request", "status": 429,
        "o:errorDetails": [{"detail": "Concurrent request limit exceeded. Request blocked.",
                            "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED"}]}
    assert "retry-after" not in refused.headers
    assert ns.record("GET", "vendor/1").status_code == 200  # slots are free again


def test_injected_fault_uses_netsuite_bodies(ns: Sandbox) -> None:
    ns.api.gate.inject("429", 1)
    r = ns.record("GET", "vendor/1")
    assert r.status_code == 429 and _detail(r)["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert ns.record("GET", "vendor/1").status_code == 200


def test_provider_frames_are_served_as_they_change(ns: Sandbox) -> None:
    assert ns.suiteql("SELECT COUNT(*) AS n FROM job").json()["items"][0]["n"] == "1"
    ns.record("PATCH", "vendor/2", {"companyName": "Summit 2"})  # overlay survives a new world
    frames = dict(ns.provider.frames)
    extra = frames["job"].with_columns(id=pl.lit(7732, pl.Int64))
    frames["job"] = pl.concat([frames["job"], extra])
    ns.provider.frames = frames
    assert ns.suiteql("SELECT COUNT(*) AS n FROM job").json()["items"][0]["n"] == "2"
    assert ns.record("GET", "vendor/2").json()["companyName"] == "Summit 2"
