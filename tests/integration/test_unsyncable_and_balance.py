"""R-2 (rpt_unsyncable_direct_costs) and the conservation balance (rpt_cost_line_balance) on
the tiny world through the real sandbox, dlt, DuckDB, dbt and a published snapshot, for Xero,
NetSuite and Acumatica. Expected reasons, counts and amounts come from the world's frames,
its truth flags and constants, the seed file and raw tables, never from the models."""

from __future__ import annotations

import csv
import dataclasses
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.run import RunFailed, dbt_build, run
from pipelines.sandbox.acumatica_tables import guid
from pipelines.sandbox.world import (
    CI_KINDS,
    ERP_ONLY_ITEMS,
    NS_OTHER_TYPE_ITEMS,
    RETAINAGE_ITEM,
    World,
    cents,
)
from tests.integration.common import connection_ids, snapshot_frame, warehouse_rows

SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "unsyncable_reasons.csv"
RULE_PREFIX = {"xero": "XE-", "netsuite": "NS-", "acumatica": "AC-"}
# The chain of each reason (docs/reports.md); the world's flags speak for whole chains.
CHAIN = {"type_not_eligible": "type", "status_not_approved": "status",
         "cost_code_list_single_tier": "list", "no_project": "project",
         "sub_job_not_supported": "project", "project_not_synced": "project",
         "sub_job_not_synced": "project", "no_item": "item", "item_type_not_supported": "item",
         "item_not_synced": "item", "item_not_for_project": "item",
         "cost_code_not_synced": "item", "no_task": "task"}
NS_OTHER_TYPES = {code for code, _ in NS_OTHER_TYPE_ITEMS}
NS_UNSYNCED_ITEMS = {*ERP_ONLY_ITEMS, RETAINAGE_ITEM}


def seed_rows() -> dict[str, dict]:
    with SEED.open(newline="") as f:
        return {r["reason_code"]: r for r in csv.DictReader(f)}


def world_lines(world: World, erp: str) -> pl.DataFrame:
    """The ERP's source lines as the world has them, under the id the warehouse gives them;
    ``amount`` is the line amount as the ERP states it (Xero keeps credit lines positive,
    NetSuite and Acumatica post them negative)."""
    lines = world.cost_lines().filter(pl.col("connection_id").is_in(connection_ids(world, erp)))
    if erp == "netsuite":  # a deleted transaction is gone from NetSuite
        lines = lines.filter(pl.col("status") != "DELETED")
    if erp == "acumatica":
        lines = lines.with_columns(line_id=guid(lines["line_id"], "pm"))
    return lines.with_columns(
        amount=pl.col("line_amount") if erp == "xero" else pl.col("signed_amount"))


def expected_reasons(world: World, erp: str) -> dict[tuple[str, str], list[str]]:
    """Every rule each world line fails, in evaluation order, one per chain, from the case
    the world drew for it and its truth flags."""
    single = set(world.connections("netsuite").filter(pl.col("cost_code_tiers") == 1)[
        "connection_id"])
    out = {}
    for r in world_lines(world, erp).iter_rows(named=True):
        reasons = []
        if not r["is_type_ok"]:
            reasons.append("type_not_eligible")
        if not r["is_status_ok"]:
            reasons.append("status_not_approved")
        case = r["case"]
        if erp == "xero":  # XE-11; XE-4: items are company-level, whatever the project
            if not r["is_project_ok"]:
                reasons.append("no_project" if r["tracking_option_id"] is None
                               else "project_not_synced")
            if not r["is_item_ok"]:
                reasons.append("item_not_synced")
        elif erp == "netsuite":
            if r["connection_id"] in single:
                reasons.append("cost_code_list_single_tier")  # NS-5
            if r["tracking_option_id"] is None:
                reasons.append("no_project")
            elif case == "sub_job":
                reasons.append("sub_job_not_supported")  # NS-6
            elif not r["is_project_ok"]:
                reasons.append("project_not_synced")  # C-4
            item = r["item_code"]
            if item is None:
                reasons.append("no_item")  # NS-14: expense and journal balancing lines
            elif item in NS_OTHER_TYPES:
                reasons.append("item_type_not_supported")  # NS-7
            elif item in NS_UNSYNCED_ITEMS:
                reasons.append("item_not_synced")  # NS-14: ERP-only Other Charge items
            elif case == "code_off_project":
                reasons.append("item_not_for_project")  # NS-3, NS-14
        else:
            if case == "unsynced_project":
                reasons.append("project_not_synced")  # C-4, AC-21
            elif case == "sub_job_unsynced":
                reasons.append("sub_job_not_synced")  # AC-9
            if case == "code_not_synced":
                reasons.append("cost_code_not_synced")  # AC-3
        out[(r["connection_id"], r["line_id"])] = reasons
    return out


def mart_lines(settings) -> pl.DataFrame:
    return snapshot_frame(settings, "erp_cost_lines", "connection_id, erp_line_id")


