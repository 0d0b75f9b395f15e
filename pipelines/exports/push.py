"""`costbridge push`: send accepted items through the outbox, exactly once (docs/exports.md §8).

Per due outbox row, in order: (a row a dead run left ``sending``, or one that failed before, is
first looked up on the other side by its natural key / idempotency mechanism — ``writer.find`` —
and, if it is there, only recorded) → ``begin_attempt`` (intent) → ``writer.send`` with the row's
idempotency key → write-back of the ERP id onto the Procore item → ``finish_attempt`` (result).
Whatever step a process dies at, a rerun finds the record instead of creating a second one.
Failed rows keep their error and go again on the next push; every attempt is logged per row.

``COSTBRIDGE_CRASH_AT=<point>`` kills the process at that point (tests): ``after_begin``,
``after_send``, ``after_write_back``, ``after_finish``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.config import Connection, Settings
from pipelines.exports.actions import IMPORT_TYPES, connection_of, system_of, writer_for
from pipelines.exports.base import RecordRejected, Writer, parse_document
from pipelines.exports.store import DueRow, OpsStore, OutboxRow
from pipelines.http import ApiError

CRASH_ENV = "COSTBRIDGE_CRASH_AT"
CRASH_POINTS = ("after_begin", "after_send", "after_write_back", "after_finish")


def _crash_point(point: str) -> None:
    if os.environ.get(CRASH_ENV) == point:
        os._exit(97)  # no cleanup, no finally: as abrupt as a kill


@dataclass
class PushSummary:
    sent: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # already on the other side: recorded only
    failed: list[str] = field(default_factory=list)
    planned: list[dict] = field(default_factory=list)  # dry run: the exact calls per row

    @property
    def status(self) -> str:
        if not self.failed:
            return "succeeded"
        return "partial" if self.sent or self.found else "failed"

    def render(self) -> str:
        lines = [f"push: {len(self.sent)} sent, {len(self.found)} found already there, "
                 f"{len(self.failed)} failed"]
        lines += [f"  sent   {s}" for s in self.sent]
        lines += [f"  found  {s}" for s in self.found]
        lines += [f"  FAILED {s}" for s in self.failed]
        return "\n".join(lines)


class _Writers:
    """One writer per (connection, system) for the run, closed at the end."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.open: dict[tuple[str, str], Writer] = {}

    def get(self, connection: Connection, system: str) -> Writer:
        key = (connection.id, system)
        if key not in self.open:
            self.open[key] = writer_for(self.settings, connection, system)
        return self.open[key]

    def close(self) -> None:
        for w in self.open.values():
            w.close()


def push(settings: Settings, store: OpsStore, login: str, connection_id: str | None = None,
         dry_run: bool = False, log: Callable[[str], None] = print) -> PushSummary:
    """Push every due outbox row (of one connection, or all). Only an accounting approver of
    the row's connection may export (C-2): checked per connection before anything is sent."""
    connections = [connection_of(settings, connection_id)] if connection_id else [
        c for c in settings.connections if c.enabled]
    for c in connections:
        store.require_approver(login, c.id)
    due = [d for c in connections for d in store.due(c.id)]
    summary = PushSummary()
    writers = _Writers(settings)
    if dry_run:
        try:
            for d in due:
                summary.planned.append(_plan(writers, settings, d.row))
        finally:
            writers.close()
        return summary
    run_id = store.start_run("push")
    started = time.perf_counter()
    try:
        for i, d in enumerate(due, 1):
            _push_one(store, writers, settings, d, summary)
            if i % 25 == 0 or i == len(due):
                log(f"push: {i}/{len(due)} rows ({time.perf_counter() - started:.1f} s)")
    finally:
        writers.close()
        store.finish_run(run_id, summary.status, {
            "by": login, "sent": len(summary.sent), "found": len(summary.found),
            "failed": summary.failed})
    return summary


