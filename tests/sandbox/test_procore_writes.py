"""Writes to the Procore sandbox on the wire: sync actions (always 200, per-row errors, keyed by
origin_id), write-back of ERP ids, contract payments, and written records served by the next
read (incremental by updated_at) and kept across world.advance()."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import polars as pl
import pytest
import requests

from pipelines.sandbox import world as world_mod
from pipelines.sandbox.common import PROCORE_TOKEN
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World

API = "/procore/rest/v1.0"


@pytest.fixture(scope="module")
def world() -> World:
    return world_mod.generate(42, "tiny")


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world) as srv:
        yield srv


@pytest.fixture(scope="module")
def company(world: World) -> int:
    return int(world.connections("xero")["procore_company_id"][0])


@pytest.fixture(scope="module")
def hdr(company: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {PROCORE_TOKEN}", "Procore-Company-Id": str(company)}


@pytest.fixture(scope="module")
def project(world: World, company: int) -> dict:
    """A project of the company, two of its WBS codes, a WBS code of another project, and a
    vendor of the company."""
    projects = world.t["procore_projects"].filter(pl.col("company_id") == company)
    pid, other = projects["project_id"][0], projects["project_id"][1]
    wbs = world.t["wbs_codes"].filter(pl.col("project_id") == pid).sort("wbs_code_id")
    foreign = world.t["wbs_codes"].filter(pl.col("project_id") == other)["wbs_code_id"][0]
    vendor = world.t["vendors"].filter(pl.col("in_procore") & (pl.col("connection_id") == "xero-1"))
    return {"id": int(pid), "wbs": wbs["wbs_code_id"].to_list()[:2],
            "flat": wbs["flat_code"].to_list()[:2], "foreign_wbs": int(foreign),
            "vendor_id": int(vendor["procore_vendor_id"][0]), "vendor_name": vendor["name"][0]}


def _stamp(world: World) -> str:
    return world.now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _patch(server: SandboxServer, path: str, hdr: dict, body: object,
           **params: object) -> requests.Response:
    return requests.patch(f"{server.url}{API}/{path}", json=body, headers=hdr, params=params,
                          timeout=10)


def _get(server: SandboxServer, path: str, hdr: dict, **params: object) -> requests.Response:
    return requests.get(f"{server.url}{API}/{path}", headers=hdr, params=params, timeout=10)


def _row(project: dict, origin: str, amounts: tuple[str, str] = ("1234.50", "100.05")) -> dict:
    return {"origin_id": origin, "direct_cost_type": "invoice", "status": "approved",
            "direct_cost_date": "2026-06-01", "invoice_number": f"INV-{origin}",
            "vendor_id": project["vendor_id"], "description": "imported bill",
            "line_items": [
                {"origin_id": f"{origin}-1", "wbs_code_id": project["wbs"][0],
                 "description": "concrete", "quantity": 1, "unit_cost": amounts[0],
                 "amount": amounts[0]},
                {"origin_id": f"{origin}-2", "wbs_code_id": project["wbs"][1],
                 "description": "rebar", "quantity": 3, "unit_cost": "33.35",
                 "amount": amounts[1]}]}


# -- direct costs sync -----------------------------------------------------------------------
def test_direct_cost_sync_creates_an_approved_direct_cost_C5(server, world, hdr,
                                                             project) -> None:
    """C-5: an imported direct cost arrives Approved; its lines carry WBS code, amount and
    origin_id; grand total 1234.50 + 100.05 = 1334.55."""
    before = int(_get(server, f"projects/{project['id']}/direct_costs", hdr).headers["Total"])
    resp = _patch(server, f"projects/{project['id']}/direct_costs/sync", hdr,
                  {"updates": [_row(project, "BILL-C5")]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["errors"] == [] and len(body["entities"]) == 1
    made = body["entities"][0]
    assert made["status"] == "approved" and made["grand_total"] == "1334.55"
    assert made["vendor"] == {"id": project["vendor_id"], "name": project["vendor_name"]}

    listed = _get(server, f"projects/{project['id']}/direct_costs", hdr,
                  **{"filters[origin_id]": "BILL-C5"}).json()
    assert [d["id"] for d in listed] == [made["id"]]
    got = listed[0]
    assert got["updated_at"] == got["created_at"] == _stamp(world)
    assert [(li["id"], li["origin_id"], li["wbs_code"], li["amount"])
            for li in got["line_items"]] == [
        (made["id"] * 1000 + 1, "BILL-C5-1",
         {"id": project["wbs"][0], "flat_code": project["flat"][0]}, "1234.50"),
        (made["id"] * 1000 + 2, "BILL-C5-2",
         {"id": project["wbs"][1], "flat_code": project["flat"][1]}, "100.05")]
    after = int(_get(server, f"projects/{project['id']}/direct_costs", hdr).headers["Total"])
    assert after == before + 1


def test_sync_repeat_by_origin_id_updates_without_duplicate(server, hdr, project) -> None:
    path = f"projects/{project['id']}/direct_costs/sync"
    first = _patch(server, path, hdr, {"updates": [_row(project, "BILL-REPEAT")]}).json()
    total = int(_get(server, f"projects/{project['id']}/direct_costs", hdr).headers["Total"])
    again = _patch(server, path, hdr,
                   {"updates": [_row(project, "BILL-REPEAT", ("1000.00", "0.01"))]}).json()
    assert again["errors"] == []
    assert again["entities"][0]["id"] == first["entities"][0]["id"]
    assert again["entities"][0]["grand_total"] == "1000.01"
    listed = _get(server, f"projects/{project['id']}/direct_costs", hdr,
                  **{"filters[origin_id]": "BILL-REPEAT"}).json()
    assert len(listed) == 1 and listed[0]["grand_total"] == "1000.01"
    assert int(_get(server, f"projects/{project['id']}/direct_costs",
                    hdr).headers["Total"]) == total


def test_sync_answers_200_with_per_row_errors(server, hdr, project) -> None:
    """A WBS code of another project and a missing direct_cost_type are row errors; the good
    row in the same call is still written, and each error echoes the row as sent."""
    foreign = _row(project, "BILL-FOREIGN")
    foreign["line_items"][1]["wbs_code_id"] = project["foreign_wbs"]
    untyped = _row(project, "BILL-UNTYPED")
    del untyped["direct_cost_type"]
    resp = _patch(server, f"projects/{project['id']}/direct_costs/sync", hdr,
                  {"updates": [foreign, untyped, _row(project, "BILL-GOOD")]})
    assert resp.status_code == 200
    body = resp.json()
    assert [e["origin_id"] for e in body["entities"]] == ["BILL-GOOD"]
    errors = {e["origin_id"]: e["errors"] for e in body["errors"]}
    assert errors == {
        "BILL-FOREIGN": {"line_items": [
            f"line 2: WBS code {project['foreign_wbs']} is not on project {project['id']}"]},
        "BILL-UNTYPED": {"direct_cost_type": ["can't be blank"]}}
    assert _get(server, f"projects/{project['id']}/direct_costs", hdr,
                **{"filters[origin_id]": "BILL-FOREIGN"}).json() == []


def test_sync_unknown_project_and_unknown_id_are_row_errors(server, hdr, project) -> None:
    resp = _patch(server, "projects/987654321/direct_costs/sync", hdr,
                  {"updates": [_row(project, "BILL-NOWHERE")]})
    assert resp.status_code == 200
    assert resp.json()["errors"][0]["errors"] == {"project_id": ["project 987654321 not found"]}
    resp = _patch(server, f"projects/{project['id']}/direct_costs/sync", hdr,
                  {"updates": [{"id": 123, "description": "x"}]})
    assert resp.status_code == 200
    assert resp.json() == {"entities": [], "errors": [
        {"id": 123, "description": "x", "errors": {"id": ["123 not found"]}}]}


def test_sync_refuses_other_company_and_bad_token(server, hdr, project) -> None:
    other = dict(hdr, **{"Procore-Company-Id": "4002"})
    path = f"projects/{project['id']}/direct_costs/sync"
    assert _patch(server, path, other, {"updates": []}).status_code == 403
    bad = dict(hdr, Authorization="Bearer nope")
    assert _patch(server, path, bad, {"updates": []}).status_code == 401


# -- vendors ---------------------------------------------------------------------------------
def test_vendor_sync_updates_changed_fields_NS10_AC1(server, world, hdr, company,
                                                     project) -> None:
    """NS-10, AC-1: vendor changes in the ERP update the Procore company (name, address, city,
    phone); an unknown vendor id is a row error."""
    vid = project["vendor_id"]
    resp = _patch(server, "vendors/sync", hdr, {"updates": [
        {"id": vid, "name": "Renamed Ltd", "city": "Nelson", "business_phone": "+64 3 555 0101"},
        {"id": 1, "name": "Ghost"}]}, company_id=company)
    assert resp.status_code == 200
    body = resp.json()
    assert [e["id"] for e in body["entities"]] == [vid]
    assert body["errors"] == [{"id": 1, "name": "Ghost", "errors": {"id": ["1 not found"]}}]
    v = next(r for r in _get(server, "vendors", hdr, company_id=company, per_page=1000).json()
             if r["id"] == vid)
    assert (v["name"], v["city"], v["business_phone"]) == ("Renamed Ltd", "Nelson",
                                                          "+64 3 555 0101")
    assert v["updated_at"] == _stamp(world)


# -- write-back ------------------------------------------------------------------------------
def _write_backs(world: World, company: int, project: dict) -> list[tuple]:
    pid = project["id"]
    commit = world.t["procore_commitments"].filter(pl.col("project_id") == pid)
    req = world.t["procore_requisitions"].filter(pl.col("project_id") == pid)
    return [
        (f"vendors/{project['vendor_id']}", "vendor", {"company_id": company}, "vendors",
         {"company_id": company}, project["vendor_id"]),
        (f"projects/{pid}", "project", {"company_id": company}, "projects",
         {"company_id": company}, pid),
        (f"projects/{pid}/work_breakdown_structure/wbs_codes/{project['wbs'][0]}", "wbs_code",
         {}, f"projects/{pid}/work_breakdown_structure/wbs_codes", {}, project["wbs"][0]),
        (f"work_order_contracts/{commit['commitment_id'][0]}", "work_order_contract",
         {"project_id": pid}, "work_order_contracts", {"project_id": pid},
         int(commit["commitment_id"][0])),
        (f"requisitions/{req['requisition_id'][0]}", "requisition", {"project_id": pid},
         "requisitions", {"project_id": pid}, int(req["requisition_id"][0])),
    ]


def test_write_back_origin_id_seen_by_next_incremental_read(server, world, hdr, company,
                                                             project) -> None:
    """§8 write-back: the PATCH wraps origin_id in the singular key; the next GET filtered on
    updated_at from just before the write sees the record with origin_id set and updated_at
    at the write (the same PATCH after advance() leaves it: see the advance test)."""
    since = (world.now - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for path, key, params, list_path, list_params, rid in _write_backs(world, company, project):
        erp_id = f"ERP-{key}-{rid}"
        resp = _patch(server, path, hdr, {key: {"origin_id": erp_id}}, **params)
        assert resp.status_code == 200, (path, resp.text)
        assert resp.json()["origin_id"] == erp_id
        seen = _get(server, list_path, hdr, per_page=1000,
                    **{"filters[updated_at]": f"{since}...", **list_params}).json()
        hit = [r for r in seen if r["id"] == rid]
        assert len(hit) == 1 and hit[0]["origin_id"] == erp_id, path
        assert hit[0]["updated_at"] == _stamp(world)
        again = _patch(server, path, hdr, {key: {"origin_id": erp_id}}, **params).json()
        assert again["updated_at"] == _stamp(world)


def test_write_back_refusals(server, hdr, company, project) -> None:
    assert _patch(server, "vendors/1", hdr, {"vendor": {"origin_id": "x"}},
                  company_id=company).status_code == 404
    assert _patch(server, f"vendors/{project['vendor_id']}", hdr, {"origin_id": "x"},
                  company_id=company).status_code == 400
    assert _patch(server, f"vendors/{project['vendor_id']}", hdr,
                  {"vendor": {"origin_id": "x"}}, company_id=4002).status_code == 403


def test_updated_at_moves_to_the_write_time_after_advance(server, world, hdr,
                                                           project) -> None:
    """Written records are kept across world.advance() (C-7: the ERP deleting its source does
    not remove them); a later write stamps the new world clock."""
    path = f"projects/{project['id']}/direct_costs"
    made = _patch(server, f"{path}/sync", hdr,
                  {"updates": [_row(project, "BILL-KEEP")]}).json()["entities"][0]
    first = _stamp(world)
    assert requests.post(f"{server.url}/_sandbox/advance", json={"n": 1},
                         timeout=30).status_code == 200
    kept = _get(server, path, hdr, **{"filters[origin_id]": "BILL-KEEP"}).json()
    assert [(d["id"], d["updated_at"]) for d in kept] == [(made["id"], first)]
    moved = _patch(server, f"{path}/sync", hdr, {"updates": [
        {"origin_id": "BILL-KEEP", "description": "edited"}]}).json()["entities"][0]
    assert moved["updated_at"] == _stamp(world) != first
    assert moved["created_at"] == first and moved["grand_total"] == "1334.55"
    # A repeated write-back changes no value, so updated_at stays at the first write.
    vid = project["vendor_id"]
    same = _patch(server, f"vendors/{vid}", hdr, {"vendor": {"origin_id": f"ERP-vendor-{vid}"}},
                  company_id=hdr["Procore-Company-Id"]).json()
    assert same["updated_at"] == first
    changed = _patch(server, f"vendors/{vid}", hdr, {"vendor": {"origin_id": "ERP-NEW"}},
                     company_id=hdr["Procore-Company-Id"]).json()
    assert changed["updated_at"] == _stamp(world)


# -- contract payments -----------------------------------------------------------------------
def test_contract_payment_on_the_commitment_XE10_NS12_AC17(server, world, hdr,
                                                          project) -> None:
    """XE-10 / NS-12 / AC-17: an ERP payment of a synced subcontractor invoice becomes a
    payment on the invoice's commitment (amount, date, invoice #, notes ← reference)."""
    req = world.t["procore_requisitions"].filter(pl.col("project_id") == project["id"]).row(
        0, named=True)
    body = {"project_id": project["id"], "contract_id": req["commitment_id"],
            "contract_payment": {"origin_id": "PAY-1", "requisition_id": req["requisition_id"],
                                 "amount": "2500.10", "date": "2026-06-20",
                                 "invoice_number": req["invoice_number"], "notes": "chq 1"}}
    resp = requests.post(f"{server.url}{API}/contract_payments", json=body, headers=hdr,
                         timeout=10)
    assert resp.status_code == 201, resp.text
    pay = resp.json()
    assert (pay["amount"], pay["date"], pay["contract_id"], pay["notes"]) == (
        "2500.10", "2026-06-20", req["commitment_id"], "chq 1")
    listed = _get(server, "contract_payments", hdr, project_id=project["id"],
                  contract_id=req["commitment_id"], **{"filters[origin_id]": "PAY-1"}).json()
    assert [p["id"] for p in listed] == [pay["id"]]
    upd = _patch(server, f"contract_payments/{pay['id']}", hdr,
                 {"contract_payment": {"amount": "2400"}}, project_id=project["id"])
    assert upd.status_code == 200 and upd.json()["amount"] == "2400.00"


