"""The tiny world's NetSuite connections through the real sandbox (TBA-signed SuiteQL over
HTTP), dlt, DuckDB, dbt and a published snapshot, compared with what the world generator drew
(NS-3 … NS-18, C-4, C-7). Expected values come from the world's frames and flags only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import polars as pl

from pipelines.run import run
from pipelines.sandbox.world import World, cents
from tests.integration.common import (
    connection_ids,
    ledger_job_costs,
    mart_job_costs,
    marts,
    raw_counts,
    snapshot_frame,
    warehouse_rows,
)

# The world's line case → the reason the warehouse must give (docs/netsuite.md, README).
REASONS = {
    "ok": None,
    "single_tier": "cost_code_list_single_tier",  # NS-5
    "no_tracking": "no_project",
    "journal_offset": "no_project",  # a journal's balancing line has no job (NS-17)
    "sub_job": "sub_job_not_supported",  # NS-6
    "unsynced_project": "project_not_synced",  # C-4 / NS-9
    "expense_line": "no_item",  # NS-14
    "other_item_type": "item_type_not_supported",  # NS-7
    "erp_item": "item_not_synced",  # NS-14
    "code_off_project": "item_not_for_project",  # NS-14
}
DIRECT_COST_TYPES = {"bill": "Invoice", "credit_note": "Invoice", "spend": "Expense",
                     "journal": "Expense"}  # NS-17: journal entries as expenses


def ns_ids(world: World) -> list[str]:
    return connection_ids(world, "netsuite")


def ns_lines(world: World) -> pl.DataFrame:
    """Every NetSuite cost line still in NetSuite (deleted transactions are gone from it)."""
    return world.cost_lines().filter(pl.col("connection_id").is_in(ns_ids(world))
                                     & (pl.col("status") != "DELETED"))


def expected_reason(row: dict, single_tier: set[str]) -> str | None:
    if not row["is_type_ok"]:
        return "type_not_eligible"
    if not row["is_status_ok"]:
        return "status_not_approved"  # NS-15: only approved, posted transactions
    if row["connection_id"] in single_tier:
        return "cost_code_list_single_tier"  # NS-5 blocks every line of the connection
    return REASONS[row["case"]]


def ns_mart(settings, world: World, table: str, order: str) -> pl.DataFrame:
    return snapshot_frame(settings, table, order).filter(
        pl.col("connection_id").is_in(ns_ids(world)))


def test_ns_13_ns_17_job_costs_equal_the_world_ledger_to_the_cent(env):
    """JTD = signed syncable lines (vendor credits negative, NS-13; journals count, NS-17);
    commitment invoiced = what was exported from Procore; direct = the difference."""
    world, _, settings, _ = env
    expected = ledger_job_costs(world, ns_ids(world))
    assert expected, "the tiny world must have NetSuite job costs"
    assert mart_job_costs(settings, ns_ids(world)) == expected


def test_ns_14_every_netsuite_line_is_in_the_mart_with_its_reason(env):
    """No line disappears: each is syncable or carries the first rule it fails."""
    world, _, settings, _ = env
    lines = ns_lines(world)
    mart = ns_mart(settings, world, "erp_cost_lines", "erp_line_id")
    assert sorted(mart["erp_line_id"]) == sorted(lines["line_id"])
    got = dict(zip(mart["erp_line_id"], mart["unsyncable_reason"], strict=True))
    single = set(world.connections("netsuite").filter(pl.col("cost_code_tiers") == 1)[
        "connection_id"])
    expected = {r["line_id"]: expected_reason(r, single) for r in lines.iter_rows(named=True)}
    assert got == expected
    assert set(expected.values()) >= set(REASONS.values())  # every case was drawn
    signed = sum(mart["signed_amount"].to_list(), Decimal(0))
    assert signed == cents(lines["signed_amount"].sum())


def test_ns_15_ns_16_ns_17_direct_costs_leave_out_subcontractor_invoices(env):
    world, _, settings, _ = env
    syncable = ns_lines(world).filter(pl.col("is_syncable"))
    own = syncable.filter(~pl.col("txn_kind").is_in(["subinv_bill", "subinv_credit"]))
    assert own.height < syncable.height  # NS-16: subcontractor invoices are not direct costs
    dc = ns_mart(settings, world, "direct_costs", "direct_cost_line_id")
    assert sorted(dc["direct_cost_line_id"]) == sorted(own["line_id"])
    assert sum(dc["amount"].to_list(), Decimal(0)) == cents(own["signed_amount"].sum())
    expected = own.group_by(pl.col("txn_kind").replace_strict(DIRECT_COST_TYPES)).len()
    assert dict(dc.group_by("direct_cost_type").len().iter_rows()) == dict(expected.iter_rows())
    assert set(dc["status"]) == {"Approved"}  # NS-15


def test_ns_18_deleted_after_sync_are_found_against_procore(env):
    """NS-18 / C-7: transactions deleted in NetSuite after their sync stay in Procore."""
    world, _, settings, _ = env
    dcs = world.t["procore_direct_costs"].filter(
        pl.col("connection_id").is_in(ns_ids(world)) & pl.col("deleted_at").is_null()
        & (pl.col("status") == "DELETED"))
    assert dcs.height > 0
    got = warehouse_rows(settings, "select direct_cost_id from "
                         "intermediate.int_netsuite_deleted_after_sync")
    assert {r[0] for r in got} == set(dcs["direct_cost_id"])


def test_ns_5_ns_9_c_4_projects_that_cannot_sync_say_why(env):
    world, _, settings, _ = env
    projects = world.t["procore_projects"].join(
        world.t["connections"].select("connection_id", "cost_code_tiers"), on="connection_id"
    ).filter(pl.col("connection_id").is_in(ns_ids(world)))
    expected = {}
    for p in projects.iter_rows(named=True):
        if p["is_synced"]:
            expected[p["project_id"]] = None
        elif p["cost_code_tiers"] == 1:
            expected[p["project_id"]] = "cost_code_list_single_tier"  # NS-5
        elif not p["uses_standard_list"]:
            expected[p["project_id"]] = "not_on_standard_cost_code_list"  # NS-9
        else:
            expected[p["project_id"]] = "not_linked"  # C-4
    got = warehouse_rows(settings, "select project_id, unsynced_reason from "
                         "intermediate.int_netsuite_projects_classified")
    assert dict(got) == expected
    assert set(expected.values()) == {None, "cost_code_list_single_tier",
                                      "not_on_standard_cost_code_list", "not_linked"}


def test_ns_3_ns_4_wbs_codes_item_state(env):
    world, _, settings, _ = env
    wbs = world.t["wbs_codes"].filter(pl.col("connection_id").is_in(ns_ids(world))).join(
        world.t["procore_projects"].select("project_id", "is_synced"), on="project_id")
    expected = {r["wbs_code_id"]: ("synced" if r["erp_item_id"] is not None else
                                   "project_not_synced" if not r["is_synced"] else
                                   "awaiting_cost_code_export" if r["on_budget"] else
                                   "not_budgeted")
                for r in wbs.iter_rows(named=True)}
    got = dict(warehouse_rows(settings, "select wbs_code_id, item_state from "
                              "intermediate.int_netsuite_wbs_codes_synced"))
    assert got == expected
    names = warehouse_rows(settings, "select expected_item_name, erp_item_ref from "
                           "intermediate.int_netsuite_wbs_codes_synced where item_state = 'synced'")
    items = world.t["erp_items"].filter(pl.col("from_procore")
                                        & pl.col("connection_id").is_in(ns_ids(world)))
    assert {(n, i) for n, i in names} == set(items.select("code", "item_id").iter_rows())


def test_ns_1_ns_6_what_netsuite_cannot_sync_is_reported(env):
    world, _, settings, _ = env
    rpt = ns_mart(settings, world, "rpt_erp_unsupported", "connection_id, rule_id")
    assert {"NS-1", "NS-6"} <= set(rpt["rule_id"])
    sub = dict(rpt.filter(pl.col("rule_id") == "NS-6").select("object_type", "record_count")
               .iter_rows())
    jobs = world.t["erp_options"].filter(pl.col("connection_id").is_in(ns_ids(world))
                                         & pl.col("parent_option_id").is_not_null())
    on_sub_jobs = ns_lines(world).filter((pl.col("case") == "sub_job") & pl.col("is_type_ok")
                                         & pl.col("is_status_ok"))
    assert sub["netsuite_sub_jobs"] == jobs.height > 0
    assert sub["erp_cost_lines"] == on_sub_jobs.height > 0


def test_run_summary_counts_netsuite_rows(env):
    world, _, _, summary = env
    txns = world.t["erp_txns"].filter(pl.col("connection_id").is_in(ns_ids(world))
                                      & (pl.col("status") != "DELETED"))
    pays = world.t["erp_payments"].filter(pl.col("connection_id").is_in(ns_ids(world))
                                          & (pl.col("status") != "DELETED"))
    assert summary.rows["raw_netsuite.transactions"] == txns.height + pays.height
    assert summary.rows["raw_netsuite.transaction_lines"] == ns_lines(world).height


def _ns_transactions(world: World) -> pl.DataFrame:
    """NetSuite's transaction table as the world defines it: live transactions and payments."""
    mine = pl.col("connection_id").is_in(ns_ids(world)) & (pl.col("status") != "DELETED")
    return pl.concat([
        world.t["erp_txns"].filter(mine).select("connection_id", "updated_at"),
        world.t["erp_payments"].filter(mine).select("connection_id", "updated_at"),
    ])


