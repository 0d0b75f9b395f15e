"""The report catalogue: one definition per report, read by the CLI, the exports and the app.

Each ``Report`` names its snapshot table, its columns (with a kind that tells writers how to
show them), its order, the money columns totalled and an optional chart and filter column.
``fetch``, ``totals``, ``chart_data`` and ``choices`` query a snapshot connection with bound
parameters only: filter values never enter the SQL text. Totals are summed in SQL so DECIMAL
stays exact (docs/reports.md, "Catalogue").
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from reports.snapshot import query

KINDS = ("text", "money", "int", "number", "date", "datetime", "bool")
# The SQL type of a column an older snapshot lacks (selected as a typed null).
_NULL_TYPES = {"text": "varchar", "money": "decimal(18, 2)", "int": "bigint",
               "number": "double", "date": "date", "datetime": "timestamp", "bool": "boolean"}
# Tables that carry a project's id, number and name, to tell "no such project" from "no rows".
PROJECT_TABLES = ("job_costs", "rpt_budget_view", "rpt_erp_job_costs", "rpt_job_cost_accuracy",
                  "rpt_unsyncable_direct_costs", "rpt_reconciliation")


class ReportUnavailable(LookupError):
    """The snapshot has no table for this report (published before the report existed)."""


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    kind: str = "text"  # text | money | int | number | date | datetime | bool


@dataclass(frozen=True)
class Chart:
    category: str  # column on the x axis (grouped)
    value: str  # money column summed per category
    color: str | None = None
    # Money columns that are parts of ``value`` (R-5's causes): one bar per part, named by
    # its column, instead of one per ``category`` value (a list of causes reads poorly).
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    name: str  # CLI name, e.g. "unsyncable-direct-costs"
    table: str  # snapshot table
    title: str
    description: str  # what it shows, with its rule IDs
    columns: tuple[Column, ...]
    order_by: str
    totals: tuple[str, ...] = ()  # money columns summed (in SQL)
    chart: Chart | None = None
    choice: str | None = None  # one extra column the app offers as a filter
    # Rows sharing these columns count once in totals and charts' row counts: R-2 lists a line
    # once per failed rule, and its amount must not be summed twice.
    unique_by: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def has_project(self) -> bool:
        """Whether ``project`` filters this report (it has the project columns)."""
        return "project_id" in self.column_names

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, title: str, kind: str = "text") -> Column:
    return Column(name, title, kind)


_CONNECTION = (_c("connection_id", "Connection"), _c("erp", "ERP"))
_PROJECT = (_c("project_id", "Project ID", "int"), _c("project_number", "Project #"),
            _c("project_name", "Project"))
_AMOUNT_TYPES = ("subcontract_invoices", "invoices", "expenses", "payroll")

ERP_JOB_COSTS = Report(
    name="erp-job-costs",
    table="rpt_erp_job_costs",
    title="ERP Job Costs",
    description=(
        "R-1: the ERP's job costs per project, cost code and cost type: job-to-date cost, the "
        "commitment invoiced part and the direct cost part (XE-12, NS-16), and on Acumatica "
        "the four amount types (AC-21)."),
    columns=(*_CONNECTION, *_PROJECT, _c("wbs_code", "WBS code"), _c("cost_code", "Cost code"),
             _c("cost_type", "Cost type"), _c("jtd_cost", "Job to date cost", "money"),
             _c("commitment_invoiced", "Commitment invoiced", "money"),
             _c("direct_cost", "Direct cost", "money"),
             _c("subcontract_invoices", "Subcontract invoices", "money"),
             _c("invoices", "Invoices", "money"), _c("expenses", "Expenses", "money"),
             _c("payroll", "Payroll", "money")),
    order_by="connection_id, project_number, project_id, wbs_code",
    totals=("jtd_cost", "commitment_invoiced", "direct_cost", *_AMOUNT_TYPES),
    chart=Chart("project_name", "jtd_cost", "erp"),
    choice="cost_type",
)

UNSYNCABLE_DIRECT_COSTS = Report(
    name="unsyncable-direct-costs",
    table="rpt_unsyncable_direct_costs",
    title="ERP Unsyncable Direct Costs",
    description=(
        "R-2: every ERP cost line that does not sync to Procore as a direct cost, once per "
        "rule it fails, with the reason in plain language (C-4, C-5, XE-4, XE-11, NS-3, NS-5, "
        "NS-6, NS-7, NS-14, NS-15, AC-3, AC-6, AC-9, AC-21). A line failing two rules is "
        "listed twice and counted once in the totals."),
    columns=(*_CONNECTION, _c("company_name", "Company"), *_PROJECT,
             _c("erp_project_ref", "ERP project"), _c("erp_project_name", "ERP project name"),
             _c("erp_line_id", "ERP line"), _c("erp_transaction_id", "ERP transaction"),
             _c("erp_transaction_type", "Transaction type"), _c("status", "Status"),
             _c("transaction_date", "Date", "date"), _c("vendor_name", "Vendor"),
             _c("invoice_number", "Invoice #"), _c("wbs_code", "WBS code"),
             _c("item_code", "Item"), _c("line_amount", "Line amount", "money"),
             _c("signed_amount", "Signed amount", "money"), _c("reason_code", "Reason code"),
             _c("rule_ids", "Rules"), _c("reason", "Reason"),
             _c("is_first_reason", "First reason", "bool")),
    order_by=("connection_id, project_number, transaction_date, erp_transaction_id, "
              "erp_line_id, is_first_reason desc, reason_code"),
    totals=("line_amount", "signed_amount"),
    chart=Chart("reason_code", "signed_amount", "erp"),
    choice="reason_code",
    unique_by=("connection_id", "erp_line_id"),
)

ACCOUNTANTS = Report(
    name="accountants",
    table="rpt_accountants",
    title="Accountants",
    description=(
        "R-3: per company, the active Procore users who are accounting approvers: Standard or "
        "Admin on ERP Integrations and holding Can Push to Accounting (C-2)."),
    columns=(*_CONNECTION, _c("procore_company_id", "Procore company", "int"),
             _c("company_name", "Company"), _c("user_id", "User ID", "int"),
             _c("user_name", "User"), _c("email", "Email"),
             _c("erp_integrations_permission", "ERP Integrations")),
    order_by="company_name, connection_id, user_name, user_id",
    choice="erp_integrations_permission",
)

BUDGET_VIEW = Report(
    name="budget-view",
    table="rpt_budget_view",
    title="ERP Budget View",
    description=(
        "R-4: each budget line with its original budget, ERP job to date costs, ERP "
        "commitment invoiced and ERP direct costs = JTD − commitment invoiced (XE-12, NS-16), "
        "and the ERP's amount types where it has them (AC-21)."),
    columns=(*_CONNECTION, *_PROJECT, _c("budget_line_item_id", "Budget line", "int"),
             _c("wbs_code", "WBS code"), _c("cost_code", "Cost code"),
             _c("cost_type", "Cost type"), _c("description", "Description"),
             _c("original_budget_amount", "Original budget", "money"),
             _c("erp_job_to_date_costs", "ERP job to date costs", "money"),
             _c("erp_commitment_invoiced", "ERP commitment invoiced", "money"),
             _c("erp_direct_costs", "ERP direct costs", "money"),
             *(_c(f"erp_{t}", f"ERP {t.replace('_', ' ')}", "money") for t in _AMOUNT_TYPES)),
    order_by="connection_id, project_number, project_id, wbs_code, budget_line_item_id",
    totals=("original_budget_amount", "erp_job_to_date_costs", "erp_commitment_invoiced",
            "erp_direct_costs", *(f"erp_{t}" for t in _AMOUNT_TYPES)),
    chart=Chart("project_name", "erp_job_to_date_costs", "erp"),
    choice="cost_type",
)

# R-5's parts of the difference (they and "unexplained" add up to it).
_CAUSE_COLUMNS = ("credit_notes_not_in_jtd", "commitment_invoiced_not_direct_cost",
                  "pending_import", "deleted_or_voided_after_sync", "changed_after_sync",
                  "unexplained")

JOB_COST_ACCURACY = Report(
    name="job-cost-accuracy",
    table="rpt_job_cost_accuracy",
    title="Job Cost Accuracy",
    description=(
        "R-5: per budget line, Procore's synced direct costs beside the ERP's job to date "
        "costs, and the difference split into its causes: credit notes not in JTD (XE-12), "
        "commitment invoiced not direct cost (NS-16), pending import, deleted or "
        "voided after sync (C-7, NS-18), changed after sync, and what stays unexplained."),
    columns=(*_CONNECTION, *_PROJECT, _c("wbs_code", "WBS code"),
             _c("description", "Description"),
             _c("erp_job_to_date_costs", "ERP job to date costs", "money"),
             _c("erp_reported_actual", "ERP reported actual", "money"),
             _c("synced_direct_costs", "Synced direct costs", "money"),
             _c("synced_direct_cost_lines", "Synced lines", "int"),
             _c("difference", "Difference", "money"),
             _c("credit_notes_not_in_jtd", "Credit notes not in JTD", "money"),
             _c("commitment_invoiced_not_direct_cost", "Commitment invoiced", "money"),
             _c("pending_import", "Pending import", "money"),
             _c("deleted_or_voided_after_sync", "Deleted/voided after sync", "money"),
             _c("changed_after_sync", "Changed after sync", "money"),
             _c("unexplained", "Unexplained", "money"), _c("causes", "Causes"),
             _c("is_finding", "Finding", "bool")),
    order_by="connection_id, project_number, project_id, wbs_code",
    totals=("erp_job_to_date_costs", "erp_reported_actual", "synced_direct_costs", "difference",
            *_CAUSE_COLUMNS),
    chart=Chart("causes", "difference", "erp", parts=_CAUSE_COLUMNS),
    choice="causes",
)

RECONCILIATION = Report(
    name="reconciliation",
    table="rpt_reconciliation",
    title="Reconciliation Audit",
    description=(
        "Every difference between Procore and the ERP, one row per finding: records on one "
        "side only, deleted or voided after sync, amount/date/vendor differences (C-7, NS-18), "
        "payments deleted after import (XE-10), vendor drift (NS-10, AC-1, XE-6) and projects "
        "never linked, with a suggested match (C-4)."),
    columns=(*_CONNECTION, _c("finding", "Finding"), _c("rule_ids", "Rules"),
             _c("severity", "Severity"), _c("entity", "Entity"), *_PROJECT,
             _c("procore_id", "Procore ID"), _c("erp_id", "ERP ID"), _c("field", "Field"),
             _c("procore_value", "Procore value"), _c("erp_value", "ERP value"),
             _c("amount", "Amount", "money"), _c("suggested_match", "Suggested match"),
             _c("confidence", "Confidence", "number"), _c("detail", "Detail")),
    order_by=("connection_id, case severity when 'error' then 0 when 'warning' then 1 else 2 "
              "end, finding, project_number, procore_id, erp_id, field"),
    totals=("amount",),
    chart=Chart("finding", "amount", "severity"),
    choice="finding",
)

_BUCKETS = ("source", "direct_cost", "commitment_invoiced", "unsyncable", "excluded",
            "difference")

COST_LINE_BALANCE = Report(
    name="cost-line-balance",
    table="rpt_cost_line_balance",
    title="Cost Line Balance",
    description=(
        "Conservation per connection, to the cent: every ERP source line counted once as "
        "direct cost, commitment invoiced, unsyncable (R-2) or excluded (NS-18); the "
        "difference must be 0."),
    columns=(*_CONNECTION, _c("company_name", "Company"),
             *(col for b in _BUCKETS
               for col in (_c(f"{b}_lines", f"{b.replace('_', ' ').capitalize()} lines", "int"),
                           _c(f"{b}_amount", f"{b.replace('_', ' ').capitalize()} amount",
                              "money"))),
             _c("is_balanced", "Balanced", "bool")),
    order_by="company_name, connection_id",
    totals=tuple(f"{b}_{part}" for b in _BUCKETS for part in ("lines", "amount")),
)

REPORTS: dict[str, Report] = {r.name: r for r in (
    ERP_JOB_COSTS, UNSYNCABLE_DIRECT_COSTS, ACCOUNTANTS, BUDGET_VIEW, JOB_COST_ACCURACY,
    RECONCILIATION, COST_LINE_BALANCE)}


def _present_columns(con: duckdb.DuckDBPyConnection, report: Report) -> set[str]:
    """The report table's columns in this snapshot; raises ``ReportUnavailable`` if absent."""
    with con.cursor() as cur:
        rows = cur.execute(
            "select column_name from information_schema.columns where table_name = ?",
            [report.table]).fetchall()
    if not rows:
        raise ReportUnavailable(
            f"this snapshot has no table {report.table} (report {report.name}): it was "
            "published before the report existed; run `costbridge run` again")
    return {r[0] for r in rows}


