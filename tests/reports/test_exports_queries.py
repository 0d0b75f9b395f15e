"""The approver workspace's query layer (``reports.exports``) on the hand-worked published
``export_queue`` of ``tests/fixtures_exports.py``: filters, counts per state (the C-3 filters),
findings summaries (C-4, XE-9, AC-7, AC-13, AC-16), documents shown exactly, and the
ready_to_update diff against the last sent payload in a real ops store (C-3).

Expected values are worked out by hand from the fixture's rows (see the comments there)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.exports.store import OpsStore
from reports import exports
from reports.snapshot import connect, current_snapshot
from tests import fixtures_exports as fx

D = Decimal


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    published = fx.build_published(tmp_path_factory.mktemp("exports_q"))
    connection = connect(current_snapshot(published))
    yield connection
    connection.close()


def test_queue_all_rows_ordered(con: duckdb.DuckDBPyConnection) -> None:
    frame = exports.queue(con)
    assert frame.height == 16
    # connection, direction, item type, label: Acumatica first, Xero's import last.
    assert frame.select("connection_id", "item_key").rows()[:3] == [
        ("ac-ridge", "budget:801"), ("ac-ridge", "commitment:811"), ("ac-ridge", "company:31")]
    assert frame.select("connection_id", "item_key").rows()[-3:] == [
        ("xero-acme", "subcontractor_invoice:301"), ("xero-acme", "subcontractor_invoice:302"),
        ("xero-acme", "direct_cost:SPD-3")]


def test_queue_filters_by_connection_direction_type_and_state(
    con: duckdb.DuckDBPyConnection,
) -> None:
    xero = exports.queue(con, connection="xero-acme")
    assert sorted(xero["item_key"]) == [
        "commitment:401", "company:11", "direct_cost:SPD-3", "subcontractor_invoice:301",
        "subcontractor_invoice:302"]
    imports = exports.queue(con, direction="import")
    assert sorted(imports["item_key"]) == ["direct_cost:SPD-3", "vendor_update:V-77"]
    invoices = exports.queue(con, item_type="subcontractor_invoice")
    # 11,000.00 − 250.00 + 1,500.50 + 4,000.00 = 16,250.50
    assert sum(invoices["amount"]) == D("16250.50")
    ready = exports.queue(con, connection="ns-bolt", state="ready_to_export")
    assert ready["item_key"].to_list() == ["project:701", "project:702"]
    assert ready["is_blocked"].to_list() == [False, True]
    assert exports.queue(con, connection="ns-bolt", direction="import",
                         item_type="project").is_empty()


def test_state_counts_every_c3_filter_in_order(con: duckdb.DuckDBPyConnection) -> None:
    """C-3: the counts show every filter (Ready to Export … Archived), then Accepted, Rejected,
    Retrieved, zeros included."""
    counts = exports.state_counts(con)
    assert counts["label"].to_list() == [
        "Ready to Export", "Ready to Import", "Ready to Update", "Failed to Export", "Synced",
        "Archived", "Accepted", "Rejected", "Retrieved"]
    assert dict(zip(counts["state"], counts["items"], strict=True)) == fx.STATE_COUNTS
    xero = exports.state_counts(con, connection="xero-acme")
    assert dict(zip(xero["state"], xero["items"], strict=True)) == fx.XERO_STATE_COUNTS
    # Acumatica exports of type project: 801 ready to export, 802 archived.
    ac = exports.state_counts(con, "ac-ridge", "export", "project")
    assert {s: n for s, n in zip(ac["state"], ac["items"], strict=True) if n} == {
        "ready_to_export": 1, "archived": 1}


def test_findings_summary_counts_severities_and_names_rules(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """C-4, XE-9, AC-7, AC-13, AC-16: the summary counts errors and warnings and lists the
    rule IDs once each; an item with an error is blocked, one with warnings only is not."""
    frame = exports.queue(con)
    summary = dict(zip(frame["item_key"] + "@" + frame["connection_id"],
                       frame["findings_summary"], strict=True))
    assert summary["subcontractor_invoice:302@xero-acme"] == "2 errors: XE-9"
    assert summary["project:702@ns-bolt"] == "1 error: C-4"
    assert summary["project:801@ac-ridge"] == "2 warnings: AC-7"
    assert summary["project:802@ac-ridge"] == "1 error, 1 warning: AC-7"
    assert summary["subcontractor_invoice:821@ac-ridge"] == "2 errors: AC-13, AC-16"
    assert summary["subcontractor_invoice:301@xero-acme"] == ""
    blocked = dict(zip(frame["item_key"] + "@" + frame["connection_id"], frame["is_blocked"],
                       strict=True))
    assert blocked["project:801@ac-ridge"] is False
    assert blocked["project:802@ac-ridge"] is True
    si2 = frame.filter(frame["item_key"] == "subcontractor_invoice:302").row(0, named=True)
    assert [(f["rule_id"], f["severity"], f["code"]) for f in si2["findings"]] == [
        ("XE-9", "error", "negative_invoice"), ("XE-9", "error", "missing_payment_date")]


def test_filter_options(con: duckdb.DuckDBPyConnection) -> None:
    options = exports.filter_options(con)
    assert options["connection_id"] == ["ac-ridge", "ns-bolt", "xero-acme"]
    assert options["direction"] == ["export", "import"]
    assert options["item_type"] == ["budget", "commitment", "company", "direct_cost", "project",
                                    "subcontractor_invoice", "vendor_update"]


def test_count_states_of_live_states() -> None:
    counts = exports.count_states(["accepted", "ready_to_export", "accepted", "synced"])
    assert list(counts)[:9] == list(exports.STATES)
    assert counts == {**dict.fromkeys(exports.STATES, 0), "accepted": 2, "ready_to_export": 1,
                      "synced": 1}


def test_document_shown_exactly(con: duckdb.DuckDBPyConnection) -> None:
    """The published document text round-trips with exact money (11000.00, not 11000.0)."""
    row = exports.queue(con, connection="xero-acme", item_type="subcontractor_invoice").row(
        0, named=True)
    assert row["document"] == fx.document_text(fx.SI_1)
    assert row["payload_hash"] == fx.sha256(fx.document_text(fx.SI_1))
    text = exports.pretty(exports.parse(row["document"]))
    assert '  "total": 11000.00,\n  "retainage": 1100.00,' in text
    assert '      "amount": 6000.00,' in text
    assert '"payment_date": "2025-06-30"' in text
    assert exports.parse(text) == exports.parse(row["document"])


def test_document_diff_fields_changed() -> None:
    sent = fx.document_text(fx.RIDGE_TIMBER_SENT)
    current = fx.document_text(fx.RIDGE_TIMBER)
    assert exports.document_diff(sent, current) == [
        {"field": "name", "sent": '"Ridge Timber"', "current": '"Ridge Timber Pty"'},
        {"field": "phone", "sent": '"08 5550 0030"', "current": '"08 5550 0031"'},
    ]
    # Nested lines, a removed and an added field; 1100.0 vs 1100.00 is no change.
    old = '{"total":1100.0,"lines":[{"amount":600.00},{"amount":500.00}],"memo":"x"}'
    new = '{"total":1100.00,"lines":[{"amount":600.00},{"amount":499.99}],"due":null}'
    assert exports.document_diff(old, new) == [
        {"field": "lines[1].amount", "sent": "500.00", "current": "499.99"},
        {"field": "due", "sent": None, "current": "null"},
        {"field": "memo", "sent": '"x"', "current": None},
    ]


def test_last_sent_payload_from_the_ops_store(tmp_path: Path) -> None:
    """C-3: ready_to_update compares with the payload of the latest *sent* outbox row — not a
    pending or failed one."""
    store = OpsStore(tmp_path / "ops.sqlite")
    store.add_user("alex", "Alex", "pw")
    store.set_role("alex", "ac-ridge", "admin", True)
    key = ("ac-ridge", "company", "company:31")
    assert exports.last_sent_payload(store, *key) is None
    sent = fx.document_text(fx.RIDGE_TIMBER_SENT)
    row = store.accept_and_enqueue("alex", *key, sent)
    attempt = store.begin_attempt(row.outbox_id)
    store.finish_attempt(attempt.attempt_id, "sent", erp_id="V000031")
    # A newer version accepted but still pending does not count as sent.
    store.accept_and_enqueue("alex", *key, fx.document_text(fx.RIDGE_TIMBER))
    assert exports.last_sent_payload(store, *key) == sent
    assert exports.last_sent_payload(store, "ac-ridge", "company", "company:99") is None
