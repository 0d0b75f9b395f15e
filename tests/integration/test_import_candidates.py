"""Import candidates (int_import_candidates, docs/exports.md §3-§4) on the tiny world through the
real sandbox, dlt, DuckDB and dbt, compared with what the world generator drew: the ERP's
syncable direct cost lines that Procore's last import did not bring in (those changed since,
and the bill it skipped, ``drawn_finding == 'erp_only'``), the vendors edited in the ERP
since they were linked, and the payments of exported invoices Procore does not hold yet.
Expected values come from the world's frames only; R-5's pending_import part is the
warehouse's own report, which the candidates must agree with."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from decimal import Decimal

import polars as pl
import pytest

from pipelines.sandbox.acumatica_tables import guid
from pipelines.sandbox.world import CI_KINDS, JTD_KINDS, World, cents, payments_pending_import
from tests.integration.common import warehouse_rows

COLUMNS = ("connection_id, erp, item_type, item_key, procore_id, procore_project_id, amount, "
           "erp_ref, is_synced, is_archived, document, payload_hash, is_blocked, findings")

# XE-13 and the NetSuite mapping (NS-15, NS-17): the world's kind -> Procore's direct cost type
XERO_TYPES = {"bill": "Invoice", "subinv_bill": "Subcontractor Invoice", "spend": "Expense",
              "credit_note": "Invoice"}
NETSUITE_TYPES = {"bill": "Invoice", "credit_note": "Invoice", "spend": "Expense",
                  "journal": "Expense"}
# AC-21: Acumatica's amount types
ACUMATICA_TYPES = {"invoice": "Invoice", "expense": "Expense", "payroll": "Payroll",
                   "subcontract_invoice": "Subcontractor Invoice"}


def candidates(settings) -> list[dict]:
    names = [c.strip() for c in COLUMNS.split(",")]
    rows = warehouse_rows(settings, f"select {COLUMNS} from intermediate.int_import_candidates")
    return [dict(zip(names, row, strict=True)) for row in rows]


def document(row: dict) -> dict:
    return json.loads(row["document"], parse_float=Decimal)


def missing_lines(world: World) -> pl.DataFrame:
    """The ERP lines that sync as Procore direct costs (the generator's own flags) and that no
    live Procore direct cost holds, with the ERP's ids as the warehouse has them (Acumatica:
    the project transaction GUIDs). NS-16: NetSuite subcontractor invoices are no direct
    costs."""
    erp_of = dict(world.t["connections"].select("connection_id", "erp").iter_rows())
    live = world.t["procore_direct_costs"].filter(pl.col("deleted_at").is_null())
    held = world.t["procore_direct_cost_lines"].filter(
        pl.col("direct_cost_id").is_in(live["direct_cost_id"].implode()))["line_id"]
    lines = world.cost_lines().filter(
        pl.col("is_syncable") & ~pl.col("line_id").is_in(held.implode())
        & ~((pl.col("erp") == "netsuite") & pl.col("txn_kind").is_in(CI_KINDS)))
    drawn = world.t["erp_txns"].select("txn_id", "drawn_finding")
    lines = lines.join(drawn, on="txn_id", how="left")
    ac = lines["connection_id"].replace_strict(erp_of) == "acumatica"
    return lines.with_columns(
        erp_txn=pl.when(ac).then(guid(lines["txn_id"], "pmtran")).otherwise(pl.col("txn_id")),
        erp_line=pl.when(ac).then(guid(lines["line_id"], "pm")).otherwise(pl.col("line_id")))


def test_c_5_xe_13_ns_16_ac_21_direct_cost_candidates_are_the_lines_procore_lacks(env):
    """C-5, XE-13, NS-16, AC-21, C-7: the not-synced direct cost items are exactly the ERP
    transactions with lines Procore lacks, each document listing those lines (by the ERP's
    line ids) and totalling them to the cent; the bill the import skipped is among them."""
    world, _, settings, _ = env
    lines = missing_lines(world)
    expected: dict[tuple, tuple] = {}
    for (cid, txn), group in lines.group_by("connection_id", "erp_txn"):
        expected[(cid, txn)] = (sorted(group["erp_line"]), cents(group["signed_amount"].sum()))
    got = {}
    for row in candidates(settings):
        if row["item_type"] == "direct_cost" and not row["is_synced"]:
            doc = document(row)
            got[(row["connection_id"], row["erp_ref"])] = (
                sorted(line["origin_id"] for line in doc["lines"]), row["amount"])
    assert got == expected
    skipped = lines.filter(pl.col("drawn_finding") == "erp_only")
    assert skipped.height > 0
    assert {(c, t) for c, t in skipped.select("connection_id", "erp_txn").iter_rows()} <= set(got)


def test_r_5_direct_cost_candidates_match_pending_import_to_the_cent(env):
    """R-5: per connection, the job cost accuracy report's pending_import part is minus the
    JTD cost of the candidates' lines, leaving out the bill the import skipped (C-7 erp_only,
    which R-5 leaves unexplained); both agree with the world's own count of them."""
    world, _, settings, _ = env
    lines = missing_lines(world)
    jtd = pl.lit(False)
    for erp, kinds in JTD_KINDS.items():
        jtd = jtd | ((pl.col("erp") == erp) & pl.col("txn_kind").is_in(kinds))
    pending = lines.filter(jtd & (pl.col("drawn_finding").fill_null("") != "erp_only"))
    world_pending = {c: cents(g["signed_amount"].sum())
                     for (c,), g in pending.group_by("connection_id")}
    skipped = set(lines.filter(pl.col("drawn_finding") == "erp_only")["erp_txn"])
    ours: dict[str, Decimal] = defaultdict(Decimal)
    for row in candidates(settings):
        if row["item_type"] == "direct_cost" and not row["is_synced"] \
                and row["erp_ref"] not in skipped:
            ours[row["connection_id"]] += row["amount"]
    r5 = dict(warehouse_rows(settings, "select connection_id, sum(pending_import) "
                             "from reports.rpt_job_cost_accuracy group by connection_id "
                             "having sum(pending_import) <> 0"))
    assert len(r5) >= 3
    assert {c: -v for c, v in r5.items()} == world_pending == dict(ours)


