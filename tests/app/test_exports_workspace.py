"""The exports workspace in Debian chromium: sign-in against the ops store, roles (C-2),
decisions bound to the exact document (C-3), blocked items (XE-9), the dry run and the changes
since last sent — over the hand-worked ``export_queue`` of ``tests/fixtures_exports.py``.

After the fixture's seeding the live states are (worked by hand): synced 2 (Pour Co: vendor
connector's erp_ref; SC-12), ready_to_update 1 (company:31, sent once with another name and
phone), failed_to_export 1 (PO-7), archived 2, ready_to_import 2 (SPD-3, V-77),
ready_to_export the other 8 (the store holds no decision on them, whatever the snapshot's copy
said): 2 + 1 + 1 + 2 + 2 + 8 = 16.

Each test acts on its own items, so they share one app.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from pipelines import config
from pipelines.exports import actions
from pipelines.exports.store import OpsStore
from tests import fixtures_exports as fx
from tests.app.test_report_pages import choose, metric_value
from tests.browser import run_app

pytestmark = pytest.mark.browser

FIRST_RENDER_MS = 20_000
SI_1 = "xero-acme/subcontractor_invoice:301"
SI_2 = "xero-acme/subcontractor_invoice:302"
CIVIC = "ns-bolt/project:701"
HILLSIDE = "ac-ridge/project:801"
PO_7 = "xero-acme/commitment:401"
RIDGE = "ac-ridge/company:31"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app over the export queue, with ``COSTBRIDGE_CONFIG`` naming a config whose ops store
    holds the users file's users. Yields (URL, config path)."""
    root = tmp_path_factory.mktemp("exports_app")
    published = fx.build_published(root)
    config_file = fx.write_config(root)
    fx.seed_store(config_file)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COSTBRIDGE_CONFIG", str(config_file))
        with run_app(published, root / "streamlit.log") as url:
            yield url, config_file


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, url: str, login: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Login").fill(login)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def store_of(config_file: Path) -> OpsStore:
    return actions.open_store(config.load(config_file))


def item(key: str) -> actions.QueueItem:
    connection_id, item_key = key.split("/", 1)
    row = next(r for r in fx.QUEUE if r[0] == connection_id and f"{r[3]}:{r[4]}" == item_key)
    published = fx.item_row(item_key, connection_id)
    return actions.QueueItem(connection_id, row[1], row[2], row[3], item_key, row[5],
                             published["document"], published["payload_hash"], list(row[9]),
                             any(f["severity"] == "error" for f in row[9]), row[10], row[7])


def main(page: Page):
    return page.get_by_test_id("stMain")


def test_sign_in_refused_with_a_wrong_password(
    page: Page, workspace: tuple[str, Path]
) -> None:
    """C-2: the workspace needs a store user; a wrong password shows nothing of the queue."""
    url, _ = workspace
    page.goto(f"{url}/exports")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=FIRST_RENDER_MS)
    sign_in(page, f"{url}/exports", "alex", "not-the-password")
    expect(main(page).get_by_text("Wrong login or password")).to_be_visible()
    expect(page.get_by_role("heading", name="Exports workspace")).to_have_count(0)
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
    # The dashboards stay open without signing in.
    page.goto(url)
    expect(page.get_by_role("heading", name="Portfolio")).to_be_visible(timeout=FIRST_RENDER_MS)


