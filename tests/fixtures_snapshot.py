"""A small hand-worked published snapshot shared by the report and app tests.

Built through the real ``pipelines.publish.publish`` from a tiny warehouse holding the
``marts`` and ``reports`` tables of the column contract. The expected figures below are worked
out by hand from these rows (see the comments), not computed by the code under test.

Connections: ``xero-acme`` (Xero; projects 501 and 502) and ``ns-bolt`` (NetSuite; project 701);
with ``acumatica=True`` also ``ac-ridge`` (Acumatica; project 801), whose job costs come in
four amount types (AC-21). Xero and NetSuite leave the amount-type columns null.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.publish import publish

D = Decimal

# Per project: JTD, commitment invoiced, direct (= JTD − commitment invoiced).
# 501: 12,500.00 + 4,320.55 + 30,000.10 = 46,820.65 | 10,000.00 + 30,000.10 = 40,000.10
#      | 2,500.00 + 4,320.55 = 6,820.55
# 502: 1,199.95 + 300.00 = 1,499.95 | 0.00 | 1,499.95  (the 300.00 code has no budget line)
# 701: 1,000,000.01 | 750,000.00 | 250,000.01
PROJECT_TOTALS = {
    ("xero-acme", 501): (D("46820.65"), D("40000.10"), D("6820.55")),
    ("xero-acme", 502): (D("1499.95"), D("0.00"), D("1499.95")),
    ("ns-bolt", 701): (D("1000000.01"), D("750000.00"), D("250000.01")),
}
# All connections: 46,820.65 + 1,499.95 + 1,000,000.01 = 1,048,320.61
#                 | 40,000.10 + 750,000.00 = 790,000.10 | 6,820.55 + 1,499.95 + 250,000.01.
PORTFOLIO_TOTAL = (D("1048320.61"), D("790000.10"), D("258320.51"))
XERO_TOTAL = (D("48320.60"), D("40000.10"), D("8320.50"))
PORTFOLIO_JTD_TEXT = "$1,048,320.61"

# Project 501 budget: originals 15,000 + 5,000 + 32,000 + 2,500 = 54,500.00; ERP columns as 501.
BUDGET_501_TOTAL = (D("54500.00"), D("46820.65"), D("40000.10"), D("6820.55"))
# Project 502: one budget line (1,500.00) plus a job-cost-only row with no budget line.
BUDGET_502_TOTAL = (D("1500.00"), D("1499.95"), D("0.00"), D("1499.95"))

# Drill-down 501 / 03-100.L: 10,000.00 (subcontractor invoice) + 1,800.00 + 700.00 = 12,500.00
# counted in JTD, = the ERP's JTD; direct = 2,500.00. The −50.25 credit note is a direct cost
# line but not in JTD (XE-12: bills and spend money only) and must stay out of the sums.
DRILL_501_L = {
    "txn_jtd": D("12500.00"),
    "txn_commitment_invoiced": D("10000.00"),
    "txn_direct": D("2500.00"),
    "txn_not_counted": D("-50.25"),
    "transaction_lines": 4,
}
# Drill-down 701 / 05-120.M: 750,000.00 + 249,999.01 = 999,999.01 against an ERP JTD of
# 1,000,000.01: the transactions fall 1.00 short (a finding).
DRILL_701_M_JTD = (D("999999.01"), D("1000000.01"), D("-1.00"))

# Acumatica project 801 (AC-21), per WBS code: (subcontract invoices, invoices, expenses,
# payroll); JTD = all four, commitment invoiced = subcontract invoices, direct = the rest.
# 01.03-100.000.LABOR: 0 + 1,200.00 + 300.00 + 4,500.00 = JTD 6,000.00, CI 0, direct 6,000.00
# 02.09-200.000.SUBCON: 30,000.00 + 0 + 0 + 0 = JTD 30,000.00, CI 30,000.00, direct 0
# B1.02.03-100.000.LABOR: budgeted, no costs: all four 0.00.
AC_AMOUNT_TYPES = {
    "01.03-100.000.LABOR": (D("0.00"), D("1200.00"), D("300.00"), D("4500.00")),
    "02.09-200.000.SUBCON": (D("30000.00"), D("0.00"), D("0.00"), D("0.00")),
}
# Project 801 budget: originals 20,000 + 50,000 + 5,000 = 75,000.00; JTD 36,000.00,
# CI 30,000.00, direct 6,000.00; amount types 30,000.00, 1,200.00, 300.00, 4,500.00.
BUDGET_801_TOTAL = (D("75000.00"), D("36000.00"), D("30000.00"), D("6000.00"),
                    D("30000.00"), D("1200.00"), D("300.00"), D("4500.00"))

_TABLES = {
    "marts.connections": """
        connection_id varchar, erp varchar, procore_company_id bigint, company_name varchar
    """,
    "marts.job_costs": """
        connection_id varchar, erp varchar, procore_company_id bigint, project_id bigint,
        project_number varchar, project_name varchar, wbs_code varchar, cost_code varchar,
        cost_type varchar, jtd_cost decimal(18,2), commitment_invoiced decimal(18,2),
        direct_cost decimal(18,2), subcontract_invoices decimal(18,2), invoices decimal(18,2),
        expenses decimal(18,2), payroll decimal(18,2)
    """,
    "marts.direct_costs": """
        direct_cost_line_id varchar, connection_id varchar, erp varchar, project_id bigint,
        project_name varchar, wbs_code varchar, cost_code varchar, cost_type varchar,
        erp_transaction_id varchar, erp_transaction_type varchar, direct_cost_type varchar,
        status varchar, transaction_date date, received_date date, vendor_name varchar,
        invoice_number varchar, description varchar, line_description varchar,
        quantity decimal(18,4), unit_cost decimal(18,4), amount decimal(18,2),
        counts_in_jtd boolean
    """,
    "reports.rpt_budget_view": """
        connection_id varchar, erp varchar, project_id bigint, project_number varchar,
        project_name varchar, budget_line_item_id bigint, wbs_code varchar, cost_code varchar,
        cost_type varchar, description varchar, original_budget_amount decimal(18,2),
        erp_job_to_date_costs decimal(18,2), erp_commitment_invoiced decimal(18,2),
        erp_direct_costs decimal(18,2), erp_subcontract_invoices decimal(18,2),
        erp_invoices decimal(18,2), erp_expenses decimal(18,2), erp_payroll decimal(18,2)
    """,
}

_CONNECTIONS = [
    ("xero-acme", "xero", 1001, "Acme Builders"),
    ("ns-bolt", "netsuite", 2002, "Bolt Construction"),
]
_AC_CONNECTION = ("ac-ridge", "acumatica", 3003, "Ridge Builders")

_PROJECTS = {
    ("xero-acme", 501): ("P-001", "Harbour View Apartments"),
    ("xero-acme", 502): ("P-002", "Riverside Depot"),
    ("ns-bolt", 701): ("24-017", "Civic Library"),
    ("ac-ridge", 801): ("25-003", "Hillside School"),
}

# (connection, project, wbs, jtd, commitment invoiced)
_JOB_COSTS = [
    ("xero-acme", 501, "03-100.L", "12500.00", "10000.00"),
    ("xero-acme", 501, "03-100.M", "4320.55", "0.00"),
    ("xero-acme", 501, "09-200.S", "30000.10", "30000.10"),
    ("xero-acme", 502, "01-500.O", "1199.95", "0.00"),
    ("xero-acme", 502, "02-300.E", "300.00", "0.00"),
    ("ns-bolt", 701, "05-120.M", "1000000.01", "750000.00"),
]

# (connection, project, budget line id, wbs, description, original budget)
_BUDGET = [
    ("xero-acme", 501, 9001, "03-100.L", "Concrete labour", "15000.00"),
    ("xero-acme", 501, 9002, "03-100.M", "Concrete materials", "5000.00"),
    ("xero-acme", 501, 9003, "09-200.S", "Finishes subcontract", "32000.00"),
    ("xero-acme", 501, 9004, "01-500.O", "General conditions", "2500.00"),
    ("xero-acme", 502, 9101, "01-500.O", "Site office", "1500.00"),
    ("xero-acme", 502, None, "02-300.E", None, "0.00"),  # job costs without a budget line
    ("ns-bolt", 701, 9201, "05-120.M", "Structural steel", "1200000.00"),
]

# (id, connection, project, wbs, txn id, txn type, direct cost type, date, received, vendor,
#  invoice #, description, line description, qty, unit cost, amount, counts in JTD)
_DIRECT_COSTS = [
    ("dcl-1", "xero-acme", 501, "03-100.L", "INV-7001", "ACCPAY", "Subcontractor Invoice",
     "2025-01-10", None, "Pour Co", "SI-1", "Pay app 1", "Formwork labour", "1", "10000.00",
     "10000.00", True),
    ("dcl-2", "xero-acme", 501, "03-100.L", "INV-7002", "ACCPAY", "Invoice",
     "2025-01-15", "2025-01-16", "Labour Hire Ltd", "LH-88", None, "Labourers week 2", "40",
     "45.00", "1800.00", True),
    ("dcl-3", "xero-acme", 501, "03-100.L", "SPD-1", "SPEND", "Expense",
     "2025-01-20", "2025-01-20", "Site Cafe", None, "Crew catering", "Catering", "1",
     "700.00", "700.00", True),
    ("dcl-4", "xero-acme", 501, "03-100.L", "CN-3", "ACCPAYCREDIT", "Invoice",
     "2025-01-25", "2025-01-25", "Labour Hire Ltd", "LH-88C", None, "Overcharge credit", "1",
     "-50.25", "-50.25", False),
    ("dcl-6", "xero-acme", 501, "03-100.M", "SPD-3", "SPEND", "Expense",
     "2025-02-01", "2025-02-01", "BuildMart", None, "Cement", "Cement bags", "100",
     "43.2055", "4320.55", True),
    ("dcl-7", "xero-acme", 501, "09-200.S", "INV-7003", "ACCPAY", "Subcontractor Invoice",
     "2025-02-05", None, "Finish Pros", "SI-2", "Pay app 1", "Painting", "1", "30000.10",
     "30000.10", True),
    ("dcl-8", "xero-acme", 502, "01-500.O", "SPD-4", "SPEND", "Expense",
     "2025-02-07", "2025-02-07", "Portable Offices", None, "Rental", "Site office rental", "1",
     "1199.95", "1199.95", True),
    ("dcl-11", "xero-acme", 502, "02-300.E", "SPD-5", "SPEND", "Expense",
     "2025-02-09", "2025-02-09", "Sparky Ltd", None, None, "Temporary power", "1",
     "300.00", "300.00", True),
    ("dcl-9", "ns-bolt", 701, "05-120.M", "VB-100", "VendBill", "Subcontractor Invoice",
     "2025-03-01", None, "Steel Erectors", "SE-1", "Progress claim", "Steel erection", "1",
     "750000.00", "750000.00", True),
    ("dcl-10", "ns-bolt", 701, "05-120.M", "VB-101", "VendBill", "Invoice",
     "2025-03-03", "2025-03-04", "Mill Supply", "MS-9", None, "Beams", "10", "24999.901",
     "249999.01", True),
]


# Acumatica (AC-21): (project, budget line id, wbs, cost code, cost type, description, original)
_AC_BUDGET = [
    (801, 9301, "01.03-100.000.LABOR", "03-100.000", "LABOR", "Concrete labour", "20000.00"),
    (801, 9302, "02.09-200.000.SUBCON", "09-200.000", "SUBCON", "Steel subcontract",
     "50000.00"),
    (801, 9303, "B1.02.03-100.000.LABOR", "03-100.000", "LABOR", "Annex labour", "5000.00"),
]

# The direct cost lines behind 801's codes, one per amount type used (AC-21 syncs all four).
_AC_DIRECT_COSTS = [
    ("ac-1", "01.03-100.000.LABOR", "AP", "Invoice", "Mill Supply", "SUP-7", "1200.00"),
    ("ac-2", "01.03-100.000.LABOR", "GL", "Expense", None, None, "300.00"),
    ("ac-3", "01.03-100.000.LABOR", "PR", "Payroll", "EP0007", None, "4500.00"),
    ("ac-4", "02.09-200.000.SUBCON", "AP", "Subcontractor Invoice", "Steel Erectors", "INV-1",
     "30000.00"),
]


def _erp(connection_id: str) -> str:
    return dict((c[0], c[1]) for c in [*_CONNECTIONS, _AC_CONNECTION])[connection_id]


def _company_id(connection_id: str) -> int:
    return dict((c[0], c[2]) for c in [*_CONNECTIONS, _AC_CONNECTION])[connection_id]


def _rows(acumatica: bool) -> dict[str, list[tuple]]:
    job_costs = []
    no_types = (None, None, None, None)  # Xero and NetSuite provide no amount types
    for conn, project, wbs, jtd, ci in _JOB_COSTS:
        number, name = _PROJECTS[(conn, project)]
        code, ctype = wbs.split(".")
        job_costs.append((conn, _erp(conn), _company_id(conn), project, number, name, wbs, code,
                          ctype, D(jtd), D(ci), D(jtd) - D(ci), *no_types))
    jc = {(r[0], r[3], r[6]): r for r in job_costs}
    budget = []
    for conn, project, line_id, wbs, desc, original in _BUDGET:
        number, name = _PROJECTS[(conn, project)]
        code, ctype = wbs.split(".")
        erp_jtd, erp_ci, erp_direct = (jc[(conn, project, wbs)][9:12]
                                       if (conn, project, wbs) in jc else (D(0), D(0), D(0)))
        budget.append((conn, _erp(conn), project, number, name, line_id, wbs, code, ctype, desc,
                       D(original), erp_jtd, erp_ci, erp_direct, *no_types))
    direct = []
    for (line_id, conn, project, wbs, txn, ttype, dtype, date, received, vendor, inv, desc,
         line_desc, qty, unit, amount, counts) in _DIRECT_COSTS:
        code, ctype = wbs.split(".")
        direct.append((line_id, conn, _erp(conn), project, _PROJECTS[(conn, project)][1], wbs,
                       code, ctype, txn, ttype, dtype, "Approved", date, received, vendor, inv,
                       desc, line_desc, D(qty), D(unit), D(amount), counts))
    connections = list(_CONNECTIONS)
    if acumatica:
        connections.append(_AC_CONNECTION)
        _add_acumatica(job_costs, budget, direct)
    return {
        "marts.connections": connections,
        "marts.job_costs": job_costs,
        "marts.direct_costs": direct,
        "reports.rpt_budget_view": budget,
    }


def _add_acumatica(job_costs: list, budget: list, direct: list) -> None:
    conn, erp, company = _AC_CONNECTION[:3]
    for project, line_id, wbs, code, ctype, desc, original in _AC_BUDGET:
        number, name = _PROJECTS[(conn, project)]
        types = AC_AMOUNT_TYPES.get(wbs, (D("0.00"),) * 4)
        jtd, ci = sum(types, D(0)), types[0]
        if wbs in AC_AMOUNT_TYPES:
            job_costs.append((conn, erp, company, project, number, name, wbs, code, ctype, jtd,
                              ci, jtd - ci, *types))
        budget.append((conn, erp, project, number, name, line_id, wbs, code, ctype, desc,
                       D(original), jtd, ci, jtd - ci, *types))
    for line_id, wbs, module, dtype, vendor, inv, amount in _AC_DIRECT_COSTS:
        code, ctype = next((b[3], b[4]) for b in _AC_BUDGET if b[2] == wbs)
        direct.append((line_id, conn, erp, 801, _PROJECTS[(conn, 801)][1], wbs, code, ctype,
                       f"PM-{line_id}", module, dtype, "Approved", "2025-04-01", "2025-04-01",
                       vendor, inv, None, f"{dtype} line", D("1"), D(amount), D(amount), True))


def build_warehouse(path: Path, acumatica: bool = False) -> Path:
    """A DuckDB file with the contract's tables in schemas ``marts`` and ``reports``."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts; create schema reports")
        for table, columns in _TABLES.items():
            con.execute(f"create table {table} ({columns})")
        for table, rows in _rows(acumatica).items():
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"insert into {table} values ({marks})", rows)
        # R-1 is the job cost mart without the Procore company id.
        con.execute("""
            create table reports.rpt_erp_job_costs as
            select connection_id, erp, project_id, project_number, project_name, wbs_code,
                   cost_code, cost_type, jtd_cost, commitment_invoiced, direct_cost,
                   subcontract_invoices, invoices, expenses, payroll
            from marts.job_costs
        """)
    finally:
        con.close()
    return path


def build_published(root: Path, acumatica: bool = False) -> Path:
    """Publish the hand-worked warehouse under ``root/published`` and return that directory."""
    root.mkdir(parents=True, exist_ok=True)
    warehouse = build_warehouse(root / "warehouse.duckdb", acumatica)
    published = root / "published"
    publish(warehouse, published, run_id="test")
    return published
