"""What the app's catalogue report pages need beyond ``reports.catalog``: the projects a report
can be filtered to, and the cost line balance status in one row for the Portfolio page."""

from __future__ import annotations

import duckdb
import polars as pl

from reports.catalog import COST_LINE_BALANCE, Report
from reports.snapshot import query


def projects(
    con: duckdb.DuckDBPyConnection, report: Report, connection: str | None = None
) -> pl.DataFrame:
    """The projects on the report's rows (of ``connection``, None for all): project_id, label.

    Empty for a report without project columns. Rows on no synced project (null project_id)
    are not a choice: they show under "All projects".
    """
    if not report.has_project:
        return pl.DataFrame(schema={"project_id": pl.Int64, "label": pl.String})
    return query(
        con,
        f"""
        select project_id,
               coalesce(any_value(project_number) || ' – ', '')
               || coalesce(any_value(project_name), cast(project_id as varchar)) as label
        from {report.table}
        where ($connection is null or connection_id = $connection) and project_id is not null
        group by project_id
        order by label, project_id
        """,
        {"connection": connection},
    )


def balance_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row over every connection of the cost line balance: connections, unbalanced,
    difference_lines and difference_amount (summed; 0 when everything balances)."""
    return query(
        con,
        f"""
        select count(*) as connections,
               count(*) filter (where not coalesce(is_balanced, false)) as unbalanced,
               coalesce(sum(difference_lines), 0) as difference_lines,
               coalesce(sum(difference_amount), 0) as difference_amount
        from {COST_LINE_BALANCE.table}
        """,
    )