def test_reader_sees_the_queue_but_cannot_accept(
    page: Page, workspace: tuple[str, Path]
) -> None:
    """C-2: a read-only user sees every item and its live counts, but Accept and Reject are
    disabled with the rule that forbids them."""
    url, config_file = workspace
    sign_in(page, f"{url}/exports?item={SI_1}", "robin", "demo-reader")
    expect(page.get_by_role("heading", name="Exports workspace")).to_be_visible(
        timeout=FIRST_RENDER_MS)
    expect(page.get_by_role("heading", name="Items (16)")).to_be_visible()
    expect(metric_value(page, "Ready to Export")).to_have_text("8")
    expect(metric_value(page, "Ready to Update")).to_have_text("1")
    expect(metric_value(page, "Failed to Export")).to_have_text("1")
    expect(metric_value(page, "Synced")).to_have_text("2")
    expect(metric_value(page, "Archived")).to_have_text("2")
    expect(page.get_by_role("heading", name="SI-1 · Pour Co")).to_be_visible()
    expect(main(page).get_by_role("button", name="Accept", exact=True)).to_be_disabled()
    expect(main(page).get_by_role("button", name="Reject", exact=True)).to_be_disabled()
    expect(main(page).get_by_text(
        "Accept, Reject, Resend unavailable: robin is not an accounting approver on xero-acme")
    ).to_be_visible()
    expect(main(page).get_by_text(re.compile(r"Can Push to Accounting \(C-2\)"))).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert store_of(config_file).decisions("xero-acme", "subcontractor_invoice",
                                           "subcontractor_invoice:301") == []


def test_approver_accepts_one_item_and_rejects_another(
    page: Page, workspace: tuple[str, Path]
) -> None:
    """C-3: the decisions land in the ops store bound to each row's payload_hash, the accepted
    one with an outbox row holding exactly its document text; the counts follow at once."""
    url, config_file = workspace
    sign_in(page, f"{url}/exports?item={SI_1}", "alex", "demo-approver")
    expect(page.get_by_role("heading", name="SI-1 · Pour Co")).to_be_visible(
        timeout=FIRST_RENDER_MS)
    main(page).get_by_role("button", name="Accept", exact=True).click()
    expect(main(page).get_by_text(re.compile(r"Accepted SI-1 · Pour Co: queued"))).to_be_visible()
    expect(metric_value(page, "Accepted")).to_have_text("1")
    expect(metric_value(page, "Ready to Export")).to_have_text("7")

    choose(page, "Item shown", re.compile(r"^24-017 – Civic Library"))
    expect(page.get_by_role("heading", name="24-017 – Civic Library")).to_be_visible()
    reject = main(page).get_by_role("button", name="Reject", exact=True)
    reject.click()  # no reason yet: refused, nothing recorded
    expect(main(page).get_by_text(re.compile(r"Reject refused: .*needs a reason"))).to_be_visible()
    reason = main(page).get_by_label("Reason for rejecting")
    reason.fill("Link it to NetSuite job 3310 instead")
    reason.press("Enter")
    expect(reason).to_have_value("Link it to NetSuite job 3310 instead")
    reject.click()
    expect(main(page).get_by_text(re.compile(r"Rejected 24-017 – Civic Library"))).to_be_visible()
    expect(metric_value(page, "Rejected")).to_have_text("1")
    expect(metric_value(page, "Ready to Export")).to_have_text("6")

    store = store_of(config_file)
    si1, civic = fx.item_row("subcontractor_invoice:301", "xero-acme"), fx.item_row(
        "project:701", "ns-bolt")
    accepted = store.decisions("xero-acme", "subcontractor_invoice", "subcontractor_invoice:301")
    assert [(d.decision, d.decided_by, d.payload_hash, d.reason) for d in accepted] == [
        ("accept", "alex", si1["payload_hash"], None)]
    rejected = store.decisions("ns-bolt", "project", "project:701")
    assert [(d.decision, d.decided_by, d.payload_hash, d.reason) for d in rejected] == [
        ("reject", "alex", civic["payload_hash"], "Link it to NetSuite job 3310 instead")]
    [outbox] = store.outbox_rows("xero-acme", "subcontractor_invoice", "subcontractor_invoice:301")
    assert (outbox.state, outbox.payload_json, outbox.payload_hash) == (
        "pending", si1["document"], si1["payload_hash"])
    assert outbox.decision_id == accepted[0].decision_id
    assert store.outbox_rows("ns-bolt", "project", "project:701") == []


