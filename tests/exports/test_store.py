"""The operational store (pipelines/exports/store.py): real SQLite files, no mocks."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.exports.store import (
    SCHEMA_VERSION,
    TABLES,
    OpsStore,
    OpsStoreError,
    PermissionDenied,
    canonical_json,
    idempotency_key,
    payload_hash,
)

CONN = "acme-xero"
BILL = {"Contact": "Acme", "Lines": [{"Amount": Decimal("1250.00"), "Code": "03-300"}]}
BILL_EDITED = {"Contact": "Acme", "Lines": [{"Amount": Decimal("1300.00"), "Code": "03-300"}]}


class Clock:
    """A hand-set UTC clock that moves one second per reading."""

    def __init__(self) -> None:
        self.t = dt.datetime(2026, 11, 22, 5, 0, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.t += dt.timedelta(seconds=1)
        return self.t


@pytest.fixture
def store(tmp_path: Path) -> OpsStore:
    s = OpsStore(tmp_path / "ops.sqlite", clock=Clock())
    s.add_user("ada", "Ada Approver", "correct horse")
    s.set_role("ada", CONN, "admin", True)
    return s


def test_wal_mode_and_schema_version(tmp_path: Path):
    path = tmp_path / "ops.sqlite"
    OpsStore(path)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    assert set(TABLES) <= tables
    again = OpsStore(path)  # reopening migrates nothing and keeps the version
    assert again.journal_mode() == "wal" and again.schema_version() == 2


def test_tables_mapping_for_dlt_source(store: OpsStore):
    con = sqlite3.connect(store.path)
    for table, spec in TABLES.items():
        columns = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
        assert set(spec["columns"]) <= columns
        assert set(spec["primary_key"]) <= set(spec["columns"])
        assert spec["cursor"] == "updated_at" and "updated_at" in spec["columns"]
    con.close()
    assert "password_hash" not in TABLES["users"]["columns"]


def test_password_verify_and_hash_is_not_the_password(store: OpsStore):
    assert store.verify_password("ada", "correct horse")
    assert not store.verify_password("ada", "Correct horse")
    assert not store.verify_password("nobody", "correct horse")
    con = sqlite3.connect(store.path)
    stored = con.execute("SELECT password_hash FROM users WHERE login = 'ada'").fetchone()[0]
    con.close()
    assert "correct horse" not in stored and stored.startswith("scrypt$16384$8$1$")
    store.add_user("bob", "Bob", "correct horse")  # same password, different salt
    con = sqlite3.connect(store.path)
    hashes = {r[0] for r in con.execute("SELECT password_hash FROM users")}
    con.close()
    assert len(hashes) == 2
    store.update_user("ada", password="new one")
    assert store.verify_password("ada", "new one")
    assert not store.verify_password("ada", "correct horse")
    store.update_user("ada", active=False)
    assert not store.verify_password("ada", "new one")  # inactive users cannot sign in
    with pytest.raises(OpsStoreError, match="already exists"):
        store.add_user("ada", "Ada again", "x")


# The six user kinds of C-2: (login, level, can push, active) → may decide?
USER_KINDS = [
    ("admin_push", "admin", True, True, True),
    ("standard_push", "standard", True, True, True),
    ("standard_nopush", "standard", False, True, False),
    ("readonly_push", "read_only", True, True, False),
    ("none_level", "none", False, True, False),
    ("inactive_admin", "admin", True, False, False),
]


@pytest.mark.parametrize(("login", "level", "push", "active", "may"), USER_KINDS)
def test_c2_only_accounting_approvers_may_decide(store, login, level, push, active, may):
    store.add_user(login, login.title(), "pw", active=active)
    store.set_role(login, CONN, level, push)
    h = payload_hash(BILL)
    assert store.is_accounting_approver(login, CONN) is may
    if may:
        store.accept(login, CONN, "vendor_bill", "INV-1", h)
        store.reject(login, CONN, "vendor_bill", "INV-2", h, reason="wrong cost code")
        assert store.decision_state(CONN, "vendor_bill", "INV-1", h) == "accepted"
        assert store.decision_state(CONN, "vendor_bill", "INV-2", h) == "rejected"
    else:
        for call in (
            lambda: store.accept(login, CONN, "vendor_bill", "INV-1", h),
            lambda: store.reject(login, CONN, "vendor_bill", "INV-1", h, reason="no"),
        ):
            with pytest.raises(PermissionDenied) as info:
                call()
            assert login in str(info.value) and CONN in str(info.value)
            assert "C-2" in str(info.value)
        assert store.decisions(CONN, "vendor_bill", "INV-1") == []


def test_c2_role_is_per_connection(store: OpsStore):
    assert store.is_accounting_approver("ada", CONN)
    assert not store.is_accounting_approver("ada", "acme-netsuite")  # no role there
    with pytest.raises(PermissionDenied, match="acme-netsuite"):
        store.require_approver("ada", "acme-netsuite")
    assert store.get_role("ada", "acme-netsuite").erp_level == "none"
    with pytest.raises(OpsStoreError, match="level"):
        store.set_role("ada", CONN, "superuser", True)


def test_c2_sending_needs_admin_on_the_items_tool(store: OpsStore):
    store.add_user("pm", "Project Manager", "pw")
    assert not store.is_tool_admin("pm", CONN, "commitments")
    store.set_tool_admin("pm", CONN, "commitments", True)
    assert store.is_tool_admin("pm", CONN, "commitments")
    store.require_tool_admin("pm", CONN, "commitments")
    with pytest.raises(PermissionDenied, match=r"'invoicing'.*\(C-2\)"):
        store.require_tool_admin("pm", CONN, "invoicing")
    assert not store.is_accounting_approver("pm", CONN)  # tool admin gives no ERP permission
    store.update_user("pm", active=False)
    assert not store.is_tool_admin("pm", CONN, "commitments")


def test_payload_hash_canonical_json_hand_worked():
    payload = {"b": Decimal("1.10"), "a": dt.date(2026, 1, 2), "c": [1, "x", None, True]}
    text = '{"a":"2026-01-02","b":"1.1","c":[1,"x",null,true]}'
    assert canonical_json(payload) == text
    assert payload_hash(payload) == hashlib.sha256(text.encode()).hexdigest()
    # same value, another scale → same hash; another value → another hash
    assert payload_hash({"x": Decimal("1.10")}) == payload_hash({"x": Decimal("1.1")})
    assert payload_hash({"x": Decimal("1.10")}) != payload_hash({"x": Decimal("1.01")})
    assert canonical_json({"x": Decimal("1E+2"), "z": Decimal("0.00")}) == '{"x":"100","z":"0"}'
    aware = dt.datetime(2026, 1, 2, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert canonical_json({"t": aware}) == '{"t":"2026-01-01T23:00:00+00:00"}'
    assert payload_hash({"a": 1, "b": 2}) == payload_hash({"b": 2, "a": 1})
    with pytest.raises(TypeError, match="float"):
        payload_hash({"x": 1.1})


def test_c3_accept_then_changed_payload_is_ready_to_update(store: OpsStore):
    h1, h2 = payload_hash(BILL), payload_hash(BILL_EDITED)
    assert store.decision_state(CONN, "vendor_bill", "INV-7", h1) == "awaiting_decision"
    d = store.accept("ada", CONN, "vendor_bill", "INV-7", h1)
    # the clock ticked for add_user (05:00:01) and set_role (05:00:02) in the fixture
    assert d.decided_by == "ada" and d.decided_at == "2026-11-22T05:00:03.000000+00:00"
    assert store.decision_state(CONN, "vendor_bill", "INV-7", h1) == "accepted"
    assert store.decision_state(CONN, "vendor_bill", "INV-7", h2) == "ready_to_update"
    store.accept("ada", CONN, "vendor_bill", "INV-7", h2)
    assert store.decision_state(CONN, "vendor_bill", "INV-7", h2) == "accepted"
    assert store.decision_state(CONN, "vendor_bill", "INV-7", h1) == "ready_to_update"


def test_c3_reject_needs_a_reason_and_latest_decision_wins(store: OpsStore):
    h = payload_hash(BILL)
    for reason in (None, "", "   "):
        with pytest.raises(OpsStoreError, match="reason"):
            store.decide("ada", CONN, "vendor_bill", "INV-8", h, "reject", reason)
    store.reject("ada", CONN, "vendor_bill", "INV-8", h, reason="negative invoice (XE-9)")
    assert store.decision_state(CONN, "vendor_bill", "INV-8", h) == "rejected"
    assert store.decisions(CONN, "vendor_bill", "INV-8")[0].reason == "negative invoice (XE-9)"
    store.accept("ada", CONN, "vendor_bill", "INV-8", h)
    assert store.decision_state(CONN, "vendor_bill", "INV-8", h) == "accepted"
    store.reject("ada", CONN, "vendor_bill", "INV-8", h, reason="changed my mind")
    assert store.decision_state(CONN, "vendor_bill", "INV-8", h) == "rejected"
    assert [d.decision for d in store.decisions(CONN, "vendor_bill", "INV-8")] == [
        "reject", "accept", "reject",
    ]


def test_c3_rejected_then_edited_awaits_a_new_decision(store: OpsStore):
    h1, h2 = payload_hash(BILL), payload_hash(BILL_EDITED)
    store.reject("ada", CONN, "vendor_bill", "INV-9", h1, reason="wrong amount")
    assert store.decision_state(CONN, "vendor_bill", "INV-9", h2) == "awaiting_decision"


def test_c3_decisions_are_append_only(store: OpsStore):
    store.accept("ada", CONN, "vendor_bill", "INV-1", payload_hash(BILL))
    con = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE decisions SET decision = 'reject'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM decisions")
    con.close()


def test_c3_enqueue_before_decision_is_refused(store: OpsStore):
    with pytest.raises(OpsStoreError, match="awaiting_decision"):
        store.enqueue(CONN, "vendor_bill", "INV-1", BILL)
    store.reject("ada", CONN, "vendor_bill", "INV-1", payload_hash(BILL), reason="no")
    with pytest.raises(OpsStoreError, match="rejected"):
        store.enqueue(CONN, "vendor_bill", "INV-1", BILL)
    store.accept("ada", CONN, "vendor_bill", "INV-1", payload_hash(BILL))
    with pytest.raises(OpsStoreError, match="ready_to_update"):
        store.enqueue(CONN, "vendor_bill", "INV-1", BILL_EDITED)
    assert store.due() == []


def test_enqueue_twice_gives_one_row_with_the_same_idempotency_key(store: OpsStore):
    h = payload_hash(BILL)
    store.accept("ada", CONN, "vendor_bill", "INV-1", h)
    first = store.enqueue(CONN, "vendor_bill", "INV-1", BILL)
    second = OpsStore(store.path).enqueue(CONN, "vendor_bill", "INV-1", dict(BILL))
    assert first == second
    assert first.state == "pending" and first.payload_hash == h
    assert first.payload_json == canonical_json(BILL)
    assert first.idempotency_key == idempotency_key(CONN, "vendor_bill", "INV-1", h)
    assert len(first.idempotency_key) == 36
    assert idempotency_key(CONN, "vendor_bill", "INV-1", h) != idempotency_key(
        CONN, "vendor_bill", "INV-2", h
    )
    con = sqlite3.connect(store.path)
    assert con.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    con.close()


def _accepted_row(store: OpsStore, key: str = "INV-1"):
    store.accept("ada", CONN, "vendor_bill", key, payload_hash(BILL))
    return store.enqueue(CONN, "vendor_bill", key, BILL)


def test_attempt_lifecycle_pending_sending_sent(store: OpsStore):
    row = _accepted_row(store)
    assert [d.row.outbox_id for d in store.due()] == [row.outbox_id]
    att = store.begin_attempt(row.outbox_id)
    assert att.attempt_no == 1 and store.get_outbox(row.outbox_id).state == "sending"
    done = store.finish_attempt(att.attempt_id, "sent", erp_id="BILL-0042", http_status=200)
    assert done.outcome == "sent" and done.finished_at is not None and done.http_status == 200
    sent = store.get_outbox(row.outbox_id)
    assert sent.state == "sent" and sent.erp_id == "BILL-0042"
    assert store.due() == []
    with pytest.raises(OpsStoreError, match="sent"):
        store.begin_attempt(row.outbox_id)
    with pytest.raises(OpsStoreError, match="already finished"):
        store.finish_attempt(att.attempt_id, "failed", error="late")


def test_attempt_failed_keeps_error_and_is_retried(store: OpsStore):
    row = _accepted_row(store)
    a1 = store.begin_attempt(row.outbox_id)
    store.finish_attempt(a1.attempt_id, "failed", error="503 Service Unavailable", http_status=503)
    failed = store.get_outbox(row.outbox_id)
    assert failed.state == "failed" and failed.last_error == "503 Service Unavailable"
    assert [d.row.state for d in store.due()] == ["failed"]
    a2 = store.begin_attempt(row.outbox_id)
    assert a2.attempt_no == 2 and store.get_outbox(row.outbox_id).state == "sending"
    store.finish_attempt(a2.attempt_id, "sent", erp_id="BILL-0043")
    log = store.attempts(row.outbox_id)
    assert [(a.attempt_no, a.outcome, a.erp_id, a.error, a.http_status) for a in log] == [
        (1, "failed", None, "503 Service Unavailable", 503),
        (2, "sent", "BILL-0043", None, None),
    ]
    sent = store.get_outbox(row.outbox_id)
    assert sent.state == "sent" and sent.last_error is None


def test_row_left_sending_by_a_crashed_process_is_due_with_its_open_attempt(store: OpsStore):
    row = _accepted_row(store)
    crashed = store.begin_attempt(row.outbox_id)
    rerun = OpsStore(store.path)  # a new process on the same file
    [due] = rerun.due()
    assert due.row.state == "sending" and due.row.idempotency_key == row.idempotency_key
    assert due.open_attempt is not None
    assert (due.open_attempt.attempt_id, due.open_attempt.attempt_no) == (crashed.attempt_id, 1)
    assert due.open_attempt.finished_at is None
    with pytest.raises(OpsStoreError, match="sending"):
        rerun.begin_attempt(row.outbox_id)  # reconcile the open attempt first
    rerun.finish_attempt(crashed.attempt_id, "abandoned", error="process died; result unknown")
    retry = rerun.begin_attempt(row.outbox_id)
    assert retry.attempt_no == 2
    rerun.finish_attempt(retry.attempt_id, "sent", erp_id="BILL-0044")
    assert rerun.due() == []


_WRITER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
con.execute("INSERT INTO runs (kind, status, started_at, updated_at)"
            " VALUES ('other-process', 'running', '2026-11-22T05:00:00+00:00',"
            " '2026-11-22T05:00:00+00:00')")
print("locked", flush=True)
sys.stdin.readline()
con.execute("COMMIT")
print("committed", flush=True)
"""