def _plan(writers: _Writers, settings: Settings, row: OutboxRow) -> dict:
    """The exact calls of one row: the writer's, with the row's idempotency key, then the
    write-back of the ERP id (not known before the call) onto the Procore item."""
    connection = connection_of(settings, row.connection_id)
    writer = writers.get(connection, system_of(row.item_type, connection))
    document = parse_document(row.payload_json)
    try:
        calls = [c.as_dict() for c in writer.requests(row.item_type, document)]
    except RecordRejected as exc:  # refused before any call (e.g. XE-9 negative invoice)
        calls, refused = [], str(exc)
    else:
        refused = None
    for call in calls:
        call["headers"] = {k: row.idempotency_key if v == "<key>" else v
                           for k, v in call["headers"].items()}
    if row.item_type not in IMPORT_TYPES:
        back = writers.get(connection, "procore").write_back_request(  # type: ignore[attr-defined]
            row.item_type, _procore_id(row), _project_id(document), "<ERP id>")
        if back is not None:
            calls.append(back.as_dict())
    return {"connection_id": row.connection_id, "item_type": row.item_type,
            "item_key": row.item_key, "idempotency_key": row.idempotency_key,
            "calls": calls, **({"refused": refused} if refused else {})}


def _name(row: OutboxRow) -> str:
    return f"{row.connection_id} {row.item_type} {row.item_key}"


def _push_one(store: OpsStore, writers: _Writers, settings: Settings, due: DueRow,
              summary: PushSummary) -> None:
    row = due.row
    connection = connection_of(settings, row.connection_id)
    writer = writers.get(connection, system_of(row.item_type, connection))
    document = parse_document(row.payload_json)
    tried_before = due.open_attempt is not None or row.state == "failed"
    try:
        found = writer.find(row.item_type, document, row.idempotency_key) if tried_before \
            else None
    except ApiError as exc:
        _fail_open(store, due, f"looking the record up failed: {exc}", exc.status)
        summary.failed.append(f"{_name(row)}: {exc}")
        return
    if found:
        attempt_id = due.open_attempt.attempt_id if due.open_attempt else \
            store.begin_attempt(row.outbox_id).attempt_id
        error = _finish_sent(store, writers, connection, row, document, attempt_id, found)
        (summary.failed if error else summary.found).append(f"{_name(row)} -> {error or found}")
        return
    if due.open_attempt is not None:
        store.finish_attempt(due.open_attempt.attempt_id, "abandoned",
                             error="the process stopped mid-attempt and the record is not on "
                                   "the other side: sending again with the same key")
    attempt = store.begin_attempt(row.outbox_id)
    _crash_point("after_begin")
    try:
        erp_id = writer.send(row.item_type, document, row.idempotency_key)
    except RecordRejected as exc:
        store.finish_attempt(attempt.attempt_id, "failed", error=str(exc),
                             http_status=exc.http_status)
        summary.failed.append(f"{_name(row)}: {exc}")
        return
    except ApiError as exc:
        store.finish_attempt(attempt.attempt_id, "failed", error=str(exc),
                             http_status=exc.status)
        summary.failed.append(f"{_name(row)}: {exc}")
        return
    _crash_point("after_send")
    error = _finish_sent(store, writers, connection, row, document, attempt.attempt_id, erp_id)
    (summary.failed if error else summary.sent).append(f"{_name(row)} -> {error or erp_id}")


def _finish_sent(store: OpsStore, writers: _Writers, connection: Connection, row: OutboxRow,
                 document: dict, attempt_id: int, erp_id: str) -> str | None:
    """Write the ERP id back to Procore (exports), then record the row sent. Returns the error
    if the write-back failed: the row is then failed, and its retry finds the ERP record."""
    if row.item_type not in IMPORT_TYPES:
        # The ERP id onto the Procore item, as the vendor's connector does: idempotent.
        procore = writers.get(connection, "procore")
        try:
            procore.write_back(row.item_type, _procore_id(row), _project_id(document),
                               erp_id)  # type: ignore[attr-defined]
        except ApiError as exc:
            error = f"written as {erp_id}, but recording the id in Procore failed: {exc}"
            store.finish_attempt(attempt_id, "failed", error=error, http_status=exc.status)
            return error
    _crash_point("after_write_back")
    store.finish_attempt(attempt_id, "sent", erp_id=erp_id)
    _crash_point("after_finish")
    return None


def _procore_id(row: OutboxRow) -> int:
    return int(row.item_key.split(":", 1)[1])


def _project_id(document: dict) -> int | None:
    """The Procore project of an item's document (§4), None for companies."""
    project = document.get("project")
    if isinstance(project, dict):
        return project.get("project_id")
    return document.get("project_id")


def _fail_open(store: OpsStore, due: DueRow, error: str, status: int | None) -> None:
    if due.open_attempt is not None:
        store.finish_attempt(due.open_attempt.attempt_id, "failed", error=error,
                             http_status=status)
