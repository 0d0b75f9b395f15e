"""R-5 (rpt_job_cost_accuracy) and the reconciliation audit (rpt_reconciliation) on the tiny
world through the real sandbox, dlt, DuckDB, dbt and a published snapshot, compared with what
the world generator drew: Procore's direct costs as of its last import (C-7, with the ERP
records since deleted), the vendors it edited on either side (NS-10, AC-1), the payments it
deleted (XE-10), the project it never linked (C-4), the discrepancies it drew after the
import (``drawn_finding``: an amount and a date edited, a vendor's former name, a bill the
import skipped, a bill voided); then after ``world.advance()`` and an
incremental run, the bills it voided, the check it deleted, the spend money it edited and the
direct cost deleted in Procore by hand. Expected values come from the world's frames only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import polars as pl

from pipelines.run import run
from pipelines.sandbox.acumatica_tables import guid
from pipelines.sandbox.world import (
    CI_KINDS,
    DRAWN_AMOUNT_DELTA,
    JTD_KINDS,
    PROCORE_LAST_SYNC,
    World,
    cents,
)
from tests.integration.common import snapshot_frame

# The world's Procore direct costs were all written by its last import, two hours before
# PROCORE_LAST_SYNC (synced_at): an ERP record changed after that is pending its import.
LAST_IMPORT = PROCORE_LAST_SYNC - timedelta(hours=2)
CAUSES = ("credit_notes_not_in_jtd", "commitment_invoiced_not_direct_cost", "pending_import",
          "deleted_or_voided_after_sync", "changed_after_sync", "unexplained")


def erps(world: World) -> dict[str, str]:
    return dict(world.t["connections"].select("connection_id", "erp").iter_rows())


def erp_ids(frame: pl.DataFrame, erp_of: dict[str, str]) -> pl.DataFrame:
    """The ERP's own ids of a world record as the warehouse holds them: the world's keys on
    Xero and NetSuite, the project transaction (detail) GUIDs on Acumatica."""
    ac = frame["connection_id"].replace_strict(erp_of) == "acumatica"
    return frame.with_columns(
        erp_txn=pl.when(ac).then(guid(frame["txn_id"], "pmtran")).otherwise(pl.col("txn_id")),
        erp_line=pl.when(ac).then(guid(frame["line_id"], "pm")).otherwise(pl.col("line_id")))


def procore_lines(world: World) -> pl.DataFrame:
    """Procore's live synced direct cost lines: the direct cost's (header) project, the line's
    own project and WBS code (the WBS code's flat code, else the line's item: a code the
    project lacked), its ERP transaction's kind, status and update time, its amount."""
    dcs = world.t["procore_direct_costs"].filter(pl.col("deleted_at").is_null()).select(
        "direct_cost_id", "txn_id", header_project="procore_project_id")
    txns = world.t["erp_txns"].select("txn_id", "txn_kind", "status", "updated_at")
    wbs = world.t["wbs_codes"].select("wbs_code_id", "flat_code")
    lines = world.t["procore_direct_cost_lines"].join(dcs, on="direct_cost_id").join(
        txns, on="txn_id").join(wbs, on="wbs_code_id", how="left")
    return erp_ids(lines.with_columns(wbs_code=pl.coalesce("flat_code", "item_code")),
                   erps(world))


def erp_lines(world: World) -> pl.DataFrame:
    """The ERP's cost lines with the world's truth: does it sync, is it JTD cost (JTD_KINDS:
    XE-12, AC-21, the NetSuite definition), is it a direct cost (not a subcontractor invoice on
    NetSuite, NS-16; Xero shows it as a Subcontractor Invoice, XE-13; Acumatica syncs all four
    amount types, AC-21)."""
    erp_of = erps(world)
    lines = world.cost_lines()
    jtd = pl.lit(False)
    for erp, kinds in JTD_KINDS.items():
        jtd = jtd | ((pl.col("erp") == erp) & pl.col("txn_kind").is_in(kinds))
    ci_only = (pl.col("erp") == "netsuite") & pl.col("txn_kind").is_in(CI_KINDS)
    txns = world.t["erp_txns"].select("txn_id", "updated_at")
    return erp_ids(lines.join(txns, on="txn_id").with_columns(
        in_jtd=pl.col("is_syncable") & jtd,
        is_direct_cost=pl.col("is_syncable") & ~ci_only), erp_of)


