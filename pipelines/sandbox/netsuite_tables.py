"""The world as NetSuite's SuiteQL tables, one account per NetSuite connection.

Column names, types and codes follow ``docs/netsuite.md`` (the contract with the extract).
World kinds and statuses are ERP-neutral; here they become NetSuite's own: transaction
``type`` codes, status letters and ``posting``, integer internal ids, signed line amounts,
and deletions moved out of ``transaction`` into ``deletedrecord``. Frames are built once per
world state (``Views`` notices replaced frames) and then handed to the SuiteQL engine as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import polars as pl

from pipelines.sandbox.common import Views
from pipelines.sandbox.world import CI_KINDS, CREDIT_KINDS, PROCORE_LAST_SYNC, WORLD_START, World

__all__ = ["account_tables", "SOURCES"]

SOURCES = ("connections", "erp_txns", "erp_lines", "erp_payments", "vendors", "erp_items",
           "erp_options", "procore_projects")
MONEY = pl.Decimal(18, 2)
QTY = pl.Decimal(18, 4)
# World status -> NetSuite status letter per transaction type [C letters for VendBill; the
# sandbox reuses them for VendCred; Check/Journal letters are [U]].
STATUS = {
    "VendBill": {"AUTHORISED": "A", "PAID": "B", "DRAFT": "D", "SUBMITTED": "E", "VOIDED": "C"},
    "VendCred": {"AUTHORISED": "A", "PAID": "B", "DRAFT": "D", "SUBMITTED": "E", "VOIDED": "C"},
    "Check": {"AUTHORISED": "Z", "VOIDED": "V"},
    "Journal": {"AUTHORISED": "B", "DRAFT": "A"},
    "Deposit": {"AUTHORISED": "Z"},
}
DELETED_NAMES = {"VendBill": "Vendor Bill", "VendCred": "Vendor Credit", "Check": "Check",
                 "Journal": "Journal Entry", "Deposit": "Deposit", "VendPymt": "Bill Payment"}
EXPENSE_ACCOUNT = 384  # the default GL expense account new items post to (NS-8)
SUBSIDIARY = 1  # the account's one subsidiary (C-1: one company per connection)
# The GL expense accounts items may post to (NS-8): the default and one per cost type.
ACCOUNTS = pl.DataFrame({
    "id": [EXPENSE_ACCOUNT, 385, 386, 387, 388, 389],
    "acctnumber": ["5000", "5100", "5200", "5300", "5400", "5500"],
    "fullname": ["Job Costs", "Job Costs : Labor", "Job Costs : Materials",
                 "Job Costs : Subcontract", "Job Costs : Equipment", "Job Costs : Other"],
    "accttype": ["Expense"] * 6, "isinactive": ["F"] * 6})


def account_tables(views: Views, connection_id: str) -> Mapping[str, pl.DataFrame]:
    """The SuiteQL tables of one connection's account, rebuilt only when the world changes."""
    return views.get(f"netsuite:{connection_id}", SOURCES,
                     lambda w: build_tables(w, connection_id))


def build_tables(w: World, connection_id: str) -> dict[str, pl.DataFrame]:
    mine = pl.col("connection_id") == connection_id
    txns = w.t["erp_txns"].filter(mine)
    pays = w.t["erp_payments"].filter(mine)
    live_txns = txns.filter(pl.col("status") != "DELETED")
    live_pays = pays.filter(pl.col("status") != "DELETED")
    items = w.t["erp_items"].filter(mine)
    return {
        "transaction": pl.concat([_transactions(live_txns), _payments(live_pays, txns)]),
        "transactionline": _lines(w.t["erp_lines"].filter(mine), live_txns, live_pays, items),
        "vendor": _vendors(w.t["vendors"].filter(mine)),
        "item": _items(items),
        "job": _jobs(w.t["erp_options"].filter(mine), w.t["procore_projects"].filter(mine)),
        "nexttransactionlinelink": _links(live_pays),
        "subsidiary": _subsidiary(w.connection(connection_id)),
        "account": ACCOUNTS,
        "deletedrecord": _deleted(txns, pays),
    }


def money_from_cents(cents: str | pl.Expr) -> pl.Expr:
    col = pl.col(cents) if isinstance(cents, str) else cents
    return (col.cast(pl.Decimal(20, 2)) / 100).cast(MONEY)  # scale 2 first: exact cents