def test_contract_payment_validation_422(server, hdr, project, world) -> None:
    other = world.t["procore_requisitions"].filter(pl.col("project_id") != project["id"])
    commit = world.t["procore_commitments"].filter(pl.col("project_id") == project["id"])
    body = {"project_id": project["id"], "contract_id": int(commit["commitment_id"][0]),
            "contract_payment": {"requisition_id": int(other["requisition_id"][0]),
                                 "date": "2026-06-20"}}
    resp = requests.post(f"{server.url}{API}/contract_payments", json=body, headers=hdr,
                         timeout=10)
    assert resp.status_code == 422
    assert set(resp.json()["errors"]) == {"requisition_id", "amount"}


# -- new world frames ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def framed() -> Iterator[tuple[SandboxServer, World]]:
    """A world carrying the frames the world draws for issue 6, added here by hand so this
    module does not depend on when the world starts drawing them."""
    w = world_mod.generate(42, "tiny")
    commit = w.t["procore_commitments"].row(0, named=True)
    wbs = w.t["wbs_codes"].filter(pl.col("project_id") == commit["project_id"]).row(
        0, named=True)
    req = w.t["procore_requisitions"].row(0, named=True)
    w.t["procore_projects"] = w.t["procore_projects"].with_columns(
        address=pl.lit("1 Quay St"), city=pl.lit("Auckland"))
    w.t["procore_commitment_lines"] = pl.DataFrame({
        "connection_id": [commit["connection_id"]] * 2,
        "commitment_id": [commit["commitment_id"]] * 2,
        "line_id": [7001, 7002], "wbs_code_id": [wbs["wbs_code_id"]] * 2,
        "flat_code": [wbs["flat_code"]] * 2, "description": ["a", "b"],
        "quantity": [2.0, 1.0], "unit_cost": [12_345, 5], "amount": [24_690, 5]})
    ts = w.now - timedelta(days=2)
    w.t["procore_payments"] = pl.DataFrame({
        "connection_id": [req["connection_id"]], "payment_id": [8001],
        "project_id": [req["project_id"]], "requisition_id": [req["requisition_id"]],
        "origin_id": ["ERP-PAY-9"], "amount": [100_001], "payment_date": [ts.date()],
        "reference": ["ref 9"], "created_at": [ts], "updated_at": [ts], "deleted_at": [None]},
        schema_overrides={"deleted_at": pl.Datetime("us", "UTC")})
    with SandboxServer(w) as srv:
        yield srv, w


