"""Approver and sender actions (pipelines/exports/actions.py) on a real ops store file: roles
per C-2, the lifecycle per C-3, and the users file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipelines.exports import actions
from pipelines.exports.actions import ActionRefused, QueueItem, live_state
from pipelines.exports.store import OpsStore, OpsStoreError, PermissionDenied
from pipelines.exports.users import UsersFileError, authenticate, load_users_file

CONN = "xero-1"
USERS = f"""
[[users]]
login = "alex"
name = "Alex Approver"
password = "pw-alex"
roles = [{{connection = "{CONN}", erp_level = "standard", can_push = true}}]

[[users]]
login = "nopush"
name = "No Push"
password = "pw-nopush"
roles = [{{connection = "{CONN}", erp_level = "admin", can_push = false}}]

[[users]]
login = "sam"
name = "Sam Sender"
password = "pw-sam"
roles = [{{connection = "{CONN}", erp_level = "none", tool_admin = ["directory", "invoicing"]}}]

[[users]]
login = "robin"
name = "Robin Reader"
password = "pw-robin"
roles = [{{connection = "{CONN}", erp_level = "read_only", can_push = true}}]
"""


def _item(doc: str = '{"name":"Ridge Concrete"}', **kw) -> QueueItem:
    base = dict(connection_id=CONN, erp="xero", direction="export", item_type="company",
                item_key="company:5001", label="Ridge Concrete", document=doc,
                payload_hash=hashlib.sha256(doc.encode()).hexdigest())
    return QueueItem(**{**base, **kw})


@pytest.fixture
def store(tmp_path: Path) -> OpsStore:
    s = OpsStore(tmp_path / "ops.sqlite")
    (tmp_path / "users.toml").write_text(USERS)
    load_users_file(tmp_path / "users.toml", s)
    return s


def test_users_file_hashes_passwords_and_signs_in(store: OpsStore, tmp_path: Path):
    """The users file's plain passwords are stored as scrypt hashes; sign-in checks them."""
    assert authenticate(store, "alex", "pw-alex").login == "alex"
    assert authenticate(store, "alex", "wrong") is None
    assert authenticate(store, "nobody", "pw-alex") is None
    raw = (tmp_path / "ops.sqlite").read_bytes()
    assert b"pw-alex" not in raw
    # loading again changes nothing: no new role rows, same users
    before = store.get_role("alex", CONN)
    load_users_file(tmp_path / "users.toml", store)
    assert store.get_role("alex", CONN) == before


def test_users_file_errors_name_the_user(tmp_path: Path, store: OpsStore):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[users]]\nlogin = "x"\npassword = "p"\n'
                   'roles = [{connection = "c", erp_level = "boss"}]\n')
    with pytest.raises(UsersFileError, match=r"users\[0\].roles\[0\] \(x\).erp_level"):
        load_users_file(bad, store)
    bad.write_text('[[users]]\nlogin = "x"\n')
    with pytest.raises(UsersFileError, match="exactly one of password, password_hash"):
        load_users_file(bad, store)


@pytest.mark.parametrize("login", ["nopush", "sam", "robin"])
def test_only_accounting_approvers_accept_or_reject(store: OpsStore, login: str):
    """C-2: Standard/Admin on ERP Integrations AND Can Push to Accounting; Admin without the
    privilege, a tool admin, or read-only with the privilege may not decide."""
    item = _item()
    with pytest.raises(PermissionDenied, match="C-2"):
        actions.accept(store, login, item)
    with pytest.raises(PermissionDenied, match="C-2"):
        actions.reject(store, login, item, "no")
    assert store.decisions(CONN, "company", "company:5001") == []


def test_accept_binds_the_exact_document_and_queues_it(store: OpsStore):
    """C-3: the decision and the outbox row carry the document's hash; the outbox holds the
    exact text; the item is then accepted (waiting for push)."""
    item = _item()
    row = actions.accept(store, "alex", item)
    assert (row.payload_json, row.payload_hash, row.state) == (
        item.document, item.payload_hash, "pending")
    [d] = store.decisions(CONN, "company", "company:5001")
    assert (d.decision, d.decided_by, d.payload_hash) == ("accept", "alex", item.payload_hash)
    assert live_state(store, item) == "accepted"
    with pytest.raises(ActionRefused, match="it is accepted"):
        actions.accept(store, "alex", item)


