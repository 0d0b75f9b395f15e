"""One page renderer for every catalogue report (``reports.catalog``): filters kept in the URL,
SQL-summed totals, the report's chart, its table and downloads of exactly the rows shown.

A page is ``render(report_name)``; ``page(report_name)`` is its ``st.Page`` for ``app.py``.
Filters are query parameters (``?connection=…&project=…&<choice column>=…``), so a link opens
a filtered view.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from app_pages import _data
from reports import catalog, export, report_views
from reports.catalog import Report
from reports.connections import ERP_NAMES, connections
from reports.formatting import money
from reports.snapshot import Snapshot


@dataclass(frozen=True)
class PageSpec:
    report: str  # catalogue name
    title: str  # navigation title
    icon: str
    url_path: str
    group: str  # navigation section


PAGES: tuple[PageSpec, ...] = (
    PageSpec("erp-job-costs", "ERP job costs", ":material/table_chart:", "erp_job_costs",
             "Reports"),
    PageSpec("unsyncable-direct-costs", "Unsyncable direct costs", ":material/sync_problem:",
             "unsyncable_direct_costs", "Reports"),
    PageSpec("job-cost-accuracy", "Job cost accuracy", ":material/rule:", "job_cost_accuracy",
             "Reports"),
    PageSpec("reconciliation", "Reconciliation audit", ":material/fact_check:",
             "reconciliation", "Audit"),
    PageSpec("cost-line-balance", "Cost line balance", ":material/balance:",
             "cost_line_balance", "Audit"),
    PageSpec("accountants", "Accountants", ":material/badge:", "accountants", "Access"),
)
_SPECS = {p.report: p for p in PAGES}


def page(report_name: str) -> Any:
    """The ``st.Page`` of a catalogue report (also what ``st.page_link`` needs)."""
    spec = _SPECS[report_name]

    def run() -> None:
        render(report_name)

    run.__name__ = spec.url_path  # a callable page is named after its function
    return st.Page(run, title=spec.title, icon=spec.icon, url_path=spec.url_path)


def _column_config(report: Report) -> dict[str, Any]:
    """Titles, and the display of each kind; money stays DECIMAL, only shown as $1,234.56."""
    config: dict[str, Any] = {}
    for c in report.columns:
        if c.kind == "money":
            config[c.name] = _data.money_column(c.title)
        elif c.kind == "int":
            config[c.name] = st.column_config.NumberColumn(c.title, format="%d")
        elif c.kind == "number":
            config[c.name] = st.column_config.NumberColumn(c.title)
        elif c.kind == "date":
            config[c.name] = st.column_config.DateColumn(c.title)
        elif c.kind == "datetime":
            config[c.name] = st.column_config.DatetimeColumn(c.title)
        elif c.kind == "bool":
            config[c.name] = st.column_config.CheckboxColumn(c.title)
        else:
            config[c.name] = st.column_config.TextColumn(c.title)
    return config


def _display(frame: pl.DataFrame) -> pl.DataFrame:
    """For the screen only (downloads keep the codes and nulls): ERP names, blanks not "None"."""
    if "erp" in frame.columns:
        frame = frame.with_columns(pl.col("erp").replace(ERP_NAMES))
    return frame.with_columns(pl.col(pl.String).fill_null(""))


def _shown_columns(report: Report, frame: pl.DataFrame) -> list[str]:
    """The report's columns but money ones empty on every row (amount types an ERP lacks)."""
    return [c.name for c in report.columns
            if not (c.kind == "money" and frame[c.name].null_count() == frame.height)]


def _filters(report: Report, snap: Snapshot) -> tuple[str | None, str | None, str | None]:
    """Connection, project and choice pickers, each in the URL; None means no filter."""
    key = report.name
    conns = _data.run(connections, snap)
    slots = st.columns(1 + report.has_project + (report.choice is not None))
    with slots[0]:
        connection = _data.pick("Connection", conns["connection_id"].to_list(), "connection",
                                dict(zip(conns["connection_id"], conns["label"], strict=True)),
                                everything="All connections", key=f"{key}:connection")
    project = None
    if report.has_project:
        projects = _data.run(report_views.projects, snap, report, connection)
        options = [str(p) for p in projects["project_id"]]
        with slots[1]:
            project = _data.pick("Project", options, "project",
                                 dict(zip(options, projects["label"], strict=True)),
                                 everything="All projects", key=f"{key}:project")
    choice = None
    if report.choice is not None:
        values = _data.run(catalog.choices, snap, report, connection)
        with slots[-1]:
            choice = _data.pick(report.column(report.choice).title, values, report.choice,
                                {}, everything="All", key=f"{key}:{report.choice}")
    return connection, project, choice


def _metrics(report: Report, total: dict[str, Any]) -> None:
    """The SQL totals; a column null on every row (an ERP without it) is left out."""
    money_totals = {report.column(n).title: total[n] for n in report.totals
                    if report.column(n).kind == "money" and total[n] is not None}
    if money_totals:
        _data.money_metrics(money_totals)
    counts = {report.column(n).title: total[n] for n in report.totals
              if report.column(n).kind == "int" and total[n] is not None}
    if counts:
        row = st.container(horizontal=True, gap="medium")
        for label, value in counts.items():
            row.metric(label, f"{value:,}", border=True, width="content")


