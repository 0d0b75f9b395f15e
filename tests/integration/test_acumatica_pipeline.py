"""The tiny world's Acumatica connection through the real sandbox (contract-based REST with a
cookie session over HTTP), dlt, DuckDB, dbt and a published snapshot, compared with what the
world generator drew (AC-1, AC-3, AC-4, AC-5, AC-9, AC-17, AC-21, AC-22, C-4). Expected values
come from the world's frames and flags only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import polars as pl

from pipelines.run import run
from pipelines.sandbox.acumatica_tables import guid
from pipelines.sandbox.world import AC_AMOUNT_TYPES, World, cents
from tests.integration.common import (
    connection_ids,
    marts,
    raw_counts,
    snapshot_frame,
    warehouse_rows,
)

# The world's line case → the reason the warehouse must give (docs/acumatica.md, README).
REASONS = {
    "ok": None,
    "code_off_project": None,  # a listed code the project's WBS lacks still syncs
    "unsynced_project": "project_not_synced",  # C-4, AC-21: the project must be synced
    "sub_job_unsynced": "sub_job_not_synced",  # AC-9
    "code_not_synced": "cost_code_not_synced",  # AC-3
}
DIRECT_COST_TYPES = {"subcontract_invoice": "Subcontractor Invoice", "invoice": "Invoice",
                     "expense": "Expense", "payroll": "Payroll"}  # AC-21
AMOUNT_COLUMNS = {"subcontract_invoice": "subcontract_invoices", "invoice": "invoices",
                  "expense": "expenses", "payroll": "payroll"}


def ac_ids(world: World) -> list[str]:
    return connection_ids(world, "acumatica")


def ac_lines(world: World) -> pl.DataFrame:
    """Every line of Acumatica's project ledger, with the id the sandbox gives it."""
    lines = world.cost_lines().filter(pl.col("connection_id").is_in(ac_ids(world)))
    return lines.with_columns(erp_line_id=guid(lines["line_id"], "pm"))


def expected_reason(row: dict) -> str | None:
    if not row["is_type_ok"]:
        return "type_not_eligible"  # AR revenue is not a job cost
    if not row["is_status_ok"]:
        return "status_not_approved"  # unreleased, or the bill was voided
    return REASONS[row["case"]]


def ac_mart(settings, world: World, table: str, order: str) -> pl.DataFrame:
    return snapshot_frame(settings, table, order).filter(
        pl.col("connection_id").is_in(ac_ids(world)))


def ledger_by_code(world: World) -> dict[tuple, tuple[Decimal, ...]]:
    """World ledger per project, cost code and cost type: JTD, CI, direct, four types."""
    led = world.ledger().filter(pl.col("connection_id").is_in(ac_ids(world)))
    cols = ["jtd_cents", "ci_cents", "direct_cents", *(f"{t}_cents" for t in AC_AMOUNT_TYPES)]
    return {(r["connection_id"], r["procore_project_id"], r["cost_code"], r["cost_type"]):
            tuple(cents(r[c]) for c in cols) for r in led.iter_rows(named=True)}


def mart_by_code(settings, world: World) -> dict[tuple, tuple[Decimal, ...]]:
    """``job_costs`` is per WBS code (task and sub job included): sum it per code and type."""
    cols = ["jtd_cost", "commitment_invoiced", "direct_cost", *AMOUNT_COLUMNS.values()]
    jc = ac_mart(settings, world, "job_costs", "connection_id, project_id, wbs_code")
    agg = jc.group_by("connection_id", "project_id", "cost_code", "cost_type").agg(
        [pl.col(c).sum() for c in cols])
    return {(r["connection_id"], r["project_id"], r["cost_code"], r["cost_type"]):
            tuple(r[c] for c in cols) for r in agg.iter_rows(named=True)}


def test_ac_21_ac_22_job_costs_equal_the_world_ledger_to_the_cent(env):
    """Four amount types per project cost code and cost type; JTD = their sum, commitment
    invoiced = subcontract invoices, direct = invoices + expenses + payroll (AC-21); payroll
    is never filtered out (AC-22)."""
    world, _, settings, _ = env
    expected = ledger_by_code(world)
    assert expected, "the tiny world must have Acumatica job costs"
    assert mart_by_code(settings, world) == expected
    totals = [sum(v[k] for v in expected.values()) for k in range(7)]
    assert all(t > 0 for t in totals[3:]), "every amount type must occur in the tiny world"


def test_ac_21_job_cost_rows_hold_the_identities(env):
    world, _, settings, _ = env
    jc = ac_mart(settings, world, "job_costs", "connection_id, project_id, wbs_code")
    assert jc.height > 0
    for r in jc.iter_rows(named=True):
        four = [r[c] for c in AMOUNT_COLUMNS.values()]
        assert r["jtd_cost"] == sum(four)
        assert r["commitment_invoiced"] == r["subcontract_invoices"]
        assert r["direct_cost"] == r["invoices"] + r["expenses"] + r["payroll"]
    others = snapshot_frame(settings, "job_costs", "connection_id").filter(
        pl.col("erp") != "acumatica")
    assert others["payroll"].is_null().all(), "only Acumatica provides amount types"


