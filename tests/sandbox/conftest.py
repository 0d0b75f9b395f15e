"""Fixtures: the sandbox served over real loopback HTTP from the tiny world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from pipelines.sandbox import world as world_mod
from pipelines.sandbox.common import PROCORE_TOKEN, XERO_TOKEN
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World


@pytest.fixture(scope="module")
def world() -> World:
    return world_mod.generate(42, "tiny")


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[SandboxServer]:
    # Module scope: faults, rate counters and advance() stay inside one test module.
    with SandboxServer(world) as srv:
        yield srv


@pytest.fixture(scope="module")
def xero_conn(world: World) -> dict:
    return world.connections("xero").row(0, named=True)


@pytest.fixture(scope="module")
def xero_headers(xero_conn: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {XERO_TOKEN}", "xero-tenant-id": xero_conn["erp_tenant_id"],
            "Accept": "application/json"}


@pytest.fixture(scope="module")
def procore_headers(world: World) -> dict[str, str]:
    company = world.t["connections"]["procore_company_id"][0]
    return {"Authorization": f"Bearer {PROCORE_TOKEN}", "Procore-Company-Id": str(company)}


@pytest.fixture()
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s

