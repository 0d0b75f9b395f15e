"""export_queue on the tiny world through the real sandbox, dlt, DuckDB, dbt and a published
snapshot (docs/exports.md §2-§6): every Procore item of each type the connection's ERP
supports is in the queue, no other type is; the preflight findings are exactly the cases the
world generator drew; documents parse with exact decimals, hash as sha256 of their text, and
keep the same text and hash when dbt builds again. Expected values come from the world's
frames (and, for budgets, the raw Procore table), never from the models."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from decimal import Decimal

import polars as pl
import pytest

from pipelines.exports.base import parse_document
from pipelines.run import dbt_build
from pipelines.sandbox.world import World, cents
from tests.integration.common import snapshot_frame, warehouse_rows

SUPPORTED = {  # docs/exports.md §3; NS-1, XE-2, AC-3/AC-5; CCOs XE-8/AC-15, AC-12, AC-17
    "xero": {"company", "project", "wbs_code", "commitment", "subcontractor_invoice", "cco"},
    "netsuite": {"company", "project", "wbs_code", "subcontractor_invoice"},
    "acumatica": {"company", "project", "commitment", "subcontractor_invoice", "budget", "cco",
                  "budget_change", "procore_pay_payment"},
}


@pytest.fixture(scope="module")
def queue(env) -> pl.DataFrame:
    _, _, settings, _ = env
    return snapshot_frame(settings, "export_queue", "connection_id, item_type, item_key")


@pytest.fixture(scope="module")
def exports(queue) -> pl.DataFrame:
    return queue.filter(pl.col("direction") == "export")


def erp_of(world: World) -> dict[str, str]:
    return dict(world.t["connections"].select("connection_id", "erp").iter_rows())


def keys(frame: pl.DataFrame, item_type: str, id_column: str) -> set[tuple[str, str]]:
    pairs = frame.select("connection_id", id_column).iter_rows()
    return {(c, f"{item_type}:{i}") for c, i in pairs}


def world_items(world: World, settings) -> dict[str, set[tuple[str, str]]]:
    """(connection, item_key) of every Procore item per type, from the world's frames; budgets
    (one per project with budget lines) from the raw Procore table."""
    vendors = procore_vendors(world)
    budgets = warehouse_rows(settings, "select distinct connection_id, 'budget:' || project_id"
                                       " from raw_procore.budget_line_items")
    return {
        "company": keys(vendors, "company", "procore_vendor_id"),
        "project": keys(world.t["procore_projects"], "project", "project_id"),
        "wbs_code": keys(world.t["wbs_codes"], "wbs_code", "wbs_code_id"),
        "commitment": keys(world.t["procore_commitments"], "commitment", "commitment_id"),
        "subcontractor_invoice": keys(world.t["procore_requisitions"], "subcontractor_invoice",
                                      "requisition_id"),
        "budget": set(budgets),
        "cco": keys(world.t["procore_change_orders"], "cco", "change_order_id"),
        "budget_change": keys(world.t["procore_budget_changes"], "budget_change",
                              "budget_change_id"),
        "procore_pay_payment": keys(world.t["procore_pay_payments"], "procore_pay_payment",
                                    "payment_id"),
    }


def procore_vendors(world: World) -> pl.DataFrame:
    """Procore's directory: the ERP's vendors Procore has, and the companies only it has."""
    cols = ["connection_id", "procore_vendor_id", "name", "is_linked"]
    return pl.concat([world.t["vendors"].filter(pl.col("in_procore")).select(cols),
                      world.t["procore_only_vendors"].select(cols)])


def findings(exports: pl.DataFrame, rule_id: str, code: str) -> set[tuple[str, str]]:
    out = set()
    for conn, key, items in exports.select("connection_id", "item_key", "findings").iter_rows():
        if any(f["rule_id"] == rule_id and f["code"] == code for f in items):
            out.add((conn, key))
    return out


def test_queue_holds_every_supported_procore_item_and_nothing_else(env, exports):
    """Per connection and type, the queue's export rows are exactly the world's Procore items
    of the types the ERP supports (synced or not); NS-1 (no commitments or budgets on
    NetSuite), XE-2 (no budgets on Xero) and AC-3/AC-5 (no WBS codes on Acumatica)."""
    world, _, settings, _ = env
    erps = erp_of(world)
    expected = {(c, k) for item_type, items in world_items(world, settings).items()
                for c, k in items if item_type in SUPPORTED[erps[c]]}
    got = set(exports.select("connection_id", "item_key").iter_rows())
    assert got == expected
    for conn, item_type in exports.select("connection_id", "item_type").iter_rows():
        assert item_type in SUPPORTED[erps[conn]], (conn, item_type)
    counts = Counter(exports.select("connection_id", "item_type").iter_rows())
    assert counts[("netsuite-1", "commitment")] == 0 and counts[("xero-1", "budget")] == 0
    assert counts[("acumatica-1", "wbs_code")] == 0
    assert counts[("xero-1", "subcontractor_invoice")] == world.t["procore_requisitions"].filter(
        pl.col("connection_id") == "xero-1").height


def test_c_3_pending_invoices_are_not_sendable(env, exports):
    """C-3: exactly the world's pending subcontractor invoices carry status_not_sendable."""
    world = env[0]
    pending = world.t["procore_requisitions"].filter(pl.col("status") == "pending")
    assert pending.height > 0
    assert findings(exports, "C-3", "status_not_sendable") == keys(
        pending, "subcontractor_invoice", "requisition_id")


