"""Portfolio: job-to-date cost per project and its split, across connections."""

import altair as alt
import polars as pl
import streamlit as st

from app_pages import _data, _report_page
from reports import portfolio, report_views
from reports.catalog import COST_LINE_BALANCE
from reports.connections import connections
from reports.formatting import money

snap = _data.snapshot()
_data.require_tables(snap, "connections", "job_costs")

st.title("Portfolio")
st.caption("Job-to-date (JTD) cost from each ERP's job cost sync, split into commitment invoiced "
           "(subcontractor invoices) and direct cost = JTD − commitment invoiced.")

# Whether every ERP source line is counted exactly once (an older snapshot may predate it).
if COST_LINE_BALANCE.table in snap.tables:
    balance = _data.run(report_views.balance_summary, snap).row(0, named=True)
    line = st.container(horizontal=True, gap="small", vertical_alignment="center")
    if balance["unbalanced"] == 0:
        line.badge(f"Cost lines balance on all {balance['connections']} connections",
                   icon=":material/check_circle:", color="green")
    else:
        line.badge(f"Cost lines do not balance on {balance['unbalanced']} of "
                   f"{balance['connections']} connections (difference "
                   f"{money(balance['difference_amount'])})", icon=":material/error:",
                   color="red")
    with line:
        st.page_link(_report_page.page(COST_LINE_BALANCE.name), label="Cost line balance")

conns = _data.run(connections, snap)
conn_labels = dict(zip(conns["connection_id"], conns["label"], strict=True))
chosen = st.multiselect("Connections", list(conn_labels), default=list(conn_labels),
                        format_func=conn_labels.__getitem__)
if not chosen:
    st.info("Choose at least one connection.")
    st.stop()
ids = tuple(chosen)

totals = _data.run(portfolio.portfolio_totals, snap, ids)
total = totals.row(0, named=True)
_data.money_metrics(
    {
        "JTD cost": total["jtd_cost"],
        "Commitment invoiced": total["commitment_invoiced"],
        "Direct cost": total["direct_cost"],
    }
)

projects = _data.run(portfolio.project_costs, snap, ids)
if projects.is_empty():
    st.info("No job costs for these connections in this snapshot.")
    st.stop()

st.subheader(f"By project ({total['projects']})")
st.dataframe(
    _data.with_total_row(projects, totals, "project_name"),
    hide_index=True,
    column_order=["company_name", "erp_name", "project_number", "project_name", "jtd_cost",
                  "commitment_invoiced", "direct_cost"],
    column_config={
        "company_name": "Connection",
        "erp_name": "ERP",
        "project_number": "Project #",
        "project_name": "Project",
        "jtd_cost": _data.money_column("JTD cost"),
        "commitment_invoiced": _data.money_column("Commitment invoiced"),
        "direct_cost": _data.money_column("Direct cost"),
    },
)

st.subheader("JTD split by project")
# Vega-Lite plots floats; the chart is only a picture, the exact figures are above.
split = _data.run(portfolio.jtd_split, snap, ids).with_columns(pl.col("amount").cast(pl.Float64))
chart = (
    alt.Chart(split)
    .mark_bar()
    .encode(
        x=alt.X("amount:Q", title="JTD cost", axis=alt.Axis(format="$,.0f")),
        y=alt.Y("chart_label:N", title=None, sort="-x", axis=alt.Axis(labelLimit=360)),
        color=alt.Color("component:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=[
            alt.Tooltip("chart_label:N", title="Project"),
            alt.Tooltip("component:N", title="Part"),
            alt.Tooltip("amount:Q", title="Amount", format="$,.2f"),
        ],
    )
    .properties(height=alt.Step(28))  # a fixed bar band, so the chart grows with the projects
)
st.altair_chart(chart, width="stretch")