def test_serves_commitment_lines_payments_and_project_address(framed) -> None:
    srv, w = framed
    commit = w.t["procore_commitments"].row(0, named=True)
    req = w.t["procore_requisitions"].row(0, named=True)
    company = w.t["procore_projects"].filter(pl.col("project_id") == commit["project_id"])[
        "company_id"][0]
    hdr = {"Authorization": f"Bearer {PROCORE_TOKEN}", "Procore-Company-Id": str(company)}
    got = next(c for c in _get(srv, "work_order_contracts", hdr,
                               project_id=commit["project_id"]).json()
               if c["id"] == commit["commitment_id"])
    assert [(li["id"], li["quantity"], li["unit_cost"], li["amount"])
            for li in got["line_items"]] == [(7001, 2.0, "123.45", "246.90"),
                                             (7002, 1.0, "0.05", "0.05")]
    req_company = w.t["procore_projects"].filter(pl.col("project_id") == req["project_id"])[
        "company_id"][0]
    phdr = dict(hdr, **{"Procore-Company-Id": str(req_company)})
    pays = _get(srv, "contract_payments", phdr, project_id=req["project_id"]).json()
    assert [(p["id"], p["contract_id"], p["amount"], p["origin_id"], p["notes"])
            for p in pays] == [(8001, req["commitment_id"], "1000.01", "ERP-PAY-9", "ref 9")]
    proj = _get(srv, "projects", hdr, company_id=company).json()[0]
    assert (proj["address"], proj["city"]) == ("1 Quay St", "Auckland")