def test_a_blocked_item_cannot_be_accepted(page: Page, workspace: tuple[str, Path]) -> None:
    """XE-9 errors block SI-2: the button is disabled with the rules, and the action itself
    refuses (C-3) — nothing is recorded."""
    url, config_file = workspace
    sign_in(page, f"{url}/exports?item={SI_2}", "alex", "demo-approver")
    expect(page.get_by_role("heading", name="SI-2 · Pour Co")).to_be_visible(
        timeout=FIRST_RENDER_MS)
    expect(main(page).get_by_role("button", name="Accept", exact=True)).to_be_disabled()
    expect(main(page).get_by_text("Accept unavailable: blocked by preflight errors (XE-9)")
           ).to_be_visible()
    findings = main(page).get_by_test_id("stTable")
    expect(findings).to_contain_text("negative_invoice")
    expect(findings).to_contain_text("missing_payment_date")
    expect(main(page).get_by_text(re.compile(r"Blocked by preflight errors \(XE-9\)"))
           ).to_be_visible()
    store = store_of(config_file)
    with pytest.raises(actions.ActionRefused, match="XE-9"):
        actions.accept(store, "alex", item(SI_2))
    assert store.decisions("xero-acme", "subcontractor_invoice",
                           "subcontractor_invoice:302") == []
    assert store.outbox_rows("xero-acme", "subcontractor_invoice",
                             "subcontractor_invoice:302") == []


def test_dry_run_shows_the_exact_wire_calls(page: Page, workspace: tuple[str, Path]) -> None:
    """The Dry run tab lists each call the push would make for the document, method and path
    first, as ``actions.wire_requests`` builds them (no I/O)."""
    url, config_file = workspace
    expected = actions.wire_requests(config.load(config_file), item(SI_1))
    assert expected, "the Xero writer makes at least one call for a bill"
    assert any("Invoices" in r.path for r in expected)  # XE-9: a bill is an ACCPAY invoice
    sign_in(page, f"{url}/exports?item={SI_1}", "sam", "demo-sender")
    expect(page.get_by_role("heading", name="SI-1 · Pour Co")).to_be_visible(
        timeout=FIRST_RENDER_MS)
    page.get_by_role("tab", name="Dry run").click()
    panel = page.get_by_role("tabpanel", name="Dry run")
    for req in expected:
        expect(panel.get_by_text(f"{req.method} {req.path}", exact=False).first).to_be_visible()
    # The bill's lines as sent: 6,000.00 and 5,000.00 (exact decimals, not floats).
    expect(panel).to_contain_text("6000.00")
    expect(panel).to_contain_text("5000.00")


def test_ready_to_update_shows_the_changes_since_last_sent(
    page: Page, workspace: tuple[str, Path]
) -> None:
    """C-3: company:31 was sent as 'Ridge Timber' / 08 5550 0030; the document now says
    'Ridge Timber Pty' / 08 5550 0031, so it is Ready to Update and shows exactly those two."""
    url, _ = workspace
    sign_in(page, f"{url}/exports?item={RIDGE}", "alex", "demo-approver")
    expect(page.get_by_role("heading", name="Ridge Timber Pty")).to_be_visible(
        timeout=FIRST_RENDER_MS)
    expect(main(page).locator(".stMarkdownBadge").filter(has_text=re.compile(
        "^Ready to Update$"))).to_be_visible()
    expect(main(page).get_by_text("ERP id V000031")).to_be_visible()
    expect(main(page).get_by_role("button", name="Accept", exact=True)).to_be_enabled()
    page.get_by_role("tab", name="Changes since last sent").click()
    diff = page.get_by_role("tabpanel", name="Changes since last sent").get_by_test_id(
        "stTable")
    expect(diff).to_contain_text("Ridge Timber Pty")
    expect(diff).to_contain_text("08 5550 0030")
    expect(diff).to_contain_text("08 5550 0031")


