"""What an approver or a sender does to a queue item, for the app and the CLI alike
(docs/exports.md §5, §9). Roles (C-2) are checked here and again inside the store's write; the
lifecycle (C-3) is worked out from the live ops store, so a decision made a second ago counts even
though the published queue is from the last run.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from typing import Any

from pipelines.config import Connection, Settings
from pipelines.exports.base import WireRequest, Writer, parse_document
from pipelines.exports.store import (
    Decision,
    OpsStore,
    OpsStoreError,
    OutboxRow,
    idempotency_key,
)

IMPORT_TYPES = frozenset({"direct_cost", "vendor_update", "payment"})
# The Procore tool that owns each item type: sending and retrieval need Admin on it (C-2).
TOOLS = {
    "company": "directory", "project": "projects", "wbs_code": "budget", "budget": "budget",
    "budget_change": "budget", "commitment": "commitments", "cco": "commitments",
    "subcontractor_invoice": "invoicing", "procore_pay_payment": "invoicing",
    "direct_cost": "erp_integrations",
    "vendor_update": "erp_integrations", "payment": "erp_integrations",
}
DECIDABLE = ("ready_to_export", "ready_to_import", "ready_to_update")


class ActionRefused(OpsStoreError):
    """The item's state or findings do not allow the action; the message names both."""


@dataclass(frozen=True)
class QueueItem:
    """One ``export_queue`` row as published (docs/exports.md §2)."""

    connection_id: str
    erp: str
    direction: str
    item_type: str
    item_key: str
    label: str
    document: str
    payload_hash: str
    findings: list[dict] = field(default_factory=list)
    is_blocked: bool = False
    state: str = "ready_to_export"
    erp_ref: str | None = None
    is_archived: bool = False
    is_synced: bool = False
    procore_id: int | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> QueueItem:
        names = cls.__dataclass_fields__
        values = {k: v for k, v in row.items() if k in names}
        values["findings"] = list(values.get("findings") or [])
        return cls(**values)

    def describe(self) -> str:
        return f"{self.item_type} {self.item_key} ({self.label}) on {self.connection_id}"


def open_store(settings: Settings) -> OpsStore:
    return OpsStore(settings.ops_store_path)


def live_state(store: OpsStore, item: QueueItem) -> str:
    """§5 on the live store."""
    key = (item.connection_id, item.item_type, item.item_key)
    if item.direction == "import" and item.is_synced:
        # Procore holds it as the ERP has it now: an import's document changes once done
        # (a vendor update has nothing left to change), so no hash comparison applies.
        return "synced"
    rows = store.outbox_rows(*key)
    sent = [r for r in rows if r.state == "sent"]
    current = [r for r in rows if r.payload_hash == item.payload_hash]
    if sent and sent[-1].payload_hash == item.payload_hash:
        return "synced"
    decisions, events = store.decisions(*key), store.events(*key)
    cancelled = bool(current and decisions and decisions[-1].decision == "reject"
                     and decisions[-1].decision_id > current[-1].decision_id)
    if current and current[-1].state == "failed" and not cancelled:
        return "failed_to_export"
    if current and current[-1].state in ("pending", "sending"):
        return "accepted"
    latest_decision = decisions[-1] if decisions else None
    latest_event = events[-1] if events else None
    if latest_event and (latest_decision is None or latest_event.at > latest_decision.decided_at):
        if latest_event.event == "retrieve":
            return "retrieved"
        return _waiting(item, sent)
    if latest_decision and latest_decision.payload_hash == item.payload_hash:
        return "accepted" if latest_decision.decision == "accept" else "rejected"
    if sent:
        return "ready_to_update"
    if item.is_synced or (item.direction == "export" and item.erp_ref):
        return "synced"  # synced by the vendor's connector: no sent row of ours to compare
    if item.is_archived:
        return "archived"
    return _waiting(item, sent)


def _waiting(item: QueueItem, sent: list[OutboxRow]) -> str:
    if sent:
        return "ready_to_update"
    return "ready_to_import" if item.direction == "import" else "ready_to_export"


