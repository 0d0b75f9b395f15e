"""The Procore writer against the live sandbox on loopback: import documents (§4) sent through
Procore's sync actions and contract payments, found again by origin_id, row errors raised as
RecordRejected, and the write-back of ERP ids."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import requests

from pipelines.config import Connection, Settings
from pipelines.exports.base import RecordRejected, WireRequest, parse_document
from pipelines.exports.procore import ProcoreWriter, writer
from pipelines.http import ApiClient, ApiError
from pipelines.sandbox import world as world_mod
from pipelines.sandbox.common import PROCORE_TOKEN
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World


@pytest.fixture(scope="module")
def world() -> World:
    return world_mod.generate(42, "tiny")


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    with SandboxServer(world) as srv:
        yield srv


@pytest.fixture(scope="module")
def conn(world: World) -> Connection:
    c = world.connections("xero").row(0, named=True)
    return Connection(id=c["connection_id"], erp="xero",
                      procore_company_id=int(c["procore_company_id"]),
                      company_name=c["company_name"], erp_base_url="http://unused",
                      erp_tenant_id=c["erp_tenant_id"])


@pytest.fixture(scope="module")
def settings(server: SandboxServer, conn: Connection, tmp_path_factory) -> Settings:
    base = tmp_path_factory.mktemp("procore_writer")
    return Settings(warehouse=base / "w.duckdb", published=base / "pub", keep_snapshots=1,
                    procore_base_url=f"{server.url}/procore", connections=(conn,))


@pytest.fixture()
def pw(settings: Settings, conn: Connection, monkeypatch) -> Iterator[ProcoreWriter]:
    monkeypatch.setenv("SOURCES__PROCORE__ACCESS_TOKEN", PROCORE_TOKEN)
    w = writer(conn, settings)
    yield w
    w.close()


@pytest.fixture(scope="module")
def refs(world: World, conn: Connection) -> dict:
    company = conn.procore_company_id
    projects = world.t["procore_projects"].filter(pl.col("company_id") == company)
    pid, other = int(projects["project_id"][0]), int(projects["project_id"][1])
    wbs = world.t["wbs_codes"].filter(pl.col("project_id") == pid).sort("wbs_code_id")
    vendor = world.t["vendors"].filter(pl.col("in_procore") & pl.col("is_linked")
                                       & (pl.col("connection_id") == conn.id)).row(0, named=True)
    req = world.t["procore_requisitions"].filter(pl.col("project_id") == pid).row(0, named=True)
    commit = world.t["procore_commitments"].filter(pl.col("project_id") == pid).row(
        0, named=True)
    return {"project": pid, "wbs": wbs["wbs_code_id"].to_list()[:2],
            "foreign_wbs": int(world.t["wbs_codes"].filter(
                pl.col("project_id") == other)["wbs_code_id"][0]),
            "vendor": vendor, "requisition": req, "commitment": commit}


def _doc(obj: dict) -> dict:
    """As the push loop reads it: the document text, numbers as Decimal (a float written
    here, e.g. 1500.25, reads back as Decimal('1500.25'))."""
    return parse_document(json.dumps(obj))


def direct_cost(refs: dict, txn: str, amounts: tuple[str, str] = ("1500.25", "99.75"),
                **over: object) -> dict:
    doc = {"erp_txn_id": txn, "project_id": refs["project"], "direct_cost_type": "Invoice",
           "status": "Approved", "vendor_id": int(refs["vendor"]["procore_vendor_id"]),
           "vendor_name": refs["vendor"]["name"], "invoice_number": f"INV-{txn}",
           "description": "imported", "direct_cost_date": "2026-06-02",
           "received_date": "2026-06-03", "total": 0,
           "lines": [{"origin_id": f"{txn}-L1", "wbs_code_id": refs["wbs"][0],
                      "wbs_code": "a", "description": "one", "quantity": 1,
                      "unit_cost": float(amounts[0]), "amount": float(amounts[0])},
                     {"origin_id": f"{txn}-L2", "wbs_code_id": refs["wbs"][1],
                      "wbs_code": "b", "description": "two", "quantity": 1,
                      "unit_cost": float(amounts[1]), "amount": float(amounts[1])}]}
    doc.update(over)
    return _doc(doc)


def _get(server: SandboxServer, path: str, company: int, **params: object) -> requests.Response:
    return requests.get(f"{server.url}/procore/rest/v1.0/{path}", params=params, timeout=10,
                        headers={"Authorization": f"Bearer {PROCORE_TOKEN}",
                                 "Procore-Company-Id": str(company)})


# -- requests: the exact calls, no I/O ------------------------------------------------------
def test_requests_are_the_exact_sync_call_without_io(conn, settings, refs) -> None:
    """C-5: the row goes as approved; money as exact Decimals; the construction and
    requests() make no call (the factory would raise)."""
    def no_io() -> ApiClient:
        raise AssertionError("no I/O expected")
    w = ProcoreWriter(conn, settings.procore_base_url, client_factory=no_io)
    [req] = w.requests("direct_cost", direct_cost(refs, "T-REQ"))
    assert (req.method, req.path, req.headers) == (
        "PATCH", f"rest/v1.0/projects/{refs['project']}/direct_costs/sync",
        {"Procore-Company-Id": str(conn.procore_company_id)})
    [row] = req.body["updates"]
    assert (row["origin_id"], row["direct_cost_type"], row["status"]) == (
        "T-REQ", "invoice", "approved")
    assert [(li["wbs_code_id"], li["amount"]) for li in row["line_items"]] == [
        (refs["wbs"][0], parse_document("1500.25")), (refs["wbs"][1], parse_document("99.75"))]
    assert str(row["line_items"][0]["amount"]) == "1500.25"
    wb = w.write_back_request("company", 11, None, "C-9")
    assert wb == WireRequest("PATCH", "rest/v1.0/vendors/11", {"vendor": {"origin_id": "C-9"}},
                             {"Procore-Company-Id": str(conn.procore_company_id)},
                             {"company_id": str(conn.procore_company_id)})


def test_direct_cost_not_approved_is_rejected_before_sending_C5(conn, settings, refs) -> None:
    w = ProcoreWriter(conn, settings.procore_base_url, client_factory=lambda: None)
    with pytest.raises(RecordRejected, match=r"status 'Draft'.*\(C-5\)"):
        w.send("direct_cost", direct_cost(refs, "T-DRAFT", status="Draft"), "k")


# -- direct costs ----------------------------------------------------------------------------
def test_direct_cost_send_find_round_trip_C5(pw, server, conn, refs) -> None:
    """find is None before; send returns Procore's id; find returns the same id; the direct
    cost is Approved with total 1500.25 + 99.75 = 1600.00; a resend updates it in place."""
    doc = direct_cost(refs, "T-ROUND")
    assert pw.find("direct_cost", doc, "k1") is None
    total = int(_get(server, f"projects/{refs['project']}/direct_costs",
                     conn.procore_company_id).headers["Total"])
    dc_id = pw.send("direct_cost", doc, "k1")
    assert pw.find("direct_cost", doc, "k1") == dc_id
    [got] = _get(server, f"projects/{refs['project']}/direct_costs", conn.procore_company_id,
                 **{"filters[origin_id]": "T-ROUND"}).json()
    assert (str(got["id"]), got["status"], got["grand_total"]) == (dc_id, "approved", "1600.00")
    assert pw.send("direct_cost", direct_cost(refs, "T-ROUND", ("1500.00", "0.25")),
                   "k2") == dc_id
    [again] = _get(server, f"projects/{refs['project']}/direct_costs", conn.procore_company_id,
                   **{"filters[origin_id]": "T-ROUND"}).json()
    assert again["grand_total"] == "1500.25"
    assert int(_get(server, f"projects/{refs['project']}/direct_costs",
                    conn.procore_company_id).headers["Total"]) == total + 1


def test_row_error_of_the_always_200_sync_raises_record_rejected(pw, refs) -> None:
    doc = direct_cost(refs, "T-BAD")
    doc["lines"][1]["wbs_code_id"] = refs["foreign_wbs"]
    with pytest.raises(RecordRejected) as err:
        pw.send("direct_cost", doc, "k")
    assert str(err.value) == (f"procore direct cost T-BAD: line_items: line 2: WBS code "
                              f"{refs['foreign_wbs']} is not on project {refs['project']}")
    assert err.value.http_status == 200
    assert pw.find("direct_cost", doc, "k") is None


def test_server_fault_stays_an_api_error(server, conn, settings, refs) -> None:
    """Only Procore refusing the record is a RecordRejected; a 500 is retried later."""
    client = ApiClient("procore", settings.procore_base_url,
                       {"Authorization": f"Bearer {PROCORE_TOKEN}"}, max_attempts=1)
    w = ProcoreWriter(conn, settings.procore_base_url, client_factory=lambda: client)
    requests.post(f"{server.url}/_sandbox/faults", json={"system": "procore", "kind": "500"},
                  timeout=10)
    with pytest.raises(ApiError) as err:
        w.send("direct_cost", direct_cost(refs, "T-FAULT"), "k")
    assert not isinstance(err.value, RecordRejected) and err.value.status == 500


# -- vendor updates --------------------------------------------------------------------------
def test_vendor_update_send_and_find_NS10_AC1(pw, server, conn, refs) -> None:
    """NS-10 / AC-1: the ERP's vendor changes update the Procore company; find reports the
    vendor only once it holds every change."""
    v = refs["vendor"]
    doc = _doc({"vendor_id": v["procore_vendor_id"], "erp_vendor_ref": v["contact_id"],
                "changes": {"phone": "+64 9 777 0001", "city": "Hamilton"}})
    assert pw.find("vendor_update", doc, "k") is None
    assert pw.send("vendor_update", doc, "k") == str(v["procore_vendor_id"])
    assert pw.find("vendor_update", doc, "k") == str(v["procore_vendor_id"])
    got = next(r for r in _get(server, "vendors", conn.procore_company_id,
                               company_id=conn.procore_company_id, per_page=1000).json()
               if r["id"] == v["procore_vendor_id"])
    assert (got["business_phone"], got["city"], got["name"]) == (
        "+64 9 777 0001", "Hamilton", v["name"])


def test_vendor_update_unknown_vendor_is_rejected(pw) -> None:
    doc = _doc({"vendor_id": 5, "erp_vendor_ref": None, "changes": {"name": "X"}})
    with pytest.raises(RecordRejected, match="procore vendor 5: id: 5 not found"):
        pw.send("vendor_update", doc, "k")


# -- payments --------------------------------------------------------------------------------
def _payment(refs: dict, pid: str, **over: object) -> dict:
    req = refs["requisition"]
    doc = {"erp_payment_id": pid, "project_id": refs["project"],
           "requisition_id": req["requisition_id"], "invoice_number": req["invoice_number"],
           "amount": 812.4, "payment_date": "2026-06-25", "reference": "chq 77",
           "status": "AUTHORISED"}
    return _doc({**doc, **over})


def test_payment_on_the_commitment_round_trip_XE10_NS12_AC17(pw, server, conn, refs) -> None:
    """XE-10 / NS-12 / AC-17: the payment lands on the invoice's commitment (amount, date,
    invoice #, notes ← reference); a resend updates the same payment."""
    doc = _payment(refs, "PAY-77")
    assert pw.find("payment", doc, "k") is None
    pay_id = pw.send("payment", doc, "k")
    assert pw.find("payment", doc, "k") == pay_id
    assert pw.send("payment", _payment(refs, "PAY-77", amount=800), "k2") == pay_id
    rows = _get(server, "contract_payments", conn.procore_company_id,
                project_id=refs["project"],
                contract_id=refs["requisition"]["commitment_id"]).json()
    mine = [r for r in rows if r["origin_id"] == "PAY-77"]
    assert [(str(r["id"]), r["amount"], r["date"], r["notes"], r["requisition_id"])
            for r in mine] == [(pay_id, "800.00", "2026-06-25", "chq 77",
                                refs["requisition"]["requisition_id"])]