def test_filters_in_the_url(page: Page, workspace: tuple[str, Path]) -> None:
    """A link opens a filtered queue: live state and connection, then direction."""
    url, _ = workspace
    sign_in(page, f"{url}/exports?connection=ac-ridge&state=ready_to_update", "robin",
            "demo-reader")
    expect(page.get_by_role("heading", name="Items (1)")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_role("combobox", name="State")).to_have_value("Ready to Update (1)")
    # The counts are per state for the other filters: Acumatica's 6 items.
    expect(metric_value(page, "Ready to Update")).to_have_text("1")
    expect(metric_value(page, "Synced")).to_have_text("1")
    expect(metric_value(page, "Archived")).to_have_text("1")
    choose(page, "Connection", "All connections")
    choose(page, "State", "All states")
    choose(page, "Direction", "Import (ERP → Procore)")
    expect(page.get_by_role("heading", name="Items (2)")).to_be_visible()
    expect(page).to_have_url(f"{url}/exports?direction=import")
    expect(metric_value(page, "Ready to Import")).to_have_text("2")


def test_sender_retrieves_and_sends_again(page: Page, workspace: tuple[str, Path]) -> None:
    """C-2: Admin on the item's tool (projects) may retrieve it before a decision and send it
    again (C-3); the approver's buttons stay disabled for the sender."""
    url, config_file = workspace
    sign_in(page, f"{url}/exports?item={HILLSIDE}", "sam", "demo-sender")
    expect(page.get_by_role("heading", name=re.compile("^25-003 – Hillside"))).to_be_visible(
        timeout=FIRST_RENDER_MS)
    # Warnings only (AC-7): not blocked, so only the role stops sam from accepting.
    findings = main(page).get_by_test_id("stTable")
    expect(findings).to_contain_text("project_name_truncated")
    expect(findings).to_contain_text("address_commas")
    expect(main(page).get_by_text("Blocked by preflight errors")).to_have_count(0)
    expect(main(page).get_by_role("button", name="Accept", exact=True)).to_be_disabled()
    main(page).get_by_role("button", name="Retrieve").click()
    expect(main(page).get_by_text(re.compile(r"^Retrieved 25-003"))).to_be_visible()
    expect(metric_value(page, "Retrieved")).to_have_text("1")
    expect(main(page).get_by_role("button", name="Retrieve")).to_be_disabled()
    main(page).get_by_role("button", name="Send for acceptance").click()
    expect(main(page).get_by_text(re.compile(r"^Sent 25-003.*for acceptance again"))
           ).to_be_visible()
    expect(metric_value(page, "Retrieved")).to_have_text("0")
    store = store_of(config_file)
    assert store.decisions("ac-ridge", "project", "project:801") == []  # no decision: events
    assert actions.live_state(store, item(HILLSIDE)) == "ready_to_export"


def test_approver_resends_a_failed_export(page: Page, workspace: tuple[str, Path]) -> None:
    """C-3: a failed export shows its error and is resent from the same outbox row (same
    idempotency key), not accepted again."""
    url, config_file = workspace
    sign_in(page, f"{url}/exports?item={PO_7}", "alex", "demo-approver")
    expect(page.get_by_role("heading", name="PO-7 · Pour Co")).to_be_visible(
        timeout=FIRST_RENDER_MS)
    expect(main(page).get_by_text(f"Export failed after 1 attempt: {fx.PO_7_ERROR}")
           ).to_be_visible()
    expect(main(page).get_by_role("button", name="Accept", exact=True)).to_be_disabled()
    main(page).get_by_role("button", name="Resend").click()
    [row] = store_of(config_file).outbox_rows("xero-acme", "commitment", "commitment:401")
    expect(main(page).get_by_text(
        f"PO-7 · Pour Co will be sent again by the next costbridge push (outbox row "
        f"{row.outbox_id}).")).to_be_visible()
    assert store_of(config_file).attempts(row.outbox_id)[-1].error == fx.PO_7_ERROR
