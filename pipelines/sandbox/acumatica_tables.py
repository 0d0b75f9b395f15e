"""The world as Acumatica's contract-based entities, one tenant per Acumatica connection.

Field names, labels and meanings follow ``docs/acumatica.md`` (the contract with the extract).
World kinds and statuses are ERP-neutral; here they become Acumatica's own: bill types and
status labels, the project ledger (``ProjectTransaction``) with its modules, cost codes in
Acumatica's form (AC-4), sub job tasks ``B1 - 02`` (AC-9), checks applied to bills (AC-17).
Frames are built once per world state (``Views`` notices replaced frames); the API layer
(``acumatica.py``) filters, pages and wraps them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta

import polars as pl

from pipelines.sandbox.common import Views
from pipelines.sandbox.netsuite_tables import MONEY, QTY, money_from_cents
from pipelines.sandbox.world import CREDIT_KINDS, WORLD_START, World

__all__ = ["tenant_tables", "build_tables", "SOURCES"]

SOURCES = ("connections", "erp_txns", "erp_lines", "erp_payments", "vendors", "erp_options",
           "procore_projects", "wbs_codes", "procore_commitments", "procore_requisition_lines",
           "procore_requisitions", "erp_cost_codes", "erp_purchase_orders")
AP_KINDS = ("bill", "subinv_bill", "credit_note", "subinv_credit")
# World status -> Acumatica bill status label [R labels; the mapping is the sandbox's].
BILL_STATUS = {"AUTHORISED": "Open", "PAID": "Closed", "DRAFT": "On Hold",
               "SUBMITTED": "Pending Approval", "VOIDED": "Voided"}
RELEASED = ("AUTHORISED", "PAID", "VOIDED")  # documents that reached the project ledger
_NS = uuid.UUID("6f1d3c1e-5a0b-4c2e-9a57-acc0ac0ac0ac")


def tenant_tables(views: Views, connection_id: str) -> Mapping[str, pl.DataFrame]:
    """One connection's entity frames, rebuilt only when the world changes."""
    sources = tuple(s for s in SOURCES if s in views.world.t)
    return views.get(f"acumatica:{connection_id}", sources,
                     lambda w: build_tables(w, connection_id))


def build_tables(w: World, connection_id: str) -> dict[str, pl.DataFrame]:
    mine = pl.col("connection_id") == connection_id
    t = {k: v.filter(mine) for k, v in w.t.items() if "connection_id" in v.columns}
    vendors = t["vendors"]
    txns = t["erp_txns"].filter(pl.col("status") != "DELETED").with_columns(
        ap=pl.col("txn_kind").is_in(AP_KINDS))
    bills = _bill_numbers(txns)
    lines = t["erp_lines"].join(txns.select("txn_id"), on="txn_id", how="semi")
    pays = t["erp_payments"]
    return {
        "Vendor": _vendors(vendors),
        "CostCode": _cost_codes(t["erp_cost_codes"]),
        "Project": _projects(t["erp_options"], t["procore_projects"]),
        "ProjectTask": _tasks(t["erp_options"], t["wbs_codes"], t["procore_projects"]),
        "Subcontract": _subcontracts(t["procore_commitments"], t["procore_requisitions"],
                                     t["procore_requisition_lines"], vendors,
                                     t["procore_projects"]),
        "PurchaseOrder": _purchase_orders(t["erp_purchase_orders"]),
        "Bill": _bills(bills, lines, pays),
        "Check": _checks(pays, bills),
        "ProjectTransaction": _ledger(txns, bills, lines),
        "ProjectBudget": _budgets(t["wbs_codes"], t["procore_projects"], txns, lines),
        "ChangeOrder": change_orders(),
    }


PROJECT_ADDRESS = pl.Struct({"AddressLine1": pl.String, "AddressLine2": pl.String,
                             "City": pl.String, "State": pl.String, "PostalCode": pl.String,
                             "Country": pl.String})