def test_two_rows_with_one_origin_id_in_one_call_make_one_record(server, hdr, project) -> None:
    """The second row matches the first row's origin_id: one direct cost, updated in place
    (grand total 10.00 + 0.50 = 10.50, then 20.00 + 0.50 = 20.50)."""
    rows = [_row(project, "BILL-TWICE", ("10.00", "0.50")),
            _row(project, "BILL-TWICE", ("20.00", "0.50"))]
    body = _patch(server, f"projects/{project['id']}/direct_costs/sync", hdr,
                  {"updates": rows}).json()
    assert body["errors"] == []
    assert [e["grand_total"] for e in body["entities"]] == ["10.50", "20.50"]
    assert body["entities"][0]["id"] == body["entities"][1]["id"]
    listed = _get(server, f"projects/{project['id']}/direct_costs", hdr,
                  **{"filters[origin_id]": "BILL-TWICE"}).json()
    assert [d["grand_total"] for d in listed] == ["20.50"]


def test_world_payments_and_commitment_lines_served(server, world, hdr, project) -> None:
    """The world's Procore commitment payments (cents) are served as contract payments with
    two-decimal money strings, and its SOV lines as the commitment's line_items."""
    pays = world.t["procore_payments"].filter(pl.col("project_id") == project["id"])
    if "commitment_id" not in pays.columns:
        pays = pays.join(world.t["procore_requisitions"].select(
            "requisition_id", "commitment_id"), on="requisition_id")
    served = {p["id"]: p for p in _get(server, "contract_payments", hdr, per_page=1000,
                                       project_id=project["id"]).json()}
    assert pays.height > 0
    for r in pays.iter_rows(named=True):
        got = served[r["payment_id"]]
        assert (got["contract_id"], got["requisition_id"], got["origin_id"]) == (
            r["commitment_id"], r["requisition_id"], r["origin_id"])
        assert got["amount"] == f"{r['amount'] // 100}.{r['amount'] % 100:02d}"
    lines = world.t["procore_commitment_lines"].join(
        world.t["procore_commitments"].select("commitment_id", "project_id"),
        on="commitment_id").filter(pl.col("project_id") == project["id"])
    served_lines = {li["id"]: li for c in _get(server, "work_order_contracts", hdr,
                                               project_id=project["id"]).json()
                    for li in c["line_items"]}
    assert set(served_lines) == set(lines["line_id"].to_list())
    for r in lines.iter_rows(named=True):
        assert served_lines[r["line_id"]]["amount"] == (
            f"{r['amount'] // 100}.{r['amount'] % 100:02d}")


