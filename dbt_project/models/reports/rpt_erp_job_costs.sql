-- R-1: the ERP Job Costs report, per project, cost code and cost type. The four amount types
-- (AC-21: Subcontract Invoices, Invoices, Expenses, Payroll) where the ERP provides them.
select
    connection_id,
    erp,
    project_id,
    project_number,
    project_name,
    wbs_code,
    cost_code,
    cost_type,
    jtd_cost,
    commitment_invoiced,
    direct_cost,
    subcontract_invoices,
    invoices,
    expenses,
    payroll
from {{ ref('job_costs') }}
