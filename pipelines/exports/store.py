"""The operational store: users and roles, decisions, the outbox and run history (SQLite, WAL).

This is the one place costbridge keeps *operational* state — who may decide, what was decided on
which exact payload, what is about to be / was sent to an ERP, and what each run did. It is a
SQLite file in WAL mode, never the analytic DuckDB file: the app (several sessions) and the CLI
(push, runs) write it at the same time, and readers must never wait on a writer. A dlt source
loads it into the warehouse (``raw_ops``) using :data:`TABLES`.

Concurrency: every write is one short ``BEGIN IMMEDIATE`` transaction on its own connection
(``synchronous=FULL``, ``foreign_keys=ON``, a busy timeout), so several processes and threads
may share one file. Timestamps are UTC ISO-8601 text with microseconds
(``2026-11-22T05:19:16.123456+00:00``), which sort as text.

Rules (``CONNECTOR_RULES.md``):

* **C-2** — only an accounting approver (active, *Standard* or *Admin* on ERP Integrations for the
  connection, and *Can Push to Accounting*) may accept, reject or export; sending an item needs
  Admin on the tool that owns it. :meth:`OpsStore.require_approver`,
  :meth:`OpsStore.require_tool_admin`.
* **C-3** — decisions are append-only (triggers refuse UPDATE/DELETE) and bound to the sha256 of
  the exact payload (:func:`payload_hash`); an item changed after acceptance loses it and shows
  as *ready to update* (:meth:`OpsStore.decision_state`).

Exactly-once pushes build on the outbox: :meth:`OpsStore.enqueue` records the intent (with a
deterministic idempotency key) before any call; :meth:`OpsStore.begin_attempt` /
:meth:`OpsStore.finish_attempt` log each attempt and move the row pending → sending → sent |
failed (failed → sending again on retry). A row left in ``sending`` by a crashed process is
returned by :meth:`OpsStore.due` with its open attempt, for the pusher to reconcile using the
idempotency key (the ERP-side reconciliation is the pusher's job, not this module's).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

LEVELS = ("none", "read_only", "standard", "admin")
APPROVER_LEVELS = ("standard", "admin")
DECISIONS = ("accept", "reject")
DECISION_STATES = ("awaiting_decision", "accepted", "rejected", "ready_to_update")
OUTBOX_STATES = ("pending", "sending", "sent", "failed")
# 'abandoned': the pusher found an attempt left open by a dead process and could not learn its
# result; the row becomes failed and is resent later with the same idempotency key.
ATTEMPT_OUTCOMES = ("sent", "failed", "abandoned")
RUN_STATUSES = ("running", "succeeded", "failed", "partial")

BUSY_TIMEOUT_S = 10.0
# scrypt parameters (RFC 7914 interactive values: 16 MiB of memory per hash).
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32
# Namespace of the deterministic idempotency keys (uuid5); never change it, or keys of rows
# already in the outbox would no longer be derivable.
_IDEMPOTENCY_NS = uuid.UUID("6f1d7c1e-3b0e-5c2a-9d4e-0c0571b21d9e")


class OpsStoreError(Exception):
    """A request the store refuses (unknown user, wrong state, missing reason, …)."""


class PermissionDenied(OpsStoreError):
    """The acting user lacks the role a rule (C-2) requires."""


# ---------------------------------------------------------------------------------------------
# Schema. Each entry migrates from version i to i + 1 (PRAGMA user_version); append, never edit.

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        user_id       INTEGER PRIMARY KEY,
        login         TEXT NOT NULL UNIQUE,
        display_name  TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE user_roles (
        user_id                INTEGER NOT NULL REFERENCES users(user_id),
        connection_id          TEXT NOT NULL,
        erp_level              TEXT NOT NULL
            CHECK (erp_level IN ('none', 'read_only', 'standard', 'admin')),
        can_push_to_accounting INTEGER NOT NULL CHECK (can_push_to_accounting IN (0, 1)),
        updated_at             TEXT NOT NULL,
        PRIMARY KEY (user_id, connection_id)
    );
    CREATE TABLE user_tool_admin (
        user_id       INTEGER NOT NULL REFERENCES users(user_id),
        connection_id TEXT NOT NULL,
        tool          TEXT NOT NULL,
        is_admin      INTEGER NOT NULL CHECK (is_admin IN (0, 1)),
        updated_at    TEXT NOT NULL,
        PRIMARY KEY (user_id, connection_id, tool)
    );
    CREATE TABLE decisions (
        decision_id   INTEGER PRIMARY KEY AUTOINCREMENT,
        connection_id TEXT NOT NULL,
        item_type     TEXT NOT NULL,
        item_key      TEXT NOT NULL,
        payload_hash  TEXT NOT NULL,
        decision      TEXT NOT NULL CHECK (decision IN ('accept', 'reject')),
        decided_by    INTEGER NOT NULL REFERENCES users(user_id),
        decided_at    TEXT NOT NULL,
        reason        TEXT,
        updated_at    TEXT NOT NULL,
        CHECK (decision = 'accept' OR length(trim(coalesce(reason, ''))) > 0)
    );
    CREATE INDEX decisions_item ON decisions (connection_id, item_type, item_key, decision_id);
    CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only (C-3)'); END;
    CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only (C-3)'); END;
    CREATE TABLE outbox (
        outbox_id       INTEGER PRIMARY KEY AUTOINCREMENT,
        connection_id   TEXT NOT NULL,
        item_type       TEXT NOT NULL,
        item_key        TEXT NOT NULL,
        payload_hash    TEXT NOT NULL,
        payload_json    TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        decision_id     INTEGER NOT NULL REFERENCES decisions(decision_id),
        state           TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
        erp_id          TEXT,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        UNIQUE (connection_id, item_type, item_key, payload_hash)
    );
    CREATE INDEX outbox_state ON outbox (state, outbox_id);
    CREATE TABLE outbox_attempts (
        attempt_id  INTEGER PRIMARY KEY AUTOINCREMENT,
        outbox_id   INTEGER NOT NULL REFERENCES outbox(outbox_id),
        attempt_no  INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        finished_at TEXT,
        outcome     TEXT CHECK (outcome IN ('sent', 'failed', 'abandoned')),
        erp_id      TEXT,
        error       TEXT,
        http_status INTEGER,
        updated_at  TEXT NOT NULL,
        UNIQUE (outbox_id, attempt_no)
    );
    CREATE TABLE runs (
        run_id       INTEGER PRIMARY KEY AUTOINCREMENT,
        kind         TEXT NOT NULL,
        status       TEXT NOT NULL
            CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        summary_json TEXT,
        updated_at   TEXT NOT NULL
    );
    """,
    # 2: sending for acceptance and retrieval (C-3), by a tool admin (C-2); append-only.
    """
    CREATE TABLE item_events (
        event_id      INTEGER PRIMARY KEY AUTOINCREMENT,
        connection_id TEXT NOT NULL,
        item_type     TEXT NOT NULL,
        item_key      TEXT NOT NULL,
        payload_hash  TEXT NOT NULL,
        event         TEXT NOT NULL CHECK (event IN ('send', 'retrieve')),
        actor         TEXT NOT NULL,
        at            TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX item_events_item ON item_events (connection_id, item_type, item_key, event_id);
    CREATE TRIGGER item_events_no_update BEFORE UPDATE ON item_events
        BEGIN SELECT RAISE(ABORT, 'item events are append-only (C-3)'); END;
    CREATE TRIGGER item_events_no_delete BEFORE DELETE ON item_events
        BEGIN SELECT RAISE(ABORT, 'item events are append-only (C-3)'); END;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)

# For the dlt source (raw_ops): per table, its primary key, the incremental cursor and the columns
# to load. password_hash is deliberately absent: hashes never leave the ops store.
TABLES: dict[str, dict[str, Any]] = {
    "users": {
        "primary_key": ("user_id",),
        "cursor": "updated_at",
        "columns": ("user_id", "login", "display_name", "active", "created_at", "updated_at"),
    },
    "user_roles": {
        "primary_key": ("user_id", "connection_id"),
        "cursor": "updated_at",
        "columns": (
            "user_id", "connection_id", "erp_level", "can_push_to_accounting", "updated_at",
        ),
    },
    "user_tool_admin": {
        "primary_key": ("user_id", "connection_id", "tool"),
        "cursor": "updated_at",
        "columns": ("user_id", "connection_id", "tool", "is_admin", "updated_at"),
    },
    "decisions": {
        "primary_key": ("decision_id",),
        "cursor": "updated_at",
        "columns": (
            "decision_id", "connection_id", "item_type", "item_key", "payload_hash", "decision",
            "decided_by", "decided_at", "reason", "updated_at",
        ),
    },
    "outbox": {
        "primary_key": ("outbox_id",),
        "cursor": "updated_at",
        "columns": (
            "outbox_id", "connection_id", "item_type", "item_key", "payload_hash",
            "payload_json", "idempotency_key", "decision_id", "state", "erp_id", "last_error",
            "created_at", "updated_at",
        ),
    },
    "outbox_attempts": {
        "primary_key": ("attempt_id",),
        "cursor": "updated_at",
        "columns": (
            "attempt_id", "outbox_id", "attempt_no", "started_at", "finished_at", "outcome",
            "erp_id", "error", "http_status", "updated_at",
        ),
    },
    "item_events": {
        "primary_key": ("event_id",),
        "cursor": "updated_at",
        "columns": (
            "event_id", "connection_id", "item_type", "item_key", "payload_hash", "event",
            "actor", "at", "updated_at",
        ),
    },
    "runs": {
        "primary_key": ("run_id",),
        "cursor": "updated_at",
        "columns": (
            "run_id", "kind", "status", "started_at", "finished_at", "summary_json", "updated_at",
        ),
    },
}


# ---------------------------------------------------------------------------------------------
# Payload hashing


def _canonical(value: Any) -> Any:
    """The JSON-ready canonical form of a payload value (see :func:`canonical_json`)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise TypeError("payloads carry Decimal, never float (money is DECIMAL)")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"non-finite Decimal in payload: {value}")
        if value.is_zero():
            return "0"
        return format(value.normalize(), "f")
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"payload keys must be str, got {key!r}")
            out[key] = _canonical(item)
        return out
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    raise TypeError(f"cannot hash payload value of type {type(value).__name__}")


