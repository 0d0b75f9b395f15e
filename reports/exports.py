"""The approver workspace's queries (docs/exports.md §2, §5): the published ``export_queue`` with
filters, counts per state, and the small pure helpers the page shows (documents, diffs).

The published ``state`` is as of the last run's copy of the ops store; the page works out the
*live* state with ``pipelines.exports.actions.live_state`` and counts it with
:func:`count_states`, so decisions made since the last run count at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl

from pipelines.exports.store import OpsStore
from reports.snapshot import query

TABLE = "export_queue"

# The C-3 filters first (Procore's ERP Integrations tool), then our approval states; the order
# the workspace shows them in.
STATES: dict[str, str] = {
    "ready_to_export": "Ready to Export",
    "ready_to_import": "Ready to Import",
    "ready_to_update": "Ready to Update",
    "failed_to_export": "Failed to Export",
    "synced": "Synced",
    "archived": "Archived",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "retrieved": "Retrieved",
}
DIRECTIONS: dict[str, str] = {"export": "Export (Procore → ERP)",
                              "import": "Import (ERP → Procore)"}
ITEM_TYPES: dict[str, str] = {
    "company": "Company", "project": "Project", "wbs_code": "WBS code",
    "commitment": "Commitment", "subcontractor_invoice": "Subcontractor invoice",
    "budget": "Budget", "direct_cost": "Direct cost", "vendor_update": "Vendor update",
    "payment": "Payment",
}
# Every column the workspace reads, plus a one-line findings summary worked out in SQL.
_COLUMNS = """
    connection_id, erp, direction, item_type, item_key, procore_id, procore_project_id, label,
    amount, erp_ref, document, payload_hash, findings, is_blocked, is_archived, state,
    decided_by, decided_at, decision_reason, outbox_state, last_error, attempts, updated_at
"""
_ERRORS = "len(list_filter(findings, lambda f: f.severity = 'error'))"
_WARNINGS = "len(list_filter(findings, lambda f: f.severity = 'warning'))"
_SUMMARY = f"""
    case when coalesce(len(findings), 0) = 0 then ''
    else concat_ws(': ',
        concat_ws(', ',
            case {_ERRORS} when 0 then null when 1 then '1 error'
                else {_ERRORS} || ' errors' end,
            case {_WARNINGS} when 0 then null when 1 then '1 warning'
                else {_WARNINGS} || ' warnings' end),
        array_to_string(list_sort(list_distinct(list_transform(findings, lambda f: f.rule_id))),
                        ', '))
    end as findings_summary
"""
_WHERE = """
    ($connection is null or connection_id = $connection)
    and ($direction is null or direction = $direction)
    and ($item_type is null or item_type = $item_type)
"""


def filter_options(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The connections, directions and item types on the queue, in a stable order."""
    out: dict[str, list[str]] = {}
    for column in ("connection_id", "direction", "item_type"):
        frame = query(con, f"select distinct {column} as v from {TABLE} order by v")
        out[column] = frame["v"].to_list()
    return out


def queue(
    con: duckdb.DuckDBPyConnection,
    connection: str | None = None,
    direction: str | None = None,
    item_type: str | None = None,
    state: str | None = None,
) -> pl.DataFrame:
    """The queue's rows for these filters (None: no filter), with ``findings_summary``.

    ``state`` filters on the *published* state; the page filters on the live one instead.
    Ordered by connection, direction, item type, label and key.
    """
    return query(
        con,
        f"""
        select {_COLUMNS}, {_SUMMARY}
        from {TABLE}
        where {_WHERE} and ($state is null or state = $state)
        order by connection_id, direction, item_type, label, item_key
        """,
        {"connection": connection, "direction": direction, "item_type": item_type,
         "state": state},
    )


def state_counts(
    con: duckdb.DuckDBPyConnection,
    connection: str | None = None,
    direction: str | None = None,
    item_type: str | None = None,
) -> pl.DataFrame:
    """Items per *published* state for these filters: one row per state of :data:`STATES`
    (zero included, in that order), then any other state the mart holds. Columns: state,
    label, items."""
    order = list(STATES)
    frame = query(
        con,
        f"""
        with states as (select unnest($order) as state, generate_subscripts($order, 1) as pos),
        counts as (select state, count(*) as items from {TABLE} where {_WHERE} group by state)
        select coalesce(s.state, c.state) as state, coalesce(c.items, 0) as items
        from states s full join counts c on c.state = s.state
        order by coalesce(s.pos, 1000), state
        """,
        {"connection": connection, "direction": direction, "item_type": item_type,
         "order": order},
    )
    labels = [STATES.get(s, s) for s in frame["state"]]
    return frame.select("state", pl.Series("label", labels, dtype=pl.String), "items")


def count_states(states: Iterable[str]) -> dict[str, int]:
    """Items per state (live states from the page): every state of :data:`STATES` (zero
    included) in its order, then any other state met, in the order met."""
    counts = dict.fromkeys(STATES, 0)
    for s in states:
        counts[s] = counts.get(s, 0) + 1
    return counts


# ---------------------------------------------------------------------------------------------
# Documents


def parse(text: str) -> Any:
    """A document (or outbox payload) with numbers as Decimal: money stays exact."""
    return json.loads(text, parse_float=Decimal)


def _scalar(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # as written: 1250.00 stays 1250.00
    return json.dumps(value, ensure_ascii=False)


def pretty(value: Any, indent: int = 0) -> str:
    """Indented JSON of a parsed document or request body, Decimals written exactly."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {pretty(v, indent + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [f"{inner}{pretty(v, indent + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return _scalar(value)


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out |= _leaves(v, f"{path}.{k}" if path else str(k))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out |= _leaves(v, f"{path}[{i}]")
        return out
    return {path: value}


def _same(a: Any, b: Any) -> bool:
    """Equal values: 1250.00, 1250 and "1250" are the same amount (an outbox may hold the
    canonical text, where amounts are strings of their value)."""
    if a == b:
        return True
    try:
        return Decimal(str(a)) == Decimal(str(b)) and not isinstance(a, bool | None)
    except ArithmeticError:
        return False


def document_diff(old_text: str, new_text: str) -> list[dict[str, str | None]]:
    """The fields that differ between the last sent document and the current one, in the
    current document's order (removed fields last): ``{field, sent, current}``, values as
    JSON text (None where the field is absent on that side)."""
    old, new = _leaves(parse(old_text)), _leaves(parse(new_text))
    rows = []
    for path in [*new, *(p for p in old if p not in new)]:
        if path in old and path in new and _same(old[path], new[path]):
            continue
        rows.append({"field": path,
                     "sent": _scalar(old[path]) if path in old else None,
                     "current": _scalar(new[path]) if path in new else None})
    return rows


def last_sent_payload(
    store: OpsStore, connection_id: str, item_type: str, item_key: str
) -> str | None:
    """``payload_json`` of the item's latest ``sent`` outbox row, if any: what a
    ready_to_update item is compared against (C-3)."""
    sent = [r for r in store.outbox_rows(connection_id, item_type, item_key) if r.state == "sent"]
    return sent[-1].payload_json if sent else None