def test_xe_9_negative_invoices_are_blocked_on_xero_only(env, exports):
    """XE-9: the world's negative invoices on Xero are blocked; on NetSuite they become vendor
    credits (NS-13) and carry no such finding."""
    world = env[0]
    reqs = world.t["procore_requisitions"]
    negative = reqs.filter(pl.col("is_negative") & pl.col("connection_id").str.starts_with("xero"))
    assert negative.height > 0
    assert findings(exports, "XE-9", "negative_invoice") == keys(
        negative, "subcontractor_invoice", "requisition_id")
    netsuite = pl.col("connection_id").str.starts_with("netsuite")
    credit = reqs.filter(pl.col("is_negative") & netsuite)
    rows = exports.filter(pl.col("item_key").is_in(
        [k for _, k in keys(credit, "subcontractor_invoice", "requisition_id")]))
    assert rows.height == credit.height and (rows["amount"] < 0).all()


def test_c_4_ns_9_ns_5_project_findings_are_the_drawn_projects(env, exports):
    """C-4: the projects never linked although the ERP has them (the pre-existing project,
    and every project of the single-tier connection) have a suggested match; NS-9: the
    NetSuite project off the standard list; NS-5: every project and WBS code of the
    single-tier connection (world cost_code_tiers = 1)."""
    world = env[0]
    projects = world.t["procore_projects"]
    in_erp = world.t["erp_options"].filter(pl.col("project_id") > 0)["project_id"].implode()
    c4 = projects.filter(~pl.col("is_synced") & pl.col("project_id").is_in(in_erp))
    assert findings(exports, "C-4", "project_existed_before_go_live") == keys(
        c4, "project", "project_id")
    ns9 = projects.filter(pl.col("connection_id").str.starts_with("netsuite")
                          & ~pl.col("uses_standard_list"))
    assert ns9.height == 1
    assert findings(exports, "NS-9", "not_standard_cost_code_list") == keys(
        ns9, "project", "project_id")
    single = world.t["connections"].filter(pl.col("cost_code_tiers") == 1)["connection_id"]
    expected = (keys(projects.filter(pl.col("connection_id").is_in(single.implode())),
                     "project", "project_id")
                | keys(world.t["wbs_codes"].filter(pl.col("connection_id").is_in(single.implode())),
                       "wbs_code", "wbs_code_id"))
    assert expected and findings(exports, "NS-5", "cost_code_list_single_tier") == expected


def test_xe_6_and_ac_7_name_lengths(env, exports):
    """XE-6: Xero companies named over 41 characters; AC-7: Acumatica projects named over 30
    (a warning: the name is truncated, the project is not blocked by it)."""
    world = env[0]
    vendors = procore_vendors(world).filter(pl.col("connection_id").str.starts_with("xero")
                                            & (pl.col("name").str.len_chars() > 41))
    assert vendors.height > 0
    assert findings(exports, "XE-6", "contact_name_too_long") == keys(
        vendors, "company", "procore_vendor_id")
    long_names = world.t["procore_projects"].filter(
        pl.col("connection_id").str.starts_with("acumatica")
        & (pl.col("name").str.len_chars() > 30))
    assert long_names.height > 0
    assert findings(exports, "AC-7", "project_name_truncated") == keys(
        long_names, "project", "project_id")
    truncated = exports.filter(pl.col("item_key").is_in(
        [k for _, k in keys(long_names, "project", "project_id")]))
    for items, blocked in truncated.select("findings", "is_blocked").iter_rows():
        assert blocked == any(f["severity"] == "error" for f in items)


