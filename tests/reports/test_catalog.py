"""The report catalogue over the hand-worked snapshot (R-1…R-5, C-4, C-7, reconciliation,
conservation): every report fetches, filters, totals and charts to the cent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from reports import catalog
from reports.catalog import REPORTS, ReportUnavailable
from reports.snapshot import connect, current_snapshot
from tests import fixtures_snapshot as fx

D = Decimal

# Rows per report on the snapshot with all three ERPs, counted from the fixture's lists:
# job costs 5 + 1 + 2; unsyncable 1+2+1+1+2+1+1; budget 7 + 3; the others one per entry.
ROWS = {"erp-job-costs": 8, "unsyncable-direct-costs": 9, "accountants": 4, "budget-view": 10,
        "job-cost-accuracy": 11, "reconciliation": 10, "cost-line-balance": 3}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.build_published_history(tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="module")
def con(history: Path) -> duckdb.DuckDBPyConnection:
    connection = connect(current_snapshot(history))
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def old_con(history: Path) -> duckdb.DuckDBPyConnection:
    connection = connect(current_snapshot(history, as_of="2025-07-01"))
    yield connection
    connection.close()


def _totals(frame) -> dict:
    assert frame.height == 1
    return frame.row(0, named=True)


def test_catalogue_names_are_the_contracts() -> None:
    assert list(REPORTS) == ["erp-job-costs", "unsyncable-direct-costs", "accountants",
                             "budget-view", "job-cost-accuracy", "reconciliation",
                             "cost-line-balance"]


@pytest.mark.parametrize("name", list(REPORTS))
def test_definition_matches_snapshot_table(con, name: str) -> None:
    report = REPORTS[name]
    table = [r[0] for r in con.execute(f"describe {report.table}").fetchall()]
    assert list(report.column_names) == table  # the contract's columns, in its order
    assert {c.kind for c in report.columns} <= set(catalog.KINDS)
    assert all(report.column(t).kind in ("money", "int") for t in report.totals)
    if report.chart:
        assert report.column(report.chart.value).kind == "money"
        assert report.chart.category in report.column_names
    assert report.choice is None or report.choice in report.column_names
    assert any(rule in report.description for rule in ("R-", "C-4", "C-7", "NS-18"))


@pytest.mark.parametrize("name", list(REPORTS))
def test_every_report_fetches(con, name: str) -> None:
    frame = catalog.fetch(con, REPORTS[name])
    assert frame.columns == list(REPORTS[name].column_names)
    assert frame.height == ROWS[name]
    assert _totals(catalog.totals(con, REPORTS[name]))["rows"] == ROWS[name]


@pytest.mark.parametrize("project", ["P-001", "501", 501, "Harbour View Apartments"])
def test_r1_project_filter_by_id_number_or_name(con, project) -> None:
    frame = catalog.fetch(con, REPORTS["erp-job-costs"], "xero-acme", project)
    assert frame["wbs_code"].to_list() == ["03-100.L", "03-100.M", "09-200.S"]


def test_r1_totals_xe12_ac21(con) -> None:
    r1 = REPORTS["erp-job-costs"]
    # All ERPs: the portfolio of the Xero and NetSuite projects plus Acumatica's 801
    # (JTD 36,000.00, CI 30,000.00, direct 6,000.00): 1,048,320.61 + 36,000.00 etc.
    got = _totals(catalog.totals(con, r1))
    assert (got["jtd_cost"], got["commitment_invoiced"], got["direct_cost"]) == (
        D("1084320.61"), D("820000.10"), D("264320.51"))
    # AC-21: only Acumatica has amount types; they total its 801 figures.
    assert (got["subcontract_invoices"], got["invoices"], got["expenses"], got["payroll"]) == (
        D("30000.00"), D("1200.00"), D("300.00"), D("4500.00"))
    xero = _totals(catalog.totals(con, r1, "xero-acme"))
    assert (xero["jtd_cost"], xero["commitment_invoiced"], xero["direct_cost"]) == fx.XERO_TOTAL
    assert xero["payroll"] is None  # Xero has no amount types: null, not 0.00
    assert isinstance(xero["jtd_cost"], Decimal)
    project = _totals(catalog.totals(con, r1, "xero-acme", "P-001"))
    assert (project["rows"], project["jtd_cost"]) == (3, fx.PROJECT_TOTALS[("xero-acme", 501)][0])


def test_r1_chart_jtd_by_project(con) -> None:
    chart = catalog.chart_data(con, REPORTS["erp-job-costs"], "xero-acme")
    assert chart.rows() == [("Harbour View Apartments", "xero", 3, D("46820.65")),
                            ("Riverside Depot", "xero", 2, D("1499.95"))]


def test_r2_totals_count_each_line_once(con) -> None:
    r2 = REPORTS["unsyncable-direct-costs"]
    got = _totals(catalog.totals(con, r2))
    assert {k: got[k] for k in fx.UNSYNCABLE_TOTAL} == fx.UNSYNCABLE_TOTAL
    xero = _totals(catalog.totals(con, r2, "xero-acme"))
    assert {k: xero[k] for k in fx.UNSYNCABLE_XERO_TOTAL} == fx.UNSYNCABLE_XERO_TOTAL


def test_r2_line_failing_two_rules_is_listed_twice_in_order(con) -> None:
    frame = catalog.fetch(con, REPORTS["unsyncable-direct-costs"], "xero-acme")
    x_u2 = frame.filter(frame["erp_line_id"] == "x-u2")
    assert x_u2["reason_code"].to_list() == ["status_not_approved", "no_project"]
    assert x_u2["is_first_reason"].to_list() == [True, False]
    assert x_u2["project_id"].to_list() == [None, None]


def test_r2_choices_and_choice_filter(con) -> None:
    r2 = REPORTS["unsyncable-direct-costs"]
    assert catalog.choices(con, r2) == sorted(fx.UNSYNCABLE_BY_REASON)
    assert catalog.choices(con, r2, "ns-bolt") == [
        "item_type_not_supported", "no_item", "sub_job_not_supported"]
    no_project = catalog.fetch(con, r2, choice="no_project")
    assert no_project["erp_line_id"].to_list() == ["x-u2"]
    got = _totals(catalog.totals(con, r2, choice="no_project"))
    assert (got["rows"], got["line_amount"]) == (1, D("1200.00"))


def test_r2_chart_amount_by_reason(con) -> None:
    chart = catalog.chart_data(con, REPORTS["unsyncable-direct-costs"])
    by_reason: dict[str, Decimal] = {}
    for reason, _erp, _rows, amount in chart.iter_rows():
        by_reason[reason] = by_reason.get(reason, D(0)) + amount
    assert by_reason == fx.UNSYNCABLE_BY_REASON


def test_r3_accountants_per_connection(con) -> None:
    r3 = REPORTS["accountants"]
    assert not r3.has_project
    frame = catalog.fetch(con, r3, "xero-acme")
    assert frame["user_name"].to_list() == ["Ann Archer", "Ben Baker"]
    assert catalog.fetch(con, r3, project="501").height == 4  # no project columns: ignored
    assert catalog.choices(con, r3) == ["admin", "standard"]
    assert catalog.fetch(con, r3, choice="standard")["user_id"].to_list() == [12, 31]
    assert catalog.chart_data(con, r3).is_empty()


def test_r4_budget_view_totals_per_project(con) -> None:
    r4 = REPORTS["budget-view"]
    got = _totals(catalog.totals(con, r4, "xero-acme", "P-001"))
    assert (got["original_budget_amount"], got["erp_job_to_date_costs"],
            got["erp_commitment_invoiced"], got["erp_direct_costs"]) == fx.BUDGET_501_TOTAL
    ac = _totals(catalog.totals(con, r4, "ac-ridge", "801"))
    assert tuple(ac[c] for c in r4.totals) == fx.BUDGET_801_TOTAL


def test_r5_accuracy_totals_split_the_difference(con) -> None:
    r5 = REPORTS["job-cost-accuracy"]
    got = _totals(catalog.totals(con, r5))
    assert {k: got[k] for k in fx.ACCURACY_TOTAL} == fx.ACCURACY_TOTAL
    assert got["erp_reported_actual"] == D("36000.00")  # Acumatica's only (AC-21)
    causes = ("credit_notes_not_in_jtd", "commitment_invoiced_not_direct_cost",
              "pending_import", "deleted_or_voided_after_sync", "changed_after_sync",
              "unexplained")
    for row in catalog.fetch(con, r5).iter_rows(named=True):
        assert row["difference"] == row["synced_direct_costs"] - row["erp_job_to_date_costs"]
        assert sum((row[c] for c in causes), D(0)) == row["difference"]
        assert row["is_finding"] == (row["difference"] != 0)


def test_r5_chart_difference_by_cause_xe12_ns16(con) -> None:
    chart = catalog.chart_data(con, REPORTS["job-cost-accuracy"], "xero-acme")
    assert {r[0]: (r[2], r[3]) for r in chart.iter_rows()} == fx.ACCURACY_XERO_BY_CAUSE
    ns = catalog.fetch(con, REPORTS["job-cost-accuracy"], "ns-bolt", "24-017")
    assert ns["causes"].to_list() == ["commitment_invoiced_not_direct_cost,unexplained",
                                      "deleted_or_voided_after_sync"]


def test_r5_choice_changed_after_sync(con) -> None:
    frame = catalog.fetch(con, REPORTS["job-cost-accuracy"], choice="changed_after_sync")
    assert frame.select("project_id", "wbs_code", "difference").rows() == [
        (502, "02-300.E", D("120.00"))]


def test_reconciliation_c7_totals_and_severity_order(con) -> None:
    rec = REPORTS["reconciliation"]
    got = _totals(catalog.totals(con, rec))
    assert {k: got[k] for k in fx.RECONCILIATION_TOTAL} == fx.RECONCILIATION_TOTAL
    xero = _totals(catalog.totals(con, rec, "xero-acme"))
    assert {k: xero[k] for k in fx.RECONCILIATION_XERO_TOTAL} == fx.RECONCILIATION_XERO_TOTAL
    assert catalog.fetch(con, rec, "xero-acme")["finding"].to_list() == [
        "amount_differs", "erp_only", "payment_deleted_after_import", "vendor_drift"]


def test_reconciliation_c4_unlinked_project_with_suggestion(con) -> None:
    rec = REPORTS["reconciliation"]
    frame = catalog.fetch(con, rec, choice="project_unlinked")
    row = frame.row(0, named=True)
    assert (frame.height, row["project_number"], row["suggested_match"], row["confidence"]) == (
        1, "24-018", "job 3310 Depot Annex", D("0.92"))
    assert catalog.find_projects(con, "24-018", "ns-bolt")["project_id"].to_list() == [702]
    assert catalog.find_projects(con, "24-018", "xero-acme").is_empty()


def test_reconciliation_choices_and_chart_by_finding(con) -> None:
    rec = REPORTS["reconciliation"]
    assert catalog.choices(con, rec, "ac-ridge") == [
        "date_differs", "procore_only", "vendor_differs", "voided_after_sync"]
    chart = catalog.chart_data(con, rec, "ac-ridge")
    assert chart.rows() == [("date_differs", "warning", 1, D("1200.00")),
                            ("procore_only", "error", 1, D("310.00")),
                            ("vendor_differs", "warning", 1, D("30000.00")),
                            ("voided_after_sync", "error", 1, D("150.00"))]
    xero = catalog.chart_data(con, rec, "xero-acme", choice="vendor_drift")
    assert xero.rows() == [("vendor_drift", "info", 1, D("0.00"))]  # vendors have no amount


def test_cost_line_balance_conservation_totals(con) -> None:
    balance = REPORTS["cost-line-balance"]
    got = _totals(catalog.totals(con, balance))
    assert {k: got[k] for k in fx.BALANCE_TOTAL} == fx.BALANCE_TOTAL
    frame = catalog.fetch(con, balance)
    assert frame["is_balanced"].to_list() == [True, True, True]
    assert frame["company_name"].to_list() == ["Acme Builders", "Bolt Construction",
                                               "Ridge Builders"]
    # Conservation ties to R-2: the unsyncable bucket is R-2's lines, each once.
    assert got["unsyncable_amount"] == fx.UNSYNCABLE_TOTAL["line_amount"]


def test_unknown_connection_is_empty_with_zero_totals(con) -> None:
    r1 = REPORTS["erp-job-costs"]
    assert catalog.fetch(con, r1, "nobody").is_empty()
    got = _totals(catalog.totals(con, r1, "nobody"))
    assert (got["rows"], got["jtd_cost"], got["payroll"]) == (0, D("0.00"), D("0.00"))


def test_filter_values_are_bound_not_interpolated(con) -> None:
    r1 = REPORTS["erp-job-costs"]
    assert catalog.fetch(con, r1, project="x' or 1=1 --").is_empty()
    assert catalog.fetch(con, r1, "xero-acme' or 'a'='a").is_empty()


def test_choice_on_report_without_one(con) -> None:
    with pytest.raises(ValueError, match="no choice filter"):
        catalog.fetch(con, REPORTS["cost-line-balance"], choice="x")
    assert catalog.choices(con, REPORTS["cost-line-balance"]) == []


@pytest.mark.parametrize("call", [catalog.fetch, catalog.totals, catalog.chart_data,
                                  catalog.choices])
def test_older_snapshot_without_table_says_run_again(old_con, call) -> None:
    with pytest.raises(ReportUnavailable, match=r"no table rpt_unsyncable_direct_costs .*"
                                                r"run `costbridge run` again"):
        call(old_con, REPORTS["unsyncable-direct-costs"])


def test_older_snapshot_without_column_reads_null() -> None:
    con = duckdb.connect()
    con.execute("""create table rpt_erp_job_costs as select 'c' as connection_id,
                   'xero' as erp, 1::bigint as project_id, 'P' as project_number,
                   'N' as project_name, 'W.L' as wbs_code, 'W' as cost_code,
                   'L' as cost_type, 5.00::decimal(18,2) as jtd_cost,
                   0.00::decimal(18,2) as commitment_invoiced,
                   5.00::decimal(18,2) as direct_cost""")  # before AC-21's amount types
    frame = catalog.fetch(con, REPORTS["erp-job-costs"])
    assert frame.select("jtd_cost", "payroll").rows() == [(D("5.00"), None)]
    assert _totals(catalog.totals(con, REPORTS["erp-job-costs"]))["payroll"] is None