# ChangeOrder (PM308000) field names [C: Default/24.200.001 model]; the world has none, the
# frame is there so that change orders written by exports (AC-12, AC-15) keep their fields.
CHANGE_ORDER = {
    "id": pl.String, "RefNbr": pl.String, "ProjectID": pl.String, "Class": pl.String,
    "Status": pl.String, "Hold": pl.Boolean, "Description": pl.String, "ChangeDate": pl.Date,
    "ExternalRefNbr": pl.String, "CostBudgetChangeTotal": MONEY,
    "CommitmentsChangeTotal": MONEY, "LastModifiedDateTime": pl.Datetime("us", "UTC"),
    "CostBudget": pl.List(pl.Struct({
        "id": pl.String, "ProjectTaskID": pl.String, "CostCode": pl.String,
        "AccountGroup": pl.String, "Description": pl.String, "Amount": MONEY})),
    "Commitments": pl.List(pl.Struct({
        "id": pl.String, "POType": pl.String, "PONbr": pl.String, "Vendor": pl.String,
        "ProjectTaskID": pl.String, "CostCode": pl.String, "LineDescription": pl.String,
        "Amount": MONEY})),
}


def change_orders() -> pl.DataFrame:
    return pl.DataFrame(schema=CHANGE_ORDER)


# -- helpers -------------------------------------------------------------------------------------
def guid(keys: pl.Series | list, salt: str) -> pl.Series:
    """Stable GUIDs for records the world keys otherwise (the entity ``id``)."""
    return pl.Series([str(uuid.uuid5(_NS, f"{salt}:{k}")) for k in keys], dtype=pl.String)


def ac_code(col: str = "cost_code") -> pl.Expr:
    """Procore's ``03-100.000`` is Acumatica's ``03100.000`` (AC-4)."""
    return pl.col(col).str.replace("-", "", literal=True)


def _ts(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Datetime("us", "UTC"))


def _struct_list(frame: pl.DataFrame, key: str, fields: list[pl.Expr | str],
                 name: str = "Details") -> pl.DataFrame:
    """Group detail rows into a ``Details`` list-of-struct column per ``key``."""
    return frame.group_by(key, maintain_order=True).agg(pl.struct(*fields).alias(name))


# -- entities ------------------------------------------------------------------------------------
def _vendors(v: pl.DataFrame) -> pl.DataFrame:
    address = pl.struct(AddressLine1="address", City="city", State=pl.lit(None, pl.String),
                        PostalCode=pl.lit("1010"), Country=pl.lit("NZ"))
    return v.select(
        id=guid(v["contact_id"], "vendor"), VendorID="contact_id", VendorName="name",
        Status=pl.lit("Active"), VendorClass=pl.lit("SUBCON"),
        MainContact=pl.struct(
            Email=pl.format("ap@vendor{}.example", pl.col("vendor_index")),
            # AC-1: the Acumatica side of an edit (erp_phone) flows to Procore on import.
            Phone1="erp_phone", Address=address),
        CreatedDateTime=_ts("created_at"), LastModifiedDateTime=_ts("erp_updated_at"))


def _cost_codes(c: pl.DataFrame) -> pl.DataFrame:
    return c.select(id=guid(c["erp_code"], "costcode"), CostCodeID="erp_code",
                    Description="description", LastModifiedDateTime=_ts("updated_at"))


def _projects(options: pl.DataFrame, projects: pl.DataFrame) -> pl.DataFrame:
    o = options.filter(pl.col("parent_option_id").is_null()) if "parent_option_id" in \
        options.columns else options
    o = o.join(projects.select("project_id", "updated_at"), on="project_id", how="left")
    return o.select(
        id=guid(o["option_id"], "project"), ProjectID="option_id",
        Description=pl.col("name").str.slice(0, 30),  # AC-7: at most 30 characters
        Status=pl.lit("Active"), Hold=pl.lit(False), Customer=pl.lit("C000001"),
        ExternalRefNbr=pl.when(pl.col("is_synced")).then(pl.col("project_id").cast(pl.String)),
        LastModifiedDateTime=_ts("updated_at").fill_null(WORLD_START),
        # Linked ($expand only, so not in the extract); here for project exports (AC-7).
        ProjectAddress=pl.lit(None, PROJECT_ADDRESS))