def _select(con: duckdb.DuckDBPyConnection, report: Report) -> str:
    """Select list of the report's columns; one an older snapshot lacks is a typed null."""
    present = _present_columns(con, report)
    return ", ".join(
        c.name if c.name in present else f"cast(null as {_NULL_TYPES[c.kind]}) as {c.name}"
        for c in report.columns)


def _where(report: Report, choice: str | None) -> str:
    parts = ["($connection is null or connection_id = $connection)"]
    if report.has_project:
        parts.append("($project is null or cast(project_id as varchar) = $project "
                     "or project_number = $project or project_name = $project)")
    if choice is not None:
        if report.choice is None:
            raise ValueError(f"report {report.name} offers no choice filter")
        parts.append(f"cast({report.choice} as varchar) = $choice")
    return " and ".join(parts)


def _params(report: Report, connection: str | None, project: str | int | None,
            choice: str | None) -> dict[str, object]:
    params: dict[str, object] = {"connection": connection}
    if report.has_project:
        params["project"] = None if project is None else str(project)
    if choice is not None:
        params["choice"] = choice
    return params


def _rows_sql(con: duckdb.DuckDBPyConnection, report: Report, choice: str | None) -> str:
    """The filtered rows as a subquery with every report column (typed nulls filled in)."""
    return f"select {_select(con, report)} from {report.table} where {_where(report, choice)}"