def _require_state(store: OpsStore, item: QueueItem, allowed: tuple[str, ...],
                   action: str) -> str:
    state = live_state(store, item)
    if state not in allowed:
        raise ActionRefused(f"cannot {action} {item.describe()}: it is {state} "
                            f"(allowed: {', '.join(allowed)}; C-3)")
    return state


def accept(store: OpsStore, login: str, item: QueueItem) -> OutboxRow:
    """Accept the exact document and queue it for `costbridge push` (C-2, C-3)."""
    store.require_approver(login, item.connection_id)
    _require_state(store, item, DECIDABLE, "accept")
    if item.is_blocked:
        rules = sorted({f["rule_id"] for f in item.findings if f.get("severity") == "error"})
        raise ActionRefused(f"cannot accept {item.describe()}: preflight errors under "
                            f"{', '.join(rules)} must be fixed at the source first")
    return store.accept_and_enqueue(login, item.connection_id, item.item_type, item.item_key,
                                    item.document)


def reject(store: OpsStore, login: str, item: QueueItem, reason: str) -> Decision:
    """Reject with a reason: the item returns to its tool, editable (C-3). Rejecting a failed
    export cancels it: the outbox no longer retries it."""
    store.require_approver(login, item.connection_id)
    _require_state(store, item, (*DECIDABLE, "failed_to_export"), "reject")
    return store.reject(login, item.connection_id, item.item_type, item.item_key,
                        item.payload_hash, reason)


def retrieve(store: OpsStore, login: str, item: QueueItem) -> None:
    """Pull an item back before anyone decided on it (C-3); Admin on its tool (C-2)."""
    store.require_tool_admin(login, item.connection_id, TOOLS[item.item_type])
    _require_state(store, item, ("ready_to_export", "ready_to_update"), "retrieve")
    store.record_event(login, item.connection_id, item.item_type, item.item_key,
                       item.payload_hash, "retrieve", TOOLS[item.item_type])


def send_for_acceptance(store: OpsStore, login: str, item: QueueItem) -> None:
    """Send a retrieved or rejected item to the queue again; Admin on its tool (C-2, C-3)."""
    store.require_tool_admin(login, item.connection_id, TOOLS[item.item_type])
    _require_state(store, item, ("retrieved", "rejected"), "send for acceptance")
    store.record_event(login, item.connection_id, item.item_type, item.item_key,
                       item.payload_hash, "send", TOOLS[item.item_type])


def resend(store: OpsStore, login: str, item: QueueItem) -> OutboxRow:
    """A failed export goes out again on the next push, with the same idempotency key (C-3)."""
    store.require_approver(login, item.connection_id)
    _require_state(store, item, ("failed_to_export",), "resend")
    rows = store.outbox_rows(item.connection_id, item.item_type, item.item_key)
    return [r for r in rows if r.payload_hash == item.payload_hash][-1]


def system_of(item_type: str, connection: Connection) -> str:
    """Imports are written to Procore, exports to the connection's ERP."""
    return "procore" if item_type in IMPORT_TYPES else connection.erp


def writer_for(settings: Settings, connection: Connection, system: str) -> Writer:
    module = importlib.import_module(f"pipelines.exports.{system}")
    return module.writer(connection, settings)


def connection_of(settings: Settings, connection_id: str) -> Connection:
    for c in settings.connections:
        if c.id == connection_id:
            return c
    raise OpsStoreError(f"connection {connection_id!r} is not in {settings.source or 'the config'}")


def wire_requests(settings: Settings, item: QueueItem) -> list[WireRequest]:
    """The exact calls the push would make for this item (a dry run: no I/O)."""
    connection = connection_of(settings, item.connection_id)
    writer = writer_for(settings, connection, system_of(item.item_type, connection))
    key = idempotency_key(item.connection_id, item.item_type, item.item_key, item.payload_hash)
    try:
        calls = writer.requests(item.item_type, parse_document(item.document))
    finally:
        writer.close()
    # the key the outbox will give this exact document (deterministic from its hash)
    return [replace(c, headers={k: key if v == "<key>" else v for k, v in c.headers.items()})
            for c in calls]
