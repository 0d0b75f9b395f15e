"""dlt source for costbridge's own operational data (``raw_ops``).

- ``connections``: the connections of ``costbridge.toml`` (replaced each run).
- The ops store's tables (``pipelines/exports/store.py`` :data:`TABLES`: users without password
  hashes, roles, decisions, item events, the outbox and its attempts, runs), incremental on each
  table's ``updated_at`` and merged on its primary key. The store is SQLite in WAL mode, read
  here on a read-only connection, so the app and ``costbridge push`` keep writing meanwhile.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt

from pipelines.config import Settings
from pipelines.exports.store import TABLES, OpsStore

PAGE_ROWS = 5000


def _connections(settings: Settings) -> Any:
    rows = [{"connection_id": c.id, "erp": c.erp, "procore_company_id": c.procore_company_id,
             "company_name": c.company_name, "erp_tenant_id": c.erp_tenant_id,
             "tracking_category": c.tracking_category, "retainage_item": c.retainage_item,
             "enabled": c.enabled} for c in settings.connections]
    return dlt.resource(rows, name="connections", primary_key="connection_id",
                        write_disposition="replace")


def _pages(path: Path, table: str, spec: dict, since: str | None) -> Iterator[list[dict]]:
    columns = ", ".join(spec["columns"])
    sql = f"SELECT {columns} FROM {table}"  # noqa: S608 - names come from TABLES, not input
    args: tuple[str, ...] = ()
    if since is not None:
        sql += f" WHERE {spec['cursor']} >= ?"
        args = (since,)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        cur = con.execute(sql + f" ORDER BY {spec['cursor']}", args)
        while rows := cur.fetchmany(PAGE_ROWS):
            yield [dict(r) for r in rows]
    finally:
        con.close()


def _column_types(path: Path, table: str, spec: dict) -> dict[str, dict[str, str]]:
    """dlt column hints from the store's declared types, so a column no row has filled yet
    (a reason, an error) still exists, typed, in raw_ops."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        declared = {r[1]: r[2].upper() for r in con.execute(f"PRAGMA table_info({table})")}
    finally:
        con.close()
    return {c: {"data_type": "bigint" if declared.get(c) == "INTEGER" else "text",
                "nullable": True} for c in spec["columns"]}


def _store_table(path: Path, table: str, spec: dict) -> Any:
    @dlt.resource(name=table, primary_key=list(spec["primary_key"]),
                  write_disposition="merge", columns=_column_types(path, table, spec))
    def rows(  # the incremental default is dlt's documented idiom
        cursor=dlt.sources.incremental(spec["cursor"]),  # noqa: B008
    ) -> Iterator[list[dict]]:
        since = cursor.last_value
        # dlt reads the ISO text back as a timestamp; the store compares ISO text ('T').
        since = since.isoformat() if hasattr(since, "isoformat") else since
        yield from _pages(path, table, spec, since)
    return rows


@dlt.source(name="ops", max_table_nesting=0)
def ops_source(settings: Settings) -> list[Any]:
    path = settings.ops_store_path
    OpsStore(path)  # creates (or migrates) the store, so every table exists to be read
    return [_connections(settings),
            *(_store_table(path, name, spec) for name, spec in TABLES.items())]
