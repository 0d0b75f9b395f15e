"""A hand-worked ``export_queue`` (docs/exports.md §2) on top of ``tests/fixtures_snapshot.py``'s
warehouse, published through the real ``pipelines.publish.publish``; and the config, users file
and ops store the approver workspace runs against.

Connections as in ``fixtures_snapshot``: ``xero-acme`` (Xero), ``ns-bolt`` (NetSuite) and
``ac-ridge`` (Acumatica). Documents are hand-written JSON text in the mart's form (compact,
money as numbers with two decimals) and ``payload_hash`` is the sha256 of exactly that text.
The counts below are worked out by hand from the rows.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.publish import publish
from tests import fixtures_snapshot

D = Decimal


def _json(value: Any) -> str:
    """Compact JSON as DuckDB's ``to_json`` writes it; Decimals as exact numbers."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


POUR_CO = {"vendor_id": 11, "name": "Pour Co", "erp_ref": "c1a5e0de-0011-4000-8000-000000000011"}
HARBOUR = {"project_id": 501, "project_number": "P-001", "name": "Harbour View Apartments",
           "erp_ref": "opt-501"}

# SI-1: two lines 6,000.00 + 5,000.00 = total 11,000.00; retainage 10 % = 1,100.00 (XE-9).
SI_1 = {
    "requisition_id": 301, "invoice_number": "SI-1", "status": "approved",
    "billing_date": "2025-05-31", "payment_date": "2025-06-30",
    "total": D("11000.00"), "retainage": D("1100.00"),
    "commitment": {"commitment_id": 401, "number": "PO-7", "erp_ref": None},
    "vendor": POUR_CO, "project": HARBOUR,
    "lines": [
        {"line_id": 3011, "wbs_code": "03-100.L", "cost_code": "03-100", "cost_type": "L",
         "description": "Formwork labour", "amount": D("6000.00"), "item_erp_ref": "03-100L"},
        {"line_id": 3012, "wbs_code": "03-100.M", "cost_code": "03-100", "cost_type": "M",
         "description": "Formwork ply", "amount": D("5000.00"), "item_erp_ref": "03-100M"},
    ],
}
# SI-2: a credit of −250.00 on Xero: blocked (XE-9 negative_invoice, no payment date).
SI_2 = {
    **SI_1, "requisition_id": 302, "invoice_number": "SI-2", "payment_date": None,
    "total": D("-250.00"), "retainage": D("0.00"),
    "lines": [{"line_id": 3021, "wbs_code": "03-100.M", "cost_code": "03-100",
               "cost_type": "M", "description": "Ply returned", "amount": D("-250.00"),
               "item_erp_ref": "03-100M"}],
}
CIVIC = {"project_id": 701, "project_number": "24-017", "name": "Civic Library",
         "address": "1 Library Way", "city": "Springfield", "is_active": True,
         "erp_job_id": "24-017"}
DEPOT = {**CIVIC, "project_id": 702, "project_number": "24-018", "name": "Depot Annex",
         "address": "9 Depot Rd", "erp_job_id": "24-018"}
RIDGE_TIMBER = {"vendor_id": 31, "name": "Ridge Timber Pty", "address": "4 Mill St",
                "city": "Ridgeway", "state_code": "WA", "postal_code": "6000",
                "phone": "08 5550 0031", "is_active": True, "erp_vendor_id": "V000031"}
# What was last sent for company:31 (its name and phone changed since, C-3 ready_to_update).
RIDGE_TIMBER_SENT = {**RIDGE_TIMBER, "name": "Ridge Timber", "phone": "08 5550 0030"}


def _doc(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, **fields}


def _err(rule: str, code: str, message: str) -> dict[str, str]:
    return {"rule_id": rule, "severity": "error", "code": code, "message": message}


def _warn(rule: str, code: str, message: str) -> dict[str, str]:
    return {"rule_id": rule, "severity": "warning", "code": code, "message": message}


NEGATIVE = _err("XE-9", "negative_invoice",
                "Subcontractor invoice SI-2 totals -250.00: Xero bills cannot be negative.")
NO_PAYMENT_DATE = _err("XE-9", "missing_payment_date",
                       "Subcontractor invoice SI-2 has no payment date.")
PRE_GO_LIVE = _err("C-4", "project_existed_before_go_live",
                   "Project 24-018 Depot Annex matches NetSuite job 3310: link it, do not "
                   "export it.")
