"""The loop closes (issue 6): on the tiny world an approver accepts one ready, unblocked item
of every type on every connection (exports: companies, projects, WBS codes, commitments,
subcontractor invoices, Acumatica budgets; imports: direct costs, vendor updates, payments),
`push` writes each once, and the next run shows them synced — exports with the ERP's ids in the
published queue and in Procore's origin_id, imports held by Procore."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.exports import actions
from pipelines.exports.push import push
from pipelines.exports.queue import published_items, store_with_users
from pipelines.run import run

TYPES = ("company", "project", "subcontractor_invoice", "budget", "commitment", "wbs_code",
         "direct_cost", "vendor_update", "payment")


@pytest.fixture(scope="module")
def loop(env):
    world, server, settings, _ = env
    store = store_with_users(settings)
    items = published_items(settings)
    chosen = {}
    for item in items:
        key = (item.connection_id, item.item_type)
        if item.item_type in TYPES and key not in chosen and not item.is_blocked \
                and actions.live_state(store, item) in ("ready_to_export", "ready_to_import"):
            chosen[key] = item
    outbox = {k: actions.accept(store, "alex", item) for k, item in chosen.items()}
    summary = push(settings, store, "alex", log=lambda m: None)
    run(settings, log=lambda m: None)
    return settings, store, chosen, outbox, summary


def test_every_erp_gets_exports(loop):
    """Each ERP has accepted exports of the types it supports: the queue offered them."""
    _, _, chosen, _, summary = loop
    erps = {item.erp for item in chosen.values() if item.direction == "export"}
    assert erps == {"xero", "netsuite", "acumatica"}
    # and imports to Procore: direct costs (C-5) on every ERP, vendor updates (NS-10, AC-1)
    imports = {(item.erp, item.item_type) for item in chosen.values()
               if item.direction == "import"}
    assert {("xero", "direct_cost"), ("netsuite", "direct_cost"),
            ("acumatica", "direct_cost"), ("netsuite", "vendor_update"),
            ("acumatica", "vendor_update")} <= imports
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
        assert actions.live_state(store, now) == "synced"
        if item.direction == "export":
            assert now.erp_ref == row.erp_id, key
        else:  # the import's Procore record is the one the push created or updated
            assert str(now.procore_id) == row.erp_id, key


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