def _chart(report: Report, data: pl.DataFrame) -> None:
    chart = report.chart
    if chart is None or data.is_empty():
        return
    category, value = report.column(chart.category), report.column(chart.value)
    # Vega-Lite plots floats; the chart is only a picture, the exact figures are the totals.
    data = _display(data).with_columns(pl.col(chart.value).cast(pl.Float64))
    if chart.parts:  # one bar per part column: label it with the column's title
        data = data.with_columns(pl.col(chart.category).replace(
            {p: report.column(p).title for p in chart.parts}))
    encoding: dict[str, Any] = {
        "x": alt.X(f"{chart.value}:Q", title=value.title, axis=alt.Axis(format="$,.0f")),
        "y": alt.Y(f"{chart.category}:N", title=category.title, sort="-x",
                   axis=alt.Axis(labelLimit=360)),
        "tooltip": [alt.Tooltip(f"{chart.category}:N", title=category.title),
                    alt.Tooltip(f"{chart.value}:Q", title=value.title, format="$,.2f"),
                    alt.Tooltip("rows:Q", title="Rows")],
    }
    if chart.color:
        color = report.column(chart.color).title
        encoding["color"] = alt.Color(f"{chart.color}:N", title=color,
                                      legend=alt.Legend(orient="top"))
        encoding["tooltip"].insert(1, alt.Tooltip(f"{chart.color}:N", title=color))
    st.subheader(f"{value.title} by {category.title.lower()}")
    st.altair_chart(alt.Chart(data).mark_bar().encode(**encoding)
                    .properties(height=alt.Step(28)), width="stretch")


def _xlsx(report: Report, frame: pl.DataFrame, totals: pl.DataFrame,
          context: export.ExportContext) -> bytes:
    out = io.BytesIO()
    export.write_xlsx(report, frame, totals, context, out)
    return out.getvalue()


def _downloads(report: Report, snap: Snapshot, frame: pl.DataFrame, totals: pl.DataFrame,
               filters: dict[str, tuple[str, str]]) -> None:
    """CSV and XLSX of the rows shown; the printable page for R-1 at project level.

    ``filters`` maps each applied filter ("connection", "project", "choice") to its (label,
    value), stated in the files' headers."""
    context = export.ExportContext(snap.snapshot_id, _data.created(snap),
                                   tuple(filters.values()))
    stem = "_".join([report.name, *(v for _, v in filters.values()), snap.snapshot_id])
    row = st.container(horizontal=True, gap="small")
    # Built on click (a callable), not on every rerun; "ignore" keeps the page as it is.
    row.download_button("Download CSV", lambda: export.to_csv(report, frame),
                        file_name=f"{stem}.csv", mime="text/csv", on_click="ignore",
                        icon=":material/download:", key=f"{report.name}:csv")
    row.download_button(
        "Download XLSX", lambda: _xlsx(report, frame, totals, context),
        file_name=f"{stem}.xlsx", on_click="ignore", icon=":material/download:",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{report.name}:xlsx")
    if report.name == catalog.ERP_JOB_COSTS.name and "project" in filters:
        row.download_button(
            "Printable page (HTML)",
            lambda: export.to_html(report, frame, totals, context, filtered=tuple(filters)),
            file_name=f"{stem}.html", mime="text/html", on_click="ignore",
            icon=":material/print:", key=f"{report.name}:html")


def _lines(n: int) -> str:
    return f"{n:,} line" if n == 1 else f"{n:,} lines"


def _balance_status(report: Report, frame: pl.DataFrame) -> None:
    """Per connection: does every ERP source line land in exactly one bucket, to the cent?"""
    for r in frame.iter_rows(named=True):
        name = f"{r['company_name'] or r['connection_id']} · {ERP_NAMES.get(r['erp'], r['erp'])}"
        if r["is_balanced"]:
            st.success(f"**{name}: balanced.** {_lines(r['source_lines'])}, "
                       f"{money(r['source_amount'])}, each counted once.",
                       icon=":material/check_circle:")
        else:
            st.error(f"**{name}: unbalanced.** Difference (source − buckets): "
                     f"{_lines(r['difference_lines'])}, {money(r['difference_amount'])}.",
                     icon=":material/error:")


# Report-specific blocks shown above the totals.
_EXTRAS: dict[str, Callable[[Report, pl.DataFrame], None]] = {
    catalog.COST_LINE_BALANCE.name: _balance_status,
}


def render(report_name: str) -> None:
    """The page of one catalogue report over the chosen snapshot."""
    report = catalog.REPORTS[report_name]
    snap = _data.snapshot()
    st.title(report.title)
    st.caption(report.description)
    if report.table not in snap.tables:
        # Snapshots are immutable: one published before the report existed never gets it.
        st.info(f"Snapshot `{snap.snapshot_id}` (published {_data.created(snap)}) has no "
                f"{report.title} report: it predates it. Choose a newer snapshot in the "
                "sidebar.", icon=":material/history:")
        st.stop()
    _data.require_tables(snap, "connections")

    connection, project, choice = _filters(report, snap)
    frame = _data.run(catalog.fetch, snap, report, connection, project, choice)
    totals = _data.run(catalog.totals, snap, report, connection, project, choice)
    if report.name in _EXTRAS:
        _EXTRAS[report.name](report, frame)
    _metrics(report, totals.row(0, named=True))
    _chart(report, _data.run(catalog.chart_data, snap, report, connection, project, choice))

    st.subheader(f"Rows ({totals['rows'][0]:,})")
    if frame.is_empty():
        st.info("No rows for these filters in this snapshot.")
        return
    st.dataframe(_display(frame), hide_index=True, column_order=_shown_columns(report, frame),
                 column_config=_column_config(report))
    applied = {"connection": ("Connection", connection), "project": ("Project", project),
               "choice": (report.column(report.choice).title if report.choice else "", choice)}
    _downloads(report, snap, frame, totals,
               {k: (label, v) for k, (label, v) in applied.items() if v is not None})
