"""dlt source for the Xero Accounting API (one organisation per connection, XE-1).

Reads bills (``Invoices`` of type ACCPAY), spend/receive money (``BankTransactions``),
vendor credits (``CreditNotes``), bill payments, contacts, items and tracking categories.

- Incremental on ``UpdatedDateUTC`` through the ``If-Modified-Since`` header, one cursor per
  tenant, read from the last value minus a lag; rows merge on their Xero id.
- Always paged with the largest ``pageSize`` (1000): Xero returns line items only on paged
  reads. Memory holds one page at a time.
- Voids and deletions arrive as status changes (VOIDED, DELETED) and replace the row.
- Periodic full reads are advised by Xero because some edits do not bump ``UpdatedDateUTC``:
  ``full_refresh=True`` ignores the cursors.

API: https://developer.xero.com/documentation/api/accounting/overview
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import dlt

from pipelines.config import Connection
from pipelines.http import STATS, ApiClient, ApiError
from pipelines.sources.common import Child, KeyedCursor, Shape, page_items

log = logging.getLogger("costbridge.extract")
MSDATE = re.compile(r"/Date\((-?\d+)(?:([+-])(\d{2})(\d{2}))?\)/")


@dataclass(frozen=True)
class Endpoint:
    path: str  # also the plural envelope key
    primary_key: str
    where: str | None = None
    pageable: bool = True
    incremental: bool = True
    children: tuple[Child, ...] = ()
    drop: tuple[str, ...] = ()  # summaries of other resources, read from their own endpoints


def _lines(table: str) -> tuple[Child, ...]:
    return (Child("LineItems", f"{table}__line_items", "LineItemID",
                  (Child("Tracking", f"{table}__line_items__tracking"),)),)


ALLOCATIONS = ("Payments", "CreditNotes", "Prepayments", "Overpayments", "Allocations")
ENDPOINTS: dict[str, Endpoint] = {
    "invoices": Endpoint("Invoices", "InvoiceID", 'Type=="ACCPAY"',
                         children=_lines("invoices"), drop=ALLOCATIONS),
    "bank_transactions": Endpoint("BankTransactions", "BankTransactionID",
                                  children=_lines("bank_transactions")),
    "credit_notes": Endpoint("CreditNotes", "CreditNoteID", 'Type=="ACCPAYCREDIT"',
                             children=_lines("credit_notes"), drop=ALLOCATIONS),
    "payments": Endpoint("Payments", "PaymentID"),
    "contacts": Endpoint("Contacts", "ContactID"),
    # Items are few and read whole (no paging on /Items); replacing drops hard-deleted ones.
    "items": Endpoint("Items", "ItemID", pageable=False, incremental=False),
    "tracking_categories": Endpoint(
        "TrackingCategories", "TrackingCategoryID", pageable=False, incremental=False,
        children=(Child("Options", "tracking_categories__options", "TrackingOptionID"),)),
}


def parse_msdate(value: str) -> datetime:
    """``/Date(1573755038314+0000)/`` → aware UTC datetime (the offset is informational)."""
    m = MSDATE.fullmatch(value)
    if not m:
        raise ValueError(f"not a Xero date: {value!r}")
    return datetime.fromtimestamp(int(m.group(1)) / 1000, tz=UTC)


class XeroTokenMissing(RuntimeError):
    """No access token is configured for Xero."""


def client(conn: Connection, token: str | None = None) -> ApiClient:
    """The authenticated client of one Xero organisation (the extract and the writer share
    it). The token defaults to the secret the source reads, ``sources.xero.access_token``."""
    if token is None:
        token = dlt.secrets.get("sources.xero.access_token")
        if not token:
            raise XeroTokenMissing(
                f"xero connection {conn.id!r}: no access token; set sources.xero.access_token "
                "(env SOURCES__XERO__ACCESS_TOKEN) in .dlt/secrets.toml")
    return _client(conn, str(token))


def _client(conn: Connection, token: str) -> ApiClient:
    # Every Xero number is an amount, quantity or rate: integers are Decimals too, so a page
    # of whole amounts cannot type a money column as an integer.
    return ApiClient("xero", f"{conn.erp_base_url}/api.xro/2.0",
                     {"Authorization": f"Bearer {token}", "xero-tenant-id": conn.erp_tenant_id},
                     parse_int=Decimal)


def read_pages(client: ApiClient, resource: str, ep: Endpoint, page_size: int,
               since: datetime | None) -> Iterator[list[dict]]:
    """Yield the endpoint's records page by page."""
    headers = {"If-Modified-Since": since.strftime("%Y-%m-%dT%H:%M:%S")} if since else None
    # Page in id order: a record modified while we page keeps its place, so no other record
    # shifts across a page boundary unseen, and none is read twice.
    params: dict = {"order": f"{ep.primary_key} ASC"} if ep.pageable else {}
    if ep.where:
        params["where"] = ep.where
    if ep.children:
        params["unitdp"] = 4  # unit amounts to 4 decimals, as entered
    if not ep.pageable:
        body, _ = client.get(ep.path, resource, params=params, headers=headers)
        yield body.get(ep.path, [])
        return
    page = 1
    while True:
        body, _ = client.get(ep.path, resource, headers=headers,
                             params={**params, "page": page, "pageSize": page_size})
        rows = body.get(ep.path, [])
        if rows:
            yield rows
        pagination = body.get("pagination") or {}
        if len(rows) < page_size or page >= int(pagination.get("pageCount", page)):
            return
        page += 1


