"""Portfolio: job-to-date cost and its split per project, across connections (XE-12, AC-21)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from reports.connections import with_erp_name
from reports.snapshot import query

# ``$connection_ids`` null means every connection; the cast types an empty list.
_CONNECTION_FILTER = "($connection_ids is null or list_contains($connection_ids::varchar[], {col}))"

_PROJECT_COSTS = f"""
    select j.connection_id, c.company_name, j.erp, j.project_id, j.project_number,
           j.project_name,
           coalesce(j.project_number || ' – ', '') || j.project_name as project_label,
           sum(j.jtd_cost) as jtd_cost,
           sum(j.commitment_invoiced) as commitment_invoiced,
           sum(j.direct_cost) as direct_cost
    from job_costs as j
    left join connections as c on c.connection_id = j.connection_id
    where {_CONNECTION_FILTER.format(col="j.connection_id")}
    group by j.connection_id, c.company_name, j.erp, j.project_id, j.project_number,
             j.project_name
"""


def _params(connection_ids: Sequence[str] | None) -> dict[str, list[str] | None]:
    return {"connection_ids": None if connection_ids is None else list(connection_ids)}


def project_costs(
    con: duckdb.DuckDBPyConnection, connection_ids: Sequence[str] | None = None
) -> pl.DataFrame:
    """One row per project: connection, ERP, project, JTD cost, commitment invoiced, direct cost.

    ``connection_ids`` None means all connections.
    """
    frame = query(
        con,
        f"{_PROJECT_COSTS} order by c.company_name, j.connection_id, j.project_number, "
        "j.project_id",
        _params(connection_ids),
    )
    return with_erp_name(frame)


def portfolio_totals(
    con: duckdb.DuckDBPyConnection, connection_ids: Sequence[str] | None = None
) -> pl.DataFrame:
    """One row: projects, jtd_cost, commitment_invoiced, direct_cost over the chosen connections."""
    return query(
        con,
        f"""
        select count(distinct (connection_id, project_id)) as projects,
               coalesce(sum(jtd_cost), 0) as jtd_cost,
               coalesce(sum(commitment_invoiced), 0) as commitment_invoiced,
               coalesce(sum(direct_cost), 0) as direct_cost
        from job_costs
        where {_CONNECTION_FILTER.format(col="connection_id")}
        """,
        _params(connection_ids),
    )


def jtd_split(
    con: duckdb.DuckDBPyConnection, connection_ids: Sequence[str] | None = None
) -> pl.DataFrame:
    """Long form for a stacked chart: project, component (commitment invoiced | direct), amount."""
    return query(
        con,
        f"""
        with p as ({_PROJECT_COSTS}),
        labelled as (
            select *, project_label || ' · ' || coalesce(company_name, connection_id)
                      as chart_label
            from p
        )
        select connection_id, project_id, chart_label, jtd_cost,
               'Commitment invoiced' as component, commitment_invoiced as amount
        from labelled
        union all
        select connection_id, project_id, chart_label, jtd_cost,
               'Direct cost' as component, direct_cost as amount
        from labelled
        order by jtd_cost desc, chart_label, component
        """,
        _params(connection_ids),
    )
