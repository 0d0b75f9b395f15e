"""Project budget view (R-4) with drill-down from a budget line to its direct costs (XE-13).

Where the connection's ERP splits job cost into amount types (AC-21), their columns, metrics
and drill-down rows appear too: the page shows whichever the data fills, with no ERP named.
Query parameters ``?connection=…&project=…&wbs=…`` open a drill-down directly.
"""

import polars as pl
import streamlit as st

from app_pages import _data
from reports import budget_view
from reports.connections import connections
from reports.formatting import money

snap = _data.snapshot()
_data.require_tables(snap, "connections", "rpt_budget_view", "direct_costs")

st.title("Project budget view")
st.caption("Each budget line with the ERP job cost columns: ERP Direct Costs = ERP Job to Date "
           "Costs − ERP Commitment Invoiced; where the ERP splits job cost into amount types, "
           "those too. Pick a budget line to see the transactions behind it.")

conns = _data.run(connections, snap)
picker_conn, picker_project = st.columns(2)
with picker_conn:
    connection_id = _data.pick("Connection", conns["connection_id"].to_list(), "connection",
                               dict(zip(conns["connection_id"], conns["label"], strict=True)))
projects = _data.run(budget_view.projects, snap, connection_id)
if projects.is_empty():
    st.info("No budget lines for this connection in this snapshot.")
    st.stop()
with picker_project:
    project_id = _data.pick("Project", projects["project_id"].to_list(), "project",
                            dict(zip(projects["project_id"], projects["label"], strict=True)))

lines = _data.run(budget_view.budget_lines, snap, connection_id, project_id).with_columns(
    # Job costs on a code with no budget line still appear; say so rather than leave a gap.
    description=pl.when(pl.col("budget_line_item_id").is_null())
    .then(pl.lit("(no budget line)"))
    .otherwise(pl.col("description"))
)
totals = _data.run(budget_view.budget_totals, snap, connection_id, project_id)
total = totals.row(0, named=True)
# The amount types (AC-21) this ERP provides: only columns it fills are shown.
amount_types = {t: budget_view.AMOUNT_TYPES[t][0]
                for t in budget_view.provided_amount_types(lines)}
_data.money_metrics(
    {
        "Original Budget": total["original_budget_amount"],
        "ERP Job to Date Costs": total["erp_job_to_date_costs"],
        "ERP Commitment Invoiced": total["erp_commitment_invoiced"],
        "ERP Direct Costs": total["erp_direct_costs"],
        **{f"ERP {label}": total[f"erp_{t}"] for t, label in amount_types.items()},
    }
)

BUDGET_COLUMNS = {
    "wbs_code": "WBS code",
    "description": "Description",
    "original_budget_amount": _data.money_column("Original Budget"),
    "erp_job_to_date_costs": _data.money_column("ERP Job to Date Costs"),
    "erp_commitment_invoiced": _data.money_column("ERP Commitment Invoiced"),
    "erp_direct_costs": _data.money_column("ERP Direct Costs"),
    **{f"erp_{t}": _data.money_column(f"ERP {label}") for t, label in amount_types.items()},
}
st.dataframe(_data.with_total_row(lines, totals, "wbs_code"), hide_index=True,
             column_order=list(BUDGET_COLUMNS), column_config=BUDGET_COLUMNS)

st.subheader("Drill-down")
wbs_text = (lines["wbs_code"] + " · " + lines["description"]).fill_null(lines["wbs_code"])
wbs_labels = dict(zip(lines["wbs_code"], wbs_text, strict=True))
wbs_code = _data.pick("Budget line", list(wbs_labels), "wbs", wbs_labels, optional=True)
if wbs_code is None:
    st.caption("Choose a budget line to see its direct cost transactions.")
    st.stop()

rec = _data.run(budget_view.line_reconciliation, snap, connection_id, project_id, wbs_code)
r = rec.row(0, named=True)
# (figure, ERP, transactions, difference): the split, then each amount type the ERP provides.
figures = [
    ("Job to date cost", r["erp_job_to_date_costs"], r["txn_jtd"], r["jtd_difference"]),
    ("Commitment invoiced", r["erp_commitment_invoiced"], r["txn_commitment_invoiced"],
     r["commitment_invoiced_difference"]),
    ("Direct cost", r["erp_direct_costs"], r["txn_direct"], r["direct_difference"]),
    *((label, r[f"erp_{t}"], r[f"txn_{t}"], r[f"{t}_difference"])
      for t, label in amount_types.items()),
]
comparison = pl.DataFrame(
    {
        "Figure": [f[0] for f in figures],
        "ERP (budget line)": [money(f[1]) for f in figures],
        "Transactions": [money(f[2]) for f in figures],
        "Difference (transactions − ERP)": [money(f[3]) for f in figures],
    }
)
st.table(comparison, hide_index=True)
differences = [f[3] for f in figures]
if any(d is None or d != 0 for d in differences):
    st.warning("The transactions do not add up to the ERP job cost figures of this budget line.",
               icon=":material/error:")
else:
    st.success("The transactions add up to the ERP job cost figures of this budget line.",
               icon=":material/check_circle:")
if r["transaction_lines"] > r["counted_lines"]:
    st.caption(f"{r['transaction_lines'] - r['counted_lines']} line(s) totalling "
               f"{money(r['txn_not_counted'])} are not counted in JTD by the ERP and are left "
               "out of the sums.")

TXN_COLUMNS = {
    "transaction_date": st.column_config.DateColumn("Date"),
    "direct_cost_type": "Type",
    "erp_transaction_type": "ERP type",
    "vendor_name": "Vendor",
    "invoice_number": "Invoice #",
    "description": "Description",
    "line_description": "Line",
    "quantity": st.column_config.NumberColumn("Qty"),
    "unit_cost": st.column_config.NumberColumn("Unit cost", format="%,.4f"),
    "amount": _data.money_column("Amount"),
    "counts_in_jtd": st.column_config.CheckboxColumn("In JTD"),
    "received_date": st.column_config.DateColumn("Received"),
    "erp_transaction_id": "ERP id",
}
txns = _data.run(budget_view.line_transactions, snap, connection_id, project_id, wbs_code)
st.dataframe(txns.with_columns(pl.col(pl.String).fill_null("")), hide_index=True,
             column_order=list(TXN_COLUMNS), column_config=TXN_COLUMNS)
