"""Reading back what a run built: the published snapshot, the warehouse, and the world's
ledger in the same shape, so integration tests compare like with like."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import polars as pl

from pipelines import publish
from pipelines.sandbox.world import World, cents

Split = tuple[Decimal, Decimal, Decimal]  # JTD cost, commitment invoiced, direct cost


def connection_ids(world: World, erp: str) -> list[str]:
    return world.connections(erp)["connection_id"].to_list()


def snapshot_frame(settings, table: str, order: str) -> pl.DataFrame:
    con = publish.open_snapshot(settings.published)
    try:
        return con.sql(f"select * from {table} order by {order}").pl()
    finally:
        con.close()


def warehouse_rows(settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def ledger_job_costs(world: World, connections: list[str]) -> dict[tuple, Split]:
    led = world.ledger().filter(pl.col("connection_id").is_in(connections))
    return {(r["connection_id"], r["procore_project_id"], r["cost_code"], r["cost_type"]):
            (cents(r["jtd_cents"]), cents(r["ci_cents"]), cents(r["direct_cents"]))
            for r in led.iter_rows(named=True)}


def mart_job_costs(settings, connections: list[str]) -> dict[tuple, Split]:
    jc = snapshot_frame(settings, "job_costs", "connection_id, project_id, cost_code, cost_type")
    return {(r["connection_id"], r["project_id"], r["cost_code"], r["cost_type"]):
            (r["jtd_cost"], r["commitment_invoiced"], r["direct_cost"])
            for r in jc.filter(pl.col("connection_id").is_in(connections)).iter_rows(named=True)}


def marts(settings) -> dict[str, pl.DataFrame]:
    out = {}
    for t, order in [("job_costs", "connection_id, project_id, cost_code, cost_type"),
                     ("direct_costs", "direct_cost_line_id"), ("erp_cost_lines", "erp_line_id"),
                     ("rpt_budget_view", "connection_id, project_id, wbs_code")]:
        out[t] = snapshot_frame(settings, t, order)
    return out


def raw_counts(settings) -> dict[str, int]:
    tables = warehouse_rows(settings, "select table_schema, table_name "
                            "from information_schema.tables where table_schema like 'raw_%' "
                            "and table_schema not like '%_staging' "
                            "and table_name not like '_dlt%'")
    counts = warehouse_rows(settings, " union all ".join(
        f"select '{s}.{t}', count(*) from \"{s}\".\"{t}\"" for s, t in tables))
    return dict(counts)