# -- CCOs, budget changes, Procore Pay payouts (issue 6) -----------------------------------------
def _company_of(world: World, erp: str) -> tuple[int, dict[str, str]]:
    company = int(world.connections(erp)["procore_company_id"][0])
    return company, {"Authorization": f"Bearer {PROCORE_TOKEN}",
                     "Procore-Company-Id": str(company)}


def test_commitment_change_orders_served_and_written_back_XE8_AC15(server, world) -> None:
    """Each CCO at its project's path with its lines (amounts as Procore money strings, the
    same SOV line twice where drawn, XE-8); PATCH origin_id is seen by the next read."""
    _, hdr = _company_of(world, "xero")
    cco = world.t["procore_change_orders"].filter(pl.col("connection_id") == "xero-1").row(
        1, named=True)
    lines = world.t["procore_change_order_lines"].filter(
        pl.col("change_order_id") == cco["change_order_id"]).sort("line_id")
    path = f"projects/{cco['project_id']}/commitment_change_orders"
    got = {r["id"]: r for r in _get(server, path, hdr).json()}[cco["change_order_id"]]
    assert (got["contract_id"], got["status"], got["origin_id"]) == (
        cco["commitment_id"], "Approved", None)
    assert [(li["id"], li["contract_line_item_id"], li["amount"]) for li in got["line_items"]] \
        == [(r["line_id"], r["commitment_line_id"], f"{r['amount'] / 100:.2f}")
            for r in lines.iter_rows(named=True)]
    assert len({li["contract_line_item_id"] for li in got["line_items"]}) == 1  # changed twice
    body = {"commitment_change_order": {"origin_id": "PO-GUID-1"}}
    r = _patch(server, f"{path}/{cco['change_order_id']}", hdr, body)
    assert r.status_code == 200 and r.json()["origin_id"] == "PO-GUID-1"
    again = _get(server, path, hdr, **{"filters[origin_id]": "PO-GUID-1"}).json()
    assert [x["id"] for x in again] == [cco["change_order_id"]]