def findings(settings) -> pl.DataFrame:
    return snapshot_frame(settings, "rpt_reconciliation",
                          "connection_id, finding, erp_id, procore_id, field")


def accuracy(settings) -> pl.DataFrame:
    return snapshot_frame(settings, "rpt_job_cost_accuracy",
                          "connection_id, project_id, wbs_code")


def of(frame: pl.DataFrame, finding: str) -> pl.DataFrame:
    return frame.filter(pl.col("finding") == finding)


def removed_in_erp(world: World, status: str) -> dict[tuple[str, str], Decimal]:
    """Procore's live direct costs whose ERP transaction now has ``status``: the amount
    Procore still shows, by (connection, ERP transaction id)."""
    lines = procore_lines(world).filter(pl.col("status") == status)
    return {(c, t): cents(a) for c, t, a in lines.group_by("connection_id", "erp_txn").agg(
        pl.col("amount").sum()).iter_rows()}


DIRECT_COST_FINDINGS = ("erp_only", "procore_only", "voided_after_sync", "amount_differs",
                        "date_differs", "vendor_differs")


def drawn_findings(world: World) -> dict[tuple[str, str, str], Decimal]:
    """The discrepancies the world drew after Procore's last import (``drawn_finding``), by
    (connection, finding, ERP transaction id), with the money at stake: the ERP's direct cost
    amount less Procore's (amount_differs), the ERP's (erp_only), else Procore's."""
    drawn = world.t["erp_txns"].filter(pl.col("drawn_finding").is_not_null()).select(
        "txn_id", "drawn_finding")
    erp = erp_lines(world)
    erp_amount = dict(erp.filter(pl.col("is_direct_cost")).group_by("txn_id").agg(
        pl.col("signed_amount").sum()).iter_rows())
    procore_amount = dict(procore_lines(world).group_by("txn_id").agg(
        pl.col("amount").sum()).iter_rows())
    ids = {t: (c, e) for t, c, e in erp.select("txn_id", "connection_id", "erp_txn").unique()
           .iter_rows()}
    out = {}
    for txn, finding in drawn.iter_rows():
        c, erp_txn = ids[txn]
        if finding == "amount_differs":
            cents_at_stake = erp_amount[txn] - procore_amount[txn]
        elif finding == "erp_only":
            cents_at_stake = erp_amount[txn]
        else:
            cents_at_stake = procore_amount[txn]
        out[(c, finding, erp_txn)] = cents(cents_at_stake)
    return out


def direct_cost_findings(frame: pl.DataFrame) -> dict[tuple[str, str, str], Decimal]:
    return {(r["connection_id"], r["finding"], r["erp_id"]): r["amount"]
            for r in frame.filter(pl.col("finding").is_in(DIRECT_COST_FINDINGS))
            .iter_rows(named=True)}


def findings_by_erp_id(frame: pl.DataFrame, finding: str) -> dict[tuple[str, str], Decimal]:
    return {(r["connection_id"], r["erp_id"]): r["amount"]
            for r in of(frame, finding).iter_rows(named=True)}


