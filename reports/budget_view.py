"""ERP budget view (R-4) of one project, with drill-down to its direct cost lines (XE-13, R-5)."""

from __future__ import annotations

import duckdb
import polars as pl

from reports.snapshot import query

# Direct cost lines of this type are the "commitment invoiced" part of JTD on every ERP
# (XE-12, NS-16, AC-21); every other type counted in JTD is the direct part.
COMMITMENT_TYPE = "Subcontractor Invoice"

# AC-21: an ERP that splits job cost into amount types fills the budget view's erp_<type>
# columns; they are null where the ERP has none (and absent from snapshots published before
# they existed). Each is the ERP side of one direct cost type: type -> (label, direct cost type).
AMOUNT_TYPES = {
    "subcontract_invoices": ("Subcontract Invoices", COMMITMENT_TYPE),
    "invoices": ("Invoices", "Invoice"),
    "expenses": ("Expenses", "Expense"),
    "payroll": ("Payroll", "Payroll"),
}
AMOUNT_TYPE_COLUMNS = tuple(f"erp_{t}" for t in AMOUNT_TYPES)

_LINE_FILTER = "connection_id = $connection_id and project_id = $project_id"


def _amount_type_exprs(con: duckdb.DuckDBPyConnection, aggregate: str = "{}") -> str:
    """Select expressions for the erp_<type> columns, null where the snapshot lacks them."""
    with con.cursor() as cur:
        present = {r[0] for r in cur.execute("describe rpt_budget_view").fetchall()}
    return ", ".join(
        f"{aggregate.format(c) if c in present else 'cast(null as decimal(18, 2))'} as {c}"
        for c in AMOUNT_TYPE_COLUMNS)


def provided_amount_types(frame: pl.DataFrame) -> list[str]:
    """The amount types (keys of ``AMOUNT_TYPES``) the ERP provides here: those whose
    erp_<type> column has a value in ``frame``."""
    return [t for t in AMOUNT_TYPES
            if f"erp_{t}" in frame.columns and frame[f"erp_{t}"].is_not_null().any()]


def projects(con: duckdb.DuckDBPyConnection, connection_id: str) -> pl.DataFrame:
    """Projects with a budget on this connection: project_id, number, name, label."""
    return query(
        con,
        """
        select distinct project_id, project_number, project_name,
               coalesce(project_number || ' – ', '') || project_name as label
        from rpt_budget_view
        where connection_id = $connection_id
        order by project_number, project_name, project_id
        """,
        {"connection_id": connection_id},
    )


def budget_lines(
    con: duckdb.DuckDBPyConnection, connection_id: str, project_id: int
) -> pl.DataFrame:
    """The project's budget lines with original budget and the ERP job cost columns, and the
    ERP's amount types (null where the ERP has none)."""
    return query(
        con,
        f"""
        select budget_line_item_id, wbs_code, cost_code, cost_type, description,
               original_budget_amount, erp_job_to_date_costs, erp_commitment_invoiced,
               erp_direct_costs, {_amount_type_exprs(con)}
        from rpt_budget_view
        where {_LINE_FILTER}
        order by wbs_code, budget_line_item_id
        """,
        {"connection_id": connection_id, "project_id": project_id},
    )


def budget_totals(
    con: duckdb.DuckDBPyConnection, connection_id: str, project_id: int
) -> pl.DataFrame:
    """One row: number of budget lines and the sum of each money column (an amount type the
    ERP does not provide sums to null)."""
    return query(
        con,
        f"""
        select count(*) as budget_lines,
               coalesce(sum(original_budget_amount), 0) as original_budget_amount,
               coalesce(sum(erp_job_to_date_costs), 0) as erp_job_to_date_costs,
               coalesce(sum(erp_commitment_invoiced), 0) as erp_commitment_invoiced,
               coalesce(sum(erp_direct_costs), 0) as erp_direct_costs,
               {_amount_type_exprs(con, "sum({})")}
        from rpt_budget_view
        where {_LINE_FILTER}
        """,
        {"connection_id": connection_id, "project_id": project_id},
    )


def line_transactions(
    con: duckdb.DuckDBPyConnection, connection_id: str, project_id: int, wbs_code: str
) -> pl.DataFrame:
    """The direct cost lines behind one budget line (same connection, project and WBS code)."""
    return query(
        con,
        f"""
        select transaction_date, direct_cost_type, erp_transaction_type, vendor_name,
               invoice_number, description, line_description, quantity, unit_cost, amount,
               counts_in_jtd, received_date, status, erp_transaction_id, direct_cost_line_id
        from direct_costs
        where {_LINE_FILTER} and wbs_code = $wbs_code
        order by transaction_date, erp_transaction_id, direct_cost_line_id
        """,
        {"connection_id": connection_id, "project_id": project_id, "wbs_code": wbs_code},
    )


def line_reconciliation(
    con: duckdb.DuckDBPyConnection, connection_id: str, project_id: int, wbs_code: str
) -> pl.DataFrame:
    """One row: the budget line's ERP figures beside the sums of its direct cost lines.

    ``txn_*`` sum only lines with ``counts_in_jtd``; ``*_difference`` = transactions − ERP, so
    anything but zero is a finding (R-5). ERP figures are null when the WBS code has no budget
    line. Procore keeps one budget line per budget code, so summing the line(s) is exact.
    Where the ERP provides amount types (AC-21), ``erp_<type>`` beside ``txn_<type>`` (the
    counted lines of the matching direct cost type) and ``<type>_difference``; the ERP side
    and the difference are null where it does not.
    """
    per_type = ", ".join(
        f"coalesce(sum(amount) filter (where counts_in_jtd and direct_cost_type = $type_{t}), 0)"
        f" as txn_{t}" for t in AMOUNT_TYPES)
    differences = ", ".join(f"txn_{t} - erp_{t} as {t}_difference" for t in AMOUNT_TYPES)
    return query(
        con,
        f"""
        with erp as (
            select sum(erp_job_to_date_costs) as erp_job_to_date_costs,
                   sum(erp_commitment_invoiced) as erp_commitment_invoiced,
                   sum(erp_direct_costs) as erp_direct_costs,
                   {_amount_type_exprs(con, "sum({})")}
            from rpt_budget_view
            where {_LINE_FILTER} and wbs_code = $wbs_code
        ),
        txn as (
            select count(*) as transaction_lines,
                   count(*) filter (where counts_in_jtd) as counted_lines,
                   coalesce(sum(amount) filter (where counts_in_jtd), 0) as txn_jtd,
                   coalesce(sum(amount) filter (
                       where counts_in_jtd and direct_cost_type = $commitment_type), 0)
                       as txn_commitment_invoiced,
                   coalesce(sum(amount) filter (
                       where counts_in_jtd
                         and direct_cost_type is distinct from $commitment_type), 0)
                       as txn_direct,
                   coalesce(sum(amount) filter (where not counts_in_jtd), 0) as txn_not_counted,
                   {per_type}
            from direct_costs
            where {_LINE_FILTER} and wbs_code = $wbs_code
        )
        select erp.*, txn.*,
               txn_jtd - erp_job_to_date_costs as jtd_difference,
               txn_commitment_invoiced - erp_commitment_invoiced
                   as commitment_invoiced_difference,
               txn_direct - erp_direct_costs as direct_difference,
               {differences}
        from erp cross join txn
        """,
        {
            "connection_id": connection_id,
            "project_id": project_id,
            "wbs_code": wbs_code,
            "commitment_type": COMMITMENT_TYPE,
            **{f"type_{t}": dc_type for t, (_, dc_type) in AMOUNT_TYPES.items()},
        },
    )
