-- R-1: the ERP Job Costs report, per project, cost code and cost type.
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
    direct_cost
from {{ ref('job_costs') }}
