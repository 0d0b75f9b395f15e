"""Exactly once across crashes (docs/exports.md §8): `costbridge push` is killed at each step of
the outbox protocol and run again; every ERP sandbox then holds the record exactly once, as the
next real extract shows, and the Procore item carries its ERP id.

Each case runs on its own fresh world and ops store: real HTTP, real SQLite, a real subprocess
killed with no cleanup (os._exit at the crash point), the real dlt extract to count.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.exports import actions
from pipelines.exports.actions import QueueItem
from pipelines.exports.push import CRASH_ENV, CRASH_POINTS
from pipelines.exports.queue import store_with_users
from pipelines.run import RunSummary, extract_load
from tests.conftest import settings_for, start_world

KILLED = 97
# Where each ERP's vendors land in the warehouse, and the column holding the name.
VENDOR_TABLES = {"xero": ("raw_xero.contacts", "name"),
                 "netsuite": ("raw_netsuite.vendors", "companyname"),
                 "acumatica": ("raw_acumatica.vendors", "vendor_name")}
CONNECTIONS = {"xero": "xero-1", "netsuite": "netsuite-1", "acumatica": "acumatica-1"}


def _company_item(world, connection_id: str, name: str) -> QueueItem:
    vendors = world.t["vendors"].filter(
        (pl.col("connection_id") == connection_id) & (pl.col("procore_vendor_id") > 0))
    vendor_id = int(vendors["procore_vendor_id"][0])
    doc = json.dumps({"vendor_id": vendor_id, "name": name, "address": "12 Quarry Rd",
                      "city": "Springfield", "state_code": None, "postal_code": None,
                      "phone": "555-0142", "is_active": True,
                      "erp_vendor_id": f"PC{vendor_id}"}, separators=(",", ":"))
    return QueueItem(connection_id=connection_id, erp=connection_id.split("-")[0],
                     direction="export", item_type="company", item_key=f"company:{vendor_id}",
                     label=name, document=doc,
                     payload_hash=hashlib.sha256(doc.encode()).hexdigest())


def _push(config: Path, crash_at: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at:
        env[CRASH_ENV] = crash_at
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "push", "--config",
                           str(config), "--as", "alex"], env=env, capture_output=True,
                          text=True, timeout=120)


def _names_in_erp(settings, erp: str, name: str) -> int:
    extract_load(settings, RunSummary(run_id="crash"), log=lambda m: None)
    table, column = VENDOR_TABLES[erp]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(f"select count(*) from {table} where {column} = ?",
                           [name]).fetchone()[0]


@pytest.mark.parametrize("point", CRASH_POINTS)
@pytest.mark.parametrize("erp", ["xero", "netsuite", "acumatica"])
def test_killed_push_then_rerun_creates_one_record(tmp_path: Path, erp: str, point: str):
    world, server = start_world(seed=7, size="tiny")
    try:
        settings = settings_for(server, world, tmp_path)
        store = store_with_users(settings)
        name = f"Crash Test {erp} {point}"
        item = _company_item(world, CONNECTIONS[erp], name)
        row = actions.accept(store, "alex", item)

        killed = _push(settings.source, point)
        assert killed.returncode == KILLED, killed.stderr
        rerun = _push(settings.source, None)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr

        assert _names_in_erp(settings, erp, name) == 1
        final = store.get_outbox(row.outbox_id)
        assert final.state == "sent" and final.erp_id
        attempts = store.attempts(row.outbox_id)
        outcomes = [a.outcome for a in attempts]
        # Killed before the call: the open attempt is abandoned and the row sent again with
        # the same key; killed after it: the record is found and the open attempt recorded.
        expected = {"after_begin": ["abandoned", "sent"]}.get(point, ["sent"])
        assert outcomes == expected
        assert actions.live_state(store, item) == "synced"
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            origin = con.execute("select origin_id from raw_procore.vendors where id = ?",
                                 [int(item.item_key.split(":")[1])]).fetchone()
        assert origin is not None and str(origin[0]) == final.erp_id  # written back
    finally:
        server.stop()