def test_payment_rules_C7_AC17(pw, refs) -> None:
    """C-7 / XE-10: a payment deleted in the ERP is not propagated; AC-17: only payments of
    subcontractor invoices are imported."""
    with pytest.raises(RecordRejected, match=r"not propagated.*C-7, XE-10"):
        pw.send("payment", _payment(refs, "PAY-DEL", status="DELETED"), "k")
    with pytest.raises(RecordRejected, match=r"AC-17"):
        pw.send("payment", _payment(refs, "PAY-NOREQ", requisition_id=None), "k")


# -- write-back ------------------------------------------------------------------------------
def test_write_back_origin_id_on_every_exported_item(pw, server, conn, refs, world) -> None:
    """§8: the ERP id lands as origin_id on the vendor, project, WBS code, commitment and
    subcontractor invoice, seen by the next GET; a repeat changes nothing."""
    company, pid = conn.procore_company_id, refs["project"]
    vid, wbs = int(refs["vendor"]["procore_vendor_id"]), refs["wbs"][1]
    cid, rid = refs["commitment"]["commitment_id"], refs["requisition"]["requisition_id"]
    cases = [("company", vid, None, "vendors", {"company_id": company}),
             ("project", pid, pid, "projects", {"company_id": company}),
             ("wbs_code", wbs, pid, f"projects/{pid}/work_breakdown_structure/wbs_codes", {}),
             ("commitment", cid, pid, "work_order_contracts", {"project_id": pid}),
             ("subcontractor_invoice", rid, pid, "requisitions", {"project_id": pid})]
    for item_type, procore_id, project_id, path, params in cases:
        pw.write_back(item_type, procore_id, project_id, f"ERP-{item_type}")
        pw.write_back(item_type, procore_id, project_id, f"ERP-{item_type}")
        rows = _get(server, path, company, per_page=1000, **params).json()
        [hit] = [r for r in rows if r["id"] == procore_id]
        assert hit["origin_id"] == f"ERP-{item_type}", item_type
        assert hit["updated_at"] == world.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    pw.write_back("budget", 1, pid, "x")  # no origin_id on budgets: nothing to send
    with pytest.raises(ValueError, match="no project id"):
        pw.write_back("wbs_code", wbs, None, "x")
    with pytest.raises(ApiError) as err:
        pw.write_back("company", 1, None, "x")
    assert err.value.status == 404


