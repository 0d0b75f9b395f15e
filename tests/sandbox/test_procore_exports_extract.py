"""The Procore extract's export-side tables, read by the source's own endpoints and shapes
over real loopback HTTP from the tiny world: projects' address and city (AC-7), commitments'
schedule of values, and the commitment payments Procore imported (XE-10, NS-12, AC-17)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from pipelines.http import ApiClient
from pipelines.sandbox.common import PROCORE_TOKEN
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World, cents
from pipelines.sources import procore
from pipelines.sources.common import Shape, flatten_page


@pytest.fixture(scope="module")
def client(server: SandboxServer) -> ApiClient:
    return ApiClient("procore", f"{server.url}/procore",
                     {"Authorization": f"Bearer {PROCORE_TOKEN}"})


def read(client: ApiClient, world: World, resource: str) -> dict[str, list[dict]]:
    """Every connection's (and project's) rows of one resource, as the source flattens them."""
    ep = procore.ENDPOINTS[resource]
    shape = Shape(resource, "id", ep.children, decimals=procore.MONEY)
    tables: dict[str, list[dict]] = {}
    for c in world.connections().iter_rows(named=True):
        company = c["procore_company_id"]
        projects = world.t["procore_projects"].filter(pl.col("connection_id") == c["connection_id"])
        scopes = projects["project_id"].to_list() if ep.per_project else [None]
        for pid in scopes:
            path = ep.path.format(company_id=company, project_id=pid)
            for page in procore.read_pages(client, resource, path, company, 1000, None,
                                           ep.deletable):
                for table, rows in flatten_page(shape, page, {"connection_id": c["connection_id"]}
                                                ).items():
                    tables.setdefault(table, []).extend(rows)
    return tables


def test_ac_7_projects_carry_address_and_city(client, world: World) -> None:
    """AC-7: the address the project export checks for commas arrives as Procore holds it."""
    got = {r["id"]: (r["address"], r["city"]) for r in read(client, world, "projects")["projects"]}
    want = dict(zip(world.t["procore_projects"]["project_id"],
                    zip(world.t["procore_projects"]["address"], world.t["procore_projects"]["city"],
                        strict=True), strict=True))
    assert got == want
    assert any(a and "," in a for a, _ in got.values())


def test_commitment_sov_lines_land_in_their_child_table(client, world: World) -> None:
    tables = read(client, world, "work_order_contracts")
    lines = tables["work_order_contracts__line_items"]
    sov = world.t["procore_commitment_lines"]
    assert len(lines) == sov.height
    want = {r["line_id"]: r for r in sov.iter_rows(named=True)}
    for li in lines:
        w = want[li["id"]]
        assert (li["_root_id"], li["wbs_code__id"], li["wbs_code__flat_code"]) == (
            w["commitment_id"], w["wbs_code_id"], w["flat_code"])
        qty, unit, amount = (Decimal(str(li[k])) for k in ("quantity", "unit_cost", "amount"))
        assert (unit, amount) == (cents(w["unit_cost"]), cents(w["amount"]))
        assert qty * unit == amount


def test_xe_10_ns_12_ac_17_payments_procore_holds(client, world: World) -> None:
    """Each Contract Payment is an ERP payment Procore imported (origin_id), on its invoice
    and commitment, for the ERP's amount and date."""
    rows = read(client, world, "payments")["payments"]
    held = world.t["procore_payments"]
    assert sorted(r["id"] for r in rows) == sorted(held["payment_id"])
    erp = {p: (a, d) for p, a, d in world.t["erp_payments"].select(
        "payment_id", "amount", "payment_date").iter_rows()}
    for r in rows:
        amount, day = erp[r["origin_id"]]
        assert (Decimal(str(r["amount"])), r["date"]) == (cents(amount), day.isoformat())
        h = held.filter(pl.col("payment_id") == r["id"]).row(0, named=True)
        assert (r["contract_id"], r["requisition_id"], r["project_id"]) == (
            h["commitment_id"], h["requisition_id"], h["project_id"])