def test_company_not_synced_and_drawn_field_checks(env, exports):
    """NS-10, XE-7, XE-9, AC-13: the commitments (Xero, Acumatica) and invoices (every ERP)
    of companies not linked to the ERP; XE-9: the Xero invoice drawn without a payment date;
    AC-14: Acumatica commitment numbers over 15 characters; AC-7: Acumatica project
    addresses with commas (a warning)."""
    world = env[0]
    erps = erp_of(world)
    unlinked = procore_vendors(world).filter(~pl.col("is_linked"))["procore_vendor_id"]
    commits = world.t["procore_commitments"]
    reqs = world.t["procore_requisitions"]
    rule = {"xero": ("XE-7", "XE-9"), "netsuite": (None, "NS-10"),
            "acumatica": ("AC-13", "AC-13")}
    expected: set[tuple[str, str]] = set()
    got: set[tuple[str, str]] = set()
    for erp, (commitment_rule, invoice_rule) in rule.items():
        conns = [c for c, e in erps.items() if e == erp]
        mine = pl.col("connection_id").is_in(conns) & pl.col("vendor_id").is_in(unlinked.implode())
        expected |= keys(reqs.filter(mine), "subcontractor_invoice", "requisition_id")
        got |= {(c, k) for c, k in findings(exports, invoice_rule, "company_not_synced")
                if c in conns and k.startswith("subcontractor_invoice:")}
        if commitment_rule:
            expected |= keys(commits.filter(mine), "commitment", "commitment_id")
            got |= {(c, k) for c, k in findings(exports, commitment_rule, "company_not_synced")
                    if c in conns and k.startswith("commitment:")}
    assert expected and got == expected
    xero = pl.col("connection_id").str.starts_with("xero")
    no_pay = reqs.filter(xero & pl.col("payment_date").is_null())
    assert no_pay.height == 1
    assert findings(exports, "XE-9", "missing_payment_date") == keys(
        no_pay, "subcontractor_invoice", "requisition_id")
    acumatica = pl.col("connection_id").str.starts_with("acumatica")
    long_numbers = commits.filter(acumatica & (pl.col("number").str.len_chars() > 15))
    assert long_numbers.height > 0
    assert findings(exports, "AC-14", "commitment_number_too_long") == keys(
        long_numbers, "commitment", "commitment_id")
    commas = world.t["procore_projects"].filter(acumatica
                                                & pl.col("address").str.contains(",", literal=True))
    assert commas.height > 0
    assert findings(exports, "AC-7", "address_commas") == keys(commas, "project", "project_id")


def test_documents_parse_exactly_and_hash_as_sha256_of_their_text(env, exports):
    """§2/§4: payload_hash is the sha256 of the document text; invoice totals equal the
    world's lines summed in cents; a document never holds the item's own origin_id or
    updated_at; synced items (ERP id known, empty ops store) show state synced, the rest
    wait for an approver (or are archived)."""
    world = env[0]
    line_cents = dict(world.t["procore_requisition_lines"].group_by("requisition_id")
                      .agg(pl.col("amount").sum()).iter_rows())
    checked = 0
    for row in exports.iter_rows(named=True):
        assert row["payload_hash"] == hashlib.sha256(row["document"].encode()).hexdigest()
        doc = parse_document(row["document"])
        assert "origin_id" not in doc and "updated_at" not in doc
        assert row["state"] == ("synced" if row["erp_ref"] is not None else
                                "archived" if row["is_archived"] else "ready_to_export")
        if row["item_type"] == "subcontractor_invoice":
            total = cents(line_cents[row["procore_id"]])
            assert doc["total"] == total == row["amount"]
            assert isinstance(doc["total"], Decimal)
            assert sum((line["amount"] for line in doc["lines"]), Decimal("0")) == total
            checked += 1
    assert checked == world.t["procore_requisitions"].height
    assert json.loads(exports["document"][0])  # plain JSON as well


def test_documents_and_hashes_are_stable_across_builds(env, exports):
    """Building again over the same data gives the same document text and hash per item, so
    an accepted payload (C-3) keeps its approval."""
    _, _, settings, _ = env
    dbt_build(settings, log=lambda m: None, select="export_queue", quiet=True)
    again = dict(((c, k), (d, h)) for c, k, d, h in warehouse_rows(
        settings, "select connection_id, item_key, document, payload_hash"
                  " from marts.export_queue where direction = 'export'"))
    first = {(c, k): (d, h) for c, k, d, h in exports.select(
        "connection_id", "item_key", "document", "payload_hash").iter_rows()}
    assert again == first