def _tasks(options: pl.DataFrame, wbs: pl.DataFrame, projects: pl.DataFrame) -> pl.DataFrame:
    """Tasks 01 and 02 on every project; on synced projects the sub job tasks Procore
    exported (``B1 - 01``) and those of a sub job added in Acumatica only (``B9``, AC-9)."""
    ids = options.select(pl.col("option_id").alias("ProjectID"), "project_id", "is_synced")
    main = ids.join(pl.DataFrame({"ProjectTaskID": ["01", "02"]}), how="cross")
    sub = wbs.filter(pl.col("sub_job").is_not_null()).select(
        "project_id", ProjectTaskID=pl.col("sub_job") + " - " + pl.col("task")).unique()
    sub = sub.join(ids, on="project_id")
    b9 = ids.filter(pl.col("is_synced")).join(
        pl.DataFrame({"ProjectTaskID": ["B9 - 01", "B9 - 02"]}), how="cross")
    tasks = pl.concat([main, sub.select(main.columns), b9.select(main.columns)]).unique(
        ["ProjectID", "ProjectTaskID"], maintain_order=True)
    return tasks.select(
        id=guid((tasks["ProjectID"] + "/" + tasks["ProjectTaskID"]).to_list(), "task"),
        ProjectID="ProjectID", ProjectTaskID="ProjectTaskID",
        Description=pl.format("Task {}", pl.col("ProjectTaskID")), Status=pl.lit("Active"),
        Default=pl.col("ProjectTaskID") == "01",
        LastModifiedDateTime=pl.lit(WORLD_START + timedelta(days=30), pl.Datetime("us", "UTC")))