def test_wal_reader_proceeds_while_another_process_writes(tmp_path: Path):
    path = tmp_path / "ops.sqlite"
    store = OpsStore(path, busy_timeout_s=0.2)
    run_id = store.start_run("extract")
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        assert [r.run_id for r in store.runs()] == [run_id]  # the open write is invisible
        assert time.monotonic() - t0 < 0.2  # and the read did not wait for it
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            store.start_run("blocked")  # a second writer waits (here: 0.2 s) and gives up
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "committed"
    finally:
        writer.stdin.close()
        writer.wait(timeout=10)
    assert writer.returncode == 0
    assert [r.kind for r in store.runs()] == ["other-process", "extract"]


def test_run_history_round_trip(tmp_path: Path):
    store = OpsStore(tmp_path / "ops.sqlite", clock=Clock())
    run_id = store.start_run("push")
    running = store.get_run(run_id)
    assert (running.status, running.started_at, running.finished_at) == (
        "running", "2026-11-22T05:00:01.000000+00:00", None,
    )
    summary = {"sent": 3, "failed": 1, "connections": ["acme-xero"], "total": Decimal("12.50")}
    done = store.finish_run(run_id, "partial", summary)
    assert done.status == "partial" and done.finished_at == "2026-11-22T05:00:02.000000+00:00"
    assert done.summary == {"sent": 3, "failed": 1, "connections": ["acme-xero"], "total": "12.50"}
    assert OpsStore(store.path).runs("push") == [done]
    with pytest.raises(OpsStoreError, match="already finished"):
        store.finish_run(run_id, "succeeded", {})
    with pytest.raises(OpsStoreError, match="status"):
        store.finish_run(store.start_run("push"), "running", {})