# -- CCOs, budget changes, Procore Pay payments ----------------------------------------------
def test_xe_8_ac_15_cco_findings_are_the_drawn_cases(env, exports):
    """XE-8/AC-15 commitment_not_synced: CCOs whose commitment the ERP does not hold (every
    Xero one: no PO exported yet; on Acumatica those without an ERP commitment id); XE-8
    change_order_not_approved: the Xero CCO drawn Pending; AC-15 line_code_not_synced: the
    Acumatica CCOs with a line on a code without an Acumatica cost code (or none). Amounts
    are the world's lines summed in cents; a line changed twice keeps its commitment line's
    id in the document (XE-8: the writer sums it)."""
    world = env[0]
    ccos = world.t["procore_change_orders"].join(
        world.t["procore_commitments"].select("commitment_id", "erp_commitment_id"),
        on="commitment_id")
    lines = world.t["procore_change_order_lines"].join(
        world.t["wbs_codes"].select("wbs_code_id", "erp_item_id"), on="wbs_code_id",
        how="left")
    unsynced = ccos.filter(pl.col("erp_commitment_id").is_null())
    for rule, erp in (("XE-8", "xero"), ("AC-15", "acumatica")):
        mine = unsynced.filter(pl.col("connection_id").str.starts_with(erp))
        assert mine.height > 0
        assert findings(exports, rule, "commitment_not_synced") == keys(
            mine, "cco", "change_order_id")
    pending = ccos.filter(pl.col("connection_id").str.starts_with("xero")
                          & (pl.col("status") != "Approved"))
    assert pending.height == 1
    assert findings(exports, "XE-8", "change_order_not_approved") == keys(
        pending, "cco", "change_order_id")
    off = lines.filter(pl.col("connection_id").str.starts_with("acumatica")
                       & pl.col("erp_item_id").is_null())["change_order_id"].unique()
    assert off.len() > 0
    assert findings(exports, "AC-15", "line_code_not_synced") == keys(
        ccos.filter(pl.col("change_order_id").is_in(off.implode())), "cco", "change_order_id")
    totals = dict(lines.group_by("change_order_id").agg(pl.col("amount").sum()).iter_rows())
    rows = exports.filter(pl.col("item_type") == "cco")
    for procore_id, amount, document in rows.select("procore_id", "amount",
                                                     "document").iter_rows():
        assert amount == cents(totals[procore_id])
        doc = parse_document(document)
        assert sum((x["amount"] for x in doc["lines"]), Decimal("0")) == amount
    twice = ccos.filter(pl.col("connection_id") == "xero-1").sort("change_order_id")[
        "change_order_id"][1]
    doc = parse_document(rows.filter(pl.col("procore_id") == twice)["document"][0])
    assert len(doc["lines"]) == 2 and len({x["line_id"] for x in doc["lines"]}) == 1


def test_ac_12_budget_change_findings_are_the_drawn_cases(env, exports):
    """AC-12: project_not_synced exactly on budget changes of unsynced projects;
    budget_codes_not_exported on those with a line whose code has no Acumatica cost code."""
    world = env[0]
    changes = world.t["procore_budget_changes"].join(
        world.t["procore_projects"].select("project_id", "is_synced"), on="project_id")
    assert findings(exports, "AC-12", "project_not_synced") == keys(
        changes.filter(~pl.col("is_synced")), "budget_change", "budget_change_id")
    off = world.t["procore_budget_change_lines"].join(
        world.t["wbs_codes"].select("wbs_code_id", "erp_item_id"), on="wbs_code_id").filter(
        pl.col("erp_item_id").is_null())["budget_change_id"].unique()
    expected = keys(changes.filter(pl.col("budget_change_id").is_in(off.implode())),
                    "budget_change", "budget_change_id")
    assert len(expected) == 2 and findings(exports, "AC-12", "budget_codes_not_exported") \
        == expected
    ready = exports.filter((pl.col("item_type") == "budget_change") & ~pl.col("is_blocked"))
    assert ready.height == 2


def test_ac_17_procore_pay_findings_are_the_drawn_cases(env, exports):
    """AC-17: invoice_not_synced on payouts of invoices the ERP never received,
    invoice_not_approved on those of pending invoices; the bills of the others are Open, so
    nothing is invoice_not_open; amounts are the world's cents."""
    world = env[0]
    pays = world.t["procore_pay_payments"].join(
        world.t["procore_requisitions"].select("requisition_id", invoice_status="status"),
        on="requisition_id")
    exported = world.t["erp_txns"].filter(pl.col("requisition_id") >= 0)["requisition_id"]
    unsent = pays.filter(~pl.col("requisition_id").is_in(exported.implode()))
    assert unsent.height == 2
    assert findings(exports, "AC-17", "invoice_not_synced") == keys(
        unsent, "procore_pay_payment", "payment_id")
    assert findings(exports, "AC-17", "invoice_not_approved") == keys(
        pays.filter(pl.col("invoice_status") != "approved"), "procore_pay_payment",
        "payment_id")
    assert findings(exports, "AC-17", "invoice_not_open") == set()
    amounts = dict(pays.select("payment_id", "amount").iter_rows())
    for procore_id, amount in exports.filter(pl.col("item_type") == "procore_pay_payment"
                                             ).select("procore_id", "amount").iter_rows():
        assert amount == cents(amounts[procore_id])