def test_writer_needs_a_token(conn, settings, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SOURCES__PROCORE__ACCESS_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .dlt/secrets.toml here
    w = writer(conn, settings)
    with pytest.raises(ApiError, match="no access token"):
        w.find("direct_cost", {"erp_txn_id": "x", "project_id": 1}, "k")


def test_vendor_update_requests_map_phone_and_skip_empty(conn, settings) -> None:
    """NS-10 / AC-1: only the changed fields go, phone as Procore's business_phone; no change
    means no call; a field the import does not carry is refused."""
    def no_io() -> ApiClient:
        raise AssertionError("no I/O expected")
    w = ProcoreWriter(conn, settings.procore_base_url, client_factory=no_io)
    [req] = w.requests("vendor_update", {"vendor_id": 42, "erp_vendor_ref": "V1",
                                         "changes": {"phone": "+64 1", "name": "N"}})
    assert (req.path, req.params, req.body) == (
        "rest/v1.0/vendors/sync", {"company_id": str(conn.procore_company_id)},
        {"updates": [{"id": 42, "business_phone": "+64 1", "name": "N"}]})
    empty = {"vendor_id": 42, "erp_vendor_ref": "V1", "changes": {}}
    assert w.requests("vendor_update", empty) == []
    assert w.send("vendor_update", empty, "k") == "42"
    with pytest.raises(RecordRejected, match="not fax"):
        w.send("vendor_update", {"vendor_id": 42, "changes": {"fax": "1"}}, "k")
