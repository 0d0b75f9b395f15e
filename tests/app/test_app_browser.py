"""The Streamlit app in Debian chromium, over the hand-worked snapshot (R-4, XE-12, XE-13,
AC-21)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from pipelines.publish import publish
from tests import fixtures_snapshot as fx

pytestmark = pytest.mark.browser

FIRST_RENDER_MS = 20_000


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    yield page
    context.close()


def metric_value(page: Page, label: str) -> Locator:
    label_el = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=label_el).get_by_test_id("stMetricValue")


def comparison_row(page: Page, figure: str) -> Locator:
    return page.get_by_test_id("stTable").locator("tr", has=page.get_by_text(figure, exact=True))


def test_portfolio_totals(page: Page, app_url: str) -> None:
    page.goto(app_url)
    expect(metric_value(page, "JTD cost")).to_have_text(fx.PORTFOLIO_JTD_TEXT,
                                                        timeout=FIRST_RENDER_MS)
    expect(metric_value(page, "Commitment invoiced")).to_have_text("$790,000.10")
    expect(metric_value(page, "Direct cost")).to_have_text("$258,320.51")
    expect(page.get_by_test_id("stVegaLiteChart")).to_be_visible()
    snapshot_id = page.get_by_test_id("stSidebar").get_by_text("Snapshot")
    expect(snapshot_id).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_budget_view_drill_down_link(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/budget_view?connection=xero-acme&project=501&wbs=03-100.L")
    expect(metric_value(page, "Original Budget")).to_have_text("$54,500.00",
                                                               timeout=FIRST_RENDER_MS)
    expect(metric_value(page, "ERP Direct Costs")).to_have_text("$6,820.55")
    expect(page.get_by_role("combobox", name="Budget line")).to_have_value(
        "03-100.L · Concrete labour")
    # The transactions' sum beside the budget line's ERP figures: equal, difference zero.
    expect(comparison_row(page, "Job to date cost")).to_have_text(
        "Job to date cost$12,500.00$12,500.00$0.00")
    expect(comparison_row(page, "Direct cost")).to_have_text("Direct cost$2,500.00$2,500.00$0.00")
    expect(page.get_by_text("The transactions add up")).to_be_visible()
    expect(page.get_by_text("1 line(s) totalling -$50.25 are not counted")).to_be_visible()


def test_budget_view_finding(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/budget_view?connection=ns-bolt&project=701&wbs=05-120.M")
    expect(comparison_row(page, "Job to date cost")).to_have_text(
        "Job to date cost$1,000,000.01$999,999.01-$1.00", timeout=FIRST_RENDER_MS)
    expect(page.get_by_text("The transactions do not add up")).to_be_visible()


def test_budget_view_pickers_follow_connection(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/budget_view")
    project = page.get_by_role("combobox", name="Project")
    expect(project).to_have_value("P-001 – Harbour View Apartments", timeout=FIRST_RENDER_MS)
    page.get_by_role("combobox", name="Connection").click()
    page.get_by_role("option", name="Bolt Construction · NetSuite").click()
    expect(project).to_have_value("24-017 – Civic Library")
    expect(metric_value(page, "ERP Job to Date Costs")).to_have_text("$1,000,000.01")
    expect(page).to_have_url(f"{app_url}/budget_view?connection=ns-bolt&project=701")


def test_budget_view_ac_21_amount_types_where_the_erp_provides_them(
    page: Page, ac_app_url: str
) -> None:
    """An ERP with amount types (AC-21) gets their metrics, columns and drill-down rows; an ERP
    without them does not: the page follows the data, it names no ERP."""
    page.goto(f"{ac_app_url}/budget_view?connection=ac-ridge&project=801"
              "&wbs=01.03-100.000.LABOR")
    expect(metric_value(page, "ERP Job to Date Costs")).to_have_text("$36,000.00",
                                                                     timeout=FIRST_RENDER_MS)
    expect(metric_value(page, "ERP Subcontract Invoices")).to_have_text("$30,000.00")
    expect(metric_value(page, "ERP Invoices")).to_have_text("$1,200.00")
    expect(metric_value(page, "ERP Expenses")).to_have_text("$300.00")
    expect(metric_value(page, "ERP Payroll")).to_have_text("$4,500.00")
    expect(comparison_row(page, "Payroll")).to_have_text("Payroll$4,500.00$4,500.00$0.00")
    expect(comparison_row(page, "Direct cost")).to_have_text("Direct cost$6,000.00$6,000.00$0.00")
    expect(page.get_by_text("The transactions add up")).to_be_visible()
    page.goto(f"{ac_app_url}/budget_view?connection=xero-acme&project=501")
    expect(metric_value(page, "ERP Direct Costs")).to_have_text("$6,820.55",
                                                                timeout=FIRST_RENDER_MS)
    expect(page.get_by_test_id("stMetricLabel").get_by_text("ERP Payroll")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_nothing_published_then_a_publish(
    page: Page, empty_app: tuple[str, Path], tmp_path: Path
) -> None:
    url, published = empty_app
    page.goto(url)
    expect(page.get_by_test_id("stAlert")).to_contain_text("nothing published yet",
                                                           timeout=FIRST_RENDER_MS)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    # A publish while the app runs is picked up on the next load, no restart.
    publish(fx.build_warehouse(tmp_path / "warehouse.duckdb"), published, run_id="later")
    page.reload()
    expect(metric_value(page, "JTD cost")).to_have_text(fx.PORTFOLIO_JTD_TEXT,
                                                        timeout=FIRST_RENDER_MS)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("later")
