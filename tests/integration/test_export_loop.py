"""The loop closes (issue 6): on the tiny world an approver accepts ready items of every ERP
(companies, projects, subcontractor invoices, and Acumatica budgets), `push` writes them to each
ERP sandbox once, and the next run shows them synced with the ERP's ids — in the published
queue, in Procore's origin_id and in the ERP's own extract."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.exports import actions
from pipelines.exports.push import push
from pipelines.exports.queue import published_items, store_with_users
from pipelines.run import run

TYPES = ("company", "project", "subcontractor_invoice", "budget", "commitment", "wbs_code")


@pytest.fixture(scope="module")
def loop(env):
    world, server, settings, _ = env
    store = store_with_users(settings)
    items = published_items(settings)
    chosen = {}
    for item in items:
        key = (item.connection_id, item.item_type)
        if item.item_type in TYPES and key not in chosen and not item.is_blocked \
                and actions.live_state(store, item) == "ready_to_export":
            chosen[key] = item
    outbox = {k: actions.accept(store, "alex", item) for k, item in chosen.items()}
    summary = push(settings, store, "alex", log=lambda m: None)
    run(settings, log=lambda m: None)
    return settings, store, chosen, outbox, summary


def test_every_erp_gets_exports(loop):
    """Each ERP has accepted exports of the types it supports: the queue offered them."""
    _, _, chosen, _, summary = loop
    erps = {item.erp for item in chosen.values()}
    assert erps == {"xero", "netsuite", "acumatica"}
    assert summary.failed == [], summary.render()
    assert len(summary.sent) == len(chosen)


def test_pushed_items_show_synced_with_erp_ids(loop):
    settings, store, chosen, outbox, _ = loop
    after = {(i.connection_id, i.item_key): i for i in published_items(settings)}
    for key, item in chosen.items():
        row = store.get_outbox(outbox[key].outbox_id)
        now = after[(item.connection_id, item.item_key)]
        assert row.state == "sent", (key, row.last_error)
        assert now.state == "synced", (key, now.state)
        assert now.erp_ref == row.erp_id, key
        assert actions.live_state(store, now) == "synced"


def test_written_back_to_procore(loop):
    """The ERP id is on the Procore item (origin_id), as the vendor's connector leaves it."""
    settings, store, chosen, outbox, _ = loop
    tables = {"company": "vendors", "project": "projects", "wbs_code": "wbs_codes",
              "commitment": "work_order_contracts", "subcontractor_invoice": "requisitions"}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        for key, item in chosen.items():
            if item.item_type not in tables:
                continue
            procore_id = int(item.item_key.split(":", 1)[1])
            origin = con.execute(
                f"select origin_id from raw_procore.{tables[item.item_type]} where id = ?",
                [procore_id]).fetchone()
            assert origin is not None and str(origin[0]) == store.get_outbox(
                outbox[key].outbox_id).erp_id, key


def test_second_push_sends_nothing(loop):
    """Exactly once: nothing is due after a successful push."""
    settings, store, *_ = loop
    again = push(settings, store, "alex", log=lambda m: None)
    assert (again.sent, again.found, again.failed) == ([], [], [])
