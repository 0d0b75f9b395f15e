"""Shared extract mechanics against the real sandbox over HTTP: retries honour Retry-After,
truncated bodies and timeouts are retried, pages bound memory, bad config is named."""

from __future__ import annotations

import math
from decimal import Decimal

import polars as pl
import pytest
import requests

from pipelines import config
from pipelines.http import ApiClient, ApiError, CallStats
from pipelines.sandbox.common import Limits
from pipelines.sources import procore, xero
from tests.conftest import settings_for, start_world


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    world, server = start_world(seed=11, size="tiny",
                                limits=Limits(fault_timeout_seconds=2.0, fault_retry_after=3))
    settings = settings_for(server, world, tmp_path_factory.mktemp("mech"))
    yield world, server, settings
    server.stop()


def inject(server, system: str, kind: str, count: int) -> None:
    r = requests.post(f"{server.url}/_sandbox/faults",
                      json={"system": system, "kind": kind, "count": count}, timeout=5)
    r.raise_for_status()


def xero_client(settings, **kw) -> tuple[ApiClient, list[float]]:
    slept: list[float] = []
    conn = settings.active("xero")[0]
    client = ApiClient("xero", f"{conn.erp_base_url}/api.xro/2.0",
                       {"Authorization": "Bearer sandbox-xero-token",
                        "xero-tenant-id": conn.erp_tenant_id},
                       sleep=slept.append, stats=CallStats(), **kw)
    return client, slept


def bills(settings, client, page_size=1000) -> list[list[dict]]:
    return list(xero.read_pages(client, "invoices", xero.ENDPOINTS["invoices"], page_size, None))


def expected_bills(world, settings) -> pl.DataFrame:
    cid = settings.active("xero")[0].id
    return world.t["erp_txns"].filter((pl.col("connection_id") == cid)
                                      & (pl.col("erp_type") == "ACCPAY"))


def test_429_waits_for_retry_after_then_reads_everything(env):
    world, server, settings = env
    inject(server, "xero", "429", 2)
    client, slept = xero_client(settings)
    rows = [r for page in bills(settings, client) for r in page]
    assert slept == [3.0, 3.0]  # the sandbox's Retry-After, not our own backoff
    assert client.stats.retries[("xero", "invoices")] == 2
    assert len(rows) == expected_bills(world, settings).height


def test_procore_429_is_retried_too(env):
    world, server, settings = env
    inject(server, "procore", "429", 1)
    slept: list[float] = []
    client = ApiClient("procore", settings.procore_base_url,
                       {"Authorization": "Bearer sandbox-procore-token"}, sleep=slept.append,
                       stats=CallStats())
    conn = settings.active()[0]
    ids = procore.project_ids(client, conn, page_size=2)
    assert len(slept) == 1 and slept[0] >= 0
    assert sorted(ids) == sorted(world.t["procore_projects"].filter(
        pl.col("company_id") == conn.procore_company_id)["project_id"].to_list())


def test_truncated_body_and_5xx_are_retried(env):
    world, server, settings = env
    inject(server, "xero", "truncate", 1)
    inject(server, "xero", "500", 1)
    client, slept = xero_client(settings)
    rows = [r for page in bills(settings, client) for r in page]
    assert len(slept) == 2
    assert len(rows) == expected_bills(world, settings).height


def test_timeout_is_retried(env):
    world, server, settings = env
    inject(server, "xero", "timeout", 1)
    client, slept = xero_client(settings, timeout=0.5)
    rows = [r for page in bills(settings, client) for r in page]
    assert len(slept) == 1
    assert len(rows) == expected_bills(world, settings).height


def test_persistent_failure_names_system_and_resource(env):
    _, server, settings = env
    inject(server, "xero", "500", 3)
    client, _ = xero_client(settings, max_attempts=3)
    with pytest.raises(ApiError, match=r"xero invoices: HTTP 500.*3 attempts"):
        bills(settings, client)


def test_pages_bound_memory_and_money_stays_decimal(env):
    world, _, settings = env
    client, _ = xero_client(settings)
    pages = bills(settings, client, page_size=10)
    expected = expected_bills(world, settings)
    assert len(pages) == math.ceil(expected.height / 10)
    assert all(len(p) <= 10 for p in pages)
    totals = [r["Total"] for p in pages for r in p]
    assert all(isinstance(t, Decimal) for t in totals)
    assert sum(totals, Decimal(0)) == (Decimal(int(expected["total"].sum())) / 100)


def test_msdate_parsing():
    assert xero.parse_msdate("/Date(1573755038314+0000)/").isoformat() == \
        "2019-11-14T18:10:38.314000+00:00"
    with pytest.raises(ValueError, match="not a Xero date"):
        xero.parse_msdate("2019-11-14")


GOOD = {
    "warehouse": {"path": "wh.duckdb"},
    "procore": {"base_url": "http://127.0.0.1:1/procore"},
    "connections": [{"id": "x", "erp": "xero", "procore_company_id": 1,
                     "erp_base_url": "http://127.0.0.1:1/xero", "erp_tenant_id": "t"}],
}


def test_config_parses_and_names_the_bad_key():
    s = config.parse(GOOD)
    assert s.active("xero")[0].id == "x" and s.page_size == 1000
    bad_cases = [
        ({**GOOD, "connections": []}, r"\[\[connections\]\]"),
        ({**GOOD, "connections": [{**GOOD["connections"][0], "erp": "sage"}]},
         r"connections\[0\]\.erp"),
        ({**GOOD, "connections": [{**GOOD["connections"][0], "procore_company_id": "1"}]},
         r"connections\[0\]\.procore_company_id must be int"),
        ({**GOOD, "connections": GOOD["connections"] * 2}, r"connections\[1\]\.id 'x'"),
        ({**GOOD, "procore": {}}, r"procore\.base_url is missing"),
        # C-1, XE-1: one Procore company ↔ one ERP company, both ways.
        ({**GOOD, "connections": [GOOD["connections"][0],
                                  {**GOOD["connections"][0], "id": "y", "erp_tenant_id": "u"}]},
         r"connections\[1\]\.procore_company_id 1 is already paired by connection 'x' \(C-1\)"),
        ({**GOOD, "connections": [GOOD["connections"][0],
                                  {**GOOD["connections"][0], "id": "y", "procore_company_id": 2}]},
         r"connections\[1\]\.erp_tenant_id 't' is already paired.*XE-1"),
        ({**GOOD, "extract": {"page_size": 5000}}, r"extract\.page_size"),
        ({**GOOD, "extract": {"lag_seconds": -3600}}, r"extract\.lag_seconds must be 0\.\."),
        ({**GOOD, "extract": 5}, r"\[extract\] must be a table"),
        ({**GOOD, "warehouse": {"keep_snapshot": 3}}, r"warehouse: unknown key\(s\) keep_snapshot"),
        ({**GOOD, "warehouse": {"keep_snapshots": 1}}, r"warehouse\.keep_snapshots must be 2"),
        ({**GOOD, "connections": [{**GOOD["connections"][0], "tenant": "t"}]},
         r"connections\[0\]: unknown key\(s\) tenant"),
    ]
    for data, message in bad_cases:
        with pytest.raises(config.ConfigError, match=message):
            config.parse(data)
