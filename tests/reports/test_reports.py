"""Report queries against a hand-worked published snapshot (R-1, R-4, R-5, XE-12, XE-13, AC-21)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from reports import budget_view, portfolio
from reports.connections import connections
from reports.formatting import money
from reports.snapshot import (
    PUBLISHED_DIR_ENV,
    SnapshotNotFound,
    connect,
    current_snapshot,
    published_dir,
)
from tests import fixtures_snapshot as fx

MONEY = ("jtd_cost", "commitment_invoiced", "direct_cost")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.build_published(tmp_path_factory.mktemp("snap"))


@pytest.fixture(scope="module")
def con(published: Path) -> duckdb.DuckDBPyConnection:
    connection = connect(current_snapshot(published))
    yield connection
    connection.close()


def _row(frame, *columns) -> tuple:
    assert frame.height == 1, frame
    return tuple(frame.row(0, named=True)[c] for c in columns)


def test_published_dir_from_env(tmp_path: Path) -> None:
    assert published_dir({PUBLISHED_DIR_ENV: str(tmp_path)}) == tmp_path
    assert published_dir({}) == Path("var/published")
    assert published_dir({PUBLISHED_DIR_ENV: ""}) == Path("var/published")


def test_nothing_published(tmp_path: Path) -> None:
    with pytest.raises(SnapshotNotFound, match="nothing published yet"):
        current_snapshot(tmp_path / "published")


def test_snapshot_manifest(published: Path) -> None:
    snap = current_snapshot(published)
    assert snap.run_id == "test"
    assert snap.snapshot_id == (published / "CURRENT").read_text().strip()
    assert {"connections", "job_costs", "direct_costs", "rpt_budget_view"} <= set(snap.tables)


def test_connections(con) -> None:
    frame = connections(con)
    assert frame["connection_id"].to_list() == ["xero-acme", "ns-bolt"]
    assert frame["label"].to_list() == ["Acme Builders · Xero", "Bolt Construction · NetSuite"]


def test_portfolio_projects_xe12(con) -> None:
    frame = portfolio.project_costs(con)
    got = {(r["connection_id"], r["project_id"]): tuple(r[c] for c in MONEY)
           for r in frame.iter_rows(named=True)}
    assert got == fx.PROJECT_TOTALS
    for jtd, commitment, direct in got.values():
        assert isinstance(jtd, Decimal)
        assert direct == jtd - commitment  # XE-12: direct = JTD − commitment invoiced
    labels = dict(zip(frame["project_id"], frame["project_label"], strict=True))
    assert labels[501] == "P-001 – Harbour View Apartments"


def test_portfolio_totals(con) -> None:
    assert _row(portfolio.portfolio_totals(con), *MONEY) == fx.PORTFOLIO_TOTAL
    assert _row(portfolio.portfolio_totals(con), "projects") == (3,)
    xero = portfolio.portfolio_totals(con, ["xero-acme"])
    assert _row(xero, *MONEY) == fx.XERO_TOTAL
    assert money(_row(portfolio.portfolio_totals(con), "jtd_cost")[0]) == fx.PORTFOLIO_JTD_TEXT


def test_portfolio_empty_filter(con) -> None:
    assert portfolio.project_costs(con, []).height == 0
    assert _row(portfolio.portfolio_totals(con, []), *MONEY) == (0, 0, 0)


def test_jtd_split_adds_up(con) -> None:
    split = portfolio.jtd_split(con, ["xero-acme"])
    assert split.height == 4  # two projects × two components
    by_project: dict[int, Decimal] = {}
    for r in split.iter_rows(named=True):
        by_project[r["project_id"]] = by_project.get(r["project_id"], Decimal(0)) + r["amount"]
    assert by_project == {501: Decimal("46820.65"), 502: Decimal("1499.95")}


def test_r1_matches_job_costs_mart(con) -> None:
    r1 = con.execute("select sum(jtd_cost), sum(direct_cost) from rpt_erp_job_costs").fetchone()
    assert r1 == (fx.PORTFOLIO_TOTAL[0], fx.PORTFOLIO_TOTAL[2])


def test_budget_view_r4(con) -> None:
    assert budget_view.projects(con, "xero-acme")["label"].to_list() == [
        "P-001 – Harbour View Apartments", "P-002 – Riverside Depot"]
    lines = budget_view.budget_lines(con, "xero-acme", 501)
    assert lines["wbs_code"].to_list() == ["01-500.O", "03-100.L", "03-100.M", "09-200.S"]
    for r in lines.iter_rows(named=True):  # ERP Direct = ERP JTD − ERP Commitment Invoiced
        assert r["erp_direct_costs"] == r["erp_job_to_date_costs"] - r["erp_commitment_invoiced"]
    totals = budget_view.budget_totals(con, "xero-acme", 501)
    assert _row(totals, "original_budget_amount", "erp_job_to_date_costs",
                "erp_commitment_invoiced", "erp_direct_costs") == fx.BUDGET_501_TOTAL
    assert _row(totals, "budget_lines") == (4,)
    lines_502 = budget_view.budget_lines(con, "xero-acme", 502)
    assert lines_502["budget_line_item_id"].to_list() == [9101, None]  # job cost, no budget line
    assert _row(budget_view.budget_totals(con, "xero-acme", 502), "original_budget_amount",
                "erp_job_to_date_costs", "erp_commitment_invoiced",
                "erp_direct_costs") == fx.BUDGET_502_TOTAL


def test_drill_down_xe13_sums_to_budget_line(con) -> None:
    txns = budget_view.line_transactions(con, "xero-acme", 501, "03-100.L")
    assert txns.height == fx.DRILL_501_L["transaction_lines"]
    assert set(txns["direct_cost_type"]) == {"Subcontractor Invoice", "Invoice", "Expense"}
    assert "ACCPAYCREDIT" in set(txns["erp_transaction_type"])  # shown, though not in JTD
    assert set(txns["status"]) == {"Approved"}
    rec = budget_view.line_reconciliation(con, "xero-acme", 501, "03-100.L").row(0, named=True)
    for key, value in fx.DRILL_501_L.items():
        assert rec[key] == value, key
    assert rec["txn_jtd"] == rec["erp_job_to_date_costs"]
    assert rec["txn_direct"] == rec["erp_direct_costs"] == Decimal("2500.00")
    assert rec["jtd_difference"] == rec["direct_difference"] == Decimal("0.00")


def test_drill_down_finding(con) -> None:
    rec = budget_view.line_reconciliation(con, "ns-bolt", 701, "05-120.M").row(0, named=True)
    assert (rec["txn_jtd"], rec["erp_job_to_date_costs"], rec["jtd_difference"]) == (
        fx.DRILL_701_M_JTD)


def test_drill_down_unbudgeted_code(con) -> None:
    rec = budget_view.line_reconciliation(con, "xero-acme", 501, "99-999.X").row(0, named=True)
    assert rec["erp_job_to_date_costs"] is None
    assert (rec["transaction_lines"], rec["txn_jtd"]) == (0, 0)


def test_money_format() -> None:
    assert money(Decimal("1048020.61")) == "$1,048,020.61"
    assert money(Decimal("-1.00")) == "-$1.00"
    assert money(Decimal("0")) == "$0.00"
    assert money(None) == "—"


# -- amount types (AC-21): shown where the ERP provides them, with no ERP named -------------------
@pytest.fixture(scope="module")
def ac_con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """The hand-worked snapshot with the Acumatica connection ``ac-ridge`` added."""
    connection = connect(current_snapshot(
        fx.build_published(tmp_path_factory.mktemp("snap_ac"), acumatica=True)))
    yield connection
    connection.close()


AC_TYPES = ("erp_subcontract_invoices", "erp_invoices", "erp_expenses", "erp_payroll")


def test_budget_view_ac_21_amount_types_where_the_erp_provides_them(ac_con) -> None:
    lines = budget_view.budget_lines(ac_con, "ac-ridge", 801)
    assert budget_view.provided_amount_types(lines) == [
        "subcontract_invoices", "invoices", "expenses", "payroll"]
    for r in lines.iter_rows(named=True):  # AC-21: JTD = four types, CI = SI, direct = rest
        si, inv, exp, pay = (r[c] for c in AC_TYPES)
        assert r["erp_job_to_date_costs"] == si + inv + exp + pay
        assert r["erp_commitment_invoiced"] == si
        assert r["erp_direct_costs"] == inv + exp + pay
    by_code = {r["wbs_code"]: tuple(r[c] for c in AC_TYPES) for r in lines.iter_rows(named=True)}
    assert by_code == {**fx.AC_AMOUNT_TYPES, "B1.02.03-100.000.LABOR": (Decimal("0.00"),) * 4}
    totals = budget_view.budget_totals(ac_con, "ac-ridge", 801)
    assert _row(totals, "original_budget_amount", "erp_job_to_date_costs",
                "erp_commitment_invoiced", "erp_direct_costs", *AC_TYPES) == fx.BUDGET_801_TOTAL
    # Xero and NetSuite provide none: the columns are there, null, and not offered.
    for conn, project in (("xero-acme", 501), ("ns-bolt", 701)):
        other = budget_view.budget_lines(ac_con, conn, project)
        assert budget_view.provided_amount_types(other) == []
        assert _row(budget_view.budget_totals(ac_con, conn, project), *AC_TYPES) == (None,) * 4


def test_drill_down_ac_21_each_amount_type_beside_its_direct_costs(ac_con) -> None:
    rec = budget_view.line_reconciliation(ac_con, "ac-ridge", 801, "01.03-100.000.LABOR").row(
        0, named=True)
    assert (rec["erp_invoices"], rec["erp_expenses"], rec["erp_payroll"]) == (
        Decimal("1200.00"), Decimal("300.00"), Decimal("4500.00"))
    for t in ("subcontract_invoices", "invoices", "expenses", "payroll"):
        assert rec[f"txn_{t}"] == rec[f"erp_{t}"], t
        assert rec[f"{t}_difference"] == 0, t
    assert rec["txn_direct"] == rec["erp_direct_costs"] == Decimal("6000.00")
    sub = budget_view.line_reconciliation(ac_con, "ac-ridge", 801, "02.09-200.000.SUBCON").row(
        0, named=True)
    assert sub["txn_subcontract_invoices"] == sub["txn_commitment_invoiced"] == Decimal("30000.00")
    xero = budget_view.line_reconciliation(ac_con, "xero-acme", 501, "03-100.L").row(
        0, named=True)
    assert (xero["erp_invoices"], xero["invoices_difference"]) == (None, None)


def test_budget_view_reads_a_snapshot_published_before_amount_types(tmp_path: Path) -> None:
    """A snapshot from before the amount-type columns existed still opens: they read null."""
    from pipelines.publish import publish

    warehouse = fx.build_warehouse(tmp_path / "warehouse.duckdb")
    with duckdb.connect(str(warehouse)) as old:
        for column in AC_TYPES:
            old.execute(f"alter table reports.rpt_budget_view drop column {column}")
    publish(warehouse, tmp_path / "published", run_id="old")
    con = connect(current_snapshot(tmp_path / "published"))
    try:
        lines = budget_view.budget_lines(con, "xero-acme", 501)
        assert lines.height == 4 and budget_view.provided_amount_types(lines) == []
        totals = budget_view.budget_totals(con, "xero-acme", 501)
        assert _row(totals, "erp_direct_costs") == (fx.BUDGET_501_TOTAL[3],)
        rec = budget_view.line_reconciliation(con, "xero-acme", 501, "03-100.L").row(
            0, named=True)
        assert rec["jtd_difference"] == 0 and rec["payroll_difference"] is None
    finally:
        con.close()
