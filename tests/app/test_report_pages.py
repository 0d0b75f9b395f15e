"""The catalogue report pages and time travel in Debian chromium, over the hand-worked
snapshots of ``tests/fixtures_snapshot.py`` (R-1, R-2, R-5, reconciliation, conservation).

Expected figures are worked by hand from the fixture's rows (see the comments there and here).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Download, Locator, Page, expect

from pipelines.publish import snapshots
from reports.catalog import UNSYNCABLE_DIRECT_COSTS
from tests import fixtures_snapshot as fx

pytestmark = pytest.mark.browser

FIRST_RENDER_MS = 20_000


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def metric_value(page: Page, label: str) -> Locator:
    label_el = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=label_el).get_by_test_id("stMetricValue")


def choose(page: Page, label: str, option: str | re.Pattern[str], *, sidebar: bool = False
           ) -> None:
    scope = page.get_by_test_id("stSidebar") if sidebar else page.get_by_test_id("stMain")
    scope.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=isinstance(option, str)).click()


def download(page: Page, label: str) -> Download:
    """Click a download button and wait for its file."""
    button = page.get_by_test_id("stDownloadButton").filter(has_text=label).get_by_role("button")
    with page.expect_download() as info:
        button.click()
    return info.value


def text(dl: Download) -> str:
    return Path(dl.path()).read_text(encoding="utf-8")


def test_unsyncable_direct_costs_filter_totals_and_csv(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/unsyncable_direct_costs")
    # Xero and NetSuite lines once each: 500.00 + 1,200.00 + 250.50 + 99.99 + 1,000.00
    # = 3,050.49; signed −500.00 for the receive money: 2,050.49. Rows 1 + 2 + 1 + 1 + 2 = 7.
    expect(metric_value(page, "Line amount")).to_have_text("$3,050.49", timeout=FIRST_RENDER_MS)
    expect(metric_value(page, "Signed amount")).to_have_text("$2,050.49")
    expect(page.get_by_role("heading", name="Rows (7)")).to_be_visible()

    choose(page, "Connection", "Acme Builders · Xero")
    # fx.UNSYNCABLE_XERO_TOTAL: 4 rows, 1,950.50, signed 950.50 (x-u2 listed twice, once summed).
    expect(metric_value(page, "Line amount")).to_have_text("$1,950.50")
    expect(metric_value(page, "Signed amount")).to_have_text("$950.50")
    expect(page.get_by_role("heading", name="Rows (4)")).to_be_visible()
    expect(page).to_have_url(f"{app_url}/unsyncable_direct_costs?connection=xero-acme")

    dl = download(page, "Download CSV")
    assert dl.suggested_filename.startswith("unsyncable-direct-costs_xero-acme_")
    rows = list(csv.DictReader(io.StringIO(text(dl))))
    assert tuple(rows[0]) == UNSYNCABLE_DIRECT_COSTS.column_names
    # Ordered by project number (nulls last), then the first reason first.
    assert [(r["erp_line_id"], r["reason_code"], r["signed_amount"], r["is_first_reason"])
            for r in rows] == [
        ("x-u1", "type_not_eligible", "-500.00", "true"),
        ("x-u3", "item_not_synced", "250.50", "true"),
        ("x-u2", "status_not_approved", "1200.00", "true"),
        ("x-u2", "no_project", "1200.00", "false"),
    ]
    assert {r["connection_id"] for r in rows} == {"xero-acme"}
    assert rows[0]["project_number"] == "P-001" and rows[2]["project_id"] == ""

    dl = download(page, "Download XLSX")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(dl.path()).read_bytes())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == tuple(c.title for c in UNSYNCABLE_DIRECT_COSTS.columns)
    assert [r[8] for r in values[1:5]] == ["x-u1", "x-u3", "x-u2", "x-u2"]  # erp_line_id
    total = dict(zip(UNSYNCABLE_DIRECT_COSTS.column_names, values[5], strict=True))
    assert (total["connection_id"], total["line_amount"], total["signed_amount"]) == (
        "Total (4 rows)", 1950.5, 950.5)

    choose(page, "Reason code", "no_project")
    expect(metric_value(page, "Line amount")).to_have_text("$1,200.00")
    expect(page.get_by_role("heading", name="Rows (1)")).to_be_visible()
    expect(page).to_have_url(
        f"{app_url}/unsyncable_direct_costs?connection=xero-acme&reason_code=no_project")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_link_opens_a_filtered_report(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/reconciliation?connection=xero-acme&finding=erp_only")
    # The one Xero erp_only finding: SPD-9, 275.00.
    expect(metric_value(page, "Amount")).to_have_text("$275.00", timeout=FIRST_RENDER_MS)
    expect(page.get_by_role("combobox", name="Finding")).to_have_value("erp_only")
    choose(page, "Finding", "All")
    # fx.RECONCILIATION_XERO_TOTAL: 275.00 + 5,000.00 + 20.00 = 5,295.00 over 4 rows.
    expect(metric_value(page, "Amount")).to_have_text("$5,295.00")
    expect(page.get_by_role("heading", name="Rows (4)")).to_be_visible()
    expect(page).to_have_url(f"{app_url}/reconciliation?connection=xero-acme")


def test_cost_line_balance_balanced(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/cost_line_balance")
    main = page.get_by_test_id("stMain")
    # fx._BALANCE: Xero 11 lines, 50,321.35; NetSuite 6 lines, 1,002,174.00; no differences.
    expect(main.get_by_test_id("stAlert").filter(has_text="Acme Builders · Xero")).to_have_text(
        re.compile(r"Acme Builders · Xero: balanced\. 11 lines, \$50,321\.35"),
        timeout=FIRST_RENDER_MS)
    expect(main.get_by_test_id("stAlert").filter(has_text="Bolt Construction")).to_have_text(
        re.compile(r"Bolt Construction · NetSuite: balanced\. 6 lines, \$1,002,174\.00"))
    expect(main.get_by_text("unbalanced")).to_have_count(0)
    # 50,321.35 + 1,002,174.00 = 1,052,495.35 source; 17 lines; difference 0.
    expect(metric_value(page, "Source amount")).to_have_text("$1,052,495.35")
    expect(metric_value(page, "Source lines")).to_have_text("17")
    expect(metric_value(page, "Difference amount")).to_have_text("$0.00")
    page.goto(app_url)
    expect(page.get_by_text("Cost lines balance on all 2 connections")).to_be_visible(
        timeout=FIRST_RENDER_MS)


def test_erp_job_costs_printable_page_at_project_level(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/erp_job_costs?connection=xero-acme")
    expect(metric_value(page, "Job to date cost")).to_have_text("$48,320.60",
                                                                timeout=FIRST_RENDER_MS)
    expect(page.get_by_test_id("stDownloadButton").filter(has_text="Printable")).to_have_count(0)
    choose(page, "Project", "P-001 – Harbour View Apartments")
    # fx.PROJECT_TOTALS 501: 46,820.65 = 12,500.00 + 4,320.55 + 30,000.10.
    expect(metric_value(page, "Job to date cost")).to_have_text("$46,820.65")
    expect(metric_value(page, "Direct cost")).to_have_text("$6,820.55")
    # Xero has no amount types (AC-21): no metric for them.
    expect(page.get_by_test_id("stMetricLabel").get_by_text("Payroll")).to_have_count(0)
    dl = download(page, "Printable page")
    assert dl.suggested_filename.endswith(".html")
    html = text(dl)
    assert "<h1>ERP Job Costs</h1>" in html
    assert "Harbour View Apartments" in html and "Riverside Depot" not in html
    assert "Total (3 rows)" in html and "$46,820.65" in html


def test_every_report_page_renders(page: Page, history_app: tuple[str, Path]) -> None:
    url, _ = history_app
    pages = {
        "erp_job_costs": ("ERP Job Costs", "Job to date cost", "$1,084,320.61"),
        "unsyncable_direct_costs": ("ERP Unsyncable Direct Costs", "Signed amount",
                                    "$4,450.49"),  # fx.UNSYNCABLE_TOTAL, Acumatica included
        "job_cost_accuracy": ("Job Cost Accuracy", "Difference", "-$789,791.35"),
        "reconciliation": ("Reconciliation Audit", "Amount", "$37,595.00"),
        # fx.BALANCE_TOTAL's 5,450.49 less the 99.99 NetSuite lost in the current snapshot.
        "cost_line_balance": ("Cost Line Balance", "Unsyncable amount", "$5,350.50"),
        "accountants": ("Accountants", None, None),
    }
    for path, (title, metric, value) in pages.items():
        page.goto(f"{url}/{path}")
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible(
            timeout=FIRST_RENDER_MS)
        if metric:
            expect(metric_value(page, metric)).to_have_text(value)
        expect(page.get_by_test_id("stException")).to_have_count(0)
    # fx._ACCOUNTANTS, four accounting approvers over three companies.
    expect(page.get_by_role("heading", name="Rows (4)")).to_be_visible()
    # The nav groups the pages; R-3 under Access.
    nav = page.get_by_test_id("stSidebarNav")
    for name in ("ERP job costs", "Unsyncable direct costs", "Job cost accuracy",
                 "Reconciliation audit", "Cost line balance", "Accountants", "Portfolio",
                 "Project budget view"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    expect(nav.get_by_text("Access")).to_be_visible()


def test_time_travel(page: Page, history_app: tuple[str, Path]) -> None:
    url, published = history_app
    old_id, balanced_id, current_id = (m["snapshot_id"] for m in snapshots(published))
    assert old_id == fx.OLD_SNAPSHOT_ID
    main = page.get_by_test_id("stMain")

    # The current snapshot: NetSuite 1 line, 99.99 short (conftest's history_app).
    page.goto(f"{url}/cost_line_balance")
    bolt = main.get_by_test_id("stAlert").filter(has_text="Bolt Construction")
    expect(bolt).to_have_text(re.compile(r"NetSuite: unbalanced\. Difference \(source − "
                                         r"buckets\): 1 line, \$99\.99\."),
           timeout=FIRST_RENDER_MS)
    expect(main.get_by_text("older snapshot")).to_have_count(0)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(current_id)

    # The snapshot before it: every connection balances.
    choose(page, "As of (UTC)", re.compile(r"· test$"), sidebar=True)
    expect(bolt).to_have_text(re.compile(r"NetSuite: balanced\. 6 lines, \$1,002,174\.00"))
    expect(main.get_by_text("unbalanced")).to_have_count(0)
    expect(main.get_by_text("You are viewing an older snapshot")).to_be_visible()
    expect(page).to_have_url(f"{url}/cost_line_balance?as_of={balanced_id}")

    # The oldest predates the report; its Portfolio has no Acumatica: fx.PORTFOLIO_TOTAL.
    choose(page, "As of (UTC)", "2025-06-30 12:00:00 · old", sidebar=True)
    expect(main.get_by_text("it predates it")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Portfolio").click()
    expect(metric_value(page, "JTD cost")).to_have_text(fx.PORTFOLIO_JTD_TEXT)
    expect(main.get_by_text("published 2025-06-30 12:00:00 UTC")).to_be_visible()
    expect(page.get_by_text("Cost lines")).to_have_count(0)  # no balance in that snapshot

    # A link opens a snapshot; without as_of it is the current one (Acumatica's 36,000.00 in).
    page.goto(f"{url}/?as_of={old_id}")
    expect(metric_value(page, "JTD cost")).to_have_text(fx.PORTFOLIO_JTD_TEXT,
                                                        timeout=FIRST_RENDER_MS)
    page.goto(url)
    expect(metric_value(page, "JTD cost")).to_have_text("$1,084,320.61",
                                                        timeout=FIRST_RENDER_MS)
    expect(page.get_by_text("Cost lines do not balance on 1 of 3 connections "
                            "(difference $99.99)")).to_be_visible()
    expect(main.get_by_text("older snapshot")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
