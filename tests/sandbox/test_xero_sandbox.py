"""The Xero sandbox on the wire: paging, filters, errors, limits, faults, exact numbers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
import requests

from pipelines.sandbox import world as world_mod
from pipelines.sandbox.common import CLIENT_ID, CLIENT_SECRET, PROCORE_TOKEN, Limits
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World, cents

API = "/xero/api.xro/2.0"


def _bills(world: World, connection_id: str) -> pl.DataFrame:
    return world.t["erp_txns"].filter((pl.col("connection_id") == connection_id)
                                      & (pl.col("erp_type") == "ACCPAY"))


def _get(http: requests.Session, server: SandboxServer, path: str, headers: dict,
         **params: object) -> requests.Response:
    return http.get(f"{server.url}{API}/{path}", headers=headers, params=params, timeout=10)


# -- paging ----------------------------------------------------------------------------------
def test_paging_object_and_short_last_page(http, server, xero_headers, world, xero_conn) -> None:
    n = _bills(world, xero_conn["connection_id"]).height
    size = 10
    last = -(-n // size)
    body = _get(http, server, "Invoices", xero_headers, page=1, pageSize=size).json()
    assert body["pagination"] == {"page": 1, "pageSize": size, "pageCount": last, "itemCount": n}
    tail = _get(http, server, "Invoices", xero_headers, page=last, pageSize=size).json()
    assert 0 < len(tail["Invoices"]) == n - (last - 1) * size < size
    beyond = _get(http, server, "Invoices", xero_headers, page=last + 1, pageSize=size).json()
    assert beyond["Invoices"] == []
    ids = [i["InvoiceID"] for p in range(1, last + 1) for i in
           _get(http, server, "Invoices", xero_headers, page=p, pageSize=size).json()["Invoices"]]
    assert sorted(ids) == sorted(_bills(world, xero_conn["connection_id"])["txn_id"])


def test_page_size_clamped_and_default(http, server, xero_headers) -> None:
    big = _get(http, server, "Invoices", xero_headers, page=1, pageSize=5000).json()
    assert big["pagination"]["pageSize"] == 1000
    default = _get(http, server, "Contacts", xero_headers, page=1).json()
    assert default["pagination"]["pageSize"] == 100


def test_default_order_is_updated_then_id(http, server, xero_headers) -> None:
    rows = _get(http, server, "Invoices", xero_headers, page=1, pageSize=1000).json()["Invoices"]
    keys = [(r["UpdatedDateUTC"], r["InvoiceID"]) for r in rows]
    stamps = [int(re.search(r"\d+", k[0]).group()) for k in keys]
    assert [(s, k[1]) for s, k in zip(stamps, keys, strict=True)] == sorted(
        (s, k[1]) for s, k in zip(stamps, keys, strict=True))
    desc = _get(http, server, "Invoices", xero_headers, page=1, pageSize=1000,
                order="UpdatedDateUTC DESC").json()["Invoices"]
    desc_stamps = [int(re.search(r"\d+", r["UpdatedDateUTC"]).group()) for r in desc]
    assert desc_stamps == sorted(stamps, reverse=True)  # ties may come in any id order


def test_line_items_only_when_paged_or_single(http, server, xero_headers) -> None:
    unpaged = _get(http, server, "Invoices", xero_headers).json()
    assert "pagination" not in unpaged
    assert all("LineItems" not in i for i in unpaged["Invoices"])
    paged = _get(http, server, "Invoices", xero_headers, page=1).json()["Invoices"]
    assert all(i["LineItems"] for i in paged)
    one = _get(http, server, f"Invoices/{paged[0]['InvoiceID']}", xero_headers).json()
    assert one["Invoices"][0]["LineItems"] == paged[0]["LineItems"]
    summary = _get(http, server, "Invoices", xero_headers, page=1, summaryOnly="true").json()
    assert all("LineItems" not in i for i in summary["Invoices"])
    # Items and TrackingCategories are not pageable: no pagination object even with page=.
    assert "pagination" not in _get(http, server, "Items", xero_headers, page=1).json()


def test_single_get_and_404(http, server, xero_headers, world, xero_conn) -> None:
    pay = world.t["erp_payments"].filter(pl.col("connection_id") == xero_conn["connection_id"])
    pid = pay["payment_id"][0]
    body = _get(http, server, f"Payments/{pid}", xero_headers).json()
    assert [p["PaymentID"] for p in body["Payments"]] == [pid]
    missing = _get(http, server, "Invoices/00000000-0000-0000-0000-000000000000", xero_headers)
    assert missing.status_code == 404
    assert missing.text == "The resource you're looking for cannot be found"


# -- incremental -----------------------------------------------------------------------------
def test_if_modified_since_is_strictly_greater(http, server, xero_headers, world,
                                               xero_conn) -> None:
    bills = _bills(world, xero_conn["connection_id"]).sort("updated_at")
    pivot: datetime = bills["updated_at"][bills.height // 2]
    expected = set(bills.filter(pl.col("updated_at") > pivot)["txn_id"])
    for header in (pivot.strftime("%Y-%m-%dT%H:%M:%S"),  # UTC when no offset
                   pivot.strftime("%Y-%m-%dT%H:%M:%S.000"),
                   (pivot + timedelta(hours=13)).strftime("%Y-%m-%dT%H:%M:%S+13:00")):
        got = _get(http, server, "Invoices", {**xero_headers, "If-Modified-Since": header},
                   page=1, pageSize=1000).json()["Invoices"]
        assert {i["InvoiceID"] for i in got} == expected, header
    bad = _get(http, server, "Invoices", {**xero_headers, "If-Modified-Since": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["Type"] == "ValidationException"


# -- where, Statuses, IDs --------------------------------------------------------------------
@pytest.mark.parametrize("where, keep", [
    ('Type=="ACCPAY"', lambda t: t["erp_type"] == "ACCPAY"),
    ('Status=="AUTHORISED"', lambda t: t["status"] == "AUTHORISED"),
    ('Type == "ACCPAY" AND Status != "DRAFT"', lambda t: t["status"] != "DRAFT"),
    ('(Status=="PAID" || Status=="VOIDED") && Type=="ACCPAY"',
     lambda t: t["status"] in ("PAID", "VOIDED")),
    ('Status=="DRAFT" OR Status=="DELETED"', lambda t: t["status"] in ("DRAFT", "DELETED")),
    ('Date >= DateTime(2025, 06, 01)', lambda t: t["txn_date"].isoformat() >= "2025-06-01"),
    ('Reference.StartsWith("REF-00001")', lambda t: t["reference"].startswith("REF-00001")),
])
def test_where(http, server, xero_headers, world, xero_conn, where, keep) -> None:
    bills = _bills(world, xero_conn["connection_id"])
    expected = {r["txn_id"] for r in bills.iter_rows(named=True) if keep(r)}
    got = _get(http, server, "Invoices", xero_headers, where=where, page=1, pageSize=1000)
    assert got.status_code == 200, got.text
    assert {i["InvoiceID"] for i in got.json()["Invoices"]} == expected


def test_where_on_contacts_and_bank_transactions(http, server, xero_headers, world,
                                                 xero_conn) -> None:
    n = world.t["vendors"].filter(pl.col("connection_id") == xero_conn["connection_id"]).height
    got = _get(http, server, "Contacts", xero_headers, where='ContactStatus=="ACTIVE"').json()
    assert len(got["Contacts"]) == n
    spend = world.t["erp_txns"].filter((pl.col("connection_id") == xero_conn["connection_id"])
                                       & (pl.col("erp_type") == "SPEND"))
    got = _get(http, server, "BankTransactions", xero_headers, where='Type=="SPEND"').json()
    assert {b["BankTransactionID"] for b in got["BankTransactions"]} == set(spend["txn_id"])


@pytest.mark.parametrize("where, message", [
    ('Colour=="RED"', "No property or field 'Colour' exists in type 'Invoice'"),
    ('Status=="PAID', "Unterminated string literal"),
    ('Status=="PAID" AND', "Expression expected"),
    ('Status=="PAID"))', "Syntax error"),
    ('Status==true', "Operator '==' incompatible with operand types 'String' and 'Boolean'"),
])
def test_where_errors(http, server, xero_headers, where, message) -> None:
    got = _get(http, server, "Invoices", xero_headers, where=where)
    assert got.status_code == 400
    body = got.json()
    assert body["ErrorNumber"] == 16 and body["Type"] == "QueryParseException"
    assert message in body["Message"]
    assert "X-MinLimit-Remaining" in got.headers


def test_statuses_and_ids(http, server, xero_headers, world, xero_conn) -> None:
    bills = _bills(world, xero_conn["connection_id"])
    got = _get(http, server, "Invoices", xero_headers, Statuses="DRAFT,VOIDED").json()
    assert {i["InvoiceID"] for i in got["Invoices"]} == set(
        bills.filter(pl.col("status").is_in(["DRAFT", "VOIDED"]))["txn_id"])
    ids = bills["txn_id"].head(3).to_list()
    got = _get(http, server, "Invoices", xero_headers, IDs=",".join(i.upper() for i in ids))
    assert sorted(i["InvoiceID"] for i in got.json()["Invoices"]) == sorted(ids)


# -- auth ------------------------------------------------------------------------------------
def test_401_bodies(http, server, xero_headers) -> None:
    for headers in ({k: v for k, v in xero_headers.items() if k != "Authorization"},
                    {**xero_headers, "Authorization": "Bearer nope"},
                    {**xero_headers, "Authorization": f"Bearer {PROCORE_TOKEN}"}):
        got = _get(http, server, "Invoices", headers)
        assert got.status_code == 401
        body = got.json()
        assert {k: body[k] for k in ("Type", "Title", "Status", "Detail", "Extensions")} == {
            "Type": None, "Title": "Unauthorized", "Status": 401,
            "Detail": "AuthenticationUnsuccessful", "Extensions": {}}
        assert re.fullmatch(r"[0-9a-f-]{36}", body["Instance"])


def test_403_bodies(http, server, xero_headers, world) -> None:
    other = world.t["connections"].filter(pl.col("erp") != "xero")["erp_tenant_id"][0]
    for headers in ({k: v for k, v in xero_headers.items() if k != "xero-tenant-id"},
                    {**xero_headers, "xero-tenant-id": other}):
        got = _get(http, server, "Invoices", headers)
        assert got.status_code == 403
        body = got.json()
        assert (body["Title"], body["Status"], body["Detail"]) == (
            "Forbidden", 403, "AuthenticationUnsuccessful")
    # Header names are case-insensitive.
    upper = {k.upper() if k == "xero-tenant-id" else k: v for k, v in xero_headers.items()}
    assert _get(http, server, "Contacts", upper).status_code == 200


def test_token_endpoint(http, server, xero_headers) -> None:
    url = f"{server.url}/xero/identity/connect/token"
    bad = http.post(url, data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                               "client_secret": "wrong"})
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_client"}
    ok = http.post(url, data={"grant_type": "client_credentials"},
                   auth=(CLIENT_ID, CLIENT_SECRET)).json()
    assert ok["expires_in"] == 1800 and ok["token_type"] == "Bearer"
    headers = {**xero_headers, "Authorization": f"Bearer {ok['access_token']}"}
    assert _get(http, server, "Contacts", headers).status_code == 200
    conns = http.get(f"{server.url}/xero/connections", headers=headers).json()
    assert conns[0]["tenantId"] == xero_headers["xero-tenant-id"]
    assert set(conns[0]) == {"id", "authEventId", "tenantId", "tenantType", "tenantName",
                             "createdDateUtc", "updatedDateUtc"}


def test_accept_xml_is_refused(http, server, xero_headers) -> None:
    got = _get(http, server, "Contacts", {**xero_headers, "Accept": "application/xml"})
    assert got.status_code == 406


# -- wire format -----------------------------------------------------------------------------
def test_escaped_date_bytes_and_envelope(http, server, xero_headers) -> None:
    got = _get(http, server, "Invoices", xero_headers, page=1)
    raw = got.content
    assert b'"DateTimeUTC":"\\/Date(' in raw
    assert re.search(rb'"UpdatedDateUTC":"\\/Date\(\d+\+0000\)\\/"', raw)
    assert b'"/Date(' not in raw
    body = got.json()
    assert body["Status"] == "OK" and body["ProviderName"]
    first = body["Invoices"][0]
    assert re.fullmatch(r"/Date\(\d+\+0000\)/", first["Date"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00", first["DateString"])


def test_decimal_exactness(http, server, xero_headers, world, xero_conn) -> None:
    got = _get(http, server, "Invoices", xero_headers, page=1, pageSize=1000)
    # Every money value is a JSON number with exactly two decimals, never a string or float.
    assert re.search(rb'"Total":-?\d+\.\d\d[,}]', got.content)
    assert not re.search(rb'"(Total|LineAmount|SubTotal)":"', got.content)
    body = json.loads(got.content, parse_float=Decimal)
    bills = _bills(world, xero_conn["connection_id"])
    assert sum(i["Total"] for i in body["Invoices"]) == cents(int(bills["total"].sum()))
    lines = world.t["erp_lines"].filter(pl.col("txn_id").is_in(bills["txn_id"].implode()))
    line_sum = sum(li["LineAmount"] for i in body["Invoices"] for li in i["LineItems"])
    assert line_sum == cents(int(lines["line_amount"].sum()))
    assert all(isinstance(i["Total"], Decimal) for i in body["Invoices"])


# -- rate limits -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def limited(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world, limits=Limits(xero_per_minute=3)) as srv:
        yield srv


def test_minute_limit_429(http, limited, xero_headers) -> None:
    seen = [_get(http, limited, "Contacts", xero_headers) for _ in range(4)]
    assert [r.status_code for r in seen] == [200, 200, 200, 429]
    assert [r.headers["X-MinLimit-Remaining"] for r in seen] == ["2", "1", "0", "0"]
    assert all("X-DayLimit-Remaining" in r.headers and "X-AppMinLimit-Remaining" in r.headers
               for r in seen)
    refused = seen[-1]
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.text == "Rate Limit Exceeded"


def test_day_limit_429(http, world, xero_headers) -> None:
    with SandboxServer(world, limits=Limits(xero_per_day=1)) as srv:
        assert _get(http, srv, "Items", xero_headers).status_code == 200
        refused = _get(http, srv, "Items", xero_headers)
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "day"
    assert int(refused.headers["Retry-After"]) > 60


# -- faults ----------------------------------------------------------------------------------
def _inject(http, server, kind: str, count: int = 1, system: str = "xero") -> None:
    got = http.post(f"{server.url}/_sandbox/faults",
                    json={"system": system, "kind": kind, "count": count})
    assert got.status_code == 200, got.text


def test_fault_429_500_truncate(http, server, xero_headers) -> None:
    _inject(http, server, "429")
    _inject(http, server, "500", count=2)
    _inject(http, server, "truncate")
    first = _get(http, server, "Invoices", xero_headers, page=1)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert first.headers["X-Rate-Limit-Problem"] == "minute"
    assert [_get(http, server, "Invoices", xero_headers).status_code for _ in range(2)] == [500] * 2
    cut = _get(http, server, "Invoices", xero_headers, page=1)
    assert cut.status_code == 200 and cut.content.startswith(b'{"Id":')
    with pytest.raises(ValueError):
        json.loads(cut.content)
    assert _get(http, server, "Invoices", xero_headers, page=1).json()["Status"] == "OK"


def test_fault_timeout(http, world, xero_headers) -> None:
    with SandboxServer(world, limits=Limits(fault_timeout_seconds=1.5)) as srv:
        _inject(http, srv, "timeout")
        with pytest.raises(requests.Timeout):
            http.get(f"{srv.url}{API}/Contacts", headers=xero_headers, timeout=0.3)
        assert _get(http, srv, "Contacts", xero_headers).status_code == 200


def test_bad_fault_request(http, server) -> None:
    got = http.post(f"{server.url}/_sandbox/faults", json={"system": "xero", "kind": "502"})
    assert got.status_code == 400


# -- admin -----------------------------------------------------------------------------------
def test_health_and_stats(http, server) -> None:
    health = http.get(f"{server.url}/_sandbox/health").json()
    assert health["status"] == "ok" and health["seed"] == 42 and health["size"] == "tiny"
    stats = http.get(f"{server.url}/_sandbox/stats").json()
    assert stats["xero"]["paths"][f"{API}/Invoices"] > 0
    assert stats["xero"]["total"] == sum(stats["xero"]["paths"].values())


def test_advance_is_seen_incrementally(http, xero_headers) -> None:
    own = world_mod.generate(42, "tiny")  # advance() changes the world: not the shared one
    with SandboxServer(own) as srv:
        before = own.now
        changed = http.post(f"{srv.url}/_sandbox/advance").json()
        assert http.get(f"{srv.url}/_sandbox/health").json()["step"] == 1
        since = {**xero_headers, "If-Modified-Since": before.strftime("%Y-%m-%dT%H:%M:%S")}
        bills = _get(http, srv, "Invoices", since, page=1).json()["Invoices"]
        voided = {b["InvoiceID"] for b in bills if b["Status"] == "VOIDED"}
        assert voided == set(changed["bills_voided"])
        spend = _get(http, srv, "BankTransactions", since).json()["BankTransactions"]
        assert {s["BankTransactionID"] for s in spend} == set(changed["spend_changed"])
        pays = _get(http, srv, "Payments", since).json()["Payments"]
        assert {p["PaymentID"] for p in pays if p["Status"] == "DELETED"} == set(
            changed["payments_deleted"])
    assert own.now == before + timedelta(days=1) and own.now.tzinfo == UTC
