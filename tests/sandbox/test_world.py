"""The world generator: deterministic, sized, and holding every awkward case on purpose."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.sandbox import world as world_mod


@pytest.fixture(scope="module")
def demo() -> world_mod.World:
    return world_mod.generate(42, "demo")


def test_same_seed_same_world_other_seed_other_world():
    a, b, c = (world_mod.generate(s, "tiny") for s in (5, 5, 6))
    for name in a.t:
        assert a.t[name].equals(b.t[name]), name
    assert not a.t["erp_lines"].equals(c.t["erp_lines"])


def test_sizes_and_connections_of_every_erp_kind(demo):
    assert 45_000 <= demo.t["erp_lines"].height <= 60_000  # "about 50k ERP cost lines"
    assert set(demo.connections()["erp"]) == {"xero", "netsuite", "acumatica"}
    # C-1: one Procore company per connection, one ERP company per connection.
    assert demo.connections()["procore_company_id"].n_unique() == demo.connections().height
    assert demo.connections()["erp_tenant_id"].n_unique() == demo.connections().height
    with pytest.raises(ValueError, match="unknown world size 'huge'"):
        world_mod.generate(1, "huge")


def test_large_world_has_a_million_lines():
    assert world_mod.generate(42, "large").t["erp_lines"].height >= 1_000_000


def test_awkward_cases_are_present(demo):
    txns = demo.t["erp_txns"].filter(pl.col("connection_id") == "xero-1")
    bills = txns.filter(pl.col("txn_kind") == "bill")
    assert {"DRAFT", "SUBMITTED", "VOIDED", "DELETED", "AUTHORISED"} <= set(bills["status"])
    assert txns.filter(pl.col("txn_kind") == "subinv_bill").height > 0  # from Procore
    assert txns.filter(pl.col("erp_type") == "ACCPAYCREDIT").height > 0
    # Bank transactions only take Xero's statuses for them.
    assert set(txns.filter(pl.col("erp_type").is_in(["SPEND", "RECEIVE"]))["status"]) <= {
        "AUTHORISED", "DELETED", "VOIDED"}
    lines = demo.cost_lines("xero-1")
    assert {"unsynced_project", "erp_item", "no_tracking", "retainage"} <= set(lines["case"])
    pays = demo.t["erp_payments"].filter(pl.col("connection_id") == "xero-1")
    assert pays["is_partial"].any() and (~pays["is_partial"]).any()
    assert (pays["status"] == "DELETED").any()
    reqs = demo.t["procore_requisitions"].filter(pl.col("connection_id") == "xero-1")
    assert reqs["is_negative"].any() and not reqs.filter(pl.col("is_negative"))["is_exported"].any()
    # Names over Xero's contact limit (41, XE-6) and Acumatica's project limit (30, AC-7).
    assert (demo.t["vendors"]["name"].str.len_chars() > 41).any()
    assert (demo.t["procore_projects"]["name"].str.len_chars() > 30).any()
    assert (~demo.t["procore_projects"]["is_synced"]).any()  # pre-existing, unlinked (C-4)


def test_nothing_is_modified_after_the_worlds_clock(demo):
    for name, frame in demo.t.items():
        for col in ("created_at", "updated_at", "synced_at"):
            if col in frame.columns:
                assert frame[col].max() < demo.now, (name, col)


def test_ledger_splits_jtd_into_commitment_invoiced_and_direct(demo):
    led = demo.ledger("xero-1")
    assert (led["jtd_cents"] == led["ci_cents"] + led["direct_cents"]).all()
    assert led["ci_cents"].sum() > 0 and led["direct_cents"].sum() > 0
