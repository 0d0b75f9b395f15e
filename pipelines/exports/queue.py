"""The published ``export_queue`` as :class:`QueueItem` s, for the CLI and the push."""

from __future__ import annotations

from pathlib import Path

from pipelines.config import Settings
from pipelines.exports.actions import QueueItem
from pipelines.exports.store import OpsStore
from pipelines.exports.users import load_users_file

QUEUE_TABLE = "export_queue"


class QueueUnavailable(LookupError):
    """No published snapshot holds the export queue yet."""


def published_items(settings: Settings, connection_id: str | None = None,
                    item_keys: list[str] | None = None) -> list[QueueItem]:
    """Queue rows of the current published snapshot, optionally of one connection / keys."""
    from reports.snapshot import connect, current_snapshot

    try:
        snap = current_snapshot(settings.published)
    except LookupError as exc:
        raise QueueUnavailable(f"nothing is published under {settings.published} yet: run "
                               "`costbridge run` first") from exc
    if QUEUE_TABLE not in snap.tables:
        raise QueueUnavailable(f"snapshot {snap.snapshot_id} has no {QUEUE_TABLE}: run "
                               "`costbridge run` to build it")
    con = connect(snap)
    try:
        sql, params = f"select * from {QUEUE_TABLE} where true", []
        if connection_id:
            sql += " and connection_id = ?"
            params.append(connection_id)
        if item_keys:
            sql += f" and item_key in ({', '.join('?' for _ in item_keys)})"
            params += item_keys
        cur = con.execute(sql + " order by connection_id, item_type, item_key", params)
        names = [d[0] for d in cur.description]
        return [QueueItem.from_row(dict(zip(names, row, strict=True))) for row in cur.fetchall()]
    finally:
        con.close()


def store_with_users(settings: Settings) -> OpsStore:
    """The ops store, with the users file (if configured) loaded into it first."""
    store = OpsStore(settings.ops_store_path)
    users: Path | None = settings.users_file
    if users is not None and users.exists():
        load_users_file(users, store)
    return store
