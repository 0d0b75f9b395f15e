"""`costbridge report` in-process over a published directory with two snapshots: exports
(CSV, XLSX, printable HTML for R-1), --as-of time travel and its one-line errors (exit 2)."""

from __future__ import annotations

import csv
import io
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipelines import config
from pipelines.cli import main
from reports.catalog import REPORTS
from reports.snapshot import current_snapshot
from tests import fixtures_snapshot as fx

D = Decimal


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(costbridge.toml, id of the current snapshot); the older one is fx.OLD_SNAPSHOT_ID."""
    root = tmp_path_factory.mktemp("report_cli")
    published = fx.build_published_history(root)
    conns = [{"id": cid, "erp": erp, "procore_company_id": company,
              "erp_base_url": "http://127.0.0.1:9", "erp_tenant_id": tenant}
             for cid, erp, company, tenant in [("xero-acme", "xero", 1001, "acme"),
                                               ("ns-bolt", "netsuite", 2002, "1234567"),
                                               ("ac-ridge", "acumatica", 3003, "Ridge")]]
    cfg = root / "costbridge.toml"
    cfg.write_text(config.render({
        "warehouse": {"path": "warehouse.duckdb", "published": "published",
                      "keep_snapshots": 5},
        "procore": {"base_url": "http://127.0.0.1:9/procore"},
        "connections": conns}))
    return cfg, current_snapshot(published).snapshot_id


def _run(capsys: pytest.CaptureFixture, cfg: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["report", *argv, "--config", str(cfg)])
    out, err = capsys.readouterr()
    return code, out, err


def _error(capsys: pytest.CaptureFixture, cfg: Path, *argv: str) -> str:
    code, out, err = _run(capsys, cfg, *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("costbridge: "), err  # one line
    return err


def test_list(capsys, setup) -> None:
    code, out, _ = _run(capsys, setup[0], "--list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == list(REPORTS)
    assert "ERP Unsyncable Direct Costs" in out


def test_r1_csv_to_stdout_names_the_snapshot(capsys, setup) -> None:
    cfg, current = setup
    code, out, err = _run(capsys, cfg, "erp-job-costs", "--connection", "ns-bolt")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["wbs_code"], r["jtd_cost"], r["direct_cost"]) for r in rows] == [
        ("05-120.M", "1000000.01", "250000.01")]
    assert f"snapshot {current} (created " in err


def test_r2_csv_to_file_utf8(capsys, setup, tmp_path: Path) -> None:
    out_file = tmp_path / "out" / "r2.csv"
    code, out, err = _run(capsys, setup[0], "unsyncable-direct-costs", "--project", "P-001",
                          "--output", str(out_file))
    assert (code, out) == (0, "")
    rows = list(csv.DictReader(out_file.open(encoding="utf-8", newline="")))
    assert [(r["erp_line_id"], r["signed_amount"]) for r in rows] == [("x-u1", "-500.00")]
    assert f"wrote 1 rows to {out_file}" in err


def test_r5_xlsx_to_file_with_totals(capsys, setup, tmp_path: Path) -> None:
    path = tmp_path / "accuracy.xlsx"
    code, _, _ = _run(capsys, setup[0], "job-cost-accuracy", "--format", "xlsx",
                      "--connection", "xero-acme", "--output", str(path))
    assert code == 0
    sheet = load_workbook(path)["Job Cost Accuracy"]
    names = list(REPORTS["job-cost-accuracy"].column_names)
    totals = [c.value for c in sheet[sheet.max_row]]
    assert totals[0] == "Total (6 rows)"
    # Xero: 2,449.75 + 4,320.55 + 1,199.95 + 420.00 = 8,390.25 synced; difference
    # −10,050.25 − 30,000.10 + 120.00 = −39,930.35.
    assert D(str(totals[names.index("synced_direct_costs")])) == D("8390.25")
    assert D(str(totals[names.index("difference")])) == D("-39930.35")


def test_xlsx_defaults_to_report_name(capsys, setup, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, setup[0], "reconciliation", "--format", "xlsx")
    assert (code, out) == (0, "")
    sheet = load_workbook(tmp_path / "reconciliation.xlsx").active
    assert sheet.max_row == 1 + 10 + 1  # header, ten findings, totals
    amount = list(REPORTS["reconciliation"].column_names).index("amount") + 1
    assert D(str(sheet.cell(sheet.max_row, amount).value)) == fx.RECONCILIATION_TOTAL["amount"]


def test_xlsx_to_a_terminal_is_refused(capsys, setup, monkeypatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    err = _error(capsys, setup[0], "reconciliation", "--format", "xlsx", "--output", "-")
    assert "xlsx is binary" in err and "--output FILE" in err


def test_r1_html_printable_for_a_project(capsys, setup, tmp_path: Path) -> None:
    cfg, current = setup
    path = tmp_path / "r1.html"
    code, _, _ = _run(capsys, cfg, "erp-job-costs", "--connection", "xero-acme", "--project",
                      "Harbour View Apartments", "--format", "html", "--output", str(path))
    assert code == 0
    page = path.read_text(encoding="utf-8")
    assert "<h1>ERP Job Costs</h1>" in page and "@page" in page and current in page
    assert "Total (3 rows)" in page and "$46,820.65" in page and "$6,820.55" in page
    assert "<dd>P-001</dd>" in page


def test_as_of_reads_the_older_snapshot(capsys, setup) -> None:
    code, out, err = _run(capsys, setup[0], "erp-job-costs", "--as-of", "2025-07-01")
    assert code == 0
    assert f"snapshot {fx.OLD_SNAPSHOT_ID} (created {fx.OLD_CREATED})" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["connection_id"] for r in rows} == {"xero-acme", "ns-bolt"}  # no Acumatica yet
    assert sum((D(r["jtd_cost"]) for r in rows), D(0)) == fx.PORTFOLIO_TOTAL[0]


def test_as_of_today_reads_the_newer_snapshot(capsys, setup) -> None:
    cfg, current = setup
    today = datetime.now(UTC).date().isoformat()
    code, out, err = _run(capsys, cfg, "erp-job-costs", "--as-of", today)
    assert code == 0 and f"snapshot {current} " in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sum((D(r["jtd_cost"]) for r in rows), D(0)) == D("1084320.61")


def test_as_of_before_any_snapshot(capsys, setup) -> None:
    err = _error(capsys, setup[0], "erp-job-costs", "--as-of", "2025-06-29")
    assert "no snapshot published on or before 2025-06-29" in err
    assert f"oldest kept is {fx.OLD_SNAPSHOT_ID}" in err and "keep_snapshots = 5" in err


def test_as_of_bad_date(capsys, setup) -> None:
    err = _error(capsys, setup[0], "erp-job-costs", "--as-of", "2025-13-01")
    assert "'2025-13-01' is not a date (YYYY-MM-DD)" in err


def test_r2_as_of_snapshot_without_the_report(capsys, setup) -> None:
    err = _error(capsys, setup[0], "unsyncable-direct-costs", "--as-of", "2025-07-01")
    assert fx.OLD_SNAPSHOT_ID in err and "rpt_unsyncable_direct_costs" in err
    assert "run `costbridge run` again" in err


def test_unknown_report_lists_the_names(capsys, setup) -> None:
    err = _error(capsys, setup[0], "job-costs")
    assert "unknown report 'job-costs'" in err and ", ".join(REPORTS) in err


def test_no_report_named(capsys, setup) -> None:
    assert "or use --list" in _error(capsys, setup[0])


def test_unknown_connection(capsys, setup) -> None:
    err = _error(capsys, setup[0], "erp-job-costs", "--connection", "xero-acne")
    assert "unknown connection 'xero-acne'" in err and "ac-ridge, ns-bolt, xero-acme" in err


def test_c4_project_not_found_on_connection(capsys, setup) -> None:
    err = _error(capsys, setup[0], "erp-job-costs", "--connection", "xero-acme",
                 "--project", "24-017")  # NetSuite's project, not Xero's
    assert "project '24-017' (id, number or name) not found on connection xero-acme" in err


def test_r3_project_does_not_apply(capsys, setup) -> None:
    code, out, err = _run(capsys, setup[0], "accountants", "--project", "P-001")
    assert code == 0
    assert "accountants has no project columns: --project is ignored" in err
    assert len(list(csv.DictReader(io.StringIO(out)))) == 4


def test_missing_config(capsys, tmp_path: Path) -> None:
    code = main(["report", "erp-job-costs", "--config", str(tmp_path / "none.toml")])
    assert code == 2 and "config file" in capsys.readouterr().err