def expected_causes(world: World) -> dict[str, dict[str, Decimal]]:
    """R-5's parts per connection, from the world: Procore's lines against the ERP's."""
    procore, erp, erp_of = procore_lines(world), erp_lines(world), erps(world)
    held = set(procore.select("connection_id", "line_id").iter_rows())
    # every connection has budget lines, so a row (netsuite-2's, NS-5, all zero)
    out = {c: dict.fromkeys(("difference", *CAUSES), Decimal(0)) for c in erp_of}
    jtd_now = dict(erp.filter(pl.col("in_jtd")).select("line_id", "signed_amount").iter_rows())
    for r in procore.iter_rows(named=True):
        c, amount = out[r["connection_id"]], cents(r["amount"])
        c["difference"] += amount
        if r["status"] in ("DELETED", "VOIDED"):  # C-7, NS-18
            c["deleted_or_voided_after_sync"] += amount
        elif r["txn_kind"] == "credit_note" and erp_of[r["connection_id"]] == "xero":
            c["credit_notes_not_in_jtd"] += amount  # XE-12: syncs, not in JTD
        elif r["line_id"] in jtd_now:  # 0 unless the ERP edited it since
            c["changed_after_sync"] += amount - cents(jtd_now[r["line_id"]])
        else:
            c["unexplained"] += amount  # C-7: procore_only
    for r in erp.filter(pl.col("in_jtd")).iter_rows(named=True):
        c, amount = out[r["connection_id"]], cents(r["signed_amount"])
        c["difference"] -= amount
        if (r["connection_id"], r["line_id"]) in held:
            continue  # counted with its Procore line above
        if not r["is_direct_cost"]:
            c["commitment_invoiced_not_direct_cost"] -= amount  # NS-16
        elif r["updated_at"] > LAST_IMPORT:
            c["pending_import"] -= amount
        else:
            c["unexplained"] -= amount  # C-7: erp_only
    return out


def report_causes(settings) -> dict[str, dict[str, Decimal]]:
    rows = accuracy(settings).group_by("connection_id").agg(
        [pl.col(c).sum() for c in ("difference", *CAUSES)])
    return {r["connection_id"]: {c: r[c] for c in ("difference", *CAUSES)}
            for r in rows.iter_rows(named=True)}


def test_c_7_ns_18_deleted_after_sync_are_the_worlds_deleted_synced_records(env):
    """C-7, NS-18: ERP records deleted after Procore imported them (Xero status DELETED,
    NetSuite's deleted records) stay in Procore; each is one finding with Procore's amount."""
    world, _, settings, _ = env
    expected = removed_in_erp(world, "DELETED")
    assert {erps(world)[c] for c, _ in expected} == {"xero", "netsuite"}
    got = of(findings(settings), "deleted_after_sync")
    assert findings_by_erp_id(got, "deleted_after_sync") == expected
    rules = dict(got.select("erp", "rule_ids").unique().iter_rows())
    assert rules == {"xero": "C-7", "netsuite": "C-7, NS-18"}
    dcs = world.t["procore_direct_costs"].filter(pl.col("erp_deleted_after_sync"))
    assert set(got["procore_id"]) == {str(i) for i in dcs["direct_cost_id"]}


def test_xe_10_c_7_deleted_xero_payments_on_imported_invoices(env):
    """XE-10: a payment deleted in Xero on a bill exported from a Procore subcontractor
    invoice was imported and stays in Procore; inferred from Xero alone."""
    world, _, settings, _ = env
    expected = _deleted_imported_payments(world)
    assert expected, "the tiny world deletes Xero payments on subcontractor invoices"
    got = of(findings(settings), "payment_deleted_after_import")
    assert {(r["erp_id"], r["amount"]) for r in got.iter_rows(named=True)} == expected
    assert set(got["entity"]) == {"payment"} and set(got["rule_ids"]) == {"XE-10, C-7"}


def _deleted_imported_payments(world: World) -> set[tuple[str, Decimal]]:
    xero = world.connections("xero")["connection_id"].implode()
    exported = world.t["procore_requisitions"].filter(pl.col("is_exported"))["requisition_id"]
    bills = world.t["erp_txns"].filter(pl.col("requisition_id").is_in(exported.implode()))
    pays = world.t["erp_payments"].filter(
        pl.col("connection_id").is_in(xero) & (pl.col("status") == "DELETED")
        & pl.col("txn_id").is_in(bills["txn_id"].implode()))
    return {(p, cents(a)) for p, a in pays.select("payment_id", "amount").iter_rows()}