TRUNCATED = _warn("AC-7", "project_name_truncated",
                  "Project name 'Hillside School and Community Sports Centre' is over 30 "
                  "characters: Acumatica keeps 'Hillside School and Community '.")
COMMAS = _warn("AC-7", "address_commas", "Project address '12 Hill Rd, Ridgeway' has commas.")
NOT_ACTIVE = _err("AC-7", "project_not_active", "Project 25-004 Quarry Road Hall is inactive.")
VENDOR_NOT_SYNCED = _err("AC-13", "company_not_synced",
                         "Vendor Ridge Sawmill of invoice RT-5 is not synced.")
LINE_NOT_SYNCED = _err("AC-16", "line_code_not_synced",
                       "Line 02.09-200.000.SUBCON of invoice RT-5: the cost code is not synced.")

# (connection, erp, direction, item_type, id, label, amount, erp_ref, document, findings,
#  state, decided_by, decision_reason, outbox_state, last_error, attempts)
QUEUE: list[tuple] = [
    ("xero-acme", "xero", "export", "company", "11", "Pour Co", None, POUR_CO["erp_ref"],
     {"vendor_id": 11, "name": "Pour Co", "address": "2 Quay St", "city": "Auckland",
      "state_code": None, "postal_code": "1010", "phone": "09 555 0111", "is_active": True,
      "erp_vendor_id": None}, [], "synced", None, None, None, None, 0),
    ("xero-acme", "xero", "export", "subcontractor_invoice", "301", "SI-1 · Pour Co",
     "11000.00", None, SI_1, [], "ready_to_export", None, None, None, None, 0),
    ("xero-acme", "xero", "export", "subcontractor_invoice", "302", "SI-2 · Pour Co",
     "-250.00", None, SI_2, [NEGATIVE, NO_PAYMENT_DATE], "ready_to_export", None, None, None,
     None, 0),
    ("xero-acme", "xero", "export", "commitment", "401", "PO-7 · Pour Co", "25000.00", None,
     _doc("commitment", commitment_id=401, number="PO-7", amount=D("25000.00")), [],
     "failed_to_export", "alex", None, "failed",
     "Xero refused PO-7: ValidationException (HTTP 400)", 1),
    ("xero-acme", "xero", "import", "direct_cost", "SPD-3", "SPD-3 · Site Cafe", "700.00",
     None, _doc("direct_cost", erp_txn_id="SPD-3", total=D("700.00")), [], "ready_to_import",
     None, None, None, None, 0),
    ("ns-bolt", "netsuite", "export", "project", "701", "24-017 – Civic Library", None, None,
     CIVIC, [], "ready_to_export", None, None, None, None, 0),
    ("ns-bolt", "netsuite", "export", "project", "702", "24-018 – Depot Annex", None, None,
     DEPOT, [PRE_GO_LIVE], "ready_to_export", None, None, None, None, 0),
    ("ns-bolt", "netsuite", "export", "company", "21", "Bolt Steel", None, None,
     _doc("company", vendor_id=21, name="Bolt Steel", is_active=False), [], "archived", None,
     None, None, None, 0),
    ("ns-bolt", "netsuite", "export", "subcontractor_invoice", "311", "NS-INV-4 · Mill Supply",
     "1500.50", None, _doc("subcontractor_invoice", requisition_id=311, total=D("1500.50")),
     [], "accepted", "alex", None, "pending", None, 0),
    ("ns-bolt", "netsuite", "import", "vendor_update", "V-77", "Mill Supply", None, None,
     _doc("vendor_update", vendor_id=77, changes={"phone": "555 0177"}), [],
     "ready_to_import", None, None, None, None, 0),
    ("ac-ridge", "acumatica", "export", "project", "801",
     "25-003 – Hillside School and Community Sports Centre", None, None,
     _doc("project", project_id=801, name="Hillside School and Community Sports Centre"),
     [TRUNCATED, COMMAS], "ready_to_export", None, None, None, None, 0),
    ("ac-ridge", "acumatica", "export", "budget", "801", "25-003 budget", "75000.00", None,
     _doc("budget", project_id=801, total=D("75000.00")), [], "rejected", "alex",
     "Budget codes are not in Acumatica yet", None, None, 0),
    ("ac-ridge", "acumatica", "export", "company", "31", "Ridge Timber Pty", None, "V000031",
     RIDGE_TIMBER, [], "ready_to_update", "alex", None, "sent", None, 1),
    ("ac-ridge", "acumatica", "export", "commitment", "811", "SC-12 · Ridge Timber",
     "30000.00", "SC-000012", _doc("commitment", commitment_id=811, amount=D("30000.00")),
     [], "synced", None, None, None, None, 0),
    ("ac-ridge", "acumatica", "export", "subcontractor_invoice", "821", "RT-5 · Ridge Sawmill",
     "4000.00", None, _doc("subcontractor_invoice", requisition_id=821, total=D("4000.00")),
     [VENDOR_NOT_SYNCED, LINE_NOT_SYNCED], "retrieved", None, None, None, None, 0),
    ("ac-ridge", "acumatica", "export", "project", "802", "25-004 – Quarry Road Hall", None,
     None, _doc("project", project_id=802, is_active=False), [NOT_ACTIVE, COMMAS], "archived",
     None, None, None, None, 0),
]
# Published state counts, all connections (16 rows): ready_to_export 5 (SI-1, SI-2, 701, 702,
# 801), ready_to_import 2 (SPD-3, V-77), ready_to_update 1, failed_to_export 1, synced 2 (Pour
# Co, SC-12), archived 2 (Bolt Steel, 802), accepted 1, rejected 1, retrieved 1.
STATE_COUNTS = {"ready_to_export": 5, "ready_to_import": 2, "ready_to_update": 1,
                "failed_to_export": 1, "synced": 2, "archived": 2, "accepted": 1,
                "rejected": 1, "retrieved": 1}
