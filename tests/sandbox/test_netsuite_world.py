"""The NetSuite side of the world, read back over real HTTP through SuiteQL, signed with an
independent OAuth1 client (requests-oauthlib). Expected values come from the world's own
frames (what the generator drew), never from the sandbox's table builder."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
import requests
from requests_oauthlib import OAuth1

from pipelines.sandbox import world as world_mod
from pipelines.sandbox.common import PROCORE_TOKEN
from pipelines.sandbox.netsuite import account_slug
from pipelines.sandbox.netsuite_auth import SANDBOX_CREDENTIALS as CREDS
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World


@pytest.fixture(scope="module")
def ns(world: World) -> dict:
    return world.connections("netsuite").filter(pl.col("cost_code_tiers") == 2).row(0, named=True)


class SuiteQL:
    """A minimal SuiteQL client: every page, as a polars frame of text columns."""

    def __init__(self, server: SandboxServer, account: str):
        self.url = f"{server.url}/netsuite/{account_slug(account)}/services/rest/query/v1/suiteql"
        self.auth = OAuth1(CREDS.consumer_key, CREDS.consumer_secret, CREDS.token_id,
                           CREDS.token_secret, signature_method="HMAC-SHA256", realm=account)

    def __call__(self, q: str) -> pl.DataFrame:
        rows, offset = [], 0
        while True:
            r = requests.post(f"{self.url}?limit=1000&offset={offset}", json={"q": q},
                              auth=self.auth, headers={"Prefer": "transient"}, timeout=30)
            assert r.status_code == 200, r.text
            body = r.json()
            rows += [{k: v for k, v in i.items() if k != "links"} for i in body["items"]]
            if not body["hasMore"]:
                return pl.DataFrame(rows, infer_schema_length=None)
            offset += 1000


@pytest.fixture(scope="module")
def q(server: SandboxServer, ns: dict) -> SuiteQL:
    return SuiteQL(server, ns["erp_tenant_id"])


def _mine(world: World, table: str, cid: str) -> pl.DataFrame:
    return world.t[table].filter(pl.col("connection_id") == cid)


def test_ns_3_one_other_charge_item_per_project_wbs_code_named_with_segments(world, ns, q):
    """NS-3: `[project number]-[cost code].[cost type]` + custom segments in Procore's order."""
    wbs = _mine(world, "wbs_codes", ns["connection_id"]).filter(pl.col("erp_item_id").is_not_null())
    numbers = dict(zip(world.t["procore_projects"]["project_id"],
                       world.t["procore_projects"]["project_number"], strict=True))
    expected = {f"{numbers[p]}-{c}.{t}" + (f".{s}" if s else "")
                for p, c, t, s in wbs.select("project_id", "cost_code", "cost_type", "segment")
                .iter_rows()}
    got = q("SELECT itemid, itemtype, externalid FROM item WHERE externalid LIKE 'procore-wbs-%'")
    assert set(got["itemid"]) == expected
    assert set(got["itemtype"]) == {"OthCharge"}
    assert any(name.count(".") == 2 for name in expected), "no custom segment drawn"


def test_ns_4_items_only_for_budgeted_codes_or_codes_on_exported_invoices(world, ns):
    """NS-4: an item exists once the code is budgeted (and exported) or exported on an
    invoice; some budgeted codes still wait for *Export Cost Codes*."""
    cid = ns["connection_id"]
    wbs = _mine(world, "wbs_codes", cid)
    reqs = _mine(world, "procore_requisitions", cid).filter(pl.col("is_exported"))
    on_invoice = set(_mine(world, "procore_requisition_lines", cid).filter(
        pl.col("requisition_id").is_in(reqs["requisition_id"].implode()))["wbs_code_id"])
    with_item = wbs.filter(pl.col("erp_item_id").is_not_null())
    for code, budgeted in with_item.select("wbs_code_id", "on_budget").iter_rows():
        assert budgeted or code in on_invoice
    assert with_item.filter(~pl.col("on_budget")).height > 0  # created by an invoice export
    synced = set(_mine(world, "procore_projects", cid).filter(pl.col("is_synced"))["project_id"])
    waiting = wbs.filter(pl.col("on_budget") & pl.col("erp_item_id").is_null()
                         & pl.col("project_id").is_in(list(synced)))
    assert waiting.height > 0


