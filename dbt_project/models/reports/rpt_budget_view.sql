-- R-4: the ERP budget view. Each budget line with ERP Job to Date Costs, ERP Commitment
-- Invoiced and the calculated ERP Direct Costs = JTD − Commitment Invoiced. Job costs on a
-- WBS code without a budget line still appear (Procore adds a $0 line for them).
with budget as (
    select budget.*, projects.project_number, projects.project_name
    from {{ ref('stg_procore__budget_line_items') }} as budget
    inner join {{ ref('stg_procore__projects') }} as projects
        on projects.project_id = budget.project_id
    where not projects.is_deleted
),

connections as (
    select connection_id, erp from {{ ref('stg_ops__connections') }}
),

job_costs as (
    select * from {{ ref('job_costs') }}
)

select
    coalesce(budget.connection_id, job_costs.connection_id) as connection_id,
    connections.erp,
    coalesce(budget.project_id, job_costs.project_id) as project_id,
    coalesce(budget.project_number, job_costs.project_number) as project_number,
    coalesce(budget.project_name, job_costs.project_name) as project_name,
    budget.budget_line_item_id,
    coalesce(budget.wbs_code, job_costs.wbs_code) as wbs_code,
    coalesce({{ dbt.split_part('budget.wbs_code', "'.'", 1) }}, job_costs.cost_code)
        as cost_code,
    coalesce({{ dbt.split_part('budget.wbs_code', "'.'", 2) }}, job_costs.cost_type)
        as cost_type,
    budget.description,
    {{ money('coalesce(budget.original_budget_amount, 0)') }} as original_budget_amount,
    {{ money('coalesce(job_costs.jtd_cost, 0)') }} as erp_job_to_date_costs,
    {{ money('coalesce(job_costs.commitment_invoiced, 0)') }} as erp_commitment_invoiced,
    {{ money('coalesce(job_costs.jtd_cost, 0) - coalesce(job_costs.commitment_invoiced, 0)') }}
        as erp_direct_costs
from budget
full outer join job_costs
    on job_costs.connection_id = budget.connection_id
    and job_costs.project_id = budget.project_id
    and job_costs.wbs_code = budget.wbs_code
inner join connections
    on connections.connection_id = coalesce(budget.connection_id, job_costs.connection_id)
