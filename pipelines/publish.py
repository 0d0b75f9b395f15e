"""Published snapshots: immutable, dated Parquet copies of marts and reports.

Readers (app, report exports, ad-hoc SQL) open only a published snapshot, never the warehouse
file that dlt and dbt write to, so the dashboard never waits on a running job nor sees
half-built tables (a DuckDB file open for writing cannot be opened by another process).

Layout::

    <published>/<snapshot_id>/<table>.parquet
    <published>/<snapshot_id>/manifest.json
    <published>/CURRENT            # the current snapshot_id; replaced atomically
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

POINTER = "CURRENT"
MANIFEST = "manifest.json"
# Schemas dbt builds the published layer into (see dbt_project.yml).
PUBLISHED_SCHEMAS = ("marts", "reports")


class SnapshotNotFound(LookupError):
    """No published snapshot answers the request."""


def publish(warehouse: Path, published: Path, run_id: str, keep: int = 10,
            only: set[tuple[str, str]] | None = None) -> Path:
    """Copy the tables of the published schemas into a new snapshot and switch the pointer.

    ``only`` names the (schema, table) pairs this build made, so a table left behind by a
    model since removed is not published as if current."""
    stamp = datetime.now(UTC)
    snapshot_id = stamp.strftime("%Y%m%dT%H%M%S%fZ")
    _remove_abandoned(published)
    staging = published / f".{snapshot_id}.tmp"
    staging.mkdir(parents=True, exist_ok=False)
    tables: dict[str, dict] = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ? order by 1, 2", [list(PUBLISHED_SCHEMAS)]).fetchall()
        for schema, name in rows:
            if only is not None and (schema, name) not in only:
                continue
            target = staging / f"{name}.parquet"
            con.execute(f'copy "{schema}"."{name}" to \'{target}\' (format parquet)')
            count = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            tables[name] = {"schema": schema, "rows": count}
    finally:
        con.close()
    manifest = {"snapshot_id": snapshot_id, "created_at": stamp.isoformat(), "run_id": run_id,
                "tables": tables}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
    final = published / snapshot_id
    os.replace(staging, final)
    _switch_pointer(published, snapshot_id)
    prune(published, keep)
    return final


def _remove_abandoned(published: Path, older_than_s: float = 3600) -> None:
    """Half-written snapshots of publishes that crashed (never of one still running)."""
    if not published.exists():
        return
    cutoff = time.time() - older_than_s
    for tmp in published.glob(".*.tmp"):
        if tmp.is_dir() and tmp.stat().st_mtime < cutoff:
            shutil.rmtree(tmp, ignore_errors=True)


def _switch_pointer(published: Path, snapshot_id: str) -> None:
    tmp = published / f".{POINTER}.tmp"
    tmp.write_text(snapshot_id + "\n")
    os.replace(tmp, published / POINTER)


def snapshots(published: Path) -> list[dict]:
    """Manifests of all complete snapshots, oldest first."""
    if not published.exists():
        return []
    out = []
    for d in sorted(p for p in published.iterdir() if p.is_dir() and not p.name.startswith(".")):
        m = d / MANIFEST
        if m.exists():
            out.append(json.loads(m.read_text()))
    return out


def resolve(published: Path, as_of: str | None = None) -> Path:
    """The current snapshot, or the newest one created on or before ``as_of`` (a date or
    ISO timestamp, UTC)."""
    if as_of is None:
        pointer = published / POINTER
        if not pointer.exists():
            raise SnapshotNotFound(f"nothing published yet in {published}: run `costbridge run`")
        return published / pointer.read_text().strip()
    limit = _parse_as_of(as_of)
    chosen = [m for m in snapshots(published) if datetime.fromisoformat(m["created_at"]) <= limit]
    if not chosen:
        raise SnapshotNotFound(f"no snapshot published on or before {as_of} in {published}")
    return published / chosen[-1]["snapshot_id"]


def _parse_as_of(as_of: str) -> datetime:
    try:
        value = datetime.fromisoformat(as_of)
    except ValueError as exc:
        raise ValueError(f"--as-of {as_of!r} is not a date (YYYY-MM-DD) or ISO timestamp") from exc
    if len(as_of) == 10:  # a date means the end of that day
        value = value.replace(hour=23, minute=59, second=59, microsecond=999999)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def open_snapshot(published: Path, as_of: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per published table."""
    snap = resolve(published, as_of)
    con = duckdb.connect(":memory:")
    for f in sorted(snap.glob("*.parquet")):
        con.execute(f"create view \"{f.stem}\" as select * from read_parquet('{f}')")
    return con


def prune(published: Path, keep: int) -> None:
    """Keep the newest ``keep`` snapshots (the current one always stays)."""
    current = (published / POINTER).read_text().strip()
    old = [m["snapshot_id"] for m in snapshots(published)][:-keep] if keep > 0 else []
    for sid in old:
        if sid != current:
            shutil.rmtree(published / sid, ignore_errors=True)


def built_tables(dbt_target: Path) -> set[tuple[str, str]] | None:
    """(schema, table) of the models in the published schemas, from dbt's manifest."""
    manifest = dbt_target / "manifest.json"
    if not manifest.exists():
        return None
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {(n["schema"], n["alias"]) for n in nodes
            if n["resource_type"] == "model" and n["schema"] in PUBLISHED_SCHEMAS}