def _subcontracts(commits: pl.DataFrame, reqs: pl.DataFrame, req_lines: pl.DataFrame,
                  vendors: pl.DataFrame, projects: pl.DataFrame) -> pl.DataFrame:
    """Commitments exported from Procore (AC-14): number = the Procore contract number."""
    c = commits.filter(pl.col("erp_commitment_id").is_not_null())
    totals = req_lines.join(reqs.select("requisition_id", "commitment_id"), on="requisition_id"
                            ).group_by("commitment_id").agg(total=pl.col("amount").abs().sum())
    c = (c.join(totals, on="commitment_id", how="left")
         .join(vendors.select(vendor_id="procore_vendor_id", contact="contact_id"),
               on="vendor_id", how="left")
         .join(projects.select("project_id", "project_number"), on="project_id", how="left")
         .with_columns(total=money_from_cents(pl.col("total").fill_null(0) * 5 // 4)))
    c = c.with_columns(line_id=guid(c["erp_commitment_id"], "scline"))
    details = c.select("erp_commitment_id", pl.struct(
        id="line_id", LineNbr=pl.lit(1, pl.Int64),
        LineDescription="title", Amount="total", Project="project_number", Task=pl.lit("01"),
        CostCode=pl.lit(None, pl.String)).alias("line")).group_by(
        "erp_commitment_id", maintain_order=True).agg(Details=pl.col("line"))
    return c.join(details, on="erp_commitment_id", how="left").select(
        id="erp_commitment_id", SubcontractNbr="number", Status=pl.lit("Open"),
        Date=pl.col("created_at").dt.date(), Description=pl.col("title").str.slice(0, 60),
        VendorID="contact", VendorRef=pl.lit(None, pl.String), SubcontractTotal="total",
        LastModifiedDateTime=_ts("updated_at"), Details="Details")


def _purchase_orders(pos: pl.DataFrame) -> pl.DataFrame:
    p = pos.with_columns(total=money_from_cents("total"), line_id=guid(pos["po_id"], "poline"))
    return p.select(
        id="po_id", Type=pl.lit("Normal"), OrderNbr="order_nbr", Status=pl.lit("Open"),
        Date="order_date", Description=pl.format("Materials {}", pl.col("order_nbr")),
        VendorID="contact_id", Project="project_number", OrderTotal="total",
        LastModifiedDateTime=_ts("updated_at"),
        Details=pl.concat_list(pl.struct(
            id="line_id", LineNbr=pl.lit(1, pl.Int64),
            LineDescription=pl.lit("Materials"), ExtendedCost="total",
            Project="project_number", ProjectTask=pl.lit("01"),
            CostCode=pl.lit(None, pl.String))))


def _bill_numbers(txns: pl.DataFrame) -> pl.DataFrame:
    """AP documents with their Acumatica reference numbers (one numbering per tenant)."""
    return txns.filter(pl.col("ap")).with_columns(
        ReferenceNbr=pl.format("{}", pl.int_range(pl.len()) + 1).str.zfill(6))


def _bills(bills: pl.DataFrame, lines: pl.DataFrame, pays: pl.DataFrame) -> pl.DataFrame:
    paid = pays.filter(pl.col("status") != "DELETED").group_by("txn_id").agg(
        paid=pl.col("amount").sum())
    b = bills.join(paid, on="txn_id", how="left").with_columns(pl.col("paid").fill_null(0))
    d = lines.join(b.select("txn_id", "po_order_type", "po_order_nbr"), on="txn_id")
    details = _struct_list(d, "txn_id", [
        pl.col("line_id").alias("id"), pl.lit(None, pl.String).alias("InventoryID"),
        pl.col("description").alias("TransactionDescription"),
        pl.col("quantity").cast(QTY).alias("Qty"),
        money_from_cents("unit_amount").alias("UnitCost"),
        money_from_cents("line_amount").alias("Amount"), pl.lit("50000").alias("Account"),
        pl.col("tracking_option_id").alias("Project"), pl.col("task_id").alias("ProjectTask"),
        ac_code().alias("CostCode"), pl.col("po_order_type").alias("POOrderType"),
        pl.col("po_order_nbr").alias("POOrderNbr")])
    balance = pl.when(pl.col("status").is_in(["PAID", "VOIDED"])).then(0).otherwise(
        pl.max_horizontal(pl.col("total") - pl.col("paid"), pl.lit(0)))
    return b.join(details, on="txn_id", how="left").select(
        id="txn_id", Type="erp_type", ReferenceNbr="ReferenceNbr",
        Status=pl.col("status").replace_strict(BILL_STATUS, default="Open"),
        Vendor="contact_id", VendorRef="invoice_number", Date="txn_date", DueDate="due_date",
        Description="reference", Hold=pl.col("status") == "DRAFT",
        Amount=money_from_cents("total"), Balance=money_from_cents(balance),
        LastModifiedDateTime=_ts("updated_at"), Details="Details")


def _checks(pays: pl.DataFrame, bills: pl.DataFrame) -> pl.DataFrame:
    """AP payments (AC-17). A payment deleted in the world is a voided check here:
    Acumatica voids released payments, it does not delete them."""
    p = pays.join(bills.select("txn_id", "erp_type", "ReferenceNbr", "contact_id", "total"),
                  on="txn_id").with_columns(
        CheckNbr=pl.format("{}", pl.int_range(pl.len()) + 1).str.zfill(6))
    p = p.with_columns(line_id=guid(p["payment_id"], "checkline"))
    return p.select(
        id="payment_id", Type=pl.lit("Payment"), ReferenceNbr="CheckNbr",
        Status=pl.when(pl.col("status") == "DELETED").then(pl.lit("Voided"))
        .otherwise(pl.lit("Closed")),
        Vendor="contact_id", PaymentMethod=pl.lit("CHECK"), PaymentRef="reference",
        Hold=pl.lit(False), Description=pl.lit(None, pl.String),
        ApplicationDate="payment_date", PaymentAmount=money_from_cents("amount"),
        LastModifiedDateTime=_ts("updated_at"),
        Details=pl.concat_list(pl.struct(
            id="line_id", DocType="erp_type", ReferenceNbr="ReferenceNbr",
            AmountPaid=money_from_cents("amount"),
            Balance=money_from_cents(pl.max_horizontal(pl.col("total") - pl.col("amount"),
                                                       pl.lit(0))))))


def _ledger(txns: pl.DataFrame, bills: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The project ledger: one transaction per posted document, lines signed as cost."""
    t = txns.filter(pl.col("posts_to_ledger")).join(
        bills.select("txn_id", "ReferenceNbr"), on="txn_id", how="left").with_columns(
        Module=pl.when(pl.col("ap")).then(pl.lit("AP")).otherwise(pl.col("erp_type")),
        released=pl.col("status").is_in(RELEASED),
        sign=pl.when(pl.col("txn_kind").is_in(CREDIT_KINDS)).then(-1).otherwise(1))
    t = t.with_columns(PMNbr=pl.format("PM{}", (pl.int_range(pl.len()) + 1).cast(pl.String)
                                       .str.zfill(6)))
    d = lines.join(t.select("txn_id", "Module", "released", "sign", "txn_date", "contact_id"),
                   on="txn_id")
    d = d.with_columns(pm_id=guid(d["line_id"], "pm"), tid=pl.int_range(pl.len()) + 1)
    details = _struct_list(d, "txn_id", [
        pl.col("pm_id").alias("id"), pl.col("tid").cast(pl.Int64).alias("TransactionID"),
        pl.col("txn_date").alias("Date"), pl.col("tracking_option_id").alias("Project"),
        pl.col("task_id").alias("ProjectTask"), ac_code().alias("CostCode"),
        pl.when(pl.col("Module") == "AR").then(pl.lit("REVENUE")).otherwise(pl.col("cost_type"))
        .alias("AccountGroup"),
        pl.col("description").alias("Description"), pl.col("quantity").cast(QTY).alias("Qty"),
        money_from_cents(pl.col("unit_amount") * pl.col("sign")).alias("UnitRate"),
        money_from_cents(pl.col("line_amount") * pl.col("sign")).alias("Amount"),
        pl.col("released").alias("Released"),
        pl.when(pl.col("Module") != "PR").then(pl.col("contact_id")).alias("VendorOrCustomer"),
        pl.when(pl.col("Module") == "PR").then(pl.format("EP{}", pl.col("line_no")))
        .alias("Employee")])
    totals = d.group_by("txn_id").agg(pm_total=(pl.col("line_amount") * pl.col("sign")).sum())
    t = t.join(details, on="txn_id", how="left").join(totals, on="txn_id", how="left")
    return t.select(
        id=guid(t["txn_id"], "pmtran"), Module="Module", ReferenceNbr="PMNbr",
        Status=pl.when(pl.col("released")).then(pl.lit("Released")).otherwise(pl.lit("On Hold")),
        Description="reference",
        OriginalDocType=pl.when(pl.col("ap")).then(pl.col("erp_type")),
        OriginalDocNbr=pl.when(pl.col("ap")).then(pl.col("ReferenceNbr")),
        TotalAmount=money_from_cents(pl.col("pm_total").fill_null(0)),
        CreatedDateTime=_ts("created_at"), LastModifiedDateTime=_ts("updated_at"),
        Details="Details")


def _budgets(wbs: pl.DataFrame, projects: pl.DataFrame, txns: pl.DataFrame,
             lines: pl.DataFrame) -> pl.DataFrame:
    """Cost budget lines of synced projects (AC-10), with Acumatica's own actuals: the
    released, not voided, project ledger cost on the line."""
    task = (pl.when(pl.col("sub_job").is_not_null())
            .then(pl.col("sub_job") + " - " + pl.col("task")).otherwise(pl.col("task")))
    b = wbs.filter(pl.col("on_budget") & pl.col("project_id").is_in(
        projects.filter(pl.col("is_synced"))["project_id"].implode())).join(
        projects.select("project_id", "project_number"), on="project_id").with_columns(
        ProjectTaskID=task, CostCodeID=ac_code())
    live = txns.filter(pl.col("posts_to_ledger") & pl.col("status").is_in(["AUTHORISED", "PAID"])
                       ).select("txn_id", "updated_at", sign=pl.when(pl.col("txn_kind").is_in(
                           CREDIT_KINDS)).then(-1).otherwise(1))
    actual = lines.join(live, on="txn_id").group_by(
        project_number="tracking_option_id", ProjectTaskID="task_id",
        CostCodeID=ac_code(), cost_type="cost_type").agg(
        actual=(pl.col("line_amount") * pl.col("sign")).sum(), touched=pl.col("updated_at").max())
    b = b.join(actual, on=["project_number", "ProjectTaskID", "CostCodeID", "cost_type"],
               how="left")
    return b.select(
        id=guid(b["wbs_code_id"], "budget"), ProjectID="project_number",
        ProjectTaskID="ProjectTaskID", CostCode="CostCodeID", AccountGroup="cost_type",
        Type=pl.lit("Expense"), Description="description",
        OriginalBudgetedAmount=money_from_cents("budget_cents"),
        RevisedBudgetedAmount=money_from_cents("budget_cents"),
        ActualAmount=money_from_cents(pl.col("actual").fill_null(0)),
        LastModifiedDateTime=pl.max_horizontal(_ts("updated_at"), _ts("touched")))

