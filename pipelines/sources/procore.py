"""dlt source for the Procore REST API v1.0, one Procore company per connection.

Reads projects, vendors, users and standard cost codes per company, and per project its WBS codes,
budget line items, commitments (work order contracts, with their schedule of values as
``work_order_contracts__line_items``), subcontractor invoices (requisitions), direct costs and
commitment payments.

- Commitment payments (the ERP payments Procore imported onto a commitment's Payments tab,
  XE-10, NS-12, AC-17) are Procore's Contract Payments:
  ``GET /rest/v1.0/contract_payments?project_id={project_id}`` (Procore documents a
  ``contract_id`` per call; the sandbox also lists a whole project without one [U]). Each row:
  ``id, project_id, contract_id, requisition_id, invoice_number, amount, date, notes, status,
  origin_id`` (the ERP payment id), ``created_at, updated_at, deleted_at``. They land in
  ``payments``.
- Commitment change orders (``GET /rest/v1.0/projects/{project_id}/commitment_change_orders``,
  lines in ``commitment_change_orders__line_items``), budget changes
  (``GET /rest/v1.0/projects/{project_id}/budget_changes``, lines in
  ``budget_changes__adjustment_line_items``) and Procore Pay payouts
  (``GET /rest/v1.0/companies/{company_id}/payments/payouts``, in ``pay_payouts``): the items
  exported to the ERP (XE-8, AC-15, AC-12, AC-17), ``origin_id`` set by the write-back.

- Every call carries ``Procore-Company-Id``; paging follows the ``Link`` header's ``next``
  with the largest ``per_page``.
- Incremental on ``updated_at`` via ``filters[updated_at]=<start>...<end>``, one cursor per
  company or project, read from the last value minus a lag; rows merge on ``id``.
- ``filters[include_deleted]=with`` brings deleted records back with ``deleted_at`` set, so a
  deletion replaces the row instead of leaving a stale one.
- Per-project resources read the full project list (one cheap call per page) so unchanged
  projects are still visited for their own changed children.

API: https://developers.procore.com/reference/rest
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dlt
import polars as pl

from pipelines.config import Connection
from pipelines.http import STATS, ApiClient, ApiError
from pipelines.sources.common import Child, KeyedCursor, Shape, page_items

log = logging.getLogger("costbridge.extract")


@dataclass(frozen=True)
class Endpoint:
    path: str  # "{project_id}" is filled per project
    per_project: bool
    deletable: bool = True
    children: tuple[Child, ...] = ()
    columns: tuple[tuple[str, pl.DataType], ...] = ()  # optional fields (Shape.columns)


ENDPOINTS: dict[str, Endpoint] = {
    "projects": Endpoint("rest/v1.0/projects?company_id={company_id}", False),
    "vendors": Endpoint("rest/v1.0/vendors?company_id={company_id}", False, deletable=False),
    # Company users with their ERP Integrations permission (accounting approvers, R-3).
    "users": Endpoint("rest/v1.0/companies/{company_id}/users", False, deletable=False),
    # The company's cost code list (Acumatica imports its list here, AC-3).
    "standard_cost_codes": Endpoint("rest/v1.0/standard_cost_codes?company_id={company_id}",
                                    False, deletable=False),
    "wbs_codes": Endpoint(
        "rest/v1.0/projects/{project_id}/work_breakdown_structure/wbs_codes", True,
        deletable=False, children=(Child("segment_items", "wbs_codes__segment_items"),)),
    "budget_line_items": Endpoint("rest/v1.0/budget_line_items?project_id={project_id}", True,
                                  deletable=False),
    # Each with its schedule of values (SOV lines: wbs_code, quantity, unit_cost, amount).
    "work_order_contracts": Endpoint(
        "rest/v1.0/work_order_contracts?project_id={project_id}", True,
        children=(Child("line_items", "work_order_contracts__line_items", "id"),)),
    "requisitions": Endpoint("rest/v1.0/requisitions?project_id={project_id}", True,
                             deletable=False,
                             children=(Child("line_items", "requisitions__line_items", "id"),)),
    # Direct costs written through the API (imports) carry the vendor's id, the received and
    # payment dates and each line's WBS code id, which generated ones may lack.
    "direct_costs": Endpoint(
        "rest/v1.0/projects/{project_id}/direct_costs", True,
        children=(Child("line_items", "direct_costs__line_items", "id",
                        columns=(("wbs_code__id", pl.Int64),)),),
        columns=(("vendor__id", pl.Int64), ("received_date", pl.Utf8),
                 ("payment_date", pl.Utf8))),
    # Commitment payments imported from the ERP (XE-10, NS-12, AC-17).
    "payments": Endpoint("rest/v1.0/contract_payments?project_id={project_id}", True),
    # Exported to the ERP (issue 6): CCOs (XE-8, AC-15), budget changes (AC-12) and Procore
    # Pay payouts (AC-17), each with its lines; origin_id is the ERP record once exported.
    "commitment_change_orders": Endpoint(
        "rest/v1.0/projects/{project_id}/commitment_change_orders", True,
        children=(Child("line_items", "commitment_change_orders__line_items", "id"),)),
    "budget_changes": Endpoint(
        "rest/v1.0/projects/{project_id}/budget_changes", True,
        children=(Child("adjustment_line_items", "budget_changes__adjustment_line_items",
                        "id"),)),
    "pay_payouts": Endpoint("rest/v1.0/companies/{company_id}/payments/payouts", False),
}


# Ids a page may hold only nulls of (a CCO line that changes no SOV line, or has no code):
# sent as text, so every page of the table has one type; staging casts them back to BIGINT.
NULLABLE_IDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "commitment_change_orders": ("line_items", ("contract_line_item_id", "wbs_code")),
}


def _text_ids(resource: str, rows: list[dict]) -> list[dict]:
    if resource not in NULLABLE_IDS:
        return rows
    field, names = NULLABLE_IDS[resource]
    for row in rows:
        for item in row.get(field) or []:
            for name in names:
                value = item.get(name)
                if isinstance(value, dict):  # a nested reference: its id
                    if value.get("id") is not None:
                        value["id"] = str(value["id"])
                elif value is not None:
                    item[name] = str(value)
    return rows


# Procore money comes as strings ("1234.50") or numbers; either way it lands as DECIMAL.
MONEY = frozenset({"original_budget_amount", "grand_total", "amount", "quantity", "unit_cost",
                   "g702__total_completed_and_stored_to_date", "g702__total_retainage",
                   "g702__current_payment_due"})


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_pages(client: ApiClient, resource: str, path: str, company_id: int, page_size: int,
               since: datetime | None, deletable: bool) -> Iterator[list[dict]]:
    """Yield a list endpoint's records page by page, following ``Link: rel="next"``."""
    params: dict = {"per_page": page_size, "page": 1}
    if since is not None:
        end = datetime.now(UTC) + timedelta(days=1)
        params["filters[updated_at]"] = f"{_iso(since)}...{_iso(end)}"
    if deletable:
        params["filters[include_deleted]"] = "with"
    url: str | None = path
    headers = {"Procore-Company-Id": str(company_id)}
    while url:
        body, resp = client.get(url, resource, params=params, headers=headers)
        if body:
            yield body
        nxt = resp.links.get("next", {}).get("url")
        url, params = (nxt, None) if nxt else (None, None)


