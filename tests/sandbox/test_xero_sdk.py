"""The official xero-python SDK reads the sandbox as it would read api.xero.com.

Expected values come straight from the world's frames with polars, never from the sandbox's
own views, so a mapping bug in the sandbox cannot hide itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.identity import IdentityApi

from pipelines.sandbox.common import CLIENT_ID, CLIENT_SECRET, XERO_TOKEN
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World, cents


def _client(token: dict) -> ApiClient:
    config = Configuration(oauth2_token=OAuth2Token(client_id=CLIENT_ID,
                                                    client_secret=CLIENT_SECRET))
    client = ApiClient(config, pool_threads=1)
    client.oauth2_token_getter(lambda: token)
    client.oauth2_token_saver(lambda new: token.update(new))
    return client


@pytest.fixture(scope="module")
def api(server: SandboxServer) -> Iterator[AccountingApi]:
    client = _client({"access_token": XERO_TOKEN, "token_type": "Bearer", "expires_in": 1800,
                      "scope": ["accounting.transactions.read"]})
    yield AccountingApi(client, base_url=f"{server.url}/xero/api.xro/2.0")


@pytest.fixture(scope="module")
def tenant(xero_conn: dict) -> str:
    return xero_conn["erp_tenant_id"]


def _bills(world: World, connection_id: str) -> pl.DataFrame:
    return world.t["erp_txns"].filter((pl.col("connection_id") == connection_id)
                                      & (pl.col("erp_type") == "ACCPAY"))


def _all_bills(api: AccountingApi, tenant: str, page_size: int = 20) -> list:
    out, page = [], 1
    while True:
        got = api.get_invoices(tenant, where='Type=="ACCPAY"', page=page, page_size=page_size)
        out += got.invoices
        if len(got.invoices) < page_size:
            return out
        page += 1


def test_sdk_token_and_connections(server: SandboxServer, monkeypatch: pytest.MonkeyPatch,
                                   tenant: str) -> None:
    # The SDK's own client_credentials flow, pointed at the sandbox's identity endpoint.
    monkeypatch.setattr(TokenApi, "client_credentials_token_url",
                        f"{server.url}/xero/identity/connect/token")
    token: dict = {}
    client = _client(token)
    new = client.get_client_credentials_token()
    assert new["token_type"] == "Bearer" and new["expires_in"] == 1800
    conns = IdentityApi(client, base_url=f"{server.url}/xero").get_connections()
    assert [c.tenant_id for c in conns] == [tenant]
    assert conns[0].tenant_type == "ORGANISATION"


def test_sdk_reads_every_bill_with_lines(api: AccountingApi, tenant: str, world: World,
                                         xero_conn: dict) -> None:
    expected = _bills(world, xero_conn["connection_id"])
    bills = _all_bills(api, tenant)
    assert len(bills) == expected.height
    assert {b.invoice_id for b in bills} == set(str(i) for i in expected["txn_id"])
    assert all(b.type == "ACCPAY" for b in bills)

    lines = world.t["erp_lines"].filter(pl.col("txn_id").is_in(expected["txn_id"].implode()))
    line_cents = int(lines["line_amount"].sum())
    assert sum(b.total for b in bills) == cents(line_cents)
    assert sum(li.line_amount for b in bills for li in b.line_items) == cents(line_cents)
    # Every total is exact (Decimal from the wire, two places), and lines add up to it.
    for b in bills:
        assert isinstance(b.total, Decimal)
        assert sum((li.line_amount for li in b.line_items), Decimal(0)) == b.total


def test_sdk_line_amounts_and_tracking(api: AccountingApi, tenant: str, world: World,
                                       xero_conn: dict) -> None:
    bill = _bills(world, xero_conn["connection_id"]).sort("txn_id").row(0, named=True)
    got = api.get_invoice(tenant, bill["txn_id"]).invoices[0]
    lines = world.t["erp_lines"].filter(pl.col("txn_id") == bill["txn_id"]).sort("line_no")
    assert [li.line_amount for li in got.line_items] == [cents(c) for c in lines["line_amount"]]
    assert [str(li.line_item_id) for li in got.line_items] == lines["line_id"].to_list()
    for li, opt in zip(got.line_items, lines["tracking_option_id"], strict=True):
        assert [str(t.tracking_option_id) for t in li.tracking] == ([] if opt is None else [opt])


def test_sdk_parses_dates(api: AccountingApi, tenant: str, world: World,
                          xero_conn: dict) -> None:
    bill = _bills(world, xero_conn["connection_id"]).sort("txn_id").row(0, named=True)
    got = api.get_invoice(tenant, bill["txn_id"]).invoices[0]
    assert got.date == bill["txn_date"] and isinstance(got.date, date)
    assert got.due_date == bill["due_date"]
    assert got.updated_date_utc.replace(tzinfo=UTC) == bill["updated_at"]
    assert isinstance(got.updated_date_utc, datetime)


def test_sdk_if_modified_since(api: AccountingApi, tenant: str, world: World,
                               xero_conn: dict) -> None:
    cutoff = datetime(2026, 1, 1, tzinfo=UTC)
    expected = _bills(world, xero_conn["connection_id"]).filter(pl.col("updated_at") > cutoff)
    got = api.get_invoices(tenant, if_modified_since=cutoff, where='Type=="ACCPAY"', page=1,
                           page_size=1000)
    assert {i.invoice_id for i in got.invoices} == set(expected["txn_id"])


def test_sdk_contacts(api: AccountingApi, tenant: str, world: World, xero_conn: dict) -> None:
    vendors = world.t["vendors"].filter(pl.col("connection_id") == xero_conn["connection_id"])
    got = api.get_contacts(tenant, page=1).contacts
    assert {c.contact_id for c in got} == set(vendors["contact_id"])
    assert {c.name for c in got} == set(vendors["name"])
    assert all(c.is_supplier and c.contact_status == "ACTIVE" for c in got)


def test_sdk_payments(api: AccountingApi, tenant: str, world: World, xero_conn: dict) -> None:
    pays = world.t["erp_payments"].filter(pl.col("connection_id") == xero_conn["connection_id"])
    got = api.get_payments(tenant, page=1, page_size=1000).payments
    assert len(got) == pays.height
    assert sum(p.amount for p in got) == cents(int(pays["amount"].sum()))
    deleted = set(pays.filter(pl.col("status") == "DELETED")["payment_id"])
    assert {p.payment_id for p in got if p.status == "DELETED"} == deleted
    by_id = {r["payment_id"]: r for r in pays.iter_rows(named=True)}
    for p in got:
        assert p.invoice.invoice_id == by_id[p.payment_id]["txn_id"]
        assert p.date == by_id[p.payment_id]["payment_date"]


def test_sdk_amount_paid_matches_live_payments(api: AccountingApi, tenant: str, world: World,
                                               xero_conn: dict) -> None:
    pays = world.t["erp_payments"].filter((pl.col("connection_id") == xero_conn["connection_id"])
                                          & (pl.col("status") == "AUTHORISED"))
    paid = {r["txn_id"]: r["amount"] for r in
            pays.group_by("txn_id").agg(pl.col("amount").sum()).iter_rows(named=True)}
    for bill in _all_bills(api, tenant, page_size=100):
        assert bill.amount_paid == cents(paid.get(bill.invoice_id, 0))
        assert bill.amount_due == bill.total - bill.amount_paid


def test_sdk_other_resources(api: AccountingApi, tenant: str, world: World,
                             xero_conn: dict) -> None:
    cid = xero_conn["connection_id"]
    txns = world.t["erp_txns"].filter(pl.col("connection_id") == cid)
    bank = api.get_bank_transactions(tenant, page=1)
    expected = txns.filter(pl.col("erp_type").is_in(["SPEND", "RECEIVE"]))
    assert {b.bank_transaction_id for b in bank.bank_transactions} == set(expected["txn_id"])
    assert all(b.bank_account.code == "090" for b in bank.bank_transactions)
    credits = api.get_credit_notes(tenant, page=1).credit_notes
    assert {c.credit_note_id for c in credits} == set(
        txns.filter(pl.col("erp_type") == "ACCPAYCREDIT")["txn_id"])
    items = api.get_items(tenant).items
    assert {i.code for i in items} == set(
        world.t["erp_items"].filter(pl.col("connection_id") == cid)["code"])
    [category] = api.get_tracking_categories(tenant).tracking_categories
    assert category.name == "Job"
    assert {o.name for o in category.options} == set(
        world.t["erp_options"].filter(pl.col("connection_id") == cid)["name"])