# Xero only (5 rows): ready_to_export 2, ready_to_import 1, failed_to_export 1, synced 1.
XERO_STATE_COUNTS = {**dict.fromkeys(STATE_COUNTS, 0), "ready_to_export": 2,
                     "ready_to_import": 1, "failed_to_export": 1, "synced": 1}

_SCHEMA = """
    connection_id varchar, erp varchar, direction varchar, item_type varchar, item_key varchar,
    procore_id bigint, procore_project_id bigint, label varchar, amount decimal(18,2),
    erp_ref varchar, document varchar, payload_hash varchar,
    findings struct(rule_id varchar, severity varchar, code varchar, message varchar)[],
    is_blocked boolean, is_archived boolean, state varchar, decided_by varchar,
    decided_at timestamp, decision_reason varchar, outbox_state varchar, last_error varchar,
    attempts integer, updated_at timestamp
"""


def document_text(document: dict[str, Any]) -> str:
    return _json(document)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _row(r: tuple) -> tuple:
    (conn, erp, direction, item_type, id_, label, amount, erp_ref, document, findings, state,
     decided_by, reason, outbox_state, last_error, attempts) = r
    text = document_text(document)
    procore_id = int(id_) if direction == "export" else None
    project = document.get("project", {}).get("project_id") if item_type != "project" else None
    if item_type == "project":
        project = procore_id
    is_blocked = any(f["severity"] == "error" for f in findings)
    decided_at = "2026-11-20 09:30:00" if decided_by else None
    return (conn, erp, direction, item_type, f"{item_type}:{id_}", procore_id, project, label,
            amount, erp_ref, text, sha256(text), findings, is_blocked, state == "archived",
            state, decided_by, decided_at, reason, outbox_state, last_error, attempts,
            "2026-11-19 16:00:00")


def add_export_queue(warehouse: Path) -> Path:
    """Add ``marts.export_queue`` with :data:`QUEUE` to a fixtures_snapshot warehouse."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"create table marts.export_queue ({_SCHEMA})")
        con.executemany(f"insert into marts.export_queue values ({', '.join(['?'] * 23)})",
                        [_row(r) for r in QUEUE])
    finally:
        con.close()
    return warehouse


def build_published(root: Path) -> Path:
    """The hand-worked snapshot (three connections) plus the export queue, published under
    ``root/published``; returns that directory."""
    warehouse = fixtures_snapshot.build_warehouse(root / "warehouse.duckdb", acumatica=True)
    add_export_queue(warehouse)
    published = root / "published"
    publish(warehouse, published, run_id="exports-test")
    return published


def item_row(item_key: str, connection_id: str) -> dict[str, Any]:
    """The published row of one item, as the mart holds it (document text and hash)."""
    for r in QUEUE:
        if r[0] == connection_id and f"{r[3]}:{r[4]}" == item_key:
            row = _row(r)
            return {"connection_id": row[0], "item_type": row[3], "item_key": row[4],
                    "document": row[10], "payload_hash": row[11]}
    raise KeyError((connection_id, item_key))


# -- the config, users file and ops store of the workspace ------------------------------------

USERS_TOML = """\
[[users]]
login = "alex"
name = "Alex Approver"
password = "demo-approver"
roles = [
  { connection = "xero-acme", erp_level = "admin", can_push = true },
  { connection = "ns-bolt", erp_level = "standard", can_push = true },
  { connection = "ac-ridge", erp_level = "admin", can_push = true },
]