def test_ns_10_ac_1_vendor_drift_follows_where_the_world_edited_the_vendor(env):
    """NS-10, AC-1: a vendor edited in the ERP flows to Procore on the next import (info); one
    edited in Procore never reaches the ERP (warning). Only the phone was edited."""
    world, _, settings, _ = env
    edited = world.t["vendors"].filter(pl.col("is_linked") & pl.col("edited_in").is_not_null())
    expected = {(r["connection_id"], str(r["procore_vendor_id"]), r["contact_id"], "phone",
                 "info" if r["edited_in"] == "erp" else "warning")
                for r in edited.iter_rows(named=True)}
    got = of(findings(settings), "vendor_drift")
    assert set(got.select("connection_id", "procore_id", "erp_id", "field", "severity")
               .iter_rows()) == expected
    assert {erps(world)[c] for c, *_ in expected} == {"netsuite", "acumatica"}
    assert set(got["rule_ids"]) == {"NS-10", "AC-1"}


def test_c_4_unlinked_projects_are_suggested_their_erp_project(env):
    """C-4: the project each connection had before it went live (its last) never linked;
    its ERP project is suggested with full confidence. Head Office Overhead, only in the ERP,
    gets no confident match."""
    world, _, settings, _ = env
    got = of(findings(settings), "project_unlinked")
    last = world.t["procore_projects"].group_by("connection_id").agg(
        pl.all().sort_by("project_id").last())
    for p in last.iter_rows(named=True):
        row = got.filter(pl.col("procore_id") == str(p["project_id"]))
        assert row.height == 1, p["project_number"]
        assert (row["erp_id"][0], row["confidence"][0]) == (p["erp_option_id"], Decimal("1.00"))
        assert p["name"] in row["suggested_match"][0]
    overhead = got.filter(pl.col("erp_value").str.contains("Head Office Overhead"))
    assert overhead.height == world.connections().height
    assert overhead["suggested_match"].is_null().all() and overhead["confidence"].is_null().all()
    assert set(overhead["severity"]) == {"info"}


def test_c_7_a_fresh_world_shows_exactly_the_discrepancies_it_drew(env):
    """C-7: on each connection with synced direct costs the world drew, after Procore's last
    import, one bill edited in amount and one in date, one Procore holds under the vendor's
    former name, one the import skipped and one voided; those are the only direct cost
    findings, each with its money, and nothing is in Procore alone."""
    world, _, settings, _ = env
    got = findings(settings)
    expected = drawn_findings(world)
    per_connection = {(c, f) for c, f, _ in expected}
    synced = set(world.t["procore_direct_costs"]["connection_id"])
    assert per_connection == {(c, f) for c in synced for f in DIRECT_COST_FINDINGS
                              if f != "procore_only"}
    assert direct_cost_findings(got) == expected
    # the edited bill: each of its lines Procore holds grew by DRAWN_AMOUNT_DELTA in the ERP
    held = procore_lines(world).group_by("connection_id", "erp_txn").len()
    for c, t, n in held.iter_rows():
        if (c, "amount_differs", t) in expected:
            assert expected[(c, "amount_differs", t)] == cents(DRAWN_AMOUNT_DELTA * n)
    assert set(got["finding"]) == {
        "deleted_after_sync", "payment_deleted_after_import", "vendor_drift",
        "project_unlinked", *(f for f in DIRECT_COST_FINDINGS if f != "procore_only")}
    assert findings_by_erp_id(got, "voided_after_sync") == removed_in_erp(world, "VOIDED")


