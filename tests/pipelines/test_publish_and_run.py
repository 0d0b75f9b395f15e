"""Publishing: immutable snapshots, an atomic pointer, pruning, time travel; and a run that
fails publishes nothing."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import duckdb
import pytest

from pipelines import publish
from pipelines.run import RunFailed, run
from tests.conftest import settings_for, start_world


def _warehouse(path, value: int) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists staging")
    con.execute("create or replace table marts.job_costs as "
                f"select 'c1' as connection_id, {value}.25::decimal(18, 2) as jtd_cost")
    con.execute("create or replace table staging.hidden as select 1 as x")
    con.close()


def test_publish_copies_published_schemas_and_switches_the_pointer(tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "published"
    _warehouse(wh, 100)
    first = publish.publish(wh, pub, run_id="r1")
    _warehouse(wh, 200)
    second = publish.publish(wh, pub, run_id="r2")
    assert (pub / publish.POINTER).read_text().strip() == second.name
    manifest = json.loads((second / publish.MANIFEST).read_text())
    assert manifest["tables"] == {"job_costs": {"schema": "marts", "rows": 1}}
    assert not (second / "hidden.parquet").exists()  # staging is never published
    con = publish.open_snapshot(pub)
    assert str(con.execute("select jtd_cost from job_costs").fetchone()[0]) == "200.25"
    # The older snapshot is untouched: what was reported then can still be read.
    old = duckdb.connect()
    assert str(old.execute(f"select jtd_cost from '{first}/job_costs.parquet'").fetchone()[0]
               ) == "100.25"


def test_publish_leaves_out_tables_this_build_did_not_make(tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "published"
    _warehouse(wh, 1)
    con = duckdb.connect(str(wh))
    con.execute("create table marts.removed_model as select 1 as x")
    con.close()
    snap = publish.publish(wh, pub, run_id="r", only={("marts", "job_costs")})
    assert sorted(p.name for p in snap.glob("*.parquet")) == ["job_costs.parquet"]


def test_as_of_reads_the_snapshot_of_that_time_and_prune_keeps_n(tmp_path):
    wh, pub = tmp_path / "wh.duckdb", tmp_path / "published"
    names = []
    for i in range(4):
        _warehouse(wh, i)
        names.append(publish.publish(wh, pub, run_id=f"r{i}", keep=3).name)
        time.sleep(0.01)
    kept = [m["snapshot_id"] for m in publish.snapshots(pub)]
    assert kept == names[1:]
    second = json.loads((pub / names[2] / publish.MANIFEST).read_text())["created_at"]
    assert publish.resolve(pub, as_of=second).name == names[2]
    with pytest.raises(publish.SnapshotNotFound, match="no snapshot published on or before"):
        publish.resolve(pub, as_of="2000-01-01")
    today = datetime.now(UTC).date().isoformat()
    assert publish.resolve(pub, as_of=today).name == names[3]  # a date means its end
    with pytest.raises(ValueError, match="not a date"):
        publish.resolve(pub, as_of="last tuesday")


def test_a_failed_run_publishes_nothing_and_says_why(tmp_path, monkeypatch):
    world, server = start_world(seed=3, size="tiny")
    monkeypatch.setenv("SOURCES__XERO__ACCESS_TOKEN", "revoked-token-123")
    try:
        settings = settings_for(server, world, tmp_path)
        with pytest.raises(RunFailed, match=r"extract-load xero failed.*xero \w+: HTTP 401") as err:
            run(settings, log=lambda m: None)
        assert "revoked-token-123" not in str(err.value)  # credentials never in messages
        assert not (settings.published / publish.POINTER).exists()
    finally:
        server.stop()


def test_cli_names_the_bad_config_key(tmp_path):
    cfg = tmp_path / "costbridge.toml"
    cfg.write_text('[procore]\nbase_url = "http://127.0.0.1:1"\n\n[[connections]]\nid = "x"\n'
                   'erp = "sage"\n')
    out = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--config", str(cfg)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "connections[0].erp must be one of xero, netsuite, acumatica" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_disconnected_organisation_is_skipped_and_reported(tmp_path):
    """A 403 for one Xero tenant leaves that connection out, says so, and the rest lands."""
    world, server = start_world(seed=3, size="tiny")
    try:
        settings = settings_for(server, world, tmp_path)
        gone = [dataclasses.replace(c, erp_tenant_id="00000000-0000-4000-8000-000000000000")
                if c.erp == "xero" else c for c in settings.connections]
        summary = run(dataclasses.replace(settings, connections=tuple(gone)),
                      log=lambda m: None)
        assert summary.skipped and all(s.startswith("xero xero-1 ") for s in summary.skipped)
        assert any("HTTP 403" in s for s in summary.skipped)
        assert "SKIPPED" in summary.render()
        assert (settings.published / publish.POINTER).exists()
        assert summary.rows.get("raw_procore.projects", 0) > 0
        # A full refresh replaces tables whole, so it fails rather than drop that tenant.
        with pytest.raises(RunFailed, match="HTTP 403"):
            run(dataclasses.replace(settings, connections=tuple(gone)), log=lambda m: None,
                full_refresh=True)
    finally:
        server.stop()