def test_ns_5_single_tier_connection_has_no_items_and_no_synced_project(world):
    single = world.connections("netsuite").filter(pl.col("cost_code_tiers") == 1)
    assert single.height == 1
    cid = single["connection_id"][0]
    wbs = _mine(world, "wbs_codes", cid)
    assert wbs.height > 0 and not wbs["cost_code"].str.contains("-").any()
    assert wbs["erp_item_id"].is_null().all()
    assert not _mine(world, "procore_projects", cid)["is_synced"].any()
    lines = world.cost_lines(cid)
    assert lines.height > 0 and not lines["is_syncable"].any()


def test_ns_6_sub_jobs_carry_lines(world, ns, q):
    subs = q("SELECT id, parent FROM job WHERE parent IS NOT NULL")
    assert subs.height > 0
    lines = q("SELECT tl.transaction FROM transactionline tl JOIN job j ON j.id = tl.entity "
              "WHERE j.parent IS NOT NULL")
    assert lines.height == world.cost_lines(ns["connection_id"]).filter(
        (pl.col("case") == "sub_job") & (pl.col("status") != "DELETED")).height > 0


def test_ns_7_and_ns_14_lines_on_items_the_integration_did_not_create(world, ns, q):
    """NS-7 other item types, NS-14 Other Charge items without the integration's external id
    and expense lines with no item: all drawn, all served."""
    got = q("SELECT i.itemtype, i.externalid, tl.item FROM transactionline tl "
            "LEFT JOIN item i ON i.id = tl.item WHERE tl.mainline = 'F'")
    assert {"InvtPart", "NonInvtPart", "Service"} <= set(got["itemtype"].drop_nulls())
    assert got.filter((pl.col("itemtype") == "OthCharge") & pl.col("externalid").is_null()).height
    assert got["item"].null_count() > 0
    cases = set(world.cost_lines(ns["connection_id"])["case"])
    assert {"other_item_type", "erp_item", "expense_line"} <= cases


def test_ns_9_project_off_the_standard_list_is_no_job(world, server, ns, q):
    cid, company = ns["connection_id"], ns["procore_company_id"]
    r = requests.get(f"{server.url}/procore/rest/v1.0/projects", params={"company_id": company},
                     headers={"Authorization": f"Bearer {PROCORE_TOKEN}",
                              "Procore-Company-Id": str(company)}, timeout=30)
    off = [p for p in r.json() if not p["standard_cost_code_list"]]
    assert len(off) == 1 and off[0]["origin_id"] is None
    jobs = q("SELECT companyname FROM job")
    assert off[0]["name"] not in set(jobs["companyname"])
    assert world.t["procore_projects"].filter(pl.col("connection_id") == cid).height > 0


def test_ns_10_vendor_edits_on_both_sides(world, server, ns, q):
    vendors = _mine(world, "vendors", ns["connection_id"])
    got = q("SELECT id, phone, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD') AS changed FROM vendor")
    phone = dict(zip(got["id"], got["phone"], strict=True))
    for row in vendors.filter(pl.col("edited_in").is_not_null()).iter_rows(named=True):
        # The two sides now disagree; which one changed decides whether it will flow.
        assert phone[row["contact_id"]] != row["phone"]
    assert set(vendors["edited_in"].drop_nulls()) == {"erp", "procore"}


def test_ns_13_negative_invoice_is_a_vendor_credit_with_negative_lines(world, ns, q):
    cid = ns["connection_id"]
    neg = _mine(world, "procore_requisitions", cid).filter(
        pl.col("is_negative") & pl.col("is_exported"))
    assert neg.height > 0
    ids = ", ".join(f"'procore-requisition-{r}'" for r in neg["requisition_id"])
    got = q("SELECT t.type, tl.netamount FROM transaction t JOIN transactionline tl "
            f"ON tl.transaction = t.id WHERE tl.mainline = 'F' AND t.externalid IN ({ids})")
    assert set(got["type"]) == {"VendCred"}
    amounts = _mine(world, "procore_requisition_lines", cid).filter(
        pl.col("requisition_id").is_in(neg["requisition_id"].implode()))["amount"]
    assert sorted(Decimal(a) for a in got["netamount"]) == sorted(
        Decimal(int(a)) / 100 for a in amounts)
    assert all(Decimal(a) < 0 for a in got["netamount"])


