-- The ERP job costs per project and WBS code with their split (R-1, R-4). The four amount
-- types (AC-21) are filled where the ERP provides them (Acumatica), null otherwise.
select
    split.connection_id,
    connections.erp,
    connections.procore_company_id,
    split.project_id,
    projects.project_number,
    projects.project_name,
    split.wbs_code,
    split.cost_code,
    split.cost_type,
    {{ money('split.jtd_cost') }} as jtd_cost,
    {{ money('split.commitment_invoiced') }} as commitment_invoiced,
    {{ money('split.direct_cost') }} as direct_cost,
    {{ money('split.subcontract_invoices') }} as subcontract_invoices,
    {{ money('split.invoices') }} as invoices,
    {{ money('split.expenses') }} as expenses,
    {{ money('split.payroll') }} as payroll
from {{ ref('int_job_costs_split') }} as split
inner join {{ ref('stg_ops__connections') }} as connections
    on connections.connection_id = split.connection_id
inner join {{ ref('stg_procore__projects') }} as projects
    on projects.project_id = split.project_id
