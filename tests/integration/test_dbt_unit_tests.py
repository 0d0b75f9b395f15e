"""dbt's unit tests (the rule logic on hand-worked inputs, named by rule ID) run here, once,
against the tiny world's warehouse; a pipeline run leaves them out and keeps its data tests."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from pipelines.run import DBT_PROJECT, dbt_build


def _results(settings) -> list[dict]:
    path = settings.warehouse.parent / "dbt_target" / "run_results.json"
    return json.loads(path.read_text())["results"]


def _defined_unit_tests() -> set[str]:
    """Every unit test named in the project's YAML, read independently of dbt."""
    names = set()
    for path in Path(DBT_PROJECT, "models").rglob("*.yml"):
        doc = yaml.safe_load(path.read_text()) or {}
        names |= {t["name"] for t in doc.get("unit_tests") or []}
    return names


def test_a_run_keeps_data_tests_and_leaves_unit_tests_out(env) -> None:
    kinds = {r["unique_id"].split(".")[0] for r in _results(env[2])}
    assert "test" in kinds and "model" in kinds
    assert "unit_test" not in kinds
    ran = {r["unique_id"].split(".")[2] for r in _results(env[2])}
    assert "conservation_cost_lines_balance_on_every_connection" in ran


def test_every_dbt_unit_test_passes(env) -> None:
    settings = env[2]
    dbt_build(settings, lambda m: None, quiet=True, unit_tests=True)
    results = _results(settings)
    assert {r["unique_id"].split(".")[0] for r in results} == {"unit_test"}
    assert {r["unique_id"].split(".")[-1] for r in results} == _defined_unit_tests()
    assert [r["unique_id"] for r in results if r["status"] != "pass"] == []