def _int(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Int64)


def _flag(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr).then(pl.lit("T")).otherwise(pl.lit("F"))


def _status(txns: pl.DataFrame) -> pl.Expr:
    expr = pl.lit(None, pl.String)
    for ttype, letters in STATUS.items():
        expr = pl.when(pl.col("erp_type") == ttype).then(
            pl.col("status").replace_strict(letters, default=None)).otherwise(expr)
    return expr


def _transactions(txns: pl.DataFrame) -> pl.DataFrame:
    bill_like = pl.col("erp_type").is_in(["VendBill", "VendCred"])
    return txns.select(
        id=_int("txn_id"),
        tranid=pl.when(bill_like).then("invoice_number").otherwise("reference"),
        type="erp_type",
        status=_status(txns),
        trandate="txn_date",
        duedate=pl.when(bill_like).then("due_date"),
        entity=pl.when(pl.col("erp_type") != "Journal").then(_int("contact_id")),
        memo="reference",
        externalid=pl.when(pl.col("txn_kind").is_in(CI_KINDS))
        .then(pl.format("procore-requisition-{}", "requisition_id")),
        foreigntotal=money_from_cents("total"),
        posting=_flag(pl.col("is_status_ok")),
        createddate="created_at",
        lastmodifieddate="updated_at",
    )


def _payments(pays: pl.DataFrame, txns: pl.DataFrame) -> pl.DataFrame:
    vendor = txns.select("txn_id", "contact_id")
    return pays.join(vendor, on="txn_id", maintain_order="left").select(
        id=_int("payment_id"),
        tranid="reference",
        type=pl.lit("VendPymt"),
        status=pl.lit("Z"),
        trandate="payment_date",
        duedate=pl.lit(None, pl.Date),
        entity=_int("contact_id"),
        memo="reference",
        externalid=pl.lit(None, pl.String),
        foreigntotal=money_from_cents("amount"),
        posting=pl.lit("T"),
        createddate="updated_at",
        lastmodifieddate="updated_at",
    )


def _lines(lines: pl.DataFrame, txns: pl.DataFrame, pays: pl.DataFrame,
           items: pl.DataFrame) -> pl.DataFrame:
    """Item, expense and journal lines of live transactions, plus each one's main line
    (line 0: the payable side, negative), as NetSuite keeps them."""
    heads = txns.select("txn_id", "txn_kind", "erp_type", "contact_id", "total", "updated_at")
    item_ids = items.select(item_code="code", item=_int("item_id"), itemtype="item_type")
    body = lines.join(heads, on="txn_id", maintain_order="left").join(
        item_ids, on="item_code", how="left", maintain_order="left")
    credit = pl.col("txn_kind").is_in(CREDIT_KINDS)
    detail = body.filter(pl.col("erp_type").is_not_null()).select(
        transaction=_int("txn_id"),
        id=pl.col("line_no").cast(pl.Int64),
        linesequencenumber=pl.col("line_no").cast(pl.Int64),
        mainline=pl.lit("F"),
        taxline=pl.lit("F"),
        item="item",
        itemtype="itemtype",
        entity=_int("tracking_option_id"),
        memo="description",
        quantity=pl.col("quantity").cast(QTY),
        rate=money_from_cents("unit_amount").cast(QTY),
        # Signed as posted: cost positive, a vendor credit's lines negative, journal credits
        # negative (docs/netsuite.md).
        netamount=money_from_cents(pl.when(credit).then(-pl.col("line_amount"))
                         .otherwise(pl.col("line_amount"))),
        expenseaccount=pl.lit(EXPENSE_ACCOUNT, pl.Int64),
        linelastmodifieddate="updated_at",
    )
    pay_heads = pays.select("payment_id", "amount", "updated_at").rename(
        {"payment_id": "txn_id", "amount": "total"}).with_columns(txn_kind=pl.lit("payment"))
    main = pl.concat([heads.select("txn_id", "txn_kind", "total", "updated_at"),
                      pay_heads.select("txn_id", "txn_kind", "total", "updated_at")])
    mainlines = main.select(
        transaction=_int("txn_id"), id=pl.lit(0, pl.Int64), linesequencenumber=pl.lit(0, pl.Int64),
        mainline=pl.lit("T"), taxline=pl.lit("F"), item=pl.lit(None, pl.Int64),
        itemtype=pl.lit(None, pl.String), entity=pl.lit(None, pl.Int64),
        memo=pl.lit(None, pl.String), quantity=pl.lit(None, QTY), rate=pl.lit(None, QTY),
        netamount=money_from_cents(pl.when(pl.col("txn_kind").is_in(CREDIT_KINDS)).then(pl.col("total"))
                         .otherwise(-pl.col("total"))),
        expenseaccount=pl.lit(None, pl.Int64), linelastmodifieddate="updated_at",
    )
    return pl.concat([mainlines, detail]).sort("transaction", "id")