def canonical_json(payload: Mapping[str, Any]) -> str:
    """Canonical JSON text of a payload: what :func:`payload_hash` hashes and the outbox stores.

    Sorted keys, no whitespace, UTF-8 (not ``\\u`` escapes). Decimals become strings of their
    *value*: ``Decimal("1.10")`` and ``Decimal("1.1")`` both give ``"1.1"`` (``"100"`` for
    ``Decimal("1E+2")``, ``"0"`` for any zero), because the two mean the same amount and a change
    of scale in the warehouse must not cost an item its approval. Amounts that differ in value
    always differ in text. Floats are refused (money is DECIMAL, never float); ints stay JSON
    numbers, so a mapper must use one type per field. Dates become ``YYYY-MM-DD``; aware datetimes
    are converted to UTC first. Tuples are lists.
    """
    return json.dumps(
        _canonical(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def payload_hash(payload: Mapping[str, Any]) -> str:
    """sha256 (hex) of :func:`canonical_json` — what a decision (C-3) is bound to."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def idempotency_key(connection_id: str, item_type: str, item_key: str, hash_: str) -> str:
    """Deterministic idempotency key of one item version: a UUID (uuid5), 36 characters.

    Same connection, item and payload hash → same key, in any process, at any time; it fits
    Xero's ``Idempotency-Key`` header and serves as a NetSuite external id / Acumatica key.
    """
    name = "\x1f".join((connection_id, item_type, item_key, hash_))
    return str(uuid.uuid5(_IDEMPOTENCY_NS, name))


# ---------------------------------------------------------------------------------------------
# Passwords


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) with a random 16-byte salt."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P,
        dklen=_SCRYPT_LEN,
    )
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# ---------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class User:
    user_id: int
    login: str
    display_name: str
    active: bool


@dataclass(frozen=True)
class Role:
    login: str
    connection_id: str
    erp_level: str
    can_push_to_accounting: bool


@dataclass(frozen=True)
class Decision:
    decision_id: int
    connection_id: str
    item_type: str
    item_key: str
    payload_hash: str
    decision: str
    decided_by: str  # login
    decided_at: str
    reason: str | None


@dataclass(frozen=True)
class OutboxRow:
    outbox_id: int
    connection_id: str
    item_type: str
    item_key: str
    payload_hash: str
    payload_json: str
    idempotency_key: str
    decision_id: int
    state: str
    erp_id: str | None
    last_error: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class ItemEvent:
    event_id: int
    connection_id: str
    item_type: str
    item_key: str
    payload_hash: str
    event: str
    actor: str
    at: str


@dataclass(frozen=True)
class Attempt:
    attempt_id: int
    outbox_id: int
    attempt_no: int
    started_at: str
    finished_at: str | None
    outcome: str | None
    erp_id: str | None
    error: str | None
    http_status: int | None


@dataclass(frozen=True)
class DueRow:
    """An outbox row to (re)send; ``open_attempt`` is set when a process died mid-attempt."""

    row: OutboxRow
    open_attempt: Attempt | None


@dataclass(frozen=True)
class Run:
    run_id: int
    kind: str
    status: str
    started_at: str
    finished_at: str | None
    summary: dict[str, Any] | None


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------------------------------------
# The store


class OpsStore:
    """The ops store at ``path`` (created and migrated on open). Safe across processes/threads:
    it holds no connection; each operation opens one, and each write is one short transaction."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connect()
        try:
            mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise OpsStoreError(f"{self.path}: cannot switch to WAL (journal_mode={mode})")
            con.execute("BEGIN IMMEDIATE")
            try:
                version = con.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise OpsStoreError(
                        f"{self.path}: schema version {version} is newer than this costbridge "
                        f"({SCHEMA_VERSION})"
                    )
                for number in range(version, SCHEMA_VERSION):
                    for statement in _split_sql(_MIGRATIONS[number]):
                        con.execute(statement)
                    con.execute(f"PRAGMA user_version = {number + 1}")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        finally:
            con.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(
            self.path, timeout=self.busy_timeout_s, isolation_level=None,
            check_same_thread=False,
        )
        con.row_factory = sqlite3.Row
        con.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        con.execute("PRAGMA synchronous = FULL")
        con.execute("PRAGMA foreign_keys = ON")
        return con

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (BEGIN IMMEDIATE: the write lock is taken up front, so a
        read-then-write never fails half-way with SQLITE_BUSY)."""
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            con.execute("BEGIN")  # one consistent snapshot for multi-statement reads
            try:
                yield con
            finally:
                con.execute("COMMIT")
        finally:
            con.close()

    def now(self) -> str:
        return self._clock().astimezone(dt.UTC).isoformat(timespec="microseconds")

    def journal_mode(self) -> str:
        with self._read() as con:
            return con.execute("PRAGMA journal_mode").fetchone()[0]

    def schema_version(self) -> int:
        with self._read() as con:
            return con.execute("PRAGMA user_version").fetchone()[0]

    @staticmethod
    def _user_row(con: sqlite3.Connection, login: str) -> sqlite3.Row:
        row = con.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone()
        if row is None:
            raise OpsStoreError(f"unknown user {login!r}")
        return row

    # -- users and roles (C-2) -----------------------------------------------------------------

    def add_user(
        self, login: str, display_name: str, password: str, *, active: bool = True,
        password_hash: str | None = None,
    ) -> User:
        """A new user; ``password_hash`` (an scrypt string from :func:`hash_password`) instead
        of a password, for users files that keep no plain passwords."""
        if not login or not (password or password_hash):
            raise OpsStoreError("a user needs a login and a password")
        if password_hash is not None and not password_hash.startswith("scrypt$"):
            raise OpsStoreError(f"user {login!r}: password_hash must be an scrypt$… string")
        stored = password_hash or hash_password(password)
        now = self.now()
        with self.transaction() as con:
            try:
                cur = con.execute(
                    "INSERT INTO users (login, display_name, password_hash, active, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (login, display_name, stored, int(active), now, now),
                )
            except sqlite3.IntegrityError as exc:
                raise OpsStoreError(f"user {login!r} already exists") from exc
            return User(cur.lastrowid, login, display_name, active)

    def update_user(
        self,
        login: str,
        *,
        display_name: str | None = None,
        password: str | None = None,
        active: bool | None = None,
    ) -> User:
        stored = hash_password(password) if password is not None else None
        with self.transaction() as con:
            row = self._user_row(con, login)
            con.execute(
                "UPDATE users SET display_name = ?, password_hash = ?, active = ?,"
                " updated_at = ? WHERE user_id = ?",
                (
                    row["display_name"] if display_name is None else display_name,
                    row["password_hash"] if stored is None else stored,
                    row["active"] if active is None else int(active),
                    self.now(),
                    row["user_id"],
                ),
            )
            row = con.execute(
                "SELECT * FROM users WHERE user_id = ?", (row["user_id"],)
            ).fetchone()
            return User(row["user_id"], row["login"], row["display_name"], bool(row["active"]))

    def get_user(self, login: str) -> User | None:
        with self._read() as con:
            row = con.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone()
        if row is None:
            return None
        return User(row["user_id"], row["login"], row["display_name"], bool(row["active"]))

    def verify_password(self, login: str, password: str) -> bool:
        """True only for an active user with this password (an unknown login costs a hash too)."""
        with self._read() as con:
            row = con.execute(
                "SELECT password_hash, active FROM users WHERE login = ?", (login,)
            ).fetchone()
        if row is None:
            check_password(password, _dummy_hash())  # same cost as a known login
            return False
        return check_password(password, row["password_hash"]) and bool(row["active"])

    def set_role(
        self, login: str, connection_id: str, erp_level: str, can_push_to_accounting: bool
    ) -> Role:
        """The user's ERP Integrations level and Can Push to Accounting on one connection."""
        if erp_level not in LEVELS:
            raise OpsStoreError(f"ERP Integrations level must be one of {LEVELS}: {erp_level!r}")
        with self.transaction() as con:
            user = self._user_row(con, login)
            con.execute(
                "INSERT INTO user_roles (user_id, connection_id, erp_level,"
                " can_push_to_accounting, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id, connection_id) DO UPDATE SET"
                " erp_level = excluded.erp_level,"
                " can_push_to_accounting = excluded.can_push_to_accounting,"
                " updated_at = excluded.updated_at",
                (user["user_id"], connection_id, erp_level, int(can_push_to_accounting),
                 self.now()),
            )
        return Role(login, connection_id, erp_level, bool(can_push_to_accounting))

    def get_role(self, login: str, connection_id: str) -> Role:
        """The user's role on the connection; no row means level ``none`` without push."""
        with self._read() as con:
            row = con.execute(
                "SELECT r.erp_level, r.can_push_to_accounting FROM user_roles r"
                " JOIN users u USING (user_id) WHERE u.login = ? AND r.connection_id = ?",
                (login, connection_id),
            ).fetchone()
        if row is None:
            return Role(login, connection_id, "none", False)
        return Role(login, connection_id, row["erp_level"], bool(row["can_push_to_accounting"]))

    def set_tool_admin(self, login: str, connection_id: str, tool: str, is_admin: bool) -> None:
        """Admin on a Procore tool (e.g. ``commitments``, ``invoicing``) of the connection's
        company: what sending an item owned by that tool requires (C-2)."""
        with self.transaction() as con:
            user = self._user_row(con, login)
            con.execute(
                "INSERT INTO user_tool_admin (user_id, connection_id, tool, is_admin, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, connection_id, tool) DO UPDATE SET"
                " is_admin = excluded.is_admin, updated_at = excluded.updated_at",
                (user["user_id"], connection_id, tool, int(is_admin), self.now()),
            )

    def is_tool_admin(self, login: str, connection_id: str, tool: str) -> bool:
        with self._read() as con:
            return _tool_admin(con, login, connection_id, tool)

    def require_tool_admin(self, login: str, connection_id: str, tool: str) -> None:
        if not self.is_tool_admin(login, connection_id, tool):
            raise PermissionDenied(
                f"{login!r} may not send items of tool {tool!r} on connection "
                f"{connection_id!r}: sending needs Admin on the item's tool (C-2)"
            )

    def is_accounting_approver(self, login: str, connection_id: str) -> bool:
        """C-2: active, Standard or Admin on ERP Integrations, and Can Push to Accounting."""
        with self._read() as con:
            return _is_approver(con, login, connection_id)

    def require_approver(self, login: str, connection_id: str) -> None:
        with self._read() as con:
            _require_approver(con, login, connection_id)

    # -- decisions (C-3) -----------------------------------------------------------------------

    def decide(
        self,
        login: str,
        connection_id: str,
        item_type: str,
        item_key: str,
        payload_hash_: str,
        decision: str,
        reason: str | None = None,
    ) -> Decision:
        """Append one accept/reject on this exact payload; the acting user must be an accounting
        approver on the connection (C-2). A reject needs a reason (this store is stricter than
        Procore's optional one: the reason is what the item's owner fixes)."""
        if decision not in DECISIONS:
            raise OpsStoreError(f"decision must be one of {DECISIONS}: {decision!r}")
        if decision == "reject" and not (reason and reason.strip()):
            raise OpsStoreError(f"rejecting {item_type} {item_key!r} needs a reason (C-3)")
        now = self.now()
        with self.transaction() as con:
            _require_approver(con, login, connection_id)  # checked inside the write (no race)
            user = self._user_row(con, login)
            cur = con.execute(
                "INSERT INTO decisions (connection_id, item_type, item_key, payload_hash,"
                " decision, decided_by, decided_at, reason, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (connection_id, item_type, item_key, payload_hash_, decision, user["user_id"],
                 now, reason, now),
            )
        return Decision(cur.lastrowid, connection_id, item_type, item_key, payload_hash_,
                        decision, login, now, reason)

    def accept(self, login, connection_id, item_type, item_key, payload_hash_) -> Decision:
        return self.decide(login, connection_id, item_type, item_key, payload_hash_, "accept")

    def reject(
        self, login, connection_id, item_type, item_key, payload_hash_, reason: str
    ) -> Decision:
        return self.decide(
            login, connection_id, item_type, item_key, payload_hash_, "reject", reason
        )

    def decisions(self, connection_id: str, item_type: str, item_key: str) -> list[Decision]:
        """The item's decisions, oldest first."""
        with self._read() as con:
            return _decisions(con, connection_id, item_type, item_key)

    def decision_state(
        self, connection_id: str, item_type: str, item_key: str, current_payload_hash: str
    ) -> str:
        """C-3 state of the item as it is now (``current_payload_hash``):

        * the latest decision on the item is on this payload → ``accepted`` / ``rejected``;
        * otherwise, if the item was ever accepted (on another payload) → ``ready_to_update``:
          it changed after approval and lost it;
        * otherwise (no decision, or only rejections of earlier payloads — a rejected item
          edited and sent again) → ``awaiting_decision``.
        """
        with self._read() as con:
            return _state(con, connection_id, item_type, item_key, current_payload_hash)

    # -- outbox --------------------------------------------------------------------------------

    def enqueue(
        self,
        connection_id: str,
        item_type: str,
        item_key: str,
        payload: Mapping[str, Any] | str,
    ) -> OutboxRow:
        """Record the intent to send this exact payload, before any call. Idempotent: the same
        item and payload give the same row (and idempotency key), never a second one. Refused
        unless the payload's latest decision is an accept (C-3). A ``str`` payload is a document
        as the warehouse published it: stored and hashed byte for byte (its ``payload_hash``)."""
        text = payload if isinstance(payload, str) else canonical_json(payload)
        with self.transaction() as con:
            return self._enqueue(con, connection_id, item_type, item_key, text)

    def accept_and_enqueue(
        self, login: str, connection_id: str, item_type: str, item_key: str, document: str
    ) -> OutboxRow:
        """Accept this exact document and record the intent to send it, in one transaction: no
        crash can leave an accepted item without its outbox row (C-2, C-3). Accepting a document
        already accepted and queued returns its row without a second decision."""
        hash_ = hashlib.sha256(document.encode("utf-8")).hexdigest()
        now = self.now()
        with self.transaction() as con:
            _require_approver(con, login, connection_id)
            if _state(con, connection_id, item_type, item_key, hash_) != "accepted":
                user = self._user_row(con, login)
                con.execute(
                    "INSERT INTO decisions (connection_id, item_type, item_key, payload_hash,"
                    " decision, decided_by, decided_at, reason, updated_at)"
                    " VALUES (?, ?, ?, ?, 'accept', ?, ?, NULL, ?)",
                    (connection_id, item_type, item_key, hash_, user["user_id"], now, now),
                )
            return self._enqueue(con, connection_id, item_type, item_key, document)

    def _enqueue(
        self, con: sqlite3.Connection, connection_id: str, item_type: str, item_key: str,
        text: str,
    ) -> OutboxRow:
        hash_ = hashlib.sha256(text.encode("utf-8")).hexdigest()
        key = idempotency_key(connection_id, item_type, item_key, hash_)
        now = self.now()
        existing = con.execute(
            "SELECT * FROM outbox WHERE connection_id = ? AND item_type = ? AND item_key = ?"
            " AND payload_hash = ?",
            (connection_id, item_type, item_key, hash_),
        ).fetchone()
        if existing is not None:
            return _outbox(existing)
        state = _state(con, connection_id, item_type, item_key, hash_)
        if state != "accepted":
            raise OpsStoreError(
                f"{item_type} {item_key!r} on {connection_id!r} is {state}, not accepted: "
                "only accepted payloads are exported (C-2, C-3)"
            )
        decision_id = _decisions(con, connection_id, item_type, item_key)[-1].decision_id
        cur = con.execute(
            "INSERT INTO outbox (connection_id, item_type, item_key, payload_hash,"
            " payload_json, idempotency_key, decision_id, state, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (connection_id, item_type, item_key, hash_, text, key, decision_id, now, now),
        )
        row = con.execute("SELECT * FROM outbox WHERE outbox_id = ?", (cur.lastrowid,)).fetchone()
        return _outbox(row)

    def outbox_rows(self, connection_id: str, item_type: str, item_key: str) -> list[OutboxRow]:
        """The item's outbox rows, oldest first (one per payload version accepted)."""
        with self._read() as con:
            rows = con.execute(
                "SELECT * FROM outbox WHERE connection_id = ? AND item_type = ? AND item_key = ?"
                " ORDER BY outbox_id",
                (connection_id, item_type, item_key),
            ).fetchall()
        return [_outbox(r) for r in rows]

    # -- sending for acceptance and retrieval (C-3) ---------------------------------------------

    def record_event(
        self, login: str, connection_id: str, item_type: str, item_key: str,
        payload_hash_: str, event: str, tool: str,
    ) -> ItemEvent:
        """Append a ``send`` (for acceptance) or ``retrieve`` event; the actor needs Admin on the
        tool that owns the item (C-2). Whether the item's state allows it is the caller's rule."""
        if event not in ("send", "retrieve"):
            raise OpsStoreError(f"event must be send or retrieve: {event!r}")
        now = self.now()
        with self.transaction() as con:
            if not _tool_admin(con, login, connection_id, tool):
                raise PermissionDenied(
                    f"{login!r} is not Admin on the {tool} tool of connection "
                    f"{connection_id!r}: sending an item to the ERP queue, or retrieving it, "
                    "needs Admin on the tool that owns it (C-2)"
                )
            cur = con.execute(
                "INSERT INTO item_events (connection_id, item_type, item_key, payload_hash,"
                " event, actor, at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (connection_id, item_type, item_key, payload_hash_, event, login, now, now),
            )
        return ItemEvent(cur.lastrowid, connection_id, item_type, item_key, payload_hash_,
                         event, login, now)

    def events(self, connection_id: str, item_type: str, item_key: str) -> list[ItemEvent]:
        with self._read() as con:
            rows = con.execute(
                "SELECT * FROM item_events WHERE connection_id = ? AND item_type = ?"
                " AND item_key = ? ORDER BY event_id",
                (connection_id, item_type, item_key),
            ).fetchall()
        return [ItemEvent(r["event_id"], r["connection_id"], r["item_type"], r["item_key"],
                          r["payload_hash"], r["event"], r["actor"], r["at"]) for r in rows]

    def get_outbox(self, outbox_id: int) -> OutboxRow:
        with self._read() as con:
            row = con.execute("SELECT * FROM outbox WHERE outbox_id = ?", (outbox_id,)).fetchone()
        if row is None:
            raise OpsStoreError(f"no outbox row {outbox_id}")
        return _outbox(row)

    def begin_attempt(self, outbox_id: int) -> Attempt:
        """Log attempt n + 1 and set the row ``sending``. Allowed from ``pending`` and
        ``failed``; refused for ``sent`` and for a row already ``sending`` (another pusher is on
        it, or a dead one left an open attempt: finish that one first, as ``sent`` or ``failed``
        if the ERP tells you by the idempotency key, else ``abandoned``)."""
        now = self.now()
        with self.transaction() as con:
            row = con.execute("SELECT * FROM outbox WHERE outbox_id = ?", (outbox_id,)).fetchone()
            if row is None:
                raise OpsStoreError(f"no outbox row {outbox_id}")
            if row["state"] not in ("pending", "failed"):
                raise OpsStoreError(
                    f"outbox row {outbox_id} is {row['state']}: cannot begin an attempt"
                )
            number = con.execute(
                "SELECT coalesce(max(attempt_no), 0) + 1 FROM outbox_attempts"
                " WHERE outbox_id = ?",
                (outbox_id,),
            ).fetchone()[0]
            cur = con.execute(
                "INSERT INTO outbox_attempts (outbox_id, attempt_no, started_at, updated_at)"
                " VALUES (?, ?, ?, ?)",
                (outbox_id, number, now, now),
            )
            con.execute(
                "UPDATE outbox SET state = 'sending', updated_at = ? WHERE outbox_id = ?",
                (now, outbox_id),
            )
        return Attempt(cur.lastrowid, outbox_id, number, now, None, None, None, None, None)

    def finish_attempt(
        self,
        attempt_id: int,
        outcome: str,
        erp_id: str | None = None,
        error: str | None = None,
        http_status: int | None = None,
    ) -> Attempt:
        """Record an open attempt's result and move its row: ``sent`` (needs ``erp_id``) →
        sent; ``failed`` / ``abandoned`` (need ``error``) → failed, to be retried."""
        if outcome not in ATTEMPT_OUTCOMES:
            raise OpsStoreError(f"outcome must be one of {ATTEMPT_OUTCOMES}: {outcome!r}")
        if outcome == "sent" and not erp_id:
            raise OpsStoreError("a sent attempt needs the ERP id")
        if outcome != "sent" and not error:
            raise OpsStoreError(f"a {outcome} attempt needs an error")
        now = self.now()
        with self.transaction() as con:
            att = con.execute(
                "SELECT * FROM outbox_attempts WHERE attempt_id = ?", (attempt_id,)
            ).fetchone()
            if att is None:
                raise OpsStoreError(f"no attempt {attempt_id}")
            if att["finished_at"] is not None:
                raise OpsStoreError(f"attempt {attempt_id} is already finished ({att['outcome']})")
            con.execute(
                "UPDATE outbox_attempts SET finished_at = ?, outcome = ?, erp_id = ?, error = ?,"
                " http_status = ?, updated_at = ? WHERE attempt_id = ?",
                (now, outcome, erp_id, error, http_status, now, attempt_id),
            )
            if outcome == "sent":
                con.execute(
                    "UPDATE outbox SET state = 'sent', erp_id = ?, last_error = NULL,"
                    " updated_at = ? WHERE outbox_id = ?",
                    (erp_id, now, att["outbox_id"]),
                )
            else:
                con.execute(
                    "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ?"
                    " WHERE outbox_id = ?",
                    (error, now, att["outbox_id"]),
                )
            row = con.execute(
                "SELECT * FROM outbox_attempts WHERE attempt_id = ?", (attempt_id,)
            ).fetchone()
        return _attempt(row)

    def attempts(self, outbox_id: int) -> list[Attempt]:
        with self._read() as con:
            rows = con.execute(
                "SELECT * FROM outbox_attempts WHERE outbox_id = ? ORDER BY attempt_no",
                (outbox_id,),
            ).fetchall()
        return [_attempt(r) for r in rows]

    def due(self, connection_id: str | None = None) -> list[DueRow]:
        """Rows to (re)send, oldest first: ``pending``, ``failed``, and ``sending`` rows (a
        process died mid-attempt) with their open attempt, which the pusher must reconcile by
        the row's idempotency key before anything else."""
        # A pending or failed row superseded by a newer accepted payload of the same item, or
        # cancelled by a later rejection, is not sent (C-3). A sending row still is
        # reconciled, whatever came after it.
        sql = ("SELECT * FROM outbox o WHERE (state = 'sending' OR (state IN ('pending', 'failed')"
               " AND NOT EXISTS (SELECT 1 FROM outbox n WHERE n.connection_id = o.connection_id"
               " AND n.item_type = o.item_type AND n.item_key = o.item_key"
               " AND n.outbox_id > o.outbox_id)"
               " AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.connection_id = o.connection_id"
               " AND d.item_type = o.item_type AND d.item_key = o.item_key"
               " AND d.decision_id > o.decision_id AND d.decision = 'reject')))")
        args: tuple[Any, ...] = ()
        if connection_id is not None:
            sql += " AND connection_id = ?"
            args = (connection_id,)
        with self._read() as con:
            rows = con.execute(sql + " ORDER BY outbox_id", args).fetchall()
            out = []
            for row in rows:
                open_ = con.execute(
                    "SELECT * FROM outbox_attempts WHERE outbox_id = ? AND finished_at IS NULL"
                    " ORDER BY attempt_no DESC LIMIT 1",
                    (row["outbox_id"],),
                ).fetchone()
                out.append(DueRow(_outbox(row), _attempt(open_) if open_ else None))
        return out

    # -- run history ---------------------------------------------------------------------------

    def start_run(self, kind: str) -> int:
        now = self.now()
        with self.transaction() as con:
            cur = con.execute(
                "INSERT INTO runs (kind, status, started_at, updated_at)"
                " VALUES (?, 'running', ?, ?)",
                (kind, now, now),
            )
            return cur.lastrowid

    def finish_run(
        self, run_id: int, status: str, summary: Mapping[str, Any] | None = None
    ) -> Run:
        if status not in RUN_STATUSES or status == "running":
            raise OpsStoreError(
                f"a finished run's status is succeeded, failed or partial: {status!r}"
            )
        text = None if summary is None else json.dumps(
            summary, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
        now = self.now()
        with self.transaction() as con:
            cur = con.execute(
                "UPDATE runs SET status = ?, finished_at = ?, summary_json = ?, updated_at = ?"
                " WHERE run_id = ? AND status = 'running'",
                (status, now, text, now, run_id),
            )
            if cur.rowcount != 1:
                raise OpsStoreError(f"run {run_id} does not exist or is already finished")
        return self.get_run(run_id)

    def get_run(self, run_id: int) -> Run:
        with self._read() as con:
            row = con.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise OpsStoreError(f"no run {run_id}")
        return _run(row)

    def runs(self, kind: str | None = None) -> list[Run]:
        """Runs, newest first."""
        with self._read() as con:
            if kind is None:
                rows = con.execute("SELECT * FROM runs ORDER BY run_id DESC").fetchall()
            else:
                rows = con.execute(
                    "SELECT * FROM runs WHERE kind = ? ORDER BY run_id DESC", (kind,)
                ).fetchall()
        return [_run(r) for r in rows]


@functools.cache
def _dummy_hash() -> str:
    return hash_password("costbridge: unknown user")


def _split_sql(script: str) -> list[str]:
    """Statements of a migration; trigger bodies (BEGIN … END;) stay whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise OpsStoreError(f"incomplete migration statement: {buffer.strip()[:60]}")
    return statements


def _is_approver(con: sqlite3.Connection, login: str, connection_id: str) -> bool:
    row = con.execute(
        "SELECT u.active, r.erp_level, r.can_push_to_accounting FROM users u"
        " LEFT JOIN user_roles r ON r.user_id = u.user_id AND r.connection_id = ?"
        " WHERE u.login = ?",
        (connection_id, login),
    ).fetchone()
    return (
        row is not None
        and bool(row["active"])
        and row["erp_level"] in APPROVER_LEVELS
        and bool(row["can_push_to_accounting"])
    )


def _tool_admin(con: sqlite3.Connection, login: str, connection_id: str, tool: str) -> bool:
    row = con.execute(
        "SELECT u.active, t.is_admin FROM users u LEFT JOIN user_tool_admin t"
        " ON t.user_id = u.user_id AND t.connection_id = ? AND t.tool = ?"
        " WHERE u.login = ?",
        (connection_id, tool, login),
    ).fetchone()
    return row is not None and bool(row["active"]) and bool(row["is_admin"])


def _require_approver(con: sqlite3.Connection, login: str, connection_id: str) -> None:
    if not _is_approver(con, login, connection_id):
        raise PermissionDenied(
            f"{login!r} is not an accounting approver on connection {connection_id!r}: "
            "accepting, rejecting and exporting need an active user with Standard or Admin "
            "on ERP Integrations and Can Push to Accounting (C-2)"
        )


def _decisions(
    con: sqlite3.Connection, connection_id: str, item_type: str, item_key: str
) -> list[Decision]:
    rows = con.execute(
        "SELECT d.*, u.login FROM decisions d JOIN users u ON u.user_id = d.decided_by"
        " WHERE d.connection_id = ? AND d.item_type = ? AND d.item_key = ?"
        " ORDER BY d.decision_id",
        (connection_id, item_type, item_key),
    ).fetchall()
    return [
        Decision(r["decision_id"], r["connection_id"], r["item_type"], r["item_key"],
                 r["payload_hash"], r["decision"], r["login"], r["decided_at"], r["reason"])
        for r in rows
    ]


def _state(
    con: sqlite3.Connection, connection_id: str, item_type: str, item_key: str, hash_: str
) -> str:
    history = _decisions(con, connection_id, item_type, item_key)
    if not history:
        return "awaiting_decision"
    latest = history[-1]  # latest decision wins (decision_id is monotonic across processes)
    if latest.payload_hash == hash_:
        return "accepted" if latest.decision == "accept" else "rejected"
    if any(d.decision == "accept" for d in history):
        return "ready_to_update"
    return "awaiting_decision"


def _outbox(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        row["outbox_id"], row["connection_id"], row["item_type"], row["item_key"],
        row["payload_hash"], row["payload_json"], row["idempotency_key"], row["decision_id"],
        row["state"], row["erp_id"], row["last_error"], row["created_at"], row["updated_at"],
    )


def _attempt(row: sqlite3.Row) -> Attempt:
    return Attempt(
        row["attempt_id"], row["outbox_id"], row["attempt_no"], row["started_at"],
        row["finished_at"], row["outcome"], row["erp_id"], row["error"], row["http_status"],
    )


def _run(row: sqlite3.Row) -> Run:
    summary = json.loads(row["summary_json"]) if row["summary_json"] is not None else None
    return Run(row["run_id"], row["kind"], row["status"], row["started_at"],
               row["finished_at"], summary)