def test_rerun_then_incremental_picks_up_exactly_the_changes(env):
    world, _, settings, _ = env
    lag = timedelta(seconds=settings.lag_seconds)
    since = dict(_ns_transactions(world).group_by("connection_id").agg(
        pl.col("updated_at").max() - lag).iter_rows())
    before_marts, before_raw = marts(settings), raw_counts(settings)

    again = run(settings, log=lambda m: None)  # nothing changed: same rows, same marts
    assert raw_counts(settings) == before_raw
    for name, frame in marts(settings).items():
        assert frame.equals(before_marts[name]), name

    def window() -> int:
        t = _ns_transactions(world)
        return sum(t.filter((pl.col("connection_id") == c) & (pl.col("updated_at") >= s)).height
                   for c, s in since.items())
    assert again.rows.get("raw_netsuite.transactions", 0) == window()

    changed = world.advance()
    third = run(settings, log=lambda m: None)
    assert third.rows.get("raw_netsuite.transactions", 0) == window()
    assert mart_job_costs(settings, ns_ids(world)) == ledger_job_costs(world, ns_ids(world))
    lines = snapshot_frame(settings, "erp_cost_lines", "erp_line_id")
    voided = lines.filter(pl.col("erp_transaction_id").is_in(changed["netsuite_bills_voided"]))
    assert not voided.is_empty()
    assert set(voided["unsyncable_reason"]) == {"status_not_approved"}
    gone = set(changed["netsuite_transactions_deleted"])
    assert gone
    assert not lines.filter(pl.col("erp_transaction_id").is_in(list(gone))).height
    found = warehouse_rows(settings, "select erp_transaction_ref from "
                           "intermediate.int_netsuite_deleted_after_sync")
    assert gone <= {r[0] for r in found}  # NS-18: deleted after its sync, still in Procore

    # A full refresh reads NetSuite whole: a deleted transaction's raw row goes, marts stay.
    incremental = marts(settings)
    run(settings, log=lambda m: None, full_refresh=True)
    for name, frame in marts(settings).items():
        assert frame.equals(incremental[name]), name