def test_r_5_synced_direct_costs_per_budget_line_are_procores_lines(env):
    """R-5: Procore's synced lines summed per project and WBS code, each on the project and
    code its line is on; a NetSuite transaction deleted after its sync is gone from NetSuite
    with its lines (NS-18), so only its direct cost says where it is: its project."""
    world, _, settings, _ = env
    lines = procore_lines(world).with_columns(
        project=pl.when((pl.col("connection_id").replace_strict(erps(world)) == "netsuite")
                        & (pl.col("status") == "DELETED"))
        .then(pl.col("header_project")).otherwise(pl.col("procore_project_id")))
    expected = {(c, p, w): (cents(a), n) for c, p, w, a, n in lines.group_by(
        "connection_id", "project", "wbs_code").agg(pl.col("amount").sum(), pl.len()).iter_rows()}
    rpt = accuracy(settings).filter(pl.col("synced_direct_cost_lines") > 0)
    assert {(r["connection_id"], r["project_id"], r["wbs_code"]):
            (r["synced_direct_costs"], r["synced_direct_cost_lines"])
            for r in rpt.iter_rows(named=True)} == expected


def test_r_5_xe_12_ns_16_c_7_causes_equal_the_world_per_connection(env):
    """R-5: per connection, the difference and each of its parts as the world explains them:
    Xero credit notes in Procore, not in JTD (XE-12); subcontractor invoices commitment
    invoiced (NS-16, XE-12); ERP costs made after the last import; records deleted or voided
    after their sync (C-7, NS-18); the bill the world edited after the import (changed) and
    the one the import skipped (unexplained, C-7's erp_only), and nothing else."""
    world, _, settings, _ = env
    expected, got = expected_causes(world), report_causes(settings)
    assert got == expected
    drawn = drawn_findings(world)
    for cid, parts in got.items():
        # every synced line of the edited bill grew by DRAWN_AMOUNT_DELTA in the ERP
        assert parts["changed_after_sync"] == -sum(
            a for (c, f, _), a in drawn.items() if c == cid and f == "amount_differs")
        assert parts["unexplained"] == -sum(
            a for (c, f, _), a in drawn.items() if c == cid and f == "erp_only")
    assert all(got[c]["changed_after_sync"] < 0 and got[c]["unexplained"] < 0
               for c in set(world.t["procore_direct_costs"]["connection_id"]))
    assert got["netsuite-2"]["changed_after_sync"] == got["netsuite-2"]["unexplained"] == 0
    assert got["xero-1"]["credit_notes_not_in_jtd"] < 0
    assert got["netsuite-1"]["commitment_invoiced_not_direct_cost"] < 0  # NS-16
    assert got["xero-1"]["commitment_invoiced_not_direct_cost"] == 0  # XE-13
    assert got["acumatica-1"]["commitment_invoiced_not_direct_cost"] == 0  # AC-21
    assert all(v["pending_import"] < 0 for k, v in got.items() if k != "netsuite-2")


def test_r_5_ac_21_acumatica_reported_actual_is_its_budget_lines_actual(env):
    """R-5: Acumatica's own summary (the cost budget line's ActualAmount: released ledger
    cost on the line, not voided) sits beside JTD on its budget line; it differs only where
    the ledger holds AR (revenue) lines on the line, which JTD leaves out (AC-21)."""
    world, _, settings, _ = env
    ac = world.connections("acumatica")["connection_id"].to_list()
    lines = world.cost_lines().filter(pl.col("connection_id").is_in(ac)
                                      & pl.col("status").is_in(["AUTHORISED", "PAID"]))
    per_code = lines.group_by("procore_project_id", "item_code").agg(
        actual=pl.col("signed_amount").sum(),
        revenue=pl.col("signed_amount").filter(pl.col("txn_kind") == "receive").sum())
    budget = world.t["wbs_codes"].filter(pl.col("connection_id").is_in(ac) & pl.col("on_budget"))
    synced = world.t["procore_projects"].filter(pl.col("is_synced"))["project_id"]
    budget = budget.filter(pl.col("project_id").is_in(synced.implode())).join(
        per_code, left_on=["project_id", "flat_code"],
        right_on=["procore_project_id", "item_code"], how="left")
    expected = {(p, w): (cents(a or 0), cents(r or 0)) for p, w, a, r in budget.select(
        "project_id", "flat_code", "actual", "revenue").iter_rows()}
    rpt = accuracy(settings).filter(pl.col("erp_reported_actual").is_not_null())
    got = {(r["project_id"], r["wbs_code"]):
           (r["erp_reported_actual"], r["erp_reported_actual"] - r["erp_job_to_date_costs"])
           for r in rpt.iter_rows(named=True)}
    assert got == expected
    assert set(rpt["erp"]) == {"acumatica"}