def fetch(con: duckdb.DuckDBPyConnection, report: Report, connection: str | None = None,
          project: str | int | None = None, choice: str | None = None) -> pl.DataFrame:
    """The report's rows, filtered and ordered, with exactly the catalogue's columns.

    ``project`` matches project_id, project_number or project_name exactly; it is ignored by
    a report without project columns (``Report.has_project``).
    """
    return query(con, f"select * from ({_rows_sql(con, report, choice)}) "
                      f"order by {report.order_by}",
                 _params(report, connection, project, choice))


def _unique_rows(con: duckdb.DuckDBPyConnection, report: Report, choice: str | None) -> str:
    rows = _rows_sql(con, report, choice)
    if not report.unique_by:
        return rows
    key = ", ".join(report.unique_by)
    return f"select * from ({rows}) qualify row_number() over (partition by {key}) = 1"


def _sum(column: Column) -> str:
    """Sum of a column: 0 over no rows, null where every row is null (an ERP without it)."""
    zero = "cast(0 as bigint)" if column.kind == "int" else "cast(0 as decimal(18, 2))"
    total = f"sum({column.name})"
    if column.kind == "int":
        total = f"cast({total} as bigint)"
    return f"coalesce({total}, case when count(*) = 0 then {zero} end) as {column.name}"