def test_ac_3_ac_9_every_acumatica_line_is_in_the_mart_with_its_reason(env):
    """No line of the project ledger disappears: each syncs or says the first rule it fails."""
    world, _, settings, _ = env
    lines = ac_lines(world)
    mart = ac_mart(settings, world, "erp_cost_lines", "erp_line_id")
    assert sorted(mart["erp_line_id"]) == sorted(lines["erp_line_id"])
    expected = {r["erp_line_id"]: expected_reason(r) for r in lines.iter_rows(named=True)}
    got = dict(mart.select("erp_line_id", "unsyncable_reason").iter_rows())
    assert got == expected
    assert {"sub_job_not_synced", "cost_code_not_synced", "project_not_synced",
            "status_not_approved", "type_not_eligible", None} <= set(expected.values())


def test_ac_4_codes_show_in_procore_form_on_their_wbs_code(env):
    """``03100.000`` in Acumatica is ``03-100.000`` in Procore (AC-4); the WBS code is
    [sub job.]task.code.cost type; a code missing from the project's WBS still syncs."""
    world, _, settings, _ = env
    lines = ac_lines(world).filter(pl.col("is_syncable"))
    mart = ac_mart(settings, world, "erp_cost_lines", "erp_line_id").filter(
        pl.col("is_syncable"))
    got = {r[0]: r[1:] for r in mart.select(
        "erp_line_id", "cost_code", "cost_type", "wbs_code", "is_code_on_project").iter_rows()}
    expected = {r["erp_line_id"]: (r["cost_code"], r["cost_type"], r["item_code"],
                                   r["case"] == "ok") for r in lines.iter_rows(named=True)}
    assert got == expected
    assert any(v[2].startswith("B1.") for v in expected.values()), "a sub job line must sync"
    assert not all(v[3] for v in expected.values())


def test_ac_21_direct_costs_carry_all_four_amount_types(env):
    """Acumatica syncs transactional cost of all four types, subcontractor invoices too."""
    world, _, settings, _ = env
    lines = ac_lines(world).filter(pl.col("is_syncable"))
    dc = ac_mart(settings, world, "direct_costs", "direct_cost_line_id")
    got = dc.group_by("direct_cost_type").agg(pl.col("amount").sum(), n=pl.len())
    expected = lines.group_by("amount_type").agg(pl.col("signed_amount").sum(), n=pl.len())
    assert {r[0]: (r[1], r[2]) for r in got.iter_rows()} == {
        DIRECT_COST_TYPES[r[0]]: (cents(r[1]), r[2]) for r in expected.iter_rows()}


def test_ac_17_payments_import_only_for_synced_subcontractor_invoices(env):
    """Checks applied to bills exported from Procore import into Procore; voided checks and
    payments of bills entered in Acumatica do not; a partial payment leaves the rest payable."""
    world, _, settings, _ = env
    pays = world.t["erp_payments"].filter(pl.col("connection_id").is_in(ac_ids(world))).join(
        world.t["erp_txns"].select("txn_id", "txn_kind", "total"), on="txn_id")
    imports = pays.filter((pl.col("status") != "DELETED")
                          & pl.col("txn_kind").is_in(["subinv_bill", "subinv_credit"]))
    got = warehouse_rows(settings, "select payment_id, amount_paid, remaining_payable "
                         "from intermediate.int_acumatica_payments_imported where imports")
    expected = {(r["payment_id"], cents(r["amount"]), cents(r["total"] - r["amount"]))
                for r in imports.iter_rows(named=True)}
    assert set(got) == expected
    assert any(r["is_partial"] for r in imports.iter_rows(named=True))
    n_all = warehouse_rows(settings, "select count(*) from "
                           "intermediate.int_acumatica_payments_imported")[0][0]
    assert n_all == pays.height > imports.height


def test_ac_1_vendor_edits_flow_from_acumatica_only(env):
    world, _, settings, _ = env
    v = world.t["vendors"].filter(pl.col("connection_id").is_in(ac_ids(world))
                                  & pl.col("is_linked") & pl.col("edited_in").is_not_null())
    expected = {(r["contact_id"], "flows_to_procore" if r["edited_in"] == "erp"
                 else "never_flows_to_acumatica") for r in v.iter_rows(named=True)}
    got = warehouse_rows(settings, "select vendor_id, direction from "
                         "intermediate.int_acumatica_vendors_compared where direction is not null")
    assert set(got) == expected
    assert {d for _, d in expected} == {"flows_to_procore", "never_flows_to_acumatica"}


