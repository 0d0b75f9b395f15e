"""The Procore sandbox on the wire: Link paging, filters, company access, limits, money."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import polars as pl
import pytest
import requests

from pipelines.sandbox import world as world_mod
from pipelines.sandbox.common import CLIENT_ID, CLIENT_SECRET, XERO_TOKEN, Limits
from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World, cents

API = "/procore/rest/v1.0"


def _get(http: requests.Session, server: SandboxServer, path: str, headers: dict,
         **params: object) -> requests.Response:
    return http.get(f"{server.url}{API}/{path}", headers=headers, params=params, timeout=10)


def _walk(http: requests.Session, first: requests.Response, headers: dict) -> list[dict]:
    """Follow rel="next" from the first page until it is absent."""
    rows, page = [], first
    while True:
        assert page.status_code == 200, page.text
        rows += page.json()
        nxt = page.links.get("next")
        if nxt is None:
            return rows
        page = http.get(nxt["url"], headers=headers, timeout=10)


@pytest.fixture(scope="module")
def company(procore_headers: dict) -> int:
    return int(procore_headers["Procore-Company-Id"])


@pytest.fixture(scope="module")
def busy_project(world: World, company: int) -> int:
    """The company's project with the most direct costs."""
    dc = world.t["procore_direct_costs"].join(
        world.t["procore_projects"].select("project_id", "company_id"),
        left_on="procore_project_id", right_on="project_id")
    top = dc.filter(pl.col("company_id") == company).group_by("procore_project_id").len()
    return int(top.sort("len", descending=True)["procore_project_id"][0])


# -- paging ----------------------------------------------------------------------------------
def test_link_walk_collects_every_row_once(http, server, procore_headers, world,
                                           busy_project) -> None:
    expected = world.t["procore_direct_costs"].filter(
        pl.col("procore_project_id") == busy_project)
    per_page = 7
    first = _get(http, server, f"projects/{busy_project}/direct_costs", procore_headers,
                 per_page=per_page)
    assert first.headers["Total"] == str(expected.height)
    assert first.headers["Per-Page"] == str(per_page)
    assert "prev" not in first.links and {"first", "next", "last"} <= set(first.links)
    assert f"per_page={per_page}" in first.links["next"]["url"]
    assert first.links["next"]["url"].startswith(server.url)
    rows = _walk(http, first, procore_headers)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == expected.height
    assert set(ids) == set(expected["direct_cost_id"])
    last = http.get(first.links["last"]["url"], headers=procore_headers)
    assert "next" not in last.links and "prev" in last.links
    assert len(last.json()) == expected.height - (expected.height - 1) // per_page * per_page


def test_link_keeps_other_params(http, server, procore_headers, company) -> None:
    got = _get(http, server, "projects", procore_headers, company_id=company, per_page=1)
    url = got.links["next"]["url"]
    assert f"company_id={company}" in url and "page=2" in url


def test_per_page_default_and_clamp(http, server, procore_headers, company) -> None:
    assert _get(http, server, "vendors", procore_headers,
                company_id=company).headers["Per-Page"] == "100"
    assert _get(http, server, "vendors", procore_headers, company_id=company,
                per_page=5000).headers["Per-Page"] == "1000"


def test_every_list_endpoint_serves_its_rows(http, server, procore_headers, world, company,
                                             busy_project) -> None:
    t = world.t
    cid = world.t["connections"].filter(pl.col("procore_company_id") == company)[
        "connection_id"][0]
    cases = {
        "companies": ({}, t["connections"].height),
        "projects": ({"company_id": company},
                     t["procore_projects"].filter(pl.col("company_id") == company).height),
        # Procore's companies: the ERP vendors it holds plus those only Procore has.
        "vendors": ({"company_id": company}, t["vendors"].filter(
            (pl.col("connection_id") == cid) & pl.col("in_procore")).height
            + t["procore_only_vendors"].filter(pl.col("connection_id") == cid).height),
        f"projects/{busy_project}/work_breakdown_structure/wbs_codes": (
            {}, t["wbs_codes"].filter(pl.col("project_id") == busy_project).height),
        "budget_line_items": ({"project_id": busy_project},
                              t["wbs_codes"].filter(pl.col("project_id") == busy_project).height),
        "work_order_contracts": ({"project_id": busy_project}, t["procore_commitments"].filter(
            pl.col("project_id") == busy_project).height),
        "requisitions": ({"project_id": busy_project}, t["procore_requisitions"].filter(
            pl.col("project_id") == busy_project).height),
    }
    for path, (params, n) in cases.items():
        got = _get(http, server, path, procore_headers, per_page=1000, **params)
        assert got.status_code == 200, (path, got.text)
        assert len(got.json()) == n == int(got.headers["Total"]), path