def _vendors(vendors: pl.DataFrame) -> pl.DataFrame:
    """NetSuite's side of each vendor: its own phone and edit time (NS-10)."""
    return vendors.select(
        id=_int("contact_id"),
        entityid="name",
        companyname="name",
        phone="erp_phone",
        email=pl.format("ap@vendor{}.example", "vendor_index"),
        isperson=pl.lit("F"),
        isinactive=pl.lit("F"),
        externalid=pl.when("exported_from_procore")
        .then(pl.format("procore-company-{}", "procore_vendor_id")),
        datecreated="created_at",
        lastmodifieddate="erp_updated_at",
    )


def _items(items: pl.DataFrame) -> pl.DataFrame:
    return items.select(
        id=_int("item_id"),
        itemid="code",
        displayname="name",
        itemtype="item_type",
        subtype=pl.when(pl.col("item_type") != "InvtPart").then(pl.lit("Purchase")),
        isinactive=pl.lit("F"),
        expenseaccount=pl.lit(EXPENSE_ACCOUNT, pl.Int64),
        externalid=pl.when("from_procore").then(pl.format("procore-wbs-{}", "wbs_code_id")),
        createddate="updated_at",
        lastmodifieddate="updated_at",
    )


def _jobs(options: pl.DataFrame, projects: pl.DataFrame) -> pl.DataFrame:
    """NetSuite jobs: the projects it has (exported from Procore when synced), the overhead
    job, and sub jobs (NS-6) under synced projects."""
    nums = projects.select("project_id", "project_number", "created_at")
    jobs = options.join(nums, on="project_id", how="left", maintain_order="left")
    created = pl.col("created_at").fill_null(pl.lit(WORLD_START + timedelta(days=10)))
    return jobs.select(
        id=_int("option_id"),
        entityid=pl.coalesce("project_number", pl.format("JOB-{}", "option_id")),
        companyname="name",
        altname="name",
        parent=_int("parent_option_id"),
        isinactive=pl.lit("F"),
        externalid=pl.when("is_synced").then(pl.format("procore-project-{}", "project_id")),
        datecreated=created,
        lastmodifieddate=created + pl.duration(days=3),
    )


def _subsidiary(conn: Mapping) -> pl.DataFrame:
    return pl.DataFrame({"id": [SUBSIDIARY], "name": [conn["company_name"]],
                         "isinactive": ["F"]})


def _links(pays: pl.DataFrame) -> pl.DataFrame:
    return pays.select(
        previousdoc=_int("txn_id"), previousline=pl.lit(0, pl.Int64),
        previoustype=pl.lit("VendBill"), nextdoc=_int("payment_id"),
        nextline=pl.lit(0, pl.Int64), nexttype=pl.lit("VendPymt"),
        linktype=pl.lit("Payment"), foreignamount=money_from_cents("amount"),
    )


def _deleted(txns: pl.DataFrame, pays: pl.DataFrame) -> pl.DataFrame:
    """Deleted transactions and payments. A deletion the world drew at generation happened
    after Procore's last job-cost import, so a synced one stays in Procore (NS-18)."""
    after_sync = pl.lit(PROCORE_LAST_SYNC + timedelta(days=1))
    gone = txns.filter(pl.col("status") == "DELETED").select(
        recordid=_int("txn_id"),
        recordtypename=pl.col("erp_type").replace_strict(DELETED_NAMES),
        name=pl.col("invoice_number"),
        deleteddate=pl.max_horizontal("updated_at", after_sync),
    )
    gone_pays = pays.filter(pl.col("status") == "DELETED").select(
        recordid=_int("payment_id"), recordtypename=pl.lit("Bill Payment"),
        name="reference", deleteddate=pl.max_horizontal("updated_at", after_sync),
    )
    return pl.concat([gone, gone_pays])