def test_ac_5_project_specific_codes_are_reported(env):
    world, _, settings, _ = env
    wbs = world.t["wbs_codes"].filter(pl.col("connection_id").is_in(ac_ids(world)))
    listed = world.t["erp_cost_codes"].filter(pl.col("in_procore"))["cost_code"]
    off = wbs.filter(~pl.col("cost_code").is_in(listed.implode()))
    assert off.height == len(ac_ids(world))  # one per Acumatica connection, drawn on purpose
    got = warehouse_rows(settings, "select wbs_code_id from "
                         "intermediate.int_acumatica_wbs_codes_checked where not is_on_erp_list")
    assert {r[0] for r in got} == set(off["wbs_code_id"])
    rpt = ac_mart(settings, world, "rpt_erp_unsupported", "connection_id, rule_id")
    assert "AC-5" in set(rpt["rule_id"])


def test_raw_acumatica_tables_hold_every_record(env):
    world, _, settings, _ = env
    mine = pl.col("connection_id").is_in(ac_ids(world))
    txns = world.t["erp_txns"].filter(mine & (pl.col("status") != "DELETED"))
    ap = txns.filter(pl.col("txn_kind").is_in(["bill", "subinv_bill", "credit_note",
                                               "subinv_credit"]))
    counts = dict(warehouse_rows(settings, " union all ".join(
        f"select '{t}', count(*) from raw_acumatica.{t}" for t in
        ("bills", "project_transactions", "project_transaction_details", "checks",
         "vendors", "cost_codes", "subcontracts", "purchase_orders", "project_budgets"))))
    assert counts["bills"] == ap.height
    assert counts["project_transactions"] == txns.filter(pl.col("posts_to_ledger")).height
    assert counts["project_transaction_details"] == ac_lines(world).height
    assert counts["checks"] == world.t["erp_payments"].filter(mine).height
    assert counts["vendors"] == world.t["vendors"].filter(mine).height
    assert counts["cost_codes"] == world.t["erp_cost_codes"].filter(mine).height
    assert counts["subcontracts"] == world.t["procore_commitments"].filter(
        mine & pl.col("erp_commitment_id").is_not_null()).height
    assert counts["purchase_orders"] == world.t["erp_purchase_orders"].filter(mine).height
    assert counts["project_budgets"] > 0


def test_r_3_c_2_accountants_of_every_connection(env):
    """The Accountant report lists, per company, the active users with Standard or Admin on
    ERP Integrations and Can Push to Accounting; the world drew who they are."""
    world, _, settings, _ = env
    users = world.t["procore_users"]
    expected = {(r["connection_id"], r["user_id"]) for r in users.iter_rows(named=True)
                if r["is_accounting_approver"]}
    rpt = snapshot_frame(settings, "rpt_accountants", "connection_id, user_id")
    assert set(rpt.select("connection_id", "user_id").iter_rows()) == expected
    assert set(rpt["connection_id"]) == set(world.connections()["connection_id"])
    assert len(expected) < users.height  # some users are not approvers


def _bills(world: World) -> pl.DataFrame:
    return world.t["erp_txns"].filter(
        pl.col("connection_id").is_in(ac_ids(world)) & (pl.col("status") != "DELETED")
        & pl.col("txn_kind").is_in(["bill", "subinv_bill", "credit_note", "subinv_credit"]))


def test_rerun_then_incremental_picks_up_exactly_the_changes(env):
    world, _, settings, _ = env
    lag = timedelta(seconds=settings.lag_seconds)
    since = dict(_bills(world).group_by("connection_id").agg(
        pl.col("updated_at").max() - lag).iter_rows())

    def window() -> int:  # bills the cursor (minus its lag) reads again
        b = _bills(world)
        return sum(b.filter((pl.col("connection_id") == c) & (pl.col("updated_at") >= t)).height
                   for c, t in since.items())

    before, before_raw = marts(settings), raw_counts(settings)
    again = run(settings, log=lambda m: None)  # nothing changed: same rows, same marts
    assert raw_counts(settings) == before_raw
    after = marts(settings)
    for name in before:
        assert before[name].equals(after[name]), name
    assert again.rows.get("raw_acumatica.bills", 0) == window()
    changed = world.advance()
    third = run(settings, log=lambda m: None)
    voided = set(changed["acumatica_bills_voided"])
    assert voided and third.rows["raw_acumatica.bills"] == window() >= len(voided)
    assert mart_by_code(settings, world) == ledger_by_code(world)
    lines = ac_mart(settings, world, "erp_cost_lines", "erp_line_id")
    on_voided = ac_lines(world).filter(pl.col("txn_id").is_in(list(voided)))
    assert on_voided.height > 0
    reasons = dict(lines.select("erp_line_id", "unsyncable_reason").iter_rows())
    assert {reasons[i] for i in on_voided["erp_line_id"]} == {"status_not_approved"}
    edited = changed["acumatica_vendors_edited"]
    got = dict(warehouse_rows(settings, "select vendor_id, direction from "
                              "intermediate.int_acumatica_vendors_compared"))
    assert {got[v] for v in edited} == {"flows_to_procore"}
    run(settings, log=lambda m: None, full_refresh=True)
    assert mart_by_code(settings, world) == ledger_by_code(world)