# -- filters ---------------------------------------------------------------------------------
def test_updated_at_filter_is_inclusive(http, server, procore_headers, world, company) -> None:
    projects = world.t["procore_projects"].filter(pl.col("company_id") == company)
    stamps = projects["updated_at"].sort()
    lo, hi = stamps[1], stamps[-2]
    expected = set(projects.filter(pl.col("updated_at").is_between(lo, hi))["project_id"])
    rng = f"{lo:%Y-%m-%dT%H:%M:%SZ}...{hi:%Y-%m-%dT%H:%M:%SZ}"
    got = _get(http, server, "projects", procore_headers, company_id=company,
               **{"filters[updated_at]": rng}).json()
    assert {p["id"] for p in got} == expected
    open_end = _get(http, server, "projects", procore_headers, company_id=company,
                    **{"filters[updated_at]": f"{lo + timedelta(seconds=1):%Y-%m-%dT%H:%M:%SZ}..."})
    assert {p["id"] for p in open_end.json()} == set(
        projects.filter(pl.col("updated_at") > lo)["project_id"])
    bad = _get(http, server, "projects", procore_headers, company_id=company,
               **{"filters[updated_at]": "last week"})
    assert bad.status_code == 400


def test_include_deleted(http, procore_headers, company) -> None:
    own = world_mod.generate(42, "tiny")
    projects = own.t["procore_projects"]
    gone = int(projects.filter(pl.col("company_id") == company)["project_id"][0])
    # The world has no Procore deletions; give one project a deleted_at for this test.
    own.t["procore_projects"] = projects.with_columns(
        deleted_at=pl.when(pl.col("project_id") == gone).then(pl.col("updated_at")))
    with SandboxServer(own) as srv:
        def ids(**extra: str) -> set[int]:
            got = _get(http, srv, "projects", procore_headers, company_id=company, **extra)
            return {p["id"] for p in got.json()}
        everything = ids(**{"filters[include_deleted]": "with"})
        assert gone in everything
        assert ids() == everything - {gone}
        only = _get(http, srv, "projects", procore_headers, company_id=company,
                    **{"filters[include_deleted]": "only"}).json()
        assert [p["id"] for p in only] == [gone] and only[0]["deleted_at"].endswith("Z")


# -- access ----------------------------------------------------------------------------------
def test_company_header_required_and_matched(http, server, procore_headers, world, company,
                                             busy_project) -> None:
    other = str(world.t["connections"]["procore_company_id"][1])
    no_header = {"Authorization": procore_headers["Authorization"]}
    foreign = {**procore_headers, "Procore-Company-Id": other}
    for headers in (no_header, foreign):
        for path, params in (("projects", {"company_id": company}),
                             (f"projects/{busy_project}/direct_costs", {}),
                             ("requisitions", {"project_id": busy_project})):
            got = _get(http, server, path, headers, **params)
            assert got.status_code == 403, path
            assert got.json() == {"errors": "You do not have access to this company"}
    assert _get(http, server, "companies", no_header).status_code == 200
    assert _get(http, server, "projects/1/direct_costs", procore_headers).status_code == 404


def test_bad_token_401(http, server, procore_headers, company) -> None:
    for token in ("nope", XERO_TOKEN):
        got = _get(http, server, "projects", {**procore_headers,
                                              "Authorization": f"Bearer {token}"},
                   company_id=company)
        assert got.status_code == 401 and got.json() == {"errors": "401 Unauthorized"}


def test_token_endpoint(http, server, procore_headers, company) -> None:
    url = f"{server.url}/procore/oauth/token"
    got = http.post(url, data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                               "client_secret": CLIENT_SECRET}).json()
    assert got["token_type"] == "Bearer" and got["expires_in"] > 0
    headers = {**procore_headers, "Authorization": f"Bearer {got['access_token']}"}
    assert _get(http, server, "projects", headers, company_id=company).status_code == 200
    assert http.post(url, data={"grant_type": "client_credentials", "client_id": "x",
                                "client_secret": "y"}).status_code == 401


