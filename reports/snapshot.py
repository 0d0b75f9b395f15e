"""Find and open the published snapshot that reports read."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.publish import MANIFEST, SnapshotNotFound, open_snapshot, resolve, snapshots

PUBLISHED_DIR_ENV = "COSTBRIDGE_PUBLISHED_DIR"
DEFAULT_PUBLISHED_DIR = Path("var/published")

__all__ = ["Snapshot", "SnapshotNotFound", "connect", "current_snapshot", "kept_snapshots",
           "published_dir", "query", "snapshot_by_id"]


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot, as its manifest describes it."""

    published: Path
    snapshot_id: str
    created_at: str
    run_id: str | None
    tables: tuple[str, ...]


def published_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """``$COSTBRIDGE_PUBLISHED_DIR``, else ``var/published`` relative to the working directory."""
    return Path(environ.get(PUBLISHED_DIR_ENV) or DEFAULT_PUBLISHED_DIR).expanduser()


def current_snapshot(published: Path, as_of: str | None = None) -> Snapshot:
    """The snapshot the pointer names (or the one current at ``as_of``).

    Raises ``SnapshotNotFound`` when nothing is published yet.
    """
    path = resolve(published, as_of)
    manifest_path = path / MANIFEST
    if not manifest_path.exists():
        raise SnapshotNotFound(f"snapshot {path.name} in {published} has no {MANIFEST}")
    return _from_manifest(published, json.loads(manifest_path.read_text()))


def _from_manifest(published: Path, manifest: Mapping[str, Any]) -> Snapshot:
    return Snapshot(
        published=published,
        snapshot_id=manifest["snapshot_id"],
        created_at=manifest["created_at"],
        run_id=manifest.get("run_id"),
        tables=tuple(sorted(manifest.get("tables", {}))),
    )


def kept_snapshots(published: Path) -> list[Snapshot]:
    """Every complete snapshot still kept in ``published`` (``keep_snapshots``), newest first."""
    return [_from_manifest(published, m) for m in reversed(snapshots(published))]


def snapshot_by_id(published: Path, snapshot_id: str) -> Snapshot:
    """The kept snapshot ``snapshot_id``; raises ``SnapshotNotFound`` if pruned or unknown."""
    for snap in kept_snapshots(published):
        if snap.snapshot_id == snapshot_id:
            return snap
    raise SnapshotNotFound(f"snapshot {snapshot_id} is not kept in {published}")


def connect(snapshot: Snapshot) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with one view per table of exactly this snapshot.

    Opening by ``created_at`` rather than the pointer means a publish landing in between cannot
    hand us a different snapshot than the one we cache the connection under.
    """
    return open_snapshot(snapshot.published, as_of=snapshot.created_at)


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    """Run one parameterised query and return its rows as a polars DataFrame.

    A cursor per query: one DuckDB connection object must not be used from several threads at
    once, and the app shares a snapshot connection across sessions.
    """
    with con.cursor() as cur:
        return cur.sql(sql, params=dict(params or {})).pl()