def test_ns_17_journals_balance_and_debit_project_items(world, ns, q):
    got = q("SELECT t.id, tl.netamount, tl.item, tl.entity FROM transaction t "
            "JOIN transactionline tl ON tl.transaction = t.id "
            "WHERE t.type = 'Journal' AND tl.mainline = 'F'")
    assert got.height > 0
    sums: dict[str, Decimal] = {}
    for tid, amount in got.select("id", "netamount").iter_rows():
        sums[tid] = sums.get(tid, Decimal(0)) + Decimal(amount)
    assert set(sums.values()) == {Decimal(0)}
    debits = got.filter(~pl.col("netamount").str.starts_with("-"))
    assert debits["item"].null_count() < debits.height  # on items, so they can sync


def test_ns_18_deleted_after_sync_still_in_procore(world, ns, q):
    gone = q("SELECT recordid, recordtypename FROM deletedrecord")
    dcs = _mine(world, "procore_direct_costs", ns["connection_id"])
    still = set(dcs.filter(pl.col("deleted_at").is_null())["txn_id"]) & set(gone["recordid"])
    assert still, "no NetSuite transaction deleted after its sync to Procore"
    live = q("SELECT id FROM transaction")
    assert not still & set(live["id"])


def test_ledger_counts_credits_negative_and_journals(world, ns):
    """The ledger's NetSuite JTD is the signed sum of syncable cost lines (docs/netsuite.md),
    recomputed here from the raw frames."""
    cid = ns["connection_id"]
    lines = world.t["erp_lines"].join(
        world.t["erp_txns"].select("txn_id", "txn_kind", "is_status_ok", "is_type_ok"),
        on="txn_id").filter(pl.col("connection_id") == cid)
    ok = lines.filter(pl.col("is_status_ok") & pl.col("is_type_ok") & pl.col("is_project_ok")
                      & pl.col("is_item_ok"))
    sign = [-1 if k in ("credit_note", "subinv_credit") else 1 for k in ok["txn_kind"]]
    expected = sum(s * a for s, a in zip(sign, ok["line_amount"], strict=True))
    assert world.ledger(cid)["jtd_cents"].sum() == expected
    assert {"journal", "credit_note"} <= set(ok["txn_kind"])


def test_advance_changes_netsuite_incrementally(ns):
    own = world_mod.generate(42, "tiny")  # advance() changes it: not the shared world
    with SandboxServer(own) as srv:
        query = SuiteQL(srv, ns["erp_tenant_id"])
        before = own.now.strftime("%Y-%m-%d %H:%M:%S")
        changed = own.advance()
        assert changed["netsuite_bills_voided"] and changed["netsuite_transactions_deleted"]
        got = query("SELECT id, status, posting FROM transaction WHERE lastmodifieddate >= "
                    f"TO_TIMESTAMP('{before}', 'YYYY-MM-DD HH24:MI:SS')")
        voided = got.filter(pl.col("id").is_in(changed["netsuite_bills_voided"]))
        assert set(voided["status"]) == {"C"} and set(voided["posting"]) == {"F"}
        assert voided.height > 0
        mine = set(own.t["erp_txns"].filter(pl.col("connection_id") == ns["connection_id"])
                   ["txn_id"])
        assert set(got["id"]) == (set(changed["netsuite_bills_voided"]) | set(
            changed["netsuite_spend_changed"])) & mine
        gone = query("SELECT recordid FROM deletedrecord WHERE deleteddate >= "
                     f"TO_TIMESTAMP('{before}', 'YYYY-MM-DD HH24:MI:SS')")
        assert set(gone["recordid"]) == set(changed["netsuite_transactions_deleted"]) & mine