@pytest.mark.parametrize("erp", ["xero", "netsuite", "acumatica"])
def test_r_2_xe_11_ns_14_ac_21_failed_reasons_are_every_rule_the_world_line_fails(env, erp):
    """failed_reasons holds every rule a line fails, one per chain, in order (XE-4, XE-11;
    NS-3, NS-5, NS-6, NS-7, NS-14, NS-15, C-4; AC-3, AC-9, AC-21, C-5), and the world's truth
    flags agree with which lines are unsyncable and with the type and status chains (and,
    where the world draws them per chain, Xero's project and item, NetSuite's project)."""
    world, _, settings, _ = env
    expected = expected_reasons(world, erp)
    mart = mart_lines(settings).filter(pl.col("erp") == erp)
    got = {(r["connection_id"], r["erp_line_id"]): list(r["failed_reasons"])
           for r in mart.iter_rows(named=True)}
    assert got == expected
    assert any(len(v) >= 2 for v in expected.values()), "a line must fail two chains"
    lines = world_lines(world, erp)
    flags = {"type": "is_type_ok", "status": "is_status_ok"}
    flags |= {"xero": {"project": "is_project_ok", "item": "is_item_ok"},
              "netsuite": {"project": "is_project_ok"}}.get(erp, {})
    for r in lines.iter_rows(named=True):
        reasons = got[(r["connection_id"], r["line_id"])]
        ok = r["is_type_ok"] and r["is_status_ok"] and r["is_project_ok"] and r["is_item_ok"]
        assert (not reasons) == ok, r["line_id"]
        chains = {CHAIN[x] for x in reasons}
        for chain, flag in flags.items():
            assert (chain in chains) == (not r[flag]), (r["line_id"], chain)
    first = dict(zip(zip(mart["connection_id"], mart["erp_line_id"], strict=True),
                     mart["unsyncable_reason"], strict=True))
    assert first == {k: (v[0] if v else None) for k, v in expected.items()}


def test_r_2_every_unsyncable_line_is_reported_once_per_failed_rule(env):
    """R-2 for all three ERPs: each line of erp_cost_lines that does not sync appears once
    per failed rule, its first reason (unsyncable_reason) flagged is_first_reason, with the
    seed's reason and the seed's rule IDs of its ERP (C-* and XE-/NS-/AC-); syncable lines
    never appear."""
    world, _, settings, _ = env
    seed = seed_rows()
    mart = mart_lines(settings)
    rpt = snapshot_frame(settings, "rpt_unsyncable_direct_costs",
                         "connection_id, erp_line_id, reason_code")
    assert set(rpt["erp"]) == {"xero", "netsuite", "acumatica"}
    by_line = defaultdict(list)
    for r in rpt.iter_rows(named=True):
        by_line[(r["connection_id"], r["erp_line_id"])].append(r)
    for m in mart.iter_rows(named=True):
        rows = by_line.pop((m["connection_id"], m["erp_line_id"]), [])
        if m["is_syncable"]:
            assert rows == [], m["erp_line_id"]
            continue
        assert sorted(r["reason_code"] for r in rows) == sorted(m["failed_reasons"])
        assert [r["reason_code"] for r in rows if r["is_first_reason"]] == [
            m["unsyncable_reason"]]
        for r in rows:
            s = seed[r["reason_code"]]
            rules = [x for x in s["rule_ids"].split(", ")
                     if x.startswith(("C-", RULE_PREFIX[m["erp"]]))]
            assert (r["reason"], r["rule_ids"]) == (s["reason"], ", ".join(rules))
            assert (r["line_amount"], r["signed_amount"], r["erp_project_ref"]) == (
                m["line_amount"], m["signed_amount"], m["tracking_option_id"])
    assert not by_line, "the report has lines that are not in erp_cost_lines"
    assert set(rpt["reason_code"]) <= set(seed)
    assert rpt.height > mart.filter(~pl.col("is_syncable")).height  # some lines fail two


def expected_balance(world: World) -> dict[str, tuple]:
    """Per connection from the world: source lines and amount, then direct cost,
    commitment invoiced (subcontractor invoices; Acumatica Subcontract Invoices, AC-21) and
    unsyncable lines and amounts; nothing is excluded on a first run."""
    out = {}
    for erp in ("xero", "netsuite", "acumatica"):
        lines = world_lines(world, erp).with_columns(
            ci=pl.col("amount_type") == "subcontract_invoice" if erp == "acumatica"
            else pl.col("txn_kind").is_in(CI_KINDS))
        for cid in connection_ids(world, erp):
            mine = lines.filter(pl.col("connection_id") == cid)
            out[cid] = (*_part(mine),
                        *_part(mine.filter(pl.col("is_syncable") & ~pl.col("ci"))),
                        *_part(mine.filter(pl.col("is_syncable") & pl.col("ci"))),
                        *_part(mine.filter(~pl.col("is_syncable"))),
                        0, Decimal("0.00"))
    return out


def _part(frame: pl.DataFrame) -> tuple[int, Decimal]:
    return frame.height, cents(frame["amount"].sum())