def _resource_rows(resource: str, connections: list[Connection], token: str, page_size: int,
                   lag_seconds: int, full_refresh: bool) -> Iterator[object]:
    ep = ENDPOINTS[resource]
    shape = Shape(resource, ep.primary_key, ep.children, ep.drop)
    # A full refresh replaces tables whole, so rows deleted at the source go too.
    disposition = "merge" if ep.incremental and not full_refresh else "replace"
    cursor = KeyedCursor(resource, lag_seconds) if ep.incremental else None
    for conn in connections:
        since = None if (full_refresh or cursor is None) else cursor.start(conn.id)
        started, n = datetime.now(UTC), 0
        try:
            for rows in read_pages(_client(conn, token), resource, ep, page_size, since):
                n += len(rows)
                if cursor:
                    for row in rows:
                        if row.get("UpdatedDateUTC"):
                            cursor.observe(conn.id, parse_msdate(row["UpdatedDateUTC"]))
                STATS.add("rows", "xero", resource, len(rows))
                yield from page_items(shape, rows, {"connection_id": conn.id}, disposition)
        except ApiError as exc:
            # 403: this organisation is not (or no longer) connected. A full refresh replaces
            # tables whole, so it must not go on without a tenant: that would drop its rows.
            if exc.status != 403 or full_refresh:
                raise
            _skip(f"xero {conn.id} {resource}: {exc}")
            continue
        log.info("xero %s %s: %d records%s", conn.id, resource, n,
                 f" modified since {since:%Y-%m-%d %H:%M:%S}" if since else "")
        if cursor:
            cursor.commit(conn.id, ceiling=started)


def _skip(why: str) -> None:
    """Leave one scope out of this run, keep its cursor, and say so in the run summary."""
    log.warning("skipped %s", why)
    STATS.skipped.append(why)


@dlt.source(name="xero")
def xero_source(connections: list[Connection], access_token: str = dlt.secrets.value,
                page_size: int = 1000, lag_seconds: int = 300, full_refresh: bool = False):
    """One resource per Xero endpoint, across all Xero connections."""
    for name, ep in ENDPOINTS.items():
        resource = dlt.resource(
            _resource_rows, name=name, primary_key=ep.primary_key,
            write_disposition="merge" if ep.incremental and not full_refresh else "replace",
        )
        yield resource(name, connections, access_token, page_size, lag_seconds, full_refresh)