def test_budget_changes_served_and_written_back_AC12(server, world) -> None:
    _, hdr = _company_of(world, "acumatica")
    bc = world.t["procore_budget_changes"].row(1, named=True)
    path = f"projects/{bc['project_id']}/budget_changes"
    got = {r["id"]: r for r in _get(server, path, hdr).json()}[bc["budget_change_id"]]
    want = world.t["procore_budget_change_lines"].filter(
        pl.col("budget_change_id") == bc["budget_change_id"])
    assert [li["amount"] for li in got["adjustment_line_items"]] == [
        f"{a / 100:.2f}" for a in want["amount"]]
    assert got["adjustment_line_items"][0]["amount"].startswith("-")  # the drawn reduction
    r = _patch(server, f"{path}/{bc['budget_change_id']}", hdr,
               {"budget_change": {"origin_id": "CO-000001"}})
    assert r.status_code == 200 and r.json()["origin_id"] == "CO-000001"
    r = _patch(server, f"{path}/{bc['budget_change_id']}", hdr, {"budget_change": {}})
    assert r.status_code == 200  # nothing to change: still the record


def test_procore_pay_payouts_served_and_written_back_AC17(server, world) -> None:
    company, hdr = _company_of(world, "acumatica")
    pays = world.t["procore_pay_payments"].sort("payment_id")
    got = _get(server, f"companies/{company}/payments/payouts", hdr).json()
    assert [(p["id"], p["invoice_id"], p["amount"]) for p in got] == [
        (r["payment_id"], r["requisition_id"], f"{r['amount'] / 100:.2f}")
        for r in pays.iter_rows(named=True)]
    first = pays["payment_id"][0]
    r = _patch(server, f"companies/{company}/payments/payouts/{first}", hdr,
               {"payout": {"origin_id": "CHK-000009"}})
    assert r.status_code == 200 and r.json()["origin_id"] == "CHK-000009"
    other, _ = _company_of(world, "xero")
    r = _patch(server, f"companies/{other}/payments/payouts/{first}", hdr,
               {"payout": {"origin_id": "x"}})
    assert r.status_code == 403  # another company's header