def test_changed_after_sync_is_ready_to_update(store: OpsStore):
    """C-3: a synced item changed since loses its acceptance and shows ready to update."""
    item = _item()
    row = actions.accept(store, "alex", item)
    attempt = store.begin_attempt(row.outbox_id)
    store.finish_attempt(attempt.attempt_id, "sent", erp_id="C-1")
    assert live_state(store, item) == "synced"
    changed = _item('{"name":"Ridge Concrete Ltd"}')
    assert live_state(store, changed) == "ready_to_update"
    actions.accept(store, "alex", changed)
    assert live_state(store, changed) == "accepted"


def test_blocked_items_cannot_be_accepted(store: OpsStore):
    """Preflight errors block acceptance; the message names the rules (XE-9)."""
    item = _item(is_blocked=True, findings=[
        {"rule_id": "XE-9", "severity": "error", "code": "negative_invoice", "message": "…"}])
    with pytest.raises(ActionRefused, match="XE-9"):
        actions.accept(store, "alex", item)


def test_reject_needs_a_reason_and_returns_item(store: OpsStore):
    """C-3: a rejection has a reason; the item is rejected until its owner resends it or
    changes it."""
    item = _item()
    with pytest.raises(OpsStoreError, match="needs a reason"):
        actions.reject(store, "alex", item, "  ")
    actions.reject(store, "alex", item, "wrong address")
    assert live_state(store, item) == "rejected"
    with pytest.raises(ActionRefused, match="it is rejected"):
        actions.accept(store, "alex", item)
    with pytest.raises(PermissionDenied, match="tool .directory."):
        actions.send_for_acceptance(store, "robin", item)
    actions.send_for_acceptance(store, "sam", item)
    assert live_state(store, item) == "ready_to_export"
    edited = _item('{"name":"Ridge Concrete","address":"12 Quarry Rd"}')
    assert live_state(store, edited) == "ready_to_export"


def test_retrieve_only_before_a_decision(store: OpsStore):
    """C-3: the sender (Admin on the item's tool, C-2) may pull an item back only while nobody
    has accepted or rejected it."""
    item = _item()
    with pytest.raises(PermissionDenied, match="C-2"):
        actions.retrieve(store, "alex", item)  # an approver is not the item's tool admin
    actions.retrieve(store, "sam", item)
    assert live_state(store, item) == "retrieved"
    with pytest.raises(ActionRefused, match="it is retrieved"):
        actions.accept(store, "alex", item)
    actions.send_for_acceptance(store, "sam", item)
    actions.accept(store, "alex", item)
    with pytest.raises(ActionRefused, match="cannot retrieve"):
        actions.retrieve(store, "sam", item)


def test_vendor_synced_items_and_archived(store: OpsStore):
    """Items the vendor's connector synced (an ERP ref, no row of ours) are synced; inactive
    unsynced ones archived; imports wait as ready_to_import."""
    assert live_state(store, _item(erp_ref="abc")) == "synced"
    assert live_state(store, _item(is_archived=True)) == "archived"
    assert live_state(store, _item(direction="import", item_type="direct_cost",
                                   item_key="direct_cost:x", erp_ref="x")) == "ready_to_import"
    # an import Procore now holds is synced even though its document changed since sent
    vendor = _item(direction="import", item_type="vendor_update", item_key="vendor_update:7",
                   doc='{"changes":{"phone":"555"}}')
    row = actions.accept(store, "alex", vendor)
    attempt = store.begin_attempt(row.outbox_id)
    store.finish_attempt(attempt.attempt_id, "sent", erp_id="7")
    done = _item(direction="import", item_type="vendor_update", item_key="vendor_update:7",
                 doc='{"changes":{}}', is_synced=True)
    assert live_state(store, done) == "synced"


def test_failed_export_is_resent_by_an_approver(store: OpsStore):
    item = _item()
    row = actions.accept(store, "alex", item)
    attempt = store.begin_attempt(row.outbox_id)
    store.finish_attempt(attempt.attempt_id, "failed", error="HTTP 400", http_status=400)
    assert live_state(store, item) == "failed_to_export"
    with pytest.raises(PermissionDenied):
        actions.resend(store, "sam", item)
    assert actions.resend(store, "alex", item).outbox_id == row.outbox_id
    # C-3: rejecting the failed export cancels it (no more retries); the item is rejected
    actions.reject(store, "alex", item, "the ERP already has this vendor: link it")
    assert live_state(store, item) == "rejected"
    assert store.due(CONN) == []
