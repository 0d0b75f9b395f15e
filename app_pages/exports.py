"""Exports workspace: the approver's queue of items crossing between Procore and the ERPs
(docs/exports.md). Filters in the URL (``?connection=…&direction=…&item_type=…&state=…``,
``&item=<connection>/<item_key>`` for the item shown), counts per live state, the queue, and
for one item its preflight findings, document, dry run, changes since last sent and the
actions the signed-in user's role allows (C-2, C-3). Queries live in ``reports.exports``.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from app_pages import _auth, _data
from pipelines.config import Settings
from pipelines.exports import actions
from pipelines.exports.actions import QueueItem
from pipelines.exports.store import OpsStore, OpsStoreError, User
from reports import exports
from reports.connections import ERP_NAMES, connections

FLASH_KEY = "exports_flash"
STATE_COLORS = {"ready_to_export": "blue", "ready_to_import": "blue", "ready_to_update": "orange",
                "failed_to_export": "red", "synced": "green", "archived": "gray",
                "accepted": "violet", "rejected": "red", "retrieved": "gray"}
APPROVER_RULE = ("accepting, rejecting and resending need Standard or Admin on ERP Integrations "
                 "and Can Push to Accounting (C-2)")


def _state_label(state: str) -> str:
    return exports.STATES.get(state, state)


def _filters(snap: Any) -> tuple[str | None, str | None, str | None, Any]:
    """Connection, direction and item type pickers; returns them and the slot for the state
    picker (its options need the live states)."""
    options = _data.run(exports.filter_options, snap)
    conns = _data.run(connections, snap)
    labels = dict(zip(conns["connection_id"], conns["label"], strict=True))
    slots = st.columns(4)
    with slots[0]:
        connection = _data.pick("Connection", options["connection_id"], "connection", labels,
                                everything="All connections", key="exports:connection")
    with slots[1]:
        direction = _data.pick("Direction", options["direction"], "direction",
                               exports.DIRECTIONS, everything="Both directions",
                               key="exports:direction")
    with slots[2]:
        item_type = _data.pick("Item type", options["item_type"], "item_type",
                               exports.ITEM_TYPES, everything="All item types",
                               key="exports:item_type")
    return connection, direction, item_type, slots[3]


def _counts(counts: dict[str, int]) -> None:
    row = st.container(horizontal=True, gap="small")
    for state, n in counts.items():
        row.metric(_state_label(state), f"{n:,}", border=True, width="content")


def _table(frame: pl.DataFrame) -> None:
    shown = frame.with_columns(
        pl.col("erp").replace(ERP_NAMES),
        pl.col("item_type").replace(exports.ITEM_TYPES),
        pl.col("live_state").replace(exports.STATES),
    ).with_columns(pl.col(pl.String).fill_null(""))
    st.dataframe(
        shown, hide_index=True,
        column_order=["label", "connection_id", "erp", "direction", "item_type", "amount",
                      "live_state", "findings_summary", "is_blocked", "erp_ref"],
        column_config={
            "label": st.column_config.TextColumn("Item"),
            "connection_id": st.column_config.TextColumn("Connection"),
            "erp": st.column_config.TextColumn("ERP"),
            "direction": st.column_config.TextColumn("Direction"),
            "item_type": st.column_config.TextColumn("Type"),
            "amount": _data.money_column("Amount"),
            "live_state": st.column_config.TextColumn("State"),
            "findings_summary": st.column_config.TextColumn("Findings"),
            "is_blocked": st.column_config.CheckboxColumn("Blocked"),
            "erp_ref": st.column_config.TextColumn("ERP id"),
        },
    )


def _findings(item: QueueItem) -> None:
    if not item.findings:
        st.success("No preflight findings.", icon=":material/check_circle:")
        return
    st.table(pl.DataFrame(item.findings, schema={
        "rule_id": pl.String, "severity": pl.String, "code": pl.String, "message": pl.String})
        .select(pl.col("rule_id").alias("Rule"), pl.col("severity").alias("Severity"),
                pl.col("code").alias("Code"), pl.col("message").alias("Message")))
    if item.is_blocked:
        st.error(f"Blocked by preflight errors ({', '.join(_error_rules(item))}): fix them at "
                 "the source; it cannot be accepted until then.", icon=":material/block:")


def _error_rules(item: QueueItem) -> list[str]:
    return sorted({f["rule_id"] for f in item.findings if f.get("severity") == "error"})


# -- actions -----------------------------------------------------------------------------------


def _why_not(user: User, item: QueueItem, state: str, store: OpsStore) -> dict[str, str | None]:
    """Per action, why this user cannot take it now (None: allowed). C-2 roles, C-3 states."""
    approver = store.is_accounting_approver(user.login, item.connection_id)
    tool = actions.TOOLS.get(item.item_type, "erp_integrations")
    admin = store.is_tool_admin(user.login, item.connection_id, tool)
    not_approver = (f"{user.login} is not an accounting approver on {item.connection_id}: "
                    f"{APPROVER_RULE}.")
    not_admin = (f"{user.login} is not Admin on the {tool} tool of {item.connection_id}: "
                 "sending and retrieving need Admin on the item's tool (C-2).")
    label = _state_label(state)
    decidable = state in actions.DECIDABLE
    why: dict[str, str | None] = {
        "accept": not_approver if not approver else (
            f"blocked by preflight errors ({', '.join(_error_rules(item))}) (C-3)."
            if item.is_blocked else None if decidable else
            f"it is {label}: only items ready to export, import or update are decided (C-3)."),
        "reject": not_approver if not approver else
            None if decidable or state == "failed_to_export" else
            f"it is {label}: only items ready to export, import or update, or a failed export "
            "(cancelling it), are rejected (C-3).",
        "resend": not_approver if not approver else None if state == "failed_to_export" else
            f"it is {label}: only a failed export is resent (C-3).",
        "retrieve": not_admin if not admin else
            None if state in ("ready_to_export", "ready_to_update") else
            f"it is {label}: an item is retrieved only before a decision (C-3).",
        "send": not_admin if not admin else None if state in ("retrieved", "rejected") else
            f"it is {label}: only a retrieved or rejected item is sent again (C-3).",
    }
    return why


def _run(action: str, fn: Any, *args: Any) -> None:
    """Call an action; on success keep its outcome for the rerun, else show the refusal."""
    try:
        outcome = fn(*args)
    except OpsStoreError as exc:  # PermissionDenied and ActionRefused name the rule
        st.error(f"{action} refused: {exc}", icon=":material/block:")
        return
    st.session_state[FLASH_KEY] = outcome
    st.rerun()


def _actions(store: OpsStore, user: User, item: QueueItem, state: str) -> None:
    why = _why_not(user, item, state, store)
    key = f"{item.connection_id}/{item.item_key}"
    row = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
    reason = row.text_input("Reason for rejecting", key=f"reason:{key}",
                            disabled=why["reject"] is not None,
                            placeholder="What the item's owner must fix")
    buttons = {
        "accept": ("Accept", "primary", ":material/check:"),
        "reject": ("Reject", "secondary", ":material/undo:"),
        "resend": ("Resend", "secondary", ":material/replay:"),
        "retrieve": ("Retrieve", "secondary", ":material/move_up:"),
        "send": ("Send for acceptance", "secondary", ":material/send:"),
    }
    clicked = None
    for name, (label, kind, icon) in buttons.items():
        if row.button(label, key=f"{name}:{key}", type=kind, icon=icon,
                      disabled=why[name] is not None, help=why[name]):
            clicked = name
    reasons: dict[str, list[str]] = {}  # one line per reason, naming every action it stops
    for name, text in why.items():
        if text is not None:
            reasons.setdefault(text, []).append(buttons[name][0])
    for text, names in reasons.items():
        st.caption(f"**{', '.join(names)}** unavailable: {text}")
    login = user.login
    if clicked == "accept":
        _run("Accept", lambda: f"Accepted {item.label}: queued for `costbridge push` "
             f"(outbox row {actions.accept(store, login, item).outbox_id}).")
    elif clicked == "reject":
        _run("Reject", lambda: f"Rejected {item.label}: returned to its tool with the reason "
             f"“{actions.reject(store, login, item, reason).reason}”.")
    elif clicked == "resend":
        _run("Resend", lambda: f"{item.label} will be sent again by the next `costbridge push` "
             f"(outbox row {actions.resend(store, login, item).outbox_id}).")
    elif clicked == "retrieve":
        _run("Retrieve", lambda: actions.retrieve(store, login, item)
             or f"Retrieved {item.label}: back in its tool, editable.")
    elif clicked == "send":
        _run("Send for acceptance", lambda: actions.send_for_acceptance(store, login, item)
             or f"Sent {item.label} for acceptance again.")


# -- document, dry run, changes ----------------------------------------------------------------


def _dry_run(settings: Settings, item: QueueItem) -> None:
    st.caption("The exact calls `costbridge push` would make for this document (dry run: "
               "nothing is sent; credentials are added at send time).")
    try:
        requests = actions.wire_requests(settings, item)
    except Exception as exc:  # noqa: BLE001 - a writer's refusal must not take the page down
        st.warning(f"No dry run for this item: {type(exc).__name__}: {exc}")
        return
    for i, req in enumerate(requests, 1):
        query = "&".join(f"{k}={v}" for k, v in req.params.items())
        st.markdown(f"**{i}.** `{req.method} {req.path}{'?' + query if query else ''}`")
        if req.headers:
            st.code("\n".join(f"{k}: {v}" for k, v in req.headers.items()), language="http")
        if req.body is not None:
            st.code(exports.pretty(req.body), language="json")


def _changes(store: OpsStore, item: QueueItem) -> None:
    sent = exports.last_sent_payload(store, item.connection_id, item.item_type, item.item_key)
    if sent is None:
        st.info("No document of ours was sent for this item (synced by the vendor's "
                "connector): nothing to compare.")
        return
    diff = exports.document_diff(sent, item.document)
    if not diff:
        st.info("The current document has the same values as the one last sent.")
        return
    st.caption("Fields that changed since the document was last sent (C-3: the change needs "
               "a new acceptance).")
    st.table(pl.DataFrame(diff, schema={"field": pl.String, "sent": pl.String,
                                       "current": pl.String}).fill_null("(absent)")
             .rename({"field": "Field", "sent": "Last sent", "current": "Current"}))


def _failure(store: OpsStore, item: QueueItem) -> None:
    """The live outbox row of this document: its last error and how many attempts so far."""
    rows = [r for r in store.outbox_rows(item.connection_id, item.item_type, item.item_key)
            if r.payload_hash == item.payload_hash]
    if not rows:
        return
    tries = len(store.attempts(rows[-1].outbox_id))
    st.error(f"Export failed after {tries} attempt{'s' if tries != 1 else ''}: "
             f"{rows[-1].last_error}", icon=":material/error:")


def _detail(settings: Settings, store: OpsStore, user: User, item: QueueItem, state: str,
            row: dict[str, Any]) -> None:
    st.subheader(item.label)
    line = st.container(horizontal=True, gap="small")
    line.badge(_state_label(state), color=STATE_COLORS.get(state, "gray"))
    line.badge(exports.ITEM_TYPES.get(item.item_type, item.item_type), color="gray")
    line.badge(f"{ERP_NAMES.get(item.erp, item.erp)} · {item.connection_id}", color="gray")
    if item.erp_ref:
        line.badge(f"ERP id {item.erp_ref}", color="green")
    if state == "failed_to_export":
        _failure(store, item)
    if row.get("decision_reason") and state == "rejected":
        st.warning(f"Rejected by {row['decided_by']}: {row['decision_reason']}")
    st.markdown("**Preflight findings**")
    _findings(item)
    _actions(store, user, item, state)
    tabs = ["Document", "Dry run"] + (["Changes since last sent"]
                                      if state == "ready_to_update" else [])
    shown = st.tabs(tabs)
    with shown[0]:
        st.caption(f"payload_hash `{item.payload_hash}`: a decision is bound to exactly this "
                   "text (C-3).")
        st.code(exports.pretty(exports.parse(item.document)), language="json")
    with shown[1]:
        _dry_run(settings, item)
    if len(shown) > 2:
        with shown[2]:
            _changes(store, item)


# -- the page ----------------------------------------------------------------------------------


def render() -> None:
    settings, store = _auth.ops()
    user = _auth.require_login(store)
    snap = _data.snapshot()
    _data.require_tables(snap, exports.TABLE, "connections")
    st.title("Exports workspace")
    st.caption("Items crossing between Procore and the ERPs. States are live from the ops "
               f"store; the queue is from snapshot `{snap.snapshot_id}`. Signed in as "
               f"{user.display_name} (`{user.login}`).")
    # Always one slot, so a message after an action does not shift the page's elements.
    flash, slot = st.session_state.pop(FLASH_KEY, None), st.empty()
    if flash:
        slot.success(flash, icon=":material/check_circle:")

    connection, direction, item_type, state_slot = _filters(snap)
    frame = _data.run(exports.queue, snap, connection, direction, item_type)
    items = [QueueItem.from_row(r) for r in frame.iter_rows(named=True)]
    live = [actions.live_state(store, i) for i in items]
    counts = exports.count_states(live)
    with state_slot:
        state = _data.pick("State", list(counts), "state",
                           {s: f"{_state_label(s)} ({n})" for s, n in counts.items()},
                           everything="All states", key="exports:state")
    _counts(counts)
    frame = frame.with_columns(pl.Series("live_state", live, dtype=pl.String))
    keep = [state is None or s == state for s in live]
    frame = frame.filter(pl.Series(keep, dtype=pl.Boolean))
    chosen = [(i, s) for i, s, k in zip(items, live, keep, strict=True) if k]

    st.subheader(f"Items ({frame.height:,})")
    if frame.is_empty():
        st.info("No items for these filters.")
        return
    _table(frame)
    keys = [f"{i.connection_id}/{i.item_key}" for i, _ in chosen]
    labels = {k: f"{i.label} · {exports.ITEM_TYPES.get(i.item_type, i.item_type)} · "
                 f"{i.connection_id}" for k, (i, _) in zip(keys, chosen, strict=True)}
    key = _data.pick("Item shown", keys, "item", labels, optional=True, key="exports:item")
    if key is None:
        return
    index = keys.index(key)
    item, state = chosen[index]
    _detail(settings, store, user, item, state, frame.row(index, named=True))


render()
