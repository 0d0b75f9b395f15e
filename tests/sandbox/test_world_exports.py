"""The world's Procore items for the export queue (docs/exports.md, issue 6): the awkward
cases are drawn per connection, the money adds up, Procore's payments split from the ones
pending import by the direct costs' rule, and no earlier draw moved."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

import polars as pl
import pytest

from pipelines.sandbox import world as world_mod
from pipelines.sandbox.world import PROCORE_LAST_SYNC, World, cents, payments_pending_import

NEW_FRAMES = {"procore_only_vendors", "procore_commitment_lines", "procore_payments",
              *world_mod.CHANGE_FRAMES}
# The first exports additions' frames in generate(42, "tiny"), recorded at commit 0503226,
# before the CCOs, budget changes and Procore Pay payments: those came from their own stream.
RECORDED_EXPORTS = {
    "procore_commitment_lines": "2bc00ec2507cffbc", "procore_commitments": "f5cb542e73654d72",
    "procore_only_vendors": "f52b094787211cfe", "procore_payments": "51de9a624663c72a",
    "procore_projects": "0a1895c90cfd5533", "procore_requisition_lines": "d708e018d89de2d3",
    "procore_requisitions": "a933f88112552bbe", "wbs_codes": "ad4130c54a2ac9d0",
}
# sha256 (first 16 hex) of each frame's CSV in generate(42, "tiny"), recorded from commit
# 49b939d, before the exports additions. A deliberate change to an earlier draw re-records.
RECORDED = {
    "connections": "6c5836ac637bd4c9", "erp_cost_codes": "35a0bb8a790b8579",
    "erp_items": "c522fc1d4ee440f5", "erp_lines": "9d7bbbf53797a3e6",
    "erp_options": "b2b4c7c70ec39650", "erp_payments": "a4828ebedc205252",
    "erp_purchase_orders": "098a719fe2df0ef0", "erp_txns": "f23524f0f9149c9a",
    "procore_commitments": "934449b615538946", "procore_direct_cost_lines": "ee5e209130c1321b",
    "procore_direct_costs": "b2ee81d60d8750a6", "procore_projects": "addd9165772d2216",
    "procore_requisition_lines": "125dc065fd09301c", "procore_requisitions": "442dbf7b779ee592",
    "procore_standard_cost_codes": "2d76fce8c548618c", "procore_users": "af5ff33f234b3209",
    "vendors": "5ab54644310a8abc", "wbs_codes": "dde12b5d76345179",
}
# Procore frames that gain rows (and, for projects, columns), with their key.
GROWN = {"procore_projects": "project_id", "wbs_codes": "wbs_code_id",
         "procore_commitments": "commitment_id", "procore_requisitions": "requisition_id",
         "procore_requisition_lines": "requisition_line_id"}


def _digest(frame: pl.DataFrame) -> str:
    return hashlib.sha256(frame.write_csv().encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def before() -> World:
    return world_mod.generate(42, "tiny", exports=False)


def mine(w: World, name: str, cid: str) -> pl.DataFrame:
    return w.t[name].filter(pl.col("connection_id") == cid)


def new_rows(w: World, before: World, name: str, cid: str) -> pl.DataFrame:
    key = GROWN[name]
    return mine(w, name, cid).filter(~pl.col(key).is_in(before.t[name][key].implode()))


def conns(w: World, *erps: str) -> list[dict]:
    return [c for c in w.connections().iter_rows(named=True) if not erps or c["erp"] in erps]


# -- nothing earlier moved -------------------------------------------------------------------
def test_no_existing_draw_moved(world: World, before: World) -> None:
    """The world without the additions is the recorded one, byte for byte; with them every
    ERP-side frame is identical and every Procore frame, new rows and columns dropped, too."""
    assert {k: _digest(v) for k, v in before.t.items()} == RECORDED
    assert set(world.t) == set(before.t) | NEW_FRAMES
    for name, frame in before.t.items():
        got = world.t[name]
        if name in GROWN:
            got = got.filter(pl.col(GROWN[name]).is_in(frame[GROWN[name]].implode())).select(
                frame.columns)
        assert _digest(got) == RECORDED[name], name


def test_advance_keeps_the_export_frames(before: World) -> None:
    w = world_mod.generate(42, "tiny")
    kept = {k: _digest(w.t[k]) for k in (*NEW_FRAMES, "procore_commitments", "wbs_codes",
                                         "procore_requisitions", "procore_requisition_lines")}
    renamed = w.advance()["projects_renamed"]
    assert {k: _digest(w.t[k]) for k in kept} == kept
    assert {"address", "city"} <= set(w.t["procore_projects"].columns)
    assert w.t["procore_projects"].height == before.t["procore_projects"].height + 2 * 4
    assert set(renamed) <= set(before.t["procore_projects"]["project_id"])  # a drawn project


# -- projects, WBS codes, vendors ------------------------------------------------------------
def test_ac_7_project_addresses_some_with_commas(world: World, before: World) -> None:
    """AC-7: an Acumatica project address may have no commas; a few carry one ("Unit 4, 12
    Quay Street"), always the first new project's; the pre-go-live project has none at all."""
    for c in conns(world):
        p = mine(world, "procore_projects", c["connection_id"])
        new = new_rows(world, before, "procore_projects", c["connection_id"]).sort("project_id")
        assert ", " in new["address"][0]
        assert p["address"].drop_nulls().str.contains(",").sum() >= 1
        missing = p.filter(pl.col("address").is_null())
        assert missing["project_id"].to_list() == [p.filter(~pl.col("is_synced") & (
            pl.col("created_at") < c["live_date"]))["project_id"][0]]
        assert missing["city"].is_null().all()
        assert p.filter(pl.col("address").is_not_null())["city"].null_count() == 0


def test_c_4_ac_7_two_procore_only_projects_after_go_live(world: World, before: World) -> None:
    """C-4: created after go-live, never linked (no ERP project); AC-7: one name over 30."""
    for c in conns(world):
        cid = c["connection_id"]
        new = new_rows(world, before, "procore_projects", cid)
        assert new.height == 2
        assert new["erp_option_id"].is_null().all() and not new["is_synced"].any()
        assert new["active"].all() and (new["created_at"] > c["live_date"]).all()
        assert not set(new["project_id"]) & set(mine(world, "erp_options", cid)["project_id"])
        assert (new["name"].str.len_chars() > 30).sum() == 1
        # the last project by id is still the one that predates go-live (C-4)
        last = mine(world, "procore_projects", cid).sort("project_id")[-1]
        assert last["created_at"][0] < c["live_date"] and not last["is_synced"][0]


def test_new_wbs_codes_follow_the_connections_code_structure(world: World,
                                                            before: World) -> None:
    """Five codes per new project, each a (code, type, flat code) the connection's first
    project has, not exported (no ERP item), on the budget with one $0 line each."""
    for c in conns(world):
        cid = c["connection_id"]
        wbs = mine(before, "wbs_codes", cid)
        first = wbs.filter(pl.col("project_id") == wbs["project_id"].min())
        shapes = set(first.select("cost_code", "cost_type", "flat_code", "task").iter_rows())
        new = new_rows(world, before, "wbs_codes", cid)
        projects = new_rows(world, before, "procore_projects", cid)
        assert set(new["project_id"]) == set(projects["project_id"])
        for (pid,), g in new.group_by("project_id"):
            assert g.height == 5 and (g["budget_cents"] == 0).sum() >= 1
            assert set(g.select("cost_code", "cost_type", "flat_code", "task").iter_rows()) \
                <= shapes
            number = projects.filter(pl.col("project_id") == pid)["project_number"][0]
            want = [f"{number}-{f}" if c["erp"] == "netsuite" else f for f in g["flat_code"]]
            assert g["item_name"].to_list() == want
        assert new["erp_item_id"].is_null().all() and new["on_budget"].all()


def test_xe_6_ns_10_procore_only_vendors(world: World) -> None:
    """Two companies only Procore has: no ERP contact, not linked; on Xero the second's name
    is over 41 characters (XE-6). Their ids clash with no ERP-known vendor."""
    for c in conns(world):
        v = mine(world, "procore_only_vendors", c["connection_id"])
        assert v.height == 2 and v["contact_id"].is_null().all() and not v["is_linked"].any()
        assert v["in_procore"].all()
        known = mine(world, "vendors", c["connection_id"])["procore_vendor_id"]
        assert not set(v["procore_vendor_id"]) & set(known)
        longest = v["name"].str.len_chars().max()
        assert (longest > 41) == (c["erp"] == "xero"), c["connection_id"]
        assert set(world.t["vendors"].columns) == set(v.columns)


# -- commitments and their schedule of values ------------------------------------------------
def test_ac_14_ns_10_new_commitments(world: World, before: World) -> None:
    """Two per new project, not exported; the last on a vendor no ERP has (NS-10, XE-7,
    AC-13: company not synced), the rest on synced ones; AC-14: one number over 15."""
    for c in conns(world):
        cid = c["connection_id"]
        new = new_rows(world, before, "procore_commitments", cid).sort("commitment_id")
        projects = new_rows(world, before, "procore_projects", cid)["project_id"]
        assert new.group_by("project_id").len()["len"].to_list() == [2, 2]
        assert set(new["project_id"]) == set(projects)
        assert new["erp_commitment_id"].is_null().all() and set(new["status"]) == {"Approved"}
        only = set(mine(world, "procore_only_vendors", cid)["procore_vendor_id"])
        linked = set(mine(world, "vendors", cid).filter(pl.col("is_linked"))["procore_vendor_id"])
        assert new["vendor_id"][-1] in only
        assert set(new["vendor_id"][:-1]) <= linked
        too_long = (new["number"].str.len_chars() > 15).sum()
        assert too_long == (1 if c["erp"] == "acumatica" else 0), cid


def test_sov_amount_is_quantity_times_unit_cost_for_every_commitment(world: World) -> None:
    lines = world.t["procore_commitment_lines"]
    assert set(lines["commitment_id"]) == set(world.t["procore_commitments"]["commitment_id"])
    assert lines["line_id"].is_unique().all()
    for r in lines.iter_rows(named=True):
        qty = Decimal(str(r["quantity"]))
        assert qty == qty.to_integral_value() and qty > 0
        assert qty * cents(r["unit_cost"]) == cents(r["amount"]), r["line_id"]
    wbs = world.t["wbs_codes"].select("wbs_code_id", "flat_code", "description")
    joined = lines.join(wbs, on="wbs_code_id", suffix="_w")
    assert joined.height == lines.height
    assert joined.filter((pl.col("flat_code") != pl.col("flat_code_w"))
                         | (pl.col("description") != pl.col("description_w"))).is_empty()


def test_drawn_commitments_sov_is_their_invoiced_codes_at_125_percent(
        world: World, before: World) -> None:
    """A drawn commitment's SOV lines are the codes its invoices used; they total 125% of
    what was invoiced (absolute), rounded down to the cent: the Acumatica Subcontract total."""
    req_commit = dict(before.t["procore_requisitions"].select(
        "requisition_id", "commitment_id").iter_rows())
    invoiced: dict[int, dict[int, int]] = {}
    for rid, wid, amt in before.t["procore_requisition_lines"].select(
            "requisition_id", "wbs_code_id", "amount").iter_rows():
        per = invoiced.setdefault(req_commit[rid], {})
        per[wid] = per.get(wid, 0) + abs(amt)
    lines = world.t["procore_commitment_lines"]
    for cid, per in invoiced.items():
        sov = lines.filter(pl.col("commitment_id") == cid)
        assert sorted(sov["wbs_code_id"]) == sorted(per)
        assert sov["amount"].sum() == sum(per.values()) * 5 // 4
    never = set(before.t["procore_commitments"]["commitment_id"]) - set(invoiced)
    for cid in never:  # one or two of its project's codes, still with a value
        sov = lines.filter(pl.col("commitment_id") == cid)
        assert 1 <= sov.height <= 2 and (sov["amount"] > 0).all()


# -- subcontractor invoices ------------------------------------------------------------------
def test_xe_9_ns_13_ns_10_new_approved_invoices(world: World, before: World) -> None:
    """Five approved invoices on the new commitments (2 + 3), none exported; one negative
    (XE-9: never to Xero; NS-13: a NetSuite vendor credit), on Xero one without a payment
    date (XE-9), one on the vendor no ERP has (NS-10). Lines sit on the commitment's SOV."""
    sov = world.t["procore_commitment_lines"]
    for c in conns(world):
        cid = c["connection_id"]
        reqs = new_rows(world, before, "procore_requisitions", cid)
        lines = new_rows(world, before, "procore_requisition_lines", cid)
        commits = new_rows(world, before, "procore_commitments", cid)
        assert reqs.height == 5 and set(reqs["status"]) == {"approved"}
        assert not reqs["is_exported"].any()
        assert sorted(reqs.group_by("project_id").len()["len"]) == [2, 3]
        assert set(reqs["commitment_id"]) == set(commits["commitment_id"])
        totals = {r: 0 for r in reqs["requisition_id"]}
        for r, w, amt in lines.select("requisition_id", "wbs_code_id", "amount").iter_rows():
            totals[r] += amt
            commitment = reqs.filter(pl.col("requisition_id") == r)["commitment_id"][0]
            assert w in set(sov.filter(pl.col("commitment_id") == commitment)["wbs_code_id"])
        negative = {r for r, t in totals.items() if t < 0}
        assert negative == set(reqs.filter(pl.col("is_negative"))["requisition_id"])
        assert len(negative) == 1
        no_pay = reqs.filter(pl.col("payment_date").is_null())
        assert no_pay.height == (1 if c["erp"] == "xero" else 0)
        only = set(mine(world, "procore_only_vendors", cid)["procore_vendor_id"])
        assert reqs.filter(pl.col("vendor_id").is_in(list(only))).height == 1
        vendor_of = dict(commits.select("commitment_id", "vendor_id").iter_rows())
        assert all(vendor_of[k] == v for k, v in reqs.select("commitment_id", "vendor_id")
                   .iter_rows())
        assert (reqs["retainage_pct"] == (10 if c["erp"] == "xero" else 0)).all()
        assert (reqs["billing_date"] <= world.now.date()).all()


# -- payments --------------------------------------------------------------------------------
def _exported_invoice_payments(w: World, cid: str, live) -> list[dict]:
    """By hand: ERP payments on bills exported from Procore invoices, on or after go-live."""
    exported = {t: r for t, r in mine(w, "erp_txns", cid).filter(pl.col("requisition_id") >= 0)
                .select("txn_id", "requisition_id").iter_rows()}
    return [p for p in mine(w, "erp_payments", cid).iter_rows(named=True)
            if p["txn_id"] in exported and p["payment_date"] >= live.date()
            and not p.update(requisition_id=exported[p["txn_id"]])]


def test_xe_10_ns_12_ac_17_payments_split_in_procore_or_pending(world: World) -> None:
    """XE-10, NS-12, AC-17: Procore holds the payments of synced subcontractor invoices made
    before its last import (as it holds direct costs, C-7: deleted ones stay); the live ones
    after it are pending import. Nothing else is either."""
    reqs = world.t["procore_requisitions"]
    pending_all = payments_pending_import(world)
    assert pending_all.height >= 1
    for c in conns(world):
        cid = c["connection_id"]
        pays = _exported_invoice_payments(world, cid, c["live_date"])
        before_sync = [p for p in pays if p["payment_date"] < PROCORE_LAST_SYNC.date()]
        after = [p for p in pays if p["payment_date"] >= PROCORE_LAST_SYNC.date()
                 and p["status"] == "AUTHORISED"]
        held = mine(world, "procore_payments", cid)
        assert sorted(held["origin_id"]) == sorted(p["payment_id"] for p in before_sync)
        for p in before_sync:
            h = held.filter(pl.col("origin_id") == p["payment_id"]).row(0, named=True)
            req = reqs.filter(pl.col("requisition_id") == p["requisition_id"]).row(0, named=True)
            assert (h["amount"], h["payment_date"], h["reference"], h["requisition_id"]) == (
                p["amount"], p["payment_date"], p["reference"], p["requisition_id"])
            assert (h["project_id"], h["commitment_id"], h["invoice_number"]) == (
                req["project_id"], req["commitment_id"], req["invoice_number"])
            assert h["created_at"] < PROCORE_LAST_SYNC and h["deleted_at"] is None
        pending = payments_pending_import(world, cid)
        assert sorted(pending["payment_id"]) == sorted(p["payment_id"] for p in after)
        assert not set(pending["payment_id"]) & set(held["origin_id"])
    assert world.t["procore_payments"]["payment_id"].is_unique().all()


def test_xe_10_a_payment_deleted_later_stays_in_procore_and_leaves_pending() -> None:
    """XE-10: payments deleted in Xero are not deleted in Procore; a pending one deleted in
    the ERP is no longer an import candidate."""
    w = world_mod.generate(42, "tiny")
    held = _digest(w.t["procore_payments"])
    pending = set(payments_pending_import(w)["payment_id"])
    gone = set(w.advance()["payments_deleted"])
    assert gone and _digest(w.t["procore_payments"]) == held
    assert set(payments_pending_import(w)["payment_id"]) == pending - gone
    assert w.now - timedelta(days=1) > PROCORE_LAST_SYNC


def test_xe_10_payment_boundaries_go_live_and_last_import() -> None:
    """XE-10: a payment dated before go-live is never imported; one the day before Procore's
    last import is held; one on its day is pending. Built by hand, one invoice."""
    live = world_mod.LIVE_DATE
    txns = pl.DataFrame({"txn_id": ["b1", "own"], "requisition_id": [7, -1]})
    reqs = pl.DataFrame({"requisition_id": [7], "commitment_id": [70], "project_id": [700],
                         "invoice_number": ["INV-7"]})
    day = PROCORE_LAST_SYNC.date()
    pays = pl.DataFrame({
        "connection_id": "xero-9", "txn_id": ["b1", "b1", "b1", "own"],
        "payment_id": ["early", "held", "pending", "not-a-subinvoice"],
        "payment_date": [live.date() - timedelta(days=1), day - timedelta(days=1), day,
                         day - timedelta(days=3)],
        "amount": [100, 250, 300, 400], "reference": "EFT", "status": "AUTHORISED"})
    conn = {"connection_id": "xero-9", "procore_company_id": 4009, "live_date": live}
    held = world_mod._procore_payments(conn, txns, pays, reqs)
    assert held.select("origin_id", "amount", "project_id", "commitment_id",
                       "invoice_number").rows() == [("held", 250, 700, 70, "INV-7")]
    assert held["payment_id"].to_list() == [9_750_000]
    imports = world_mod.payment_imports(txns, pays, reqs, live)
    assert imports["payment_id"].to_list() == ["held", "pending"]


# -- CCOs, budget changes, Procore Pay payments ----------------------------------------------
def test_changes_moved_no_earlier_exports_frame(world: World) -> None:
    """The CCO, budget change and Procore Pay frames are drawn from their own stream
    (``CHANGES_STREAM``): every frame of the first exports additions is as recorded."""
    assert {k: _digest(world.t[k]) for k in RECORDED_EXPORTS} == RECORDED_EXPORTS


def test_xe_8_ac_15_change_orders_on_the_drawn_commitments(world: World) -> None:
    """Four CCOs per Xero/Acumatica connection, none on NetSuite (NS-1): A and B are drawn
    commitments (on Acumatica ones it holds), the third the first new one (not synced), the
    fourth on A; B's CCO changes one SOV line twice (XE-8) and every SOV-line change is on a
    line of its own commitment, with that line's WBS code."""
    ccos, lines = world.t["procore_change_orders"], world.t["procore_change_order_lines"]
    sov = world.t["procore_commitment_lines"]
    commits = world.t["procore_commitments"]
    assert set(ccos["connection_id"]) == {c["connection_id"] for c in conns(world, "xero",
                                                                            "acumatica")}
    for conn in conns(world, "xero", "acumatica"):
        cid, base = conn["connection_id"], world_mod._base(conn)
        mine_ccos = ccos.filter(pl.col("connection_id") == cid).sort("change_order_id")
        a, b, new, a2 = mine_ccos["commitment_id"].to_list()
        assert a == a2 and a < base + 390_000 <= new and b < base + 390_000
        held = commits.filter(pl.col("commitment_id").is_in([a, b]))["erp_commitment_id"]
        assert held.is_not_null().all() == (conn["erp"] == "acumatica")
        twice = lines.filter(pl.col("change_order_id") == mine_ccos["change_order_id"][1])
        assert twice["commitment_line_id"].n_unique() == 1 and twice.height == 2
        on_sov = lines.filter(pl.col("connection_id") == cid).drop_nulls(
            "commitment_line_id").join(ccos.select("change_order_id", "commitment_id"),
                                       on="change_order_id").join(
            sov.select(commitment_line_id="line_id", sov_commitment="commitment_id",
                       sov_wbs="wbs_code_id"), on="commitment_line_id")
        assert (on_sov["commitment_id"] == on_sov["sov_commitment"]).all()
        assert (on_sov["wbs_code_id"] == on_sov["sov_wbs"]).all()
        status = mine_ccos["status"].to_list()
        assert status == ["Approved"] * 3 + ["Pending" if conn["erp"] == "xero" else "Approved"]


def test_ac_12_budget_changes_on_synced_and_new_projects(world: World) -> None:
    changes, lines = world.t["procore_budget_changes"], world.t["procore_budget_change_lines"]
    projects, wbs = world.t["procore_projects"], world.t["wbs_codes"]
    assert set(changes["connection_id"]) == {"acumatica-1"}
    synced = set(projects.filter(pl.col("is_synced"))["project_id"])
    got = changes.sort("budget_change_id")["project_id"].to_list()
    assert got[0] in synced and got[1] in synced and got[2] not in synced
    joined = lines.join(wbs.select("wbs_code_id", "project_id", "erp_item_id"),
                        on="wbs_code_id").join(
        changes.select("budget_change_id", bc_project="project_id"), on="budget_change_id")
    assert (joined["project_id"] == joined["bc_project"]).all()  # codes of the project
    first_two = joined.filter(pl.col("budget_change_id").is_in(
        changes.sort("budget_change_id")["budget_change_id"].head(2).implode()))
    assert first_two["erp_item_id"].is_not_null().all()
    assert (lines.filter(pl.col("budget_change_id") == changes.sort("budget_change_id")[
        "budget_change_id"][1])["amount"] < 0).all()  # a reduction


def test_ac_17_procore_pay_payments_half_of_open_bills(world: World) -> None:
    """The first two are half the total of approved invoices exported as bills still Open
    (AUTHORISED), in cents exactly; the third an approved invoice never exported."""
    pays = world.t["procore_pay_payments"].sort("payment_id")
    reqs = world.t["procore_requisitions"]
    txns = world.t["erp_txns"].filter(pl.col("requisition_id") >= 0)
    rows = pays.join(reqs.select("requisition_id", "is_exported", req_status="status"),
                     on="requisition_id", maintain_order="left").join(
        txns.select("requisition_id", "total", bill_status="status"), on="requisition_id",
        how="left", maintain_order="left")
    first = rows.head(2)
    assert first["is_exported"].all() and (first["bill_status"] == "AUTHORISED").all()
    assert first["amount"].to_list() == [t // 2 for t in first["total"]]
    assert rows["req_status"][2] == "approved" and not rows["is_exported"][2]


def test_advance_keeps_the_change_frames() -> None:
    w = world_mod.generate(42, "tiny")
    kept = {k: _digest(w.t[k]) for k in world_mod.CHANGE_FRAMES}
    w.advance()
    assert {k: _digest(w.t[k]) for k in world_mod.CHANGE_FRAMES} == kept