_RACER = """
import sys
from decimal import Decimal
from pipelines.exports.store import OpsStore, OpsStoreError
store = OpsStore(sys.argv[1])
lines = [{"Amount": Decimal("1250.00"), "Code": "03-300"}]
row = store.enqueue("acme-xero", "vendor_bill", "INV-1", {"Contact": "Acme", "Lines": lines})
try:
    store.begin_attempt(row.outbox_id)
    print(row.idempotency_key, "began")
except OpsStoreError:
    print(row.idempotency_key, "refused")
"""


def test_concurrent_processes_enqueue_one_row_and_begin_one_attempt(store: OpsStore):
    store.accept("ada", CONN, "vendor_bill", "INV-1", payload_hash(BILL))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(store.path)], stdout=subprocess.PIPE, text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=60)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    key = idempotency_key(CONN, "vendor_bill", "INV-1", payload_hash(BILL))
    assert sorted(outputs) == [[key, "began"]] + [[key, "refused"]] * 3
    [due] = store.due()
    assert due.row.state == "sending" and due.open_attempt.attempt_no == 1


def test_document_text_enqueued_byte_for_byte(store: OpsStore):
    """C-3: a warehouse document (text) is bound and stored exactly as published: its hash is
    sha256 of those bytes, the mart's payload_hash."""
    text = '{"name":"Ridge Concrete","total":1250.50}'
    hash_ = hashlib.sha256(text.encode()).hexdigest()
    store.accept("ada", CONN, "company", "company:1", hash_)
    row = store.enqueue(CONN, "company", "company:1", text)
    assert (row.payload_json, row.payload_hash) == (text, hash_)
    assert store.outbox_rows(CONN, "company", "company:1") == [row]