[[users]]
login = "sam"
name = "Sam Sender"
password = "demo-sender"

[[users.roles]]
connection = "xero-acme"
erp_level = "none"
can_push = false
tool_admin = ["commitments", "invoicing", "directory", "budget", "projects"]

[[users.roles]]
connection = "ns-bolt"
erp_level = "none"
can_push = false
tool_admin = ["commitments", "invoicing", "directory", "budget", "projects"]

[[users.roles]]
connection = "ac-ridge"
erp_level = "none"
can_push = false
tool_admin = ["commitments", "invoicing", "directory", "budget", "projects"]

[[users]]
login = "robin"
name = "Robin Reader"
password = "demo-reader"
roles = [
  { connection = "xero-acme", erp_level = "read_only", can_push = false },
  { connection = "ns-bolt", erp_level = "read_only", can_push = false },
  { connection = "ac-ridge", erp_level = "read_only", can_push = false },
]
"""

CONFIG_TOML = """\
[warehouse]
path = "warehouse.duckdb"
published = "published"
keep_snapshots = 3
ops_store = "ops.sqlite"
users_file = "users.toml"

[procore]
base_url = "http://127.0.0.1:9"

[[connections]]
id = "xero-acme"
erp = "xero"
procore_company_id = 1001
company_name = "Acme Builders"
erp_base_url = "http://127.0.0.1:9"
erp_tenant_id = "acme-tenant"

[[connections]]
id = "ns-bolt"
erp = "netsuite"
procore_company_id = 2002
company_name = "Bolt Construction"
erp_base_url = "http://127.0.0.1:9"
erp_tenant_id = "1234567"

[[connections]]
id = "ac-ridge"
erp = "acumatica"
procore_company_id = 3003
company_name = "Ridge Builders"
erp_base_url = "http://127.0.0.1:9"
erp_tenant_id = "Ridge"
"""


def write_config(root: Path) -> Path:
    """``root/costbridge.toml`` and ``root/users.toml`` for the workspace (ERP URLs point at
    a closed port: the workspace only dry-runs); returns the config path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "users.toml").write_text(USERS_TOML)
    path = root / "costbridge.toml"
    path.write_text(CONFIG_TOML)
    return path


PO_7_ERROR = "Xero refused PO-7: ValidationException (HTTP 400)"


def seed_store(config_file: Path) -> None:
    """The ops store as the workspace tests start from: the users file loaded;
    company:31 on ac-ridge sent once as :data:`RIDGE_TIMBER_SENT` (so the published
    document, changed since, is ready_to_update, C-3); commitment:401 on xero-acme accepted
    and its one attempt failed with :data:`PO_7_ERROR` (failed_to_export)."""
    from pipelines import config
    from pipelines.exports import actions, users

    settings = config.load(config_file)
    store = actions.open_store(settings)
    users.load_users_file(settings.users_file, store)
    row = store.accept_and_enqueue("alex", "ac-ridge", "company", "company:31",
                                   document_text(RIDGE_TIMBER_SENT))
    attempt = store.begin_attempt(row.outbox_id)
    store.finish_attempt(attempt.attempt_id, "sent", erp_id="V000031")
    po7 = item_row("commitment:401", "xero-acme")
    row = store.accept_and_enqueue("alex", "xero-acme", "commitment", "commitment:401",
                                   po7["document"])
    attempt = store.begin_attempt(row.outbox_id)
    store.finish_attempt(attempt.attempt_id, "failed", error=PO_7_ERROR, http_status=400)