def totals(con: duckdb.DuckDBPyConnection, report: Report, connection: str | None = None,
           project: str | int | None = None, choice: str | None = None) -> pl.DataFrame:
    """One row: ``rows`` (report rows after the filters) and the sum of each totals column.

    Sums are exact DECIMAL. With ``unique_by`` a record listed on several rows is summed once.
    A column null on every row (an amount type the ERP lacks) totals null, not 0.
    """
    sums = "".join(f", {_sum(report.column(name))}" for name in report.totals)
    params = _params(report, connection, project, choice)
    count = query(con, f"select count(*) as rows from ({_rows_sql(con, report, choice)})",
                  params)
    sums_frame = query(con, f"select count(*) as _n{sums} from "
                            f"({_unique_rows(con, report, choice)})", params)
    return pl.concat([count, sums_frame.drop("_n")], how="horizontal")


def chart_data(con: duckdb.DuckDBPyConnection, report: Report, connection: str | None = None,
               project: str | int | None = None, choice: str | None = None) -> pl.DataFrame:
    """Per chart category (and colour): ``rows`` and the chart's value summed (exact).

    Empty with no columns when the report has no chart. A null category shows as "(none)".
    """
    chart = report.chart
    if chart is None:
        return pl.DataFrame()
    groups = [chart.category] + ([chart.color] if chart.color else [])
    if chart.parts:
        return _parts_chart_data(con, report, chart, connection, project, choice)
    keys = ", ".join(f"coalesce(cast({g} as varchar), '(none)') as {g}" for g in groups)
    return query(
        con,
        f"""
        select {keys}, count(*) as rows,
               coalesce(sum({chart.value}), cast(0 as decimal(18, 2))) as {chart.value}
        from ({_rows_sql(con, report, choice)})
        group by all
        order by {", ".join(groups)}
        """,
        _params(report, connection, project, choice),
    )


