"""The Acumatica side of the world, read back over real HTTP through the contract-based REST
API with a cookie session. Expected values come from the world's own frames (what the
generator drew), never from the sandbox's entity builder."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import polars as pl
import pytest
import requests

from pipelines.sandbox.common import PROCORE_TOKEN
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import AC_COST_TYPES, World, cents

USER = {"name": "sandbox-acumatica", "password": "sandbox-acumatica-password"}


@pytest.fixture(scope="module")
def ac(world: World) -> dict:
    return world.connections("acumatica").row(0, named=True)


class Entities:
    """A minimal client: logs in once, reads an entity whole (unwrapped), logs out."""

    def __init__(self, server: SandboxServer, tenant: str):
        self.base = f"{server.url}/acumatica/{tenant.lower()}/entity"
        self.http = requests.Session()
        r = self.http.post(f"{self.base}/auth/login", json={**USER, "tenant": tenant})
        assert r.status_code == 204, r.text

    def __call__(self, entity: str, expand: str = "") -> list[dict]:
        params = {"$expand": expand} if expand else {}
        r = self.http.get(f"{self.base}/Default/24.200.001/{entity}", params=params, timeout=30)
        assert r.status_code == 200, r.text
        return [_unwrap(e) for e in r.json()]

    def close(self) -> None:
        self.http.post(f"{self.base}/auth/logout")


def _unwrap(e: dict) -> dict:
    out = {}
    for k, v in e.items():
        if isinstance(v, list):
            out[k] = [_unwrap(x) for x in v]
        elif isinstance(v, dict) and set(v) <= {"value", "error"}:
            out[k] = v.get("value")
        elif isinstance(v, dict) and k not in ("custom", "_links", "note"):
            out[k] = _unwrap(v)
        elif not isinstance(v, dict):
            out[k] = v  # meta fields: id, rowNumber
    return out


@pytest.fixture(scope="module")
def get(server: SandboxServer, ac: dict) -> Iterator[Entities]:
    client = Entities(server, ac["erp_tenant_id"])
    yield client
    client.close()


def _mine(world: World, table: str, cid: str) -> pl.DataFrame:
    return world.t[table].filter(pl.col("connection_id") == cid)


def test_ac_3_ac_4_cost_code_list_in_division_form(world, ac, get, server):
    """AC-4: Acumatica `10600.000` is Procore `10-600.000`; AC-3: Procore's company list is
    the imported one, minus the codes added in Acumatica since the last import."""
    codes = {c["CostCodeID"] for c in get("CostCode")}
    procore = {c[:2] + c[3:] for c in _mine(world, "wbs_codes", ac["connection_id"])["cost_code"]}
    assert all(len(c) == 9 and c[5] == "." and "-" not in c for c in codes)
    listed = requests.get(f"{server.url}/procore/rest/v1.0/standard_cost_codes",
                          params={"company_id": ac["procore_company_id"], "per_page": 1000},
                          headers={"Authorization": f"Bearer {PROCORE_TOKEN}",
                                   "Procore-Company-Id": str(ac["procore_company_id"])}).json()
    imported = {r["origin_id"] for r in listed}
    assert {r["code"][:2] + r["code"][3:] for r in listed} == imported
    assert len(codes - imported) == 2, "two codes were added in Acumatica after the import"
    assert procore - codes == {"01990.000"}, "AC-5 is broken on purpose by one project code"


def test_ac_9_sub_job_tasks_are_sub_job_dash_task(world, ac, get):
    tasks = {(t["ProjectID"], t["ProjectTaskID"]) for t in get("ProjectTask")}
    wbs = _mine(world, "wbs_codes", ac["connection_id"]).filter(pl.col("sub_job").is_not_null())
    numbers = dict(zip(world.t["procore_projects"]["project_id"],
                       world.t["procore_projects"]["project_number"], strict=True))
    assert wbs.height > 0
    for r in wbs.iter_rows(named=True):
        assert (numbers[r["project_id"]], f"{r['sub_job']} - {r['task']}") in tasks


def test_ac_21_the_project_ledger_has_four_amount_type_modules(world, ac, get):
    """AP bills and debit adjustments, PR payroll, GL expenses (and AR revenue) post to the
    project ledger; each AP transaction points at its bill; debit adjustments are negative."""
    ledger = get("ProjectTransaction", "Details")
    bills = {(b["Type"], b["ReferenceNbr"]): b for b in get("Bill", "Details")}
    assert {t["Module"] for t in ledger} == {"AP", "PR", "GL", "AR"}
    txns = _mine(world, "erp_txns", ac["connection_id"]).filter(pl.col("posts_to_ledger"))
    assert len(ledger) == txns.height
    for t in ledger:
        if t["Module"] != "AP":
            continue
        bill = bills[(t["OriginalDocType"], t["OriginalDocNbr"])]
        sign = -1 if bill["Type"] == "Debit Adj." else 1
        assert sum(Decimal(str(d["Amount"])) for d in t["Details"]) == sign * sum(
            Decimal(str(d["Amount"])) for d in bill["Details"])
    groups = {d["AccountGroup"] for t in ledger for d in t["Details"]}
    assert groups == set(AC_COST_TYPES) | {"REVENUE"}


def test_ac_21_bills_on_synced_subcontracts(world, ac, get):
    """Bills exported from Procore and bills entered in Acumatica on a synced subcontract
    reference it; bills on Acumatica's own purchase orders reference those."""
    subs = {s["SubcontractNbr"] for s in get("Subcontract")}
    pos = {p["OrderNbr"] for p in get("PurchaseOrder")}
    refs = {(d["POOrderType"], d["POOrderNbr"]) for b in get("Bill", "Details")
            for d in b["Details"] if d.get("POOrderNbr")}
    commits = _mine(world, "procore_commitments", ac["connection_id"])
    assert subs == set(commits.filter(pl.col("erp_commitment_id").is_not_null())["number"])
    assert {n for t, n in refs if t == "Subcontract"} <= subs
    assert {n for t, n in refs if t == "Normal"} <= pos
    assert {t for t, _ in refs} == {"Subcontract", "Normal"}


def test_ac_17_checks_pay_bills_fully_and_partly(world, ac, get):
    pays = _mine(world, "erp_payments", ac["connection_id"])
    checks = get("Check", "Details")
    assert len(checks) == pays.height
    bills = {b["ReferenceNbr"]: b for b in get("Bill")}
    statuses = set()
    for c in checks:
        (d,) = c["Details"]
        statuses.add(bills[d["ReferenceNbr"]]["Status"])
    assert {"Open", "Closed"} <= statuses  # partial payments leave the bill open
    by_id = dict(zip(pays["payment_id"], pays["amount"], strict=True))
    assert {c["id"]: Decimal(str(c["PaymentAmount"])) for c in checks} == {
        k: cents(v) for k, v in by_id.items()}
    # Acumatica voids a released payment instead of deleting it.
    voided = set(pays.filter(pl.col("status") == "DELETED")["payment_id"])
    assert {c["id"] for c in checks if c["Status"] == "Voided"} == voided


def test_ac_1_vendors_edited_in_acumatica_carry_the_acumatica_phone(world, ac, get):
    v = _mine(world, "vendors", ac["connection_id"])
    got = {x["VendorID"]: x["MainContact"]["Phone1"] for x in get("Vendor", "MainContact")}
    assert got == dict(zip(v["contact_id"], v["erp_phone"], strict=True))
    assert set(v["edited_in"].drop_nulls()) == {"erp", "procore"}
