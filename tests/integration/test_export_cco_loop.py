"""CCOs, budget changes and Procore Pay payments close the loop (issue 6) on the tiny world:
an approver accepts one ready, unblocked item of each (Acumatica: a CCO on a subcontract it
holds, AC-15; a budget change, AC-12; a Procore Pay payment, AC-17), `push` writes each once,
and the next run shows them synced with the ERP's ids, written back to Procore's origin_id.
Xero's CCOs wait for their commitment's Purchase Order (XE-8): the commitment is exported
first, the next run unblocks the CCO, which is pushed as new lines on that PO, a line the
CCO changes twice summed into one (XE-8)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import polars as pl
import pytest

from pipelines.exports import actions
from pipelines.exports.acumatica import AcumaticaWriter
from pipelines.exports.base import external_id
from pipelines.exports.push import push
from pipelines.exports.queue import published_items, store_with_users
from pipelines.exports.xero import XeroWriter
from pipelines.run import run
from pipelines.sandbox.world import cents

ACUMATICA_TYPES = ("cco", "budget_change", "procore_pay_payment")
READY = ("ready_to_export",)


def _quiet(_: str) -> None:
    return None


def _xero_cco(world) -> dict:
    """The Xero CCO that changes one SOV line twice (the world's second CCO, on B)."""
    ccos = world.t["procore_change_orders"].filter(pl.col("connection_id") == "xero-1")
    return ccos.sort("change_order_id").row(1, named=True)


@pytest.fixture(scope="module")
def loop(env):
    world, _, settings, _ = env
    store = store_with_users(settings)
    items = {(i.connection_id, i.item_key): i for i in published_items(settings)}
    cco = _xero_cco(world)
    chosen = {("xero-1", "commitment"): items[("xero-1", f"commitment:{cco['commitment_id']}")]}
    for item in items.values():
        key = (item.connection_id, item.item_type)
        if item.erp == "acumatica" and item.item_type in ACUMATICA_TYPES and key not in chosen \
                and not item.is_blocked and actions.live_state(store, item) in READY:
            chosen[key] = item
    outbox = {k: actions.accept(store, "alex", item) for k, item in chosen.items()}
    first = push(settings, store, "alex", log=_quiet)
    run(settings, log=_quiet)
    blocked_before = items[("xero-1", f"cco:{cco['change_order_id']}")]
    xero_cco = {(i.connection_id, i.item_key): i for i in published_items(settings)}[
        ("xero-1", f"cco:{cco['change_order_id']}")]
    second = None
    if not xero_cco.is_blocked:
        chosen[("xero-1", "cco")] = xero_cco
        outbox[("xero-1", "cco")] = actions.accept(store, "alex", xero_cco)
        second = push(settings, store, "alex", log=_quiet)
        run(settings, log=_quiet)
    return settings, store, chosen, outbox, (first, second), blocked_before


def test_queue_offered_one_of_each(loop) -> None:
    _, _, chosen, _, (first, second), blocked = loop
    assert set(chosen) == {("xero-1", "commitment"), ("xero-1", "cco"),
                           *(("acumatica-1", t) for t in ACUMATICA_TYPES)}
    assert [f["code"] for f in blocked.findings] == ["commitment_not_synced"]  # XE-8, before
    assert first.failed == [] and second is not None and second.failed == []
    assert len(first.sent) == 4 and len(second.sent) == 1


def test_pushed_items_show_synced_with_erp_ids_and_origin_id(loop) -> None:
    """XE-8, AC-15, AC-12, AC-17: synced in the next run's queue with the ERP id the push
    recorded, which the write-back put on the Procore item as origin_id."""
    settings, store, chosen, outbox, *_ = loop
    after = {(i.connection_id, i.item_key): i for i in published_items(settings)}
    tables = {"cco": "commitment_change_orders", "budget_change": "budget_changes",
              "procore_pay_payment": "pay_payouts", "commitment": "work_order_contracts"}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        for key, item in chosen.items():
            row = store.get_outbox(outbox[key].outbox_id)
            now = after[(item.connection_id, item.item_key)]
            assert row.state == "sent", (key, row.last_error)
            assert (now.state, now.erp_ref) == ("synced", row.erp_id), key
            assert actions.live_state(store, now) == "synced"
            origin = con.execute(f"select origin_id from raw_procore.{tables[item.item_type]} "
                                 "where id = ?", [int(item.item_key.split(":")[1])]).fetchone()
            assert origin == (row.erp_id,), key


def test_xe_8_cco_lines_appended_once_to_the_purchase_order(loop, env) -> None:
    """The PO holds its SOV lines then one new line for the SOV line the CCO changed twice,
    worth the two changes summed (from the world's cents), and nothing is due again."""
    world, *_ = env
    settings, store, chosen, outbox, *_ = loop
    cco = _xero_cco(world)
    lines = world.t["procore_change_order_lines"].filter(
        pl.col("change_order_id") == cco["change_order_id"])
    sov = world.t["procore_commitment_lines"].filter(
        pl.col("commitment_id") == cco["commitment_id"])
    po_id = store.get_outbox(outbox[("xero-1", "cco")].outbox_id).erp_id
    xw = XeroWriter(actions.connection_of(settings, "xero-1"), settings)
    try:
        body, _ = xw.client.get(f"PurchaseOrders/{po_id}", "test")
    finally:
        xw.close()
    got = body["PurchaseOrders"][0]["LineItems"]
    assert len(got) == sov.height + 1
    assert Decimal(str(got[-1]["UnitAmount"])) * Decimal(str(got[-1]["Quantity"])) == cents(
        int(lines["amount"].sum()))
    again = push(settings, store, "alex", log=_quiet)
    assert (again.sent, again.found, again.failed) == ([], [], [])


def _acumatica_get(settings, path: str, params: dict[str, str]) -> list[dict]:
    aw = AcumaticaWriter(actions.connection_of(settings, "acumatica-1"), settings)
    try:
        aw._open()
        return aw.client.get(f"{aw.base}/entity/Default/24.200.001/{path}", "test", params)[0]
    finally:
        aw.close()


def test_ac_15_ac_12_ac_17_acumatica_holds_each_once(loop, env) -> None:
    """One ChangeOrder per external reference: the CCO of class COMMITMENT, the budget change
    of class BUDGET On Hold as a potential budget CO; one Check On Hold, method PROCORE, for
    the world's payout amount."""
    world, *_ = env
    settings, _, chosen, outbox, *_ = loop
    ids = {t: int(chosen[("acumatica-1", t)].item_key.split(":")[1]) for t in ACUMATICA_TYPES}
    for item_type, klass, status in (("cco", "COMMITMENT", "Open"),
                                     ("budget_change", "BUDGET", "On Hold")):
        ref = external_id(item_type, ids[item_type])
        (order,) = _acumatica_get(settings, "ChangeOrder",
                                  {"$filter": f"ExternalRefNbr eq '{ref}'"})
        assert (order["Class"]["value"], order["Status"]["value"]) == (klass, status)
    bc = world.t["procore_budget_changes"].filter(
        pl.col("budget_change_id") == ids["budget_change"]).row(0, named=True)
    assert order["Description"]["value"].startswith(f"Potential Budget CO {bc['number']}")
    pay = world.t["procore_pay_payments"].filter(
        pl.col("payment_id") == ids["procore_pay_payment"]).row(0, named=True)
    (check,) = _acumatica_get(settings, "Check", {
        "$filter": f"PaymentRef eq '{external_id('payment', pay['payment_id'])}'"})
    assert (check["PaymentMethod"]["value"], check["Status"]["value"]) == ("PROCORE", "On Hold")
    assert Decimal(str(check["PaymentAmount"]["value"])) == cents(pay["amount"])
