"""A small hand-worked published snapshot shared by the report and app tests.

Built through the real ``pipelines.publish.publish`` from a tiny warehouse holding the
``marts`` and ``reports`` tables of the column contract. The expected figures below are worked
out by hand from these rows (see the comments), not computed by the code under test.

Connections: ``xero-acme`` (Xero; projects 501 and 502) and ``ns-bolt`` (NetSuite; project 701);
with ``acumatica=True`` also ``ac-ridge`` (Acumatica; project 801), whose job costs come in
four amount types (AC-21). Xero and NetSuite leave the amount-type columns null.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.publish import MANIFEST, publish

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


# ---------------------------------------------------------------------------------------------
# Issue 5 report tables (docs/reports.md), hand-worked for these tables alone: they reuse the
# connections, projects and WBS codes above, but their figures are not derived from them.
# Acumatica rows are present only with ``acumatica=True``. The older snapshot of
# ``build_published_history`` has none of these tables.

OLD_SNAPSHOT_ID = "20250630T120000000000Z"
OLD_CREATED = "2025-06-30T12:00:00+00:00"

_ISSUE5_TABLES = {
    "reports.rpt_accountants": """
        connection_id varchar, erp varchar, procore_company_id bigint, company_name varchar,
        user_id bigint, user_name varchar, email varchar, erp_integrations_permission varchar
    """,
    "reports.rpt_unsyncable_direct_costs": """
        connection_id varchar, erp varchar, company_name varchar, project_id bigint,
        project_number varchar, project_name varchar, erp_project_ref varchar,
        erp_project_name varchar, erp_line_id varchar, erp_transaction_id varchar,
        erp_transaction_type varchar, status varchar, transaction_date date,
        vendor_name varchar, invoice_number varchar, wbs_code varchar, item_code varchar,
        line_amount decimal(18,2), signed_amount decimal(18,2), reason_code varchar,
        rule_ids varchar, reason varchar, is_first_reason boolean
    """,
    "reports.rpt_cost_line_balance": """
        connection_id varchar, erp varchar, company_name varchar, source_lines bigint,
        source_amount decimal(18,2), direct_cost_lines bigint, direct_cost_amount decimal(18,2),
        commitment_invoiced_lines bigint, commitment_invoiced_amount decimal(18,2),
        unsyncable_lines bigint, unsyncable_amount decimal(18,2), excluded_lines bigint,
        excluded_amount decimal(18,2), difference_lines bigint, difference_amount decimal(18,2),
        is_balanced boolean
    """,
    "reports.rpt_job_cost_accuracy": """
        connection_id varchar, erp varchar, project_id bigint, project_number varchar,
        project_name varchar, wbs_code varchar, description varchar,
        erp_job_to_date_costs decimal(18,2), erp_reported_actual decimal(18,2),
        synced_direct_costs decimal(18,2), synced_direct_cost_lines bigint,
        difference decimal(18,2), credit_notes_not_in_jtd decimal(18,2),
        commitment_invoiced_not_direct_cost decimal(18,2), pending_import decimal(18,2),
        deleted_or_voided_after_sync decimal(18,2), changed_after_sync decimal(18,2),
        unexplained decimal(18,2), causes varchar, is_finding boolean
    """,
    "reports.rpt_reconciliation": """
        connection_id varchar, erp varchar, finding varchar, rule_ids varchar,
        severity varchar, entity varchar, project_id bigint, project_number varchar,
        project_name varchar, procore_id varchar, erp_id varchar, field varchar,
        procore_value varchar, erp_value varchar, amount decimal(18,2),
        suggested_match varchar, confidence decimal(4,2), detail varchar
    """,
}

# (connection, user id, name, email, ERP Integrations permission)
_ACCOUNTANTS = [
    ("xero-acme", 11, "Ann Archer", "ann@acme.test", "admin"),
    ("xero-acme", 12, "Ben Baker", "ben@acme.test", "standard"),
    ("ns-bolt", 21, "Cara Cole", "cara@bolt.test", "admin"),
    ("ac-ridge", 31, "Dev Diaz", "dev@ridge.test", "standard"),
]

# (connection, project or None, ERP project ref, ERP project name, line id, txn id,
#  txn type, status, date, vendor, invoice #, wbs, item, line amount, signed amount,
#  [(reason code, rule ids, reason)]); a line's reasons in evaluation order, the first first;
#  rule ids are the seed's common (C-*) and own-ERP rules, as the report shows them.
_UNSYNCABLE = [
    ("xero-acme", 501, "opt-501", "Harbour View", "x-u1", "RCV-1", "RECEIVE", "AUTHORISED",
     "2025-01-12", "Harbour Body Corp", None, None, None, "500.00", "-500.00",
     [("type_not_eligible", "XE-11", "The transaction type does not sync.")]),
    ("xero-acme", None, None, None, "x-u2", "INV-7010", "ACCPAY", "DRAFT", "2025-01-18",
     "Pour Co", "SI-9", None, None, "1200.00", "1200.00",
     [("status_not_approved", "C-5, XE-11", "The transaction is not approved."),
      ("no_project", "XE-11", "The line is on no ERP project.")]),
    ("xero-acme", 502, "opt-502", "Riverside Depot", "x-u3", "SPD-6", "SPEND", "AUTHORISED",
     "2025-02-10", "Hire Co", None, None, "HIRE", "250.50", "250.50",
     [("item_not_synced", "XE-4, XE-11", "The item is not a synced cost code.")]),
    ("ns-bolt", 701, "job-701", "Civic Library", "n-u1", "VB-103", "VendBill", "Approved",
     "2025-03-05", "Mill Supply", "MS-10", None, None, "99.99", "99.99",
     [("no_item", "NS-14", "The line has no item.")]),
    ("ns-bolt", None, "job-701-A", "Civic Library : Annex", "n-u2", "VB-104", "VendBill",
     "Approved", "2025-03-06", "Steel Erectors", "SE-2", None, "Steel", "1000.00", "1000.00",
     [("sub_job_not_supported", "NS-6", "The line is on a NetSuite sub job."),
      ("item_type_not_supported", "NS-7, NS-14", "The item is not an Other Charge item.")]),
    ("ac-ridge", 801, "25-003", "Hillside School", "a-u1", "PM-a-u1", "AP", "Released",
     "2025-04-02", "Mill Supply", "SUP-8", None, None, "400.00", "400.00",
     [("no_task", "AC-6", "The line has no project task.")]),
    ("ac-ridge", None, "X-9", "Warehouse Fitout", "a-u2", "PM-a-u2", "GL", "Released",
     "2025-04-03", None, None, None, None, "2000.00", "2000.00",
     [("project_not_synced", "C-4, AC-21", "The ERP project is not linked.")]),
]
# Each line once: line amounts 500.00 + 1,200.00 + 250.50 + 99.99 + 1,000.00 + 400.00
# + 2,000.00 = 5,450.49; signed −500.00 instead of 500.00: 4,450.49. Rows: 1+2+1+1+2+1+1 = 9.
UNSYNCABLE_TOTAL = {"rows": 9, "line_amount": D("5450.49"), "signed_amount": D("4450.49")}
# Xero: 500.00 + 1,200.00 + 250.50 = 1,950.50; signed −500.00 + 1,200.00 + 250.50 = 950.50.
UNSYNCABLE_XERO_TOTAL = {"rows": 4, "line_amount": D("1950.50"), "signed_amount": D("950.50")}
# Signed amount per reason code, all connections (a line under each reason it fails).
UNSYNCABLE_BY_REASON = {
    "item_not_synced": D("250.50"), "item_type_not_supported": D("1000.00"),
    "no_item": D("99.99"), "no_project": D("1200.00"), "no_task": D("400.00"),
    "project_not_synced": D("2000.00"), "status_not_approved": D("1200.00"),
    "sub_job_not_supported": D("1000.00"), "type_not_eligible": D("-500.00"),
}

# Conservation: (connection, source, direct, commitment invoiced, unsyncable, excluded), each
# (lines, amount as the ERP states it). Xero: 6 + 2 + 3 + 0 = 11 lines;
# 8,370.75 + 40,000.10 + 1,950.50 = 50,321.35. NetSuite: 1 + 1 + 2 + 2 = 6;
# 249,999.01 + 750,000.00 + 1,099.99 + 1,075.00 = 1,002,174.00 (excluded: main and tax line,
# NS-18). Acumatica: 3 + 1 + 2 = 6; 6,000.00 + 30,000.00 + 2,400.00 = 38,400.00.
_BALANCE = [
    ("xero-acme", (11, "50321.35"), (6, "8370.75"), (2, "40000.10"), (3, "1950.50"),
     (0, "0.00")),
    ("ns-bolt", (6, "1002174.00"), (1, "249999.01"), (1, "750000.00"), (2, "1099.99"),
     (2, "1075.00")),
    ("ac-ridge", (6, "38400.00"), (3, "6000.00"), (1, "30000.00"), (2, "2400.00"),
     (0, "0.00")),
]
# All three: 23 lines, 1,090,895.35 = 264,369.76 + 820,000.10 + 5,450.49 + 1,075.00, so the
# differences total 0 lines and 0.00. The unsyncable amount equals R-2's line amount total.
BALANCE_TOTAL = {
    "source_lines": 23, "source_amount": D("1090895.35"),
    "direct_cost_lines": 10, "direct_cost_amount": D("264369.76"),
    "commitment_invoiced_lines": 4, "commitment_invoiced_amount": D("820000.10"),
    "unsyncable_lines": 7, "unsyncable_amount": D("5450.49"),
    "excluded_lines": 2, "excluded_amount": D("1075.00"),
    "difference_lines": 0, "difference_amount": D("0.00"),
}

# (connection, project, wbs, description, ERP JTD, ERP reported actual, synced, synced
#  lines, credit notes, commitment invoiced, pending import, deleted/voided, changed after
#  sync, unexplained); difference = synced − JTD = the sum of the six parts.
_ACCURACY = [
    # −10,050.25 = 2,449.75 − 12,500.00: a −50.25 credit note synced but not in JTD (XE-12)
    # and a 10,000.00 subcontractor invoice that is commitment invoiced in Procore.
    ("xero-acme", 501, "03-100.L", "Concrete labour", "12500.00", None, "2449.75", 3,
     "-50.25", "-10000.00", "0", "0", "0", "0"),
    ("xero-acme", 501, "03-100.M", "Concrete materials", "4320.55", None, "4320.55", 1,
     "0", "0", "0", "0", "0", "0"),
    ("xero-acme", 501, "09-200.S", "Finishes subcontract", "30000.10", None, "0.00", 0,
     "0", "-30000.10", "0", "0", "0", "0"),
    ("xero-acme", 501, "01-500.O", "General conditions", "0.00", None, "0.00", 0,
     "0", "0", "0", "0", "0", "0"),
    ("xero-acme", 502, "01-500.O", "Site office", "1199.95", None, "1199.95", 1,
     "0", "0", "0", "0", "0", "0"),
    # The spend money was cut from 420.00 to 300.00 in Xero after it synced.
    ("xero-acme", 502, "02-300.E", None, "300.00", None, "420.00", 2,
     "0", "0", "0", "0", "120.00", "0"),
    # −750,001.00 = 249,999.01 − 1,000,000.01: 750,000.00 commitment invoiced (NS-16), and
    # 1.00 nobody can explain (the drill-down's finding).
    ("ns-bolt", 701, "05-120.M", "Structural steel", "1000000.01", None, "249999.01", 1,
     "0", "-750000.00", "0", "0", "0", "-1.00"),
    # A bill deleted in NetSuite after it synced stays in Procore (NS-18, C-7).
    ("ns-bolt", 701, "05-130.M", None, "0.00", None, "640.00", 1,
     "0", "0", "0", "640.00", "0", "0"),
    # 500.00 of payroll released in Acumatica after Procore's last import.
    ("ac-ridge", 801, "01.03-100.000.LABOR", "Concrete labour", "6000.00", "6000.00",
     "5500.00", 2, "0", "0", "-500.00", "0", "0", "0"),
    ("ac-ridge", 801, "02.09-200.000.SUBCON", "Steel subcontract", "30000.00", "30000.00",
     "30000.00", 1, "0", "0", "0", "0", "0", "0"),
    ("ac-ridge", 801, "B1.02.03-100.000.LABOR", "Annex labour", "0.00", "0.00", "0.00", 0,
     "0", "0", "0", "0", "0", "0"),
]
_CAUSES = ("credit_notes_not_in_jtd", "commitment_invoiced_not_direct_cost", "pending_import",
           "deleted_or_voided_after_sync", "changed_after_sync", "unexplained")
# JTD 12,500.00 + 4,320.55 + 30,000.10 + 1,199.95 + 300.00 + 1,000,000.01 + 6,000.00
# + 30,000.00 = 1,084,320.61; synced 2,449.75 + 4,320.55 + 1,199.95 + 420.00 + 249,999.01
# + 640.00 + 5,500.00 + 30,000.00 = 294,529.26; difference −789,791.35 = −50.25 − 790,000.10
# − 500.00 + 640.00 + 120.00 − 1.00. Reported actual: Acumatica's only, 36,000.00.
ACCURACY_TOTAL = {
    "rows": 11, "erp_job_to_date_costs": D("1084320.61"), "erp_reported_actual": D("36000.00"),
    "synced_direct_costs": D("294529.26"), "difference": D("-789791.35"),
    "credit_notes_not_in_jtd": D("-50.25"), "commitment_invoiced_not_direct_cost":
    D("-790000.10"), "pending_import": D("-500.00"), "deleted_or_voided_after_sync":
    D("640.00"), "changed_after_sync": D("120.00"), "unexplained": D("-1.00"),
}
# Xero's difference per cause (rows where it is not zero, sum); parts summing to 0 drop out.
ACCURACY_XERO_BY_CAUSE = {
    "changed_after_sync": (1, D("120.00")),
    "commitment_invoiced_not_direct_cost": (2, D("-40000.10")),
    "credit_notes_not_in_jtd": (1, D("-50.25")),
}

# Reconciliation: (connection, finding, rules, severity, entity, project, procore id, erp id,
#  field, procore value, erp value, amount, suggested match, confidence, detail)
_RECONCILIATION = [
    ("xero-acme", "erp_only", "C-7", "error", "direct_cost", 501, None, "SPD-9", None, None,
     None, "275.00", None, None, "Spend money SPD-9 existed at the last import."),
    ("xero-acme", "payment_deleted_after_import", "XE-10, C-7", "warning", "payment", 501,
     "pay-44", "PMT-12", None, None, None, "5000.00", None, None,
     "Deleted in Xero after import; Procore keeps the payment."),
    ("xero-acme", "vendor_drift", "XE-6", "info", "vendor", None, "v-7", "C-9", "email",
     "ap@pourco.test", "accounts@pourco.test", None, None, None,
     "Never flows: Xero contacts are not updated from Procore."),
    ("xero-acme", "amount_differs", "C-7", "error", "direct_cost", 502, "dcl-11", "SPD-5",
     "amount", "300.00", "320.00", "20.00", None, None, "Procore 300.00, Xero 320.00."),
    ("ns-bolt", "deleted_after_sync", "C-7, NS-18", "error", "direct_cost", 701, "dcl-12",
     "VB-102", None, None, None, "640.00", None, None, "Deleted in NetSuite after sync."),
    ("ns-bolt", "project_unlinked", "C-4", "warning", "project", 702, "702", None, None, None,
     None, None, "job 3310 Depot Annex", "0.92", "Procore project never linked."),
    ("ac-ridge", "procore_only", "C-7", "error", "direct_cost", 801, "ac-9", None, None,
     None, None, "310.00", None, None, "No Acumatica record."),
    ("ac-ridge", "voided_after_sync", "C-7", "error", "direct_cost", 801, "ac-5", "PM-ac-5",
     None, None, None, "150.00", None, None, "Voided in Acumatica after sync."),
    ("ac-ridge", "date_differs", "C-7", "warning", "direct_cost", 801, "ac-1", "PM-ac-1",
     "transaction_date", "2025-04-01", "2025-04-02", "1200.00", None, None, "Dates differ."),
    ("ac-ridge", "vendor_differs", "C-7", "warning", "direct_cost", 801, "ac-4", "PM-ac-4",
     "vendor_name", "Steel Erectors", "Steel Erectors Ltd", "30000.00", None, None,
     "Vendor names differ."),
]
_EXTRA_PROJECTS = {("ns-bolt", 702): ("24-018", "Depot Annex")}  # the never-linked project
# 275.00 + 5,000.00 + 20.00 + 640.00 + 310.00 + 150.00 + 1,200.00 + 30,000.00 = 37,595.00
RECONCILIATION_TOTAL = {"rows": 10, "amount": D("37595.00")}
# Xero: 275.00 + 5,000.00 + 20.00 (the vendor row has no amount) = 5,295.00
RECONCILIATION_XERO_TOTAL = {"rows": 4, "amount": D("5295.00")}


def _project(conn: str, project: int | None) -> tuple:
    if project is None:
        return (None, None, None)
    return (project, *{**_PROJECTS, **_EXTRA_PROJECTS}[(conn, project)])


def _company(conn: str) -> str:
    return dict((c[0], c[3]) for c in [*_CONNECTIONS, _AC_CONNECTION])[conn]


def _issue5_rows(acumatica: bool) -> dict[str, list[tuple]]:
    def keep(conn: str) -> bool:
        return acumatica or conn != _AC_CONNECTION[0]

    unsyncable = [
        (conn, _erp(conn), _company(conn), *_project(conn, project), ref, ref_name, line, txn,
         ttype, status, date, vendor, inv, wbs, item, D(amount), D(signed), code, rules, text,
         i == 0)
        for (conn, project, ref, ref_name, line, txn, ttype, status, date, vendor, inv, wbs,
             item, amount, signed, reasons) in _UNSYNCABLE if keep(conn)
        for i, (code, rules, text) in enumerate(reasons)]
    balance = []
    for conn, *buckets in _BALANCE:
        if keep(conn):
            source, *parts = [(n, D(a)) for n, a in buckets]
            diff = (source[0] - sum(n for n, _ in parts), source[1] - sum(a for _, a in parts))
            balance.append((conn, _erp(conn), _company(conn), *source,
                            *(x for part in parts for x in part), *diff, diff == (0, 0)))
    accuracy = []
    for conn, project, wbs, desc, jtd, actual, synced, lines, *parts in _ACCURACY:
        if keep(conn):
            amounts = [D(p) for p in parts]
            assert sum(amounts) == D(synced) - D(jtd), (conn, wbs)  # hand-work check
            causes = ",".join(c for c, a in zip(_CAUSES, amounts, strict=True) if a) or None
            accuracy.append((conn, _erp(conn), *_project(conn, project), wbs, desc, D(jtd),
                             None if actual is None else D(actual), D(synced), lines,
                             D(synced) - D(jtd), *amounts, causes, D(synced) != D(jtd)))
    reconciliation = [
        (conn, _erp(conn), finding, rules, severity, entity, *_project(conn, project), *ids,
         None if amount is None else D(amount), match, None if conf is None else D(conf), det)
        for (conn, finding, rules, severity, entity, project, *ids, amount, match, conf,
             det) in _RECONCILIATION if keep(conn)]
    return {
        "reports.rpt_accountants": [
            (conn, _erp(conn), _company_id(conn), _company(conn), *user)
            for conn, *user in _ACCOUNTANTS if keep(conn)],
        "reports.rpt_unsyncable_direct_costs": unsyncable,
        "reports.rpt_cost_line_balance": balance,
        "reports.rpt_job_cost_accuracy": accuracy,
        "reports.rpt_reconciliation": reconciliation,
    }


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
    return _build(path, acumatica, issue5=True)


def _build(path: Path, acumatica: bool, issue5: bool) -> Path:
    """The warehouse; without ``issue5`` as it was before the issue 5 reports existed."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts; create schema reports")
        tables = {**_TABLES, **(_ISSUE5_TABLES if issue5 else {})}
        rows = {**_rows(acumatica), **(_issue5_rows(acumatica) if issue5 else {})}
        for table, columns in tables.items():
            con.execute(f"create table {table} ({columns})")
        for table, values in rows.items():
            marks = ", ".join("?" * len(values[0]))
            con.executemany(f"insert into {table} values ({marks})", values)
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


def build_published_history(root: Path, acumatica: bool = True) -> Path:
    """Two snapshots under ``root/published``: an older one (``OLD_SNAPSHOT_ID``, created
    ``OLD_CREATED``: Xero and NetSuite only, no issue 5 report tables) and the current one
    (``build_published``'s). For ``--as-of`` time travel."""
    root.mkdir(parents=True, exist_ok=True)
    published = root / "published"
    old = publish(_build(root / "old.duckdb", acumatica=False, issue5=False), published,
                  run_id="old")
    manifest = json.loads((old / MANIFEST).read_text())
    manifest.update(snapshot_id=OLD_SNAPSHOT_ID, created_at=OLD_CREATED)
    (old / MANIFEST).write_text(json.dumps(manifest, indent=2))
    old.rename(published / OLD_SNAPSHOT_ID)  # ids sort by time: keep it the older name
    publish(build_warehouse(root / "warehouse.duckdb", acumatica), published, run_id="test")
    return published
