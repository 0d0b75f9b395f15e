"""The tiny world through the real sandbox over HTTP, dlt, DuckDB, dbt and a published
snapshot, compared with the world's own ledger (XE-11, XE-12, XE-13, R-1, R-4)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import polars as pl
import pytest

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

RESOURCES = {  # raw_xero table → the world rows it serves
    "invoices": lambda w: w.t["erp_txns"].filter(pl.col("erp_type") == "ACCPAY"),
    "bank_transactions": lambda w: w.t["erp_txns"].filter(
        pl.col("erp_type").is_in(["SPEND", "RECEIVE"])),
    "credit_notes": lambda w: w.t["erp_txns"].filter(pl.col("erp_type") == "ACCPAYCREDIT"),
    "payments": lambda w: w.t["erp_payments"],
}


def xero_ids(world: World) -> list[str]:
    return connection_ids(world, "xero")


def expected_job_costs(world: World) -> dict[tuple, tuple[Decimal, Decimal, Decimal]]:
    return ledger_job_costs(world, xero_ids(world))


def actual_job_costs(settings, world: World) -> dict[tuple, tuple[Decimal, Decimal, Decimal]]:
    return mart_job_costs(settings, xero_ids(world))


def test_xe_12_job_costs_equal_the_world_ledger_to_the_cent(env):
    world, _, settings, _ = env
    expected = expected_job_costs(world)
    assert expected, "the tiny world must have job costs"
    assert actual_job_costs(settings, world) == expected


def test_xe_11_xe_13_direct_costs_are_exactly_the_syncable_lines(env):
    world, _, settings, _ = env
    lines = world.cost_lines().filter(pl.col("connection_id").is_in(xero_ids(world)))
    syncable = lines.filter(pl.col("is_syncable"))
    dc = snapshot_frame(settings, "direct_costs", "direct_cost_line_id").filter(
        pl.col("connection_id").is_in(xero_ids(world)))
    assert sorted(dc["direct_cost_line_id"].to_list()) == sorted(syncable["line_id"].to_list())
    signed = syncable.select(pl.when(pl.col("erp_type") == "ACCPAYCREDIT")
                             .then(-pl.col("line_amount")).otherwise(pl.col("line_amount")))
    assert sum(dc["amount"].to_list(), Decimal(0)) == cents(signed.to_series().sum())
    kinds = {"bill": "Invoice", "credit_note": "Invoice", "subinv_bill": "Subcontractor Invoice",
             "spend": "Expense"}
    expected_types = syncable.group_by(pl.col("txn_kind").replace_strict(kinds)).len()
    got_types = dc.group_by("direct_cost_type").len()
    assert dict(got_types.iter_rows()) == dict(expected_types.iter_rows())
    assert set(dc["status"].unique()) == {"Approved"}


def test_every_erp_cost_line_is_in_the_marts_with_its_reason(env):
    world, _, settings, _ = env
    lines = world.cost_lines().filter(pl.col("connection_id").is_in(xero_ids(world)))
    mart = snapshot_frame(settings, "erp_cost_lines", "erp_line_id").filter(
        pl.col("connection_id").is_in(xero_ids(world)))
    assert mart.height == lines.height
    assert sum(mart["line_amount"].to_list(), Decimal(0)) == cents(lines["line_amount"].sum())
    by_line = dict(zip(mart["erp_line_id"], mart["is_syncable"], strict=True))
    assert {lid: by_line[lid] for lid in lines["line_id"]} == dict(
        zip(lines["line_id"], lines["is_syncable"], strict=True))
    assert mart.filter(~pl.col("is_syncable") & pl.col("unsyncable_reason").is_null()).is_empty()


def test_c_4_pre_existing_unlinked_project_costs_do_not_sync(env):
    """C-4: the project that predates the connection was never linked; its ERP costs stay
    out of job costs, each line marked project_not_synced, none dropped."""
    world, _, settings, _ = env
    projects = world.t["procore_projects"].filter(
        pl.col("connection_id").is_in(xero_ids(world)) & ~pl.col("is_synced"))
    assert not projects.is_empty()
    lines = snapshot_frame(settings, "erp_cost_lines", "erp_line_id").filter(
        pl.col("tracking_option_id").is_in(projects["erp_option_id"].implode())
        & pl.col("is_status_approved") & pl.col("is_type_eligible"))
    assert not lines.is_empty()
    assert set(lines["unsyncable_reason"]) == {"project_not_synced"}
    jc = snapshot_frame(settings, "job_costs", "project_id")
    assert not set(jc["project_id"]) & set(projects["project_id"])


def test_xe_9_retainage_lines_and_negative_invoices(env):
    """XE-9: retainage posts on its own line to the retainage item (not a cost code, so it
    never syncs); negative subcontractor invoices are never exported, so no bill exists."""
    world, _, settings, _ = env
    lines = snapshot_frame(settings, "erp_cost_lines", "erp_line_id")
    retainage = lines.filter(pl.col("item_code") == "RETAINAGE")
    expected = world.cost_lines().filter(pl.col("connection_id").is_in(xero_ids(world))
                                         & pl.col("is_retainage"))
    assert retainage.height == expected.height > 0
    assert (retainage["line_amount"] < 0).all()
    assert set(retainage.filter(pl.col("is_status_approved"))["unsyncable_reason"]) == {
        "item_not_synced"}
    reqs = world.t["procore_requisitions"].filter(pl.col("connection_id").is_in(xero_ids(world)))
    negative = reqs.filter(pl.col("is_negative"))["requisition_id"].to_list()
    assert negative
    assert not world.t["erp_txns"].filter(pl.col("requisition_id").is_in(negative)).height
    assert warehouse_rows(settings, "select count(*) from staging.stg_procore__requisitions "
                           f"where requisition_id in ({', '.join(map(str, negative))}) "
                           "and erp_transaction_ref is null") == [(len(negative),)]


def test_r_4_budget_view_carries_the_split_per_budget_line(env):
    world, _, settings, _ = env
    bv = snapshot_frame(settings, "rpt_budget_view", "connection_id, project_id, wbs_code")
    expected = expected_job_costs(world)
    for r in bv.filter(pl.col("connection_id").is_in(xero_ids(world))).iter_rows(named=True):
        jtd, ci, direct = expected.get(
            (r["connection_id"], r["project_id"], r["cost_code"], r["cost_type"]),
            (Decimal("0.00"),) * 3)
        assert (r["erp_job_to_date_costs"], r["erp_commitment_invoiced"],
                r["erp_direct_costs"]) == (jtd, ci, direct)
    budget = world.t["wbs_codes"].filter(pl.col("connection_id").is_in(xero_ids(world)))
    assert sum(bv.filter(pl.col("connection_id").is_in(xero_ids(world)))[
        "original_budget_amount"].to_list(), Decimal(0)) == cents(budget["budget_cents"].sum())


def test_r_1_job_costs_report_matches_the_mart(env):
    _, _, settings, _ = env
    order = "connection_id, project_id, cost_code, cost_type"
    rpt = snapshot_frame(settings, "rpt_erp_job_costs", order)
    jc = snapshot_frame(settings, "job_costs", order)
    assert rpt.select(rpt.columns).equals(jc.select(rpt.columns))


def test_run_summary_counts_rows_and_calls(env):
    world, _, _, summary = env
    xero = world.t["erp_txns"].filter(pl.col("connection_id").is_in(xero_ids(world)))
    assert summary.rows["raw_xero.invoices"] == xero.filter(pl.col("erp_type") == "ACCPAY").height
    assert summary.calls["xero.invoices"] >= 1
    assert summary.snapshot


@pytest.mark.browser
def test_app_shows_the_ledger_figure_from_the_published_run(env, browser, tmp_path):
    """The app, over what this run published, shows the world's JTD total (XE-12)."""
    from playwright.sync_api import expect

    from reports.formatting import money
    from tests.browser import run_app

    world, _, settings, _ = env
    # Every connection the run extracted: Xero, NetSuite and Acumatica, each by its own rules.
    everyone = ledger_job_costs(world, [*xero_ids(world), *connection_ids(world, "netsuite"),
                                        *connection_ids(world, "acumatica")])
    total = sum((jtd for jtd, _, _ in everyone.values()), Decimal(0))
    with run_app(settings.published, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(url)
        label = page.get_by_test_id("stMetricLabel").get_by_text("JTD cost", exact=True)
        value = page.get_by_test_id("stMetric").filter(has=label).get_by_test_id(
            "stMetricValue")
        expect(value).to_have_text(money(total), timeout=30_000)
        # NetSuite connections sit beside Xero's with no page code of their own.
        for name in world.connections("netsuite")["company_name"]:
            expect(page.get_by_text(f"{name} · NetSuite", exact=True)).to_be_visible()
        page.close()


def _since(world: World, resource: str, lag: int) -> dict[str, object]:
    """Per tenant, where an incremental read starts: the newest UpdatedDateUTC − lag."""
    rows = RESOURCES[resource](world).filter(pl.col("connection_id").is_in(xero_ids(world)))
    return {c: m - timedelta(seconds=lag) for c, m in
            rows.group_by("connection_id").agg(pl.col("updated_at").max()).iter_rows()}


def without_netsuite(counts: dict[str, int]) -> dict[str, int]:
    return {t: n for t, n in counts.items() if not t.startswith("raw_netsuite.")}


def test_rerun_then_incremental_picks_up_exactly_the_changes(env):
    world, _, settings, _ = env
    before_marts, before_raw = marts(settings), raw_counts(settings)
    since = {r: _since(world, r, settings.lag_seconds) for r in RESOURCES}

    # A rerun with nothing changed: no duplicate rows, identical marts.
    again = run(settings, log=lambda m: None)
    assert raw_counts(settings) == before_raw
    for name, frame in marts(settings).items():
        assert frame.equals(before_marts[name]), name
    for r in RESOURCES:  # only the rows inside the lag window were read again
        overlap = sum(RESOURCES[r](world).filter(
            (pl.col("connection_id") == c) & (pl.col("updated_at") > s)).height
            for c, s in since[r].items())
        assert again.rows.get(f"raw_xero.{r}", 0) == overlap, r

    changed = world.advance()
    third = run(settings, log=lambda m: None)
    for r in RESOURCES:
        expected = sum(RESOURCES[r](world).filter(
            (pl.col("connection_id") == c) & (pl.col("updated_at") > s)).height
            for c, s in since[r].items())
        assert third.rows.get(f"raw_xero.{r}", 0) == expected, r
    assert raw_counts(settings)["raw_xero.invoices"] == before_raw["raw_xero.invoices"]
    assert actual_job_costs(settings, world) == expected_job_costs(world)
    lines = snapshot_frame(settings, "erp_cost_lines", "erp_line_id")
    voided = lines.filter(pl.col("erp_transaction_id").is_in(changed["bills_voided"]))
    assert not voided.is_empty()
    assert set(voided["status"]) == {"VOIDED"}
    assert set(voided["unsyncable_reason"]) == {"status_not_approved"}
    # C-7, XE-10: a payment deleted in Xero after it synced stays visible, marked DELETED.
    deleted = warehouse_rows(settings, "select payment_id, is_deleted from "
                              "staging.stg_xero__payments where status = 'DELETED'")
    assert set(changed["payments_deleted"]) <= {pid for pid, is_del in deleted if is_del}
    # A Procore deletion comes back through include_deleted and marks the row, not drops it.
    assert {r[0] for r in warehouse_rows(
        settings, "select direct_cost_id from staging.stg_procore__direct_costs "
        "where is_deleted")} == set(changed["direct_costs_deleted"])
    projects = dict(warehouse_rows(settings, "select id, name from raw_procore.projects"))
    for pid in changed["projects_renamed"]:
        assert projects[pid].endswith("(rev 1)")

    # A full refresh replaces every table whole: the same warehouse, the same marts. (NetSuite
    # raw rows deleted at the source go on a full read; its own test covers that.)
    incremental_raw, incremental_marts = raw_counts(settings), marts(settings)
    run(settings, log=lambda m: None, full_refresh=True)
    assert without_netsuite(raw_counts(settings)) == without_netsuite(incremental_raw)
    for name, frame in marts(settings).items():
        assert frame.equals(incremental_marts[name]), name