BALANCE_COLUMNS = ["source_lines", "source_amount", "direct_cost_lines", "direct_cost_amount",
                   "commitment_invoiced_lines", "commitment_invoiced_amount", "unsyncable_lines",
                   "unsyncable_amount", "excluded_lines", "excluded_amount"]


def test_conservation_balance_is_zero_and_equals_the_world_and_raw_counts(env):
    """Every source line of every connection is in exactly one bucket, to the cent; the
    buckets equal what the world drew (XE-11, XE-12, NS-16, AC-21) and the source lines
    equal the raw NetSuite and Acumatica tables."""
    world, _, settings, _ = env
    bal = snapshot_frame(settings, "rpt_cost_line_balance", "connection_id")
    assert set(bal["connection_id"]) == set(world.connections()["connection_id"])
    got = {r["connection_id"]: tuple(r[c] for c in BALANCE_COLUMNS)
           for r in bal.iter_rows(named=True)}
    assert got == expected_balance(world)
    for r in bal.iter_rows(named=True):
        assert (r["difference_lines"], r["difference_amount"], r["is_balanced"]) == (
            0, Decimal("0.00"), True), r["connection_id"]
    raw = dict(warehouse_rows(settings, """
        select connection_id, (count(*), sum(netamount))
        from raw_netsuite.transaction_lines group by 1
        union all
        select connection_id, (count(*), sum(amount))
        from raw_acumatica.project_transaction_details group by 1"""))
    for cid, (n, amount) in raw.items():
        assert (got[cid][0], got[cid][1]) == (n, amount), cid
    assert set(raw) == set(connection_ids(world, "netsuite") + connection_ids(world, "acumatica"))


def _copy_warehouse(settings, base: Path):
    """The run's warehouse in a directory of its own, under the same file name (dbt-duckdb
    names the catalog after it), with Settings pointing there."""
    base.mkdir()
    target = base / settings.warehouse.name
    shutil.copy2(settings.warehouse, target)
    return dataclasses.replace(settings, warehouse=target)


def test_conservation_build_fails_naming_the_connection_when_a_line_is_dropped(env, tmp_path):
    """A line lost between the source and erp_cost_lines fails `dbt build` (the balance's
    error-severity test), and the error names the connection; a clean copy passes."""
    world, _, settings, _ = env
    dropped = connection_ids(world, "netsuite")[0]
    broken = _copy_warehouse(settings, tmp_path / "broken")
    con = duckdb.connect(str(broken.warehouse))
    try:
        line = con.execute("select erp_line_id from marts.erp_cost_lines "
                           "where connection_id = ? order by erp_line_id limit 1",
                           [dropped]).fetchone()[0]
        con.execute("delete from marts.erp_cost_lines where connection_id = ? "
                    "and erp_line_id = ?", [dropped, line])
    finally:
        con.close()
    with pytest.raises(RunFailed) as failed:
        dbt_build(broken, lambda m: None, select="rpt_cost_line_balance", quiet=True)
    message = str(failed.value)
    assert f"cost lines do not balance on connection {dropped} (netsuite): 1 line(s)" in message
    others = set(world.connections()["connection_id"]) - {dropped}
    assert not [c for c in others if f"connection {c} " in message]
    clean = _copy_warehouse(settings, tmp_path / "clean")
    dbt_build(clean, lambda m: None, select="rpt_cost_line_balance", quiet=True)


def test_ns_18_deleted_transaction_lines_are_excluded_and_the_balance_holds(env):
    """After the world moves on (bills voided, spend money edited, a synced NetSuite check
    deleted), an incremental run still balances every connection: the deleted check's lines
    stay in raw (NS-18) and are counted as excluded, deleted_in_erp, not as cost lines."""
    world, _, settings, _ = env
    changed = world.advance()
    run(settings, log=lambda m: None)
    gone = changed["netsuite_transactions_deleted"]
    assert gone
    deleted = world.cost_lines().filter(pl.col("txn_id").is_in(gone))
    excluded = warehouse_rows(settings, "select connection_id, erp_line_id, line_amount, "
                              "excluded_reason from intermediate.int_cost_lines_excluded")
    assert sorted(excluded) == sorted(
        (r["connection_id"], r["line_id"], cents(r["signed_amount"]), "deleted_in_erp")
        for r in deleted.iter_rows(named=True))
    bal = snapshot_frame(settings, "rpt_cost_line_balance", "connection_id")
    assert bal["is_balanced"].all() and set(bal["difference_amount"]) == {Decimal("0.00")}
    expected = expected_balance(world)  # the world without the deleted check's lines
    for cid, n in deleted.group_by("connection_id").len().iter_rows():
        amount = cents(deleted.filter(pl.col("connection_id") == cid)["signed_amount"].sum())
        expected[cid] = (expected[cid][0] + n, expected[cid][1] + amount,
                         *expected[cid][2:8], n, amount)
    got = {r["connection_id"]: tuple(r[c] for c in BALANCE_COLUMNS)
           for r in bal.iter_rows(named=True)}
    assert got == expected