def test_c_5_direct_cost_documents_are_approved_typed_and_hashed(env):
    """C-5 (status Approved), XE-13 / NS-15 / AC-21 (the type from the ERP record's kind),
    §2 (payload_hash = sha256 of the exact text, total = sum of the lines = amount)."""
    world, _, settings, _ = env
    lines = missing_lines(world)
    kinds = {(c, t): (k, a) for c, t, k, a in lines.select(
        "connection_id", "erp_txn", "txn_kind", "amount_type").iter_rows()}
    rows = [r for r in candidates(settings)
            if r["item_type"] == "direct_cost" and not r["is_synced"]]
    project_codes = set(world.t["wbs_codes"].select("project_id", "flat_code").iter_rows())
    assert rows
    for row in rows:
        doc = document(row)
        assert doc["status"] == "Approved"
        assert doc["erp_txn_id"] == row["erp_ref"]
        assert row["item_key"] == f"direct_cost:{row['erp_ref']}"
        assert doc["total"] == sum(line["amount"] for line in doc["lines"]) == row["amount"]
        assert row["payload_hash"] == hashlib.sha256(row["document"].encode()).hexdigest()
        assert not row["is_archived"]
        # blocked exactly when a line's code is not on the project in the world (XE-11, NS-4,
        # AC-10): Procore would need the budget code first
        missing = [line for line in doc["lines"]
                   if (doc["project_id"], line["wbs_code"]) not in project_codes]
        assert row["is_blocked"] == bool(missing)
        assert [f["code"] for f in row["findings"]] == (["code_not_on_project"] if missing
                                                        else [])
        kind, amount_type = kinds[(row["connection_id"], row["erp_ref"])]
        types = {"xero": XERO_TYPES.get(kind), "netsuite": NETSUITE_TYPES.get(kind),
                 "acumatica": ACUMATICA_TYPES.get(amount_type)}
        assert doc["direct_cost_type"] == types[row["erp"]]


def test_ns_10_ac_1_xe_6_vendor_updates_are_the_erp_edits(env):
    """NS-10, AC-1: the vendor updates to import are the linked vendors the world edited in
    the ERP, each carrying only the new phone; vendors edited in Procore have nothing to
    import (synced). XE-6: no vendor update on a Xero connection."""
    world, _, settings, _ = env
    erp_of = dict(world.t["connections"].select("connection_id", "erp").iter_rows())
    vendors = world.t["vendors"].filter(
        pl.col("is_linked") & pl.col("connection_id").replace_strict(erp_of).is_in(
            ["netsuite", "acumatica"]))
    edited = vendors.filter(pl.col("edited_in") == "erp")
    expected = {(r["connection_id"], r["procore_vendor_id"]): {"phone": r["erp_phone"]}
                for r in edited.iter_rows(named=True)}
    rows = [r for r in candidates(settings) if r["item_type"] == "vendor_update"]
    got = {(r["connection_id"], r["procore_id"]): document(r)["changes"]
           for r in rows if not r["is_synced"]}
    assert expected and got == expected
    assert {r["erp"] for r in rows} == {"netsuite", "acumatica"}
    assert {(r["connection_id"], r["procore_id"]) for r in rows} == {
        (c, v) for c, v in vendors.select("connection_id", "procore_vendor_id").iter_rows()}
    for row in rows:
        assert document(row)["vendor_id"] == row["procore_id"]
        assert row["payload_hash"] == hashlib.sha256(row["document"].encode()).hexdigest()


def test_xe_10_ns_12_ac_17_payment_candidates_are_the_payments_pending_import(env):
    """XE-10, NS-12, AC-17: the payments to import (not synced, not archived) are the world's
    live ERP payments of subcontractor invoices exported from Procore that Procore does not
    hold, each on its requisition with its amount to the cent, date and reference; every
    synced one is a payment Procore holds."""
    world, _, settings, _ = env
    pending = payments_pending_import(world)
    expected = {(r["connection_id"], r["payment_id"]): (
        r["requisition_id"], r["project_id"], cents(r["amount"]), r["payment_date"].isoformat(),
        r["reference"]) for r in pending.iter_rows(named=True)}
    rows = [r for r in candidates(settings) if r["item_type"] == "payment"]
    got = {}
    for row in rows:
        doc = document(row)
        assert doc["amount"] == row["amount"] and doc["erp_payment_id"] == row["erp_ref"]
        if not row["is_synced"] and not row["is_archived"]:
            got[(row["connection_id"], row["erp_ref"])] = (
                doc["requisition_id"], doc["project_id"], doc["amount"], doc["payment_date"],
                doc["reference"])
    assert expected and got == expected
    held = set(world.t["procore_payments"]["payment_id"])
    synced = {r["procore_id"] for r in rows if r["is_synced"]}
    assert synced and synced <= held


@pytest.mark.parametrize("item_type", ["direct_cost", "vendor_update", "payment"])
def test_item_keys_are_unique_per_connection(env, item_type):
    """§2: (connection_id, item_type, item_key) is the grain."""
    keys = [(r["connection_id"], r["item_key"]) for r in candidates(env[2])
            if r["item_type"] == item_type]
    assert keys and len(keys) == len(set(keys))
