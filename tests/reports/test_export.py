"""Report writers: CSV keeps decimals exact, XLSX reads back with its money format and totals,
the printable HTML page carries title, filters, snapshot and totals (R-1 at project level)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from openpyxl import load_workbook

from reports import catalog, export
from reports.catalog import REPORTS
from reports.export import ExportContext
from reports.snapshot import Snapshot, connect, current_snapshot
from tests import fixtures_snapshot as fx

D = Decimal


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return current_snapshot(fx.build_published(tmp_path_factory.mktemp("export"),
                                               acumatica=True))


@pytest.fixture(scope="module")
def con(snap: Snapshot) -> duckdb.DuckDBPyConnection:
    connection = connect(snap)
    yield connection
    connection.close()


def _context(snap: Snapshot, *filters: tuple[str, str]) -> ExportContext:
    return ExportContext(snap.snapshot_id, snap.created_at, filters, exported_at="2025-08-01")


def test_csv_round_trips_exact_decimals_r1(con) -> None:
    r1 = REPORTS["erp-job-costs"]
    rows = catalog.fetch(con, r1)
    parsed = list(csv.reader(io.StringIO(export.to_csv(r1, rows))))
    assert parsed[0] == list(r1.column_names)
    assert len(parsed) == 1 + rows.height
    by_name = [dict(zip(parsed[0], line, strict=True)) for line in parsed[1:]]
    ns = next(r for r in by_name if r["connection_id"] == "ns-bolt")
    assert (ns["jtd_cost"], ns["commitment_invoiced"], ns["direct_cost"]) == (
        "1000000.01", "750000.00", "250000.01")
    assert ns["payroll"] == ""  # null: NetSuite has no amount types
    total = sum((D(r["jtd_cost"]) for r in by_name), D(0))
    assert total == D("1084320.61")  # = catalogue total, to the cent


def test_csv_bools_dates_and_utf8_r2(con) -> None:
    r2 = REPORTS["unsyncable-direct-costs"]
    rows = catalog.fetch(con, r2, "xero-acme", choice="status_not_approved")
    line = dict(zip(*csv.reader(io.StringIO(export.to_csv(r2, rows))), strict=True))
    assert (line["transaction_date"], line["is_first_reason"], line["signed_amount"]) == (
        "2025-01-18", "true", "1200.00")
    r3 = REPORTS["accountants"]
    frame = pl.DataFrame([("c", "xero", 1, "Café Müller – Bau", 7, "Zoë", "z@x.test", "admin")],
                         schema=list(r3.column_names), orient="row")
    out = io.StringIO()
    export.write_csv(r3, frame, out)
    assert out.getvalue().splitlines()[1] == "c,xero,1,Café Müller – Bau,7,Zoë,z@x.test,admin"
    assert export.to_csv(r3, frame).encode("utf-8").decode("utf-8") == out.getvalue()


def test_csv_decimal_without_exponent() -> None:
    assert export._csv_value(D("0E-2")) == "0.00"
    assert export._csv_value(date(2025, 1, 2)) == "2025-01-02"
    assert export._csv_value(None) == ""


def test_xlsx_reads_back_r1_project(con, snap, tmp_path: Path) -> None:
    r1 = REPORTS["erp-job-costs"]
    rows = catalog.fetch(con, r1, "xero-acme", "P-001")
    totals = catalog.totals(con, r1, "xero-acme", "P-001")
    path = tmp_path / "r1.xlsx"
    export.write_xlsx(r1, rows, totals, _context(snap, ("Project", "P-001")), path)
    book = load_workbook(path)
    sheet = book["ERP Job Costs"]
    header = [c.value for c in sheet[1]]
    assert header == [c.title for c in r1.columns]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    jtd = r1.column_names.index("jtd_cost") + 1
    assert [D(str(sheet.cell(r, jtd).value)) for r in (2, 3, 4)] == [
        D("12500.00"), D("4320.55"), D("30000.10")]
    assert sheet.cell(2, jtd).number_format == export.MONEY_FORMAT
    assert isinstance(sheet.cell(2, jtd).value, int | float)  # a number, not text
    # Totals row (R-1 / XE-12): 46,820.65 | 40,000.10 | 6,820.55; amount types stay empty.
    total_row = [c.value for c in sheet[5]]
    assert total_row[0] == "Total (3 rows)"
    assert [D(str(total_row[jtd - 1 + i])) for i in range(3)] == list(
        fx.PROJECT_TOTALS[("xero-acme", 501)])
    assert total_row[-1] is None  # payroll: Xero has none
    assert sheet.cell(5, jtd).font.bold
    about = {r[0]: r[1] for r in book["About"].iter_rows(min_row=4, values_only=True)}
    assert about["Snapshot"] == snap.snapshot_id
    assert about["Snapshot created"] == snap.created_at
    assert (about["Project"], about["Report"], about["Rows"]) == ("P-001", "erp-job-costs", 3)


def test_xlsx_types_r2_dates_bools_ints(con, snap, tmp_path: Path) -> None:
    r2 = REPORTS["unsyncable-direct-costs"]
    rows = catalog.fetch(con, r2, "ns-bolt")
    path = tmp_path / "r2.xlsx"
    export.write_xlsx(r2, rows, catalog.totals(con, r2, "ns-bolt"), _context(snap), path)
    sheet = load_workbook(path).active
    names = list(r2.column_names)
    first = [c.value for c in sheet[2]]
    assert first[names.index("project_id")] == 701
    assert first[names.index("transaction_date")].date() == date(2025, 3, 5)
    assert first[names.index("is_first_reason")] is True
    # NetSuite: 99.99 + 1,000.00 (n-u2 failing two rules counted once) = 1,099.99
    totals = [c.value for c in sheet[sheet.max_row]]
    assert totals[0] == "Total (3 rows)"
    assert D(str(totals[names.index("line_amount")])) == D("1099.99")


def test_html_r1_printable_at_project_level(con, snap) -> None:
    r1 = REPORTS["erp-job-costs"]
    rows = catalog.fetch(con, r1, "xero-acme", "P-001")
    totals = catalog.totals(con, r1, "xero-acme", "P-001")
    page = export.to_html(r1, rows, totals,
                          _context(snap, ("Connection", "xero-acme"), ("Project", "P-001")),
                          filtered=("connection", "project"))
    assert "<h1>ERP Job Costs</h1>" in page
    assert "@page { size: A4 landscape" in page
    assert "@media print" in page and "table-header-group" in page
    assert snap.snapshot_id in page and snap.created_at in page
    assert "<dd>Harbour View Apartments</dd>" in page  # the project once, on top
    assert page.count("Harbour View Apartments") == 1  # …not on every row
    tfoot = page[page.index("<tfoot>"):page.index("</tfoot>")]
    for amount in ("$46,820.65", "$40,000.10", "$6,820.55", "Total (3 rows)"):
        assert amount in tfoot
    assert "<th>Payroll" not in page and ">Payroll<" not in page  # Xero: no amount types
    assert "<link" not in page and "<script" not in page  # self-contained


def test_html_escapes_values(snap) -> None:
    r3 = REPORTS["accountants"]
    frame = pl.DataFrame([("c", "xero", 1, "<b>Evil</b> & Co", 7, "U", "u@x.test", "admin")],
                         schema=list(r3.column_names), orient="row")
    page = export.to_html(r3, frame, None, _context(snap))
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; Co" in page and "<b>Evil" not in page
    assert "<tfoot>" not in page  # R-3 has no totals
    assert "none (all rows)" in page
