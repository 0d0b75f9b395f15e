"""End to end through the app on the tiny world (issue 6): an approver accepts a ready,
unblocked Xero export in the workspace (a subcontractor invoice, commitment or company, the
first the world offers), ``push`` writes it to the Xero sandbox over HTTP, and after the next run
the workspace shows it Synced with the ERP id the push recorded (C-2, C-3).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from pipelines import config
from pipelines.cli import write_sandbox_config
from pipelines.exports import actions
from pipelines.exports.push import push
from pipelines.exports.queue import published_items, store_with_users
from pipelines.run import run
from tests.browser import run_app
from tests.conftest import start_world

pytestmark = pytest.mark.browser

FIRST_RENDER_MS = 30_000
PREFERRED = ("subcontractor_invoice", "commitment", "company")


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, config.Settings]]:
    """The tiny world's sandbox, one full run published, and the app over it with
    ``COSTBRIDGE_CONFIG`` set. Yields (URL, settings)."""
    world, server = start_world(seed=7, size="tiny")
    base = tmp_path_factory.mktemp("exports_e2e")
    config_file = write_sandbox_config(server.url, world, base)
    settings = config.load(config_file)
    try:
        run(settings, log=lambda m: None)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("COSTBRIDGE_CONFIG", str(config_file))
            with run_app(settings.published, base / "streamlit.log") as url:
                yield url, settings
    finally:
        server.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    yield page
    context.close()


def open_item(page: Page, url: str, item: actions.QueueItem) -> None:
    page.goto(f"{url}/exports?item={item.connection_id}/{item.item_key}")
    page.get_by_role("textbox", name="Login").fill("alex")
    page.get_by_role("textbox", name="Password").fill("demo-approver")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=item.label, exact=True)).to_be_visible(
        timeout=FIRST_RENDER_MS)


def test_accept_push_run_shows_synced(page: Page, loop: tuple[str, config.Settings]) -> None:
    url, settings = loop
    store = store_with_users(settings)
    ready = [i for i in published_items(settings)
             if i.erp == "xero" and i.item_type in PREFERRED and not i.is_blocked
             and actions.live_state(store, i) == "ready_to_export"]
    assert ready, "the tiny world offers a ready, unblocked Xero export"
    item = min(ready, key=lambda i: (PREFERRED.index(i.item_type), i.item_key))
    main = page.get_by_test_id("stMain")

    open_item(page, url, item)
    main.get_by_role("button", name="Accept", exact=True).click()
    expect(main.get_by_text(f"Accepted {item.label}: queued")).to_be_visible()
    [row] = store.outbox_rows(item.connection_id, item.item_type, item.item_key)
    assert (row.state, row.payload_json) == ("pending", item.document)

    summary = push(settings, store, "alex", log=lambda m: None)
    assert summary.failed == [], summary.render()
    sent = store.get_outbox(row.outbox_id)
    assert sent.state == "sent" and sent.erp_id
    run(settings, log=lambda m: None)

    after = {(i.connection_id, i.item_key): i for i in published_items(settings)}
    now = after[(item.connection_id, item.item_key)]
    assert (now.state, now.erp_ref) == ("synced", sent.erp_id)
    open_item(page, url, now)
    expect(main.locator(".stMarkdownBadge").filter(has_text=re.compile("^Synced$"))
           ).to_be_visible()
    expect(main.get_by_text(f"ERP id {sent.erp_id}")).to_be_visible()
    expect(main.get_by_role("button", name="Accept", exact=True)).to_be_disabled()