def _client(base_url: str, token: str) -> ApiClient:
    return ApiClient("procore", base_url, {"Authorization": f"Bearer {token}"})


def project_ids(client: ApiClient, conn: Connection, page_size: int) -> list[int]:
    path = ENDPOINTS["projects"].path.format(company_id=conn.procore_company_id)
    ids: list[int] = []
    for rows in read_pages(client, "project_list", path, conn.procore_company_id, page_size,
                           None, deletable=False):
        ids += [int(r["id"]) for r in rows]
    return ids


class ProjectIndex:
    """Each company's project ids, listed once per run and shared by the per-project
    resources (which must visit unchanged projects for their own changed children)."""

    def __init__(self, client: ApiClient, page_size: int) -> None:
        self.client, self.page_size = client, page_size
        self._ids: dict[int, list[int]] = {}

    def __call__(self, conn: Connection) -> list[int]:
        if conn.procore_company_id not in self._ids:
            self._ids[conn.procore_company_id] = project_ids(self.client, conn, self.page_size)
        return self._ids[conn.procore_company_id]


def _resource_rows(resource: str, connections: list[Connection], client: ApiClient,
                   projects: ProjectIndex, page_size: int, lag_seconds: int,
                   full_refresh: bool) -> Iterator[object]:
    ep = ENDPOINTS[resource]
    shape = Shape(resource, "id", ep.children, decimals=MONEY, columns=ep.columns)
    cursor = KeyedCursor(resource, lag_seconds)
    for conn in connections:
        company = conn.procore_company_id
        scopes = projects(conn) if ep.per_project else [None]
        n = 0
        for project_id in scopes:
            key = f"{company}/{project_id}" if project_id else str(company)
            since = None if full_refresh else cursor.start(key)
            started = datetime.now(UTC)
            path = ep.path.format(company_id=company, project_id=project_id)
            extra = {"connection_id": conn.id, "company_id": company}
            if project_id:
                extra["project_id"] = project_id
            try:
                for rows in read_pages(client, resource, path, company, page_size, since,
                                       ep.deletable):
                    for row in rows:
                        if row.get("updated_at"):
                            cursor.observe(key, parse_ts(row["updated_at"]))
                    STATS.add("rows", "procore", resource, len(rows))
                    n += len(rows)
                    yield from page_items(shape, _text_ids(resource, rows), extra,
                                          "replace" if full_refresh else "merge")
            except ApiError as exc:
                # One project's tool disabled, or the project deleted since it was listed:
                # skip that scope (its cursor stays) rather than fail every connection.
                if not project_id or exc.status not in (403, 404) or full_refresh:
                    raise  # (a full refresh replaces tables whole: no scope may be missing)
                log.warning("skipped procore %s %s project %s: %s", conn.id, resource,
                            project_id, exc)
                STATS.skipped.append(f"procore {conn.id} {resource} project {project_id}: "
                                     f"HTTP {exc.status}")
                continue
            cursor.commit(key, ceiling=started)
        log.info("procore %s %s: %d records from %d scope(s)", conn.id, resource, n,
                 len(scopes))


@dlt.source(name="procore")
def procore_source(connections: list[Connection], base_url: str,
                   access_token: str = dlt.secrets.value, page_size: int = 1000,
                   lag_seconds: int = 300, full_refresh: bool = False):
    """One resource per Procore endpoint, across the connections' Procore companies."""
    client = _client(base_url, access_token)
    projects = ProjectIndex(client, page_size)
    for name in ENDPOINTS:
        # A full refresh replaces tables whole, so rows deleted at the source go too.
        resource = dlt.resource(_resource_rows, name=name, primary_key="id",
                                write_disposition="replace" if full_refresh else "merge")
        yield resource(name, connections, client, projects, page_size, lag_seconds,
                       full_refresh)