def test_c_7_xe_10_r_5_after_advance_new_voids_deletions_and_edits_are_findings(env):
    """After world.advance() and an incremental run: bills voided after their sync are
    voided_after_sync (C-7), the NetSuite check deleted after its sync deleted_after_sync
    (NS-18), spend money edited by 100.00 a line amount_differs, the Xero payment deleted
    a finding if it was imported (XE-10), the direct cost deleted in Procore by hand leaves
    its ERP bill erp_only (or pending if the ERP changed it since the import); R-5's parts
    move with them."""
    world, _, settings, _ = env
    drawn = drawn_findings(world)  # before advance(), which never touches the drawn bills
    changed = world.advance()
    run(settings, log=lambda m: None)
    got = findings(settings)

    voided = removed_in_erp(world, "VOIDED")
    assert {erps(world)[c] for c, _ in voided} == {"xero", "netsuite", "acumatica"}
    assert findings_by_erp_id(got, "voided_after_sync") == voided
    deleted = removed_in_erp(world, "DELETED")
    gone = set(changed["netsuite_transactions_deleted"])
    assert gone and gone <= {t for _, t in deleted}
    assert findings_by_erp_id(got, "deleted_after_sync") == deleted

    # each synced line of the edited spend money grew by 100.00 in the ERP
    procore = procore_lines(world)
    bumped = procore.filter(pl.col("txn_id").is_in(
        changed["spend_changed"] + changed["netsuite_spend_changed"]
        + changed["acumatica_spend_changed"]))
    expected = {(c, t): Decimal(100) * n for c, t, n in bumped.group_by(
        "connection_id", "erp_txn").len().iter_rows()}
    assert expected
    expected |= {(c, t): a for (c, f, t), a in drawn.items() if f == "amount_differs"}
    assert findings_by_erp_id(got, "amount_differs") == expected
    for finding in ("date_differs", "vendor_differs"):
        assert findings_by_erp_id(got, finding) == {
            (c, t): a for (c, f, t), a in drawn.items() if f == finding}

    assert {r[0] for r in of(got, "payment_deleted_after_import").select("erp_id").iter_rows()} \
        == {p for p, _ in _deleted_imported_payments(world)}

    by_hand = world.t["procore_direct_costs"].filter(
        pl.col("direct_cost_id").is_in(changed["direct_costs_deleted"]))
    missing = erp_lines(world).filter(
        pl.col("txn_id").is_in(by_hand["txn_id"].implode()) & pl.col("is_direct_cost")
        & (pl.col("updated_at") <= LAST_IMPORT))
    expected_only = {(c, t): cents(a) for c, t, a in missing.group_by(
        "connection_id", "erp_txn").agg(pl.col("signed_amount").sum()).iter_rows()}
    assert expected_only
    expected_only |= {(c, t): a for (c, f, t), a in drawn.items() if f == "erp_only"}
    assert findings_by_erp_id(got, "erp_only") == expected_only
    assert not of(got, "procore_only").height

    causes = report_causes(settings)
    assert causes == expected_causes(world)
    for erp, key in (("xero", "spend_changed"), ("netsuite", "netsuite_spend_changed"),
                     ("acumatica", "acumatica_spend_changed")):
        cid = world.connections(erp)["connection_id"][0]
        n = bumped.filter(pl.col("txn_id").is_in(changed[key])).height
        edited = sum(a for (c, f, _), a in drawn.items() if c == cid and f == "amount_differs")
        assert causes[cid]["changed_after_sync"] == Decimal(-100) * n - edited
    rpt = accuracy(settings)
    parts = sum(rpt[c] for c in CAUSES)
    assert (parts == rpt["difference"]).all()  # the dbt test, read back from the snapshot