def test_send_and_retrieve_need_tool_admin(store: OpsStore):
    """C-2: sending an item to the ERP queue, or retrieving it, needs Admin on the item's tool
    (no ERP permission); the events are append-only (C-3)."""
    store.add_user("sam", "Sam Sender", "pw")
    with pytest.raises(PermissionDenied, match="C-2"):
        store.record_event("sam", CONN, "commitment", "commitment:9", "h1", "send",
                           "commitments")
    store.set_tool_admin("sam", CONN, "commitments", True)
    sent = store.record_event("sam", CONN, "commitment", "commitment:9", "h1", "send",
                              "commitments")
    back = store.record_event("sam", CONN, "commitment", "commitment:9", "h1", "retrieve",
                              "commitments")
    assert [e.event for e in store.events(CONN, "commitment", "commitment:9")] == [
        "send", "retrieve"]
    assert (sent.actor, back.event_id > sent.event_id) == ("sam", True)
    with sqlite3.connect(store.path) as con, pytest.raises(sqlite3.DatabaseError,
                                                           match="append-only"):
        con.execute("DELETE FROM item_events")


def test_superseded_rows_are_not_due(store: OpsStore):
    """C-3: once a newer payload of the item is accepted, the older failed row is not sent
    again (the approver accepted the newer one); a row left sending is still reconciled."""
    old = store.accept_and_enqueue("ada", CONN, "bill", "bill:1", '{"amount":1}')
    attempt = store.begin_attempt(old.outbox_id)
    store.finish_attempt(attempt.attempt_id, "failed", error="HTTP 400", http_status=400)
    assert [d.row.outbox_id for d in store.due(CONN)] == [old.outbox_id]
    new = store.accept_and_enqueue("ada", CONN, "bill", "bill:1", '{"amount":2}')
    assert [d.row.outbox_id for d in store.due(CONN)] == [new.outbox_id]
    store.begin_attempt(new.outbox_id)  # left sending by a dead process
    newest = store.accept_and_enqueue("ada", CONN, "bill", "bill:1", '{"amount":3}')
    assert [d.row.outbox_id for d in store.due(CONN)] == [new.outbox_id, newest.outbox_id]


def test_rejecting_after_a_failure_cancels_the_export(store: OpsStore):
    """C-3: an approver who rejects a failed export cancels it: it is no longer due."""
    row = store.accept_and_enqueue("ada", CONN, "bill", "bill:2", '{"amount":5}')
    attempt = store.begin_attempt(row.outbox_id)
    store.finish_attempt(attempt.attempt_id, "failed", error="HTTP 400", http_status=400)
    store.reject("ada", CONN, "bill", "bill:2", row.payload_hash, "duplicate vendor: link it")
    assert store.due(CONN) == []