def _parts_chart_data(con: duckdb.DuckDBPyConnection, report: Report, chart: Chart,
                      connection: str | None, project: str | int | None,
                      choice: str | None) -> pl.DataFrame:
    """One row per non-zero part (and colour): its column name as the category, the rows
    where it is not zero, and its sum (exact)."""
    color = (f", coalesce(cast({chart.color} as varchar), '(none)') as {chart.color}"
             if chart.color else "")
    per_part = " union all ".join(
        f"select '{p}' as {chart.category}{color}, count(*) filter (where {p} <> 0) as rows, "
        f"coalesce(sum({p}), cast(0 as decimal(18, 2))) as {chart.value} from shown group by all"
        for p in chart.parts)
    groups = [chart.category] + ([chart.color] if chart.color else [])
    return query(
        con,
        f"""
        with shown as ({_rows_sql(con, report, choice)})
        select * from ({per_part}) where {chart.value} <> 0
        order by {", ".join(groups)}
        """,
        _params(report, connection, project, choice),
    )


def choices(con: duckdb.DuckDBPyConnection, report: Report,
            connection: str | None = None) -> list[str]:
    """The distinct non-null values of the report's choice column, sorted ([] if it has none)."""
    if report.choice is None:
        return []
    _present_columns(con, report)
    frame = query(
        con,
        f"""
        select distinct cast({report.choice} as varchar) as value from {report.table}
        where ($connection is null or connection_id = $connection)
          and {report.choice} is not null
        order by value
        """,
        {"connection": connection},
    )
    return frame["value"].to_list()


def find_projects(con: duckdb.DuckDBPyConnection, project: str | int,
                  connection: str | None = None) -> pl.DataFrame:
    """Projects in the snapshot matching ``project`` (id, number or name, exact) on the
    connection: connection_id, project_id, project_number, project_name. Empty when none."""
    with con.cursor() as cur:
        present = {r[0] for r in cur.execute(
            "select table_name from information_schema.tables").fetchall()}
    tables = [t for t in PROJECT_TABLES if t in present]
    empty = {"connection_id": pl.String, "project_id": pl.Int64, "project_number": pl.String,
             "project_name": pl.String}
    if not tables:
        return pl.DataFrame(schema=empty)
    union = " union ".join(
        f"select connection_id, project_id, project_number, project_name from {t}"
        for t in tables)
    return query(
        con,
        f"""
        select distinct * from ({union})
        where ($connection is null or connection_id = $connection)
          and (cast(project_id as varchar) = $project or project_number = $project
               or project_name = $project)
        order by connection_id, project_id
        """,
        {"connection": connection, "project": str(project)},
    )


def connection_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The connections this snapshot holds (its ``connections`` table), sorted."""
    return query(con, "select connection_id from connections order by connection_id")[
        "connection_id"].to_list()