# -- limits and faults -----------------------------------------------------------------------
def test_rate_limit_429(http, world, procore_headers) -> None:
    with SandboxServer(world, limits=Limits(procore_spike_per_10s=2)) as srv:
        seen = [_get(http, srv, "companies", procore_headers) for _ in range(3)]
    assert [r.status_code for r in seen] == [200, 200, 429]
    assert [r.headers["X-Rate-Limit-Remaining"] for r in seen] == ["1", "0", "0"]
    refused = seen[-1]
    assert refused.headers["X-Rate-Limit-Limit"] == "2"
    assert int(refused.headers["X-Rate-Limit-Reset"]) > 0
    assert 1 <= int(refused.headers["Retry-After"]) <= 10


def test_rate_headers_on_every_response(http, server, procore_headers) -> None:
    got = _get(http, server, "companies", procore_headers)
    assert all(h in got.headers for h in
               ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"))


def test_faults(http, server, procore_headers) -> None:
    for kind in ("500", "429", "truncate"):
        http.post(f"{server.url}/_sandbox/faults",
                  json={"system": "procore", "kind": kind, "count": 1}).raise_for_status()
    assert _get(http, server, "companies", procore_headers).status_code == 500
    throttled = _get(http, server, "companies", procore_headers)
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    cut = _get(http, server, "companies", procore_headers)
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.json()
    assert _get(http, server, "companies", procore_headers).status_code == 200


# -- money and shapes ------------------------------------------------------------------------
def test_requisition_money_is_exact_strings(http, server, procore_headers, world) -> None:
    req = world.t["procore_requisitions"].filter(pl.col("is_exported")).row(0, named=True)
    company = world.t["connections"].filter(pl.col("connection_id") == req["connection_id"])[
        "procore_company_id"][0]
    headers = {**procore_headers, "Procore-Company-Id": str(company)}
    got = _get(http, server, "requisitions", headers, project_id=req["project_id"],
               per_page=1000).json()
    one = next(r for r in got if r["id"] == req["requisition_id"])
    lines = world.t["procore_requisition_lines"].filter(
        pl.col("requisition_id") == req["requisition_id"])
    total = int(lines["amount"].sum())
    assert one["g702"]["total_completed_and_stored_to_date"] == str(cents(total))
    assert one["g702"]["total_retainage"] == str(cents(total * req["retainage_pct"] // 100))
    assert sorted(li["amount"] for li in one["line_items"]) == sorted(
        str(cents(a)) for a in lines["amount"])
    txn = world.t["erp_txns"].filter(pl.col("requisition_id") == req["requisition_id"])
    assert one["origin_id"] == txn["txn_id"][0]


def test_direct_cost_lines_match_world(http, server, procore_headers, world,
                                       busy_project) -> None:
    got = _get(http, server, f"projects/{busy_project}/direct_costs", procore_headers,
               per_page=1000).json()
    lines = world.t["procore_direct_cost_lines"].filter(
        pl.col("direct_cost_id").is_in([d["id"] for d in got]))
    served = [li for d in got for li in d["line_items"]]
    assert len(served) == lines.height == len({li["id"] for li in served})
    assert {li["origin_id"] for li in served} == set(lines["line_id"])
    for d in got:
        assert str(cents(sum(cents_of(li["amount"]) for li in d["line_items"]))) == d["grand_total"]
        assert d["updated_at"].endswith("Z") and len(d["direct_cost_date"]) == 10


def cents_of(text: str) -> int:
    whole, _, frac = text.lstrip("-").partition(".")
    value = int(whole) * 100 + int(frac)
    return -value if text.startswith("-") else value


def test_wbs_codes_shape(http, server, procore_headers, busy_project) -> None:
    got = _get(http, server, f"projects/{busy_project}/work_breakdown_structure/wbs_codes",
               procore_headers).json()
    seg = got[0]["segment_items"]
    assert [s["segment_name"] for s in seg] == ["Cost Code", "Cost Type"]
    assert got[0]["flat_code"] == f"{seg[0]['code']}.{seg[1]['code']}"


@pytest.fixture(scope="module", autouse=True)
def _no_leftover_faults(server: SandboxServer) -> Iterator[None]:
    yield
    requests.delete(f"{server.url}/_sandbox/faults", timeout=5)
