-- R-4: the ERP budget view. Each budget line with ERP Job to Date Costs, ERP Commitment
-- Invoiced and the calculated ERP Direct Costs = JTD − Commitment Invoiced. Job costs on a
-- WBS code without a budget line still appear (Procore adds a $0 line for them). Where the
-- ERP splits job cost into amount types (AC-21, Acumatica) the four columns carry them, 0 on
-- a line with none; null where the ERP has no amount types.
with budget as (
    select budget.*, projects.project_number, projects.project_name
    from {{ ref('stg_procore__budget_line_items') }} as budget
    inner join {{ ref('stg_procore__projects') }} as projects
        on projects.project_id = budget.project_id
    where not projects.is_deleted
),

-- cost code and cost type by segment: an Acumatica flat code leads with the task and its cost
-- code has a '.' of its own (01.03-100.000.LABOR)
wbs_codes as (
    select wbs_code_id, cost_code, cost_type
    from {{ ref('int_procore_wbs_codes_segmented') }}
),

connections as (
    select connection_id, erp, has_amount_types from {{ ref('connections') }}
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
    coalesce(wbs_codes.cost_code, job_costs.cost_code,
        {{ dbt.split_part('budget.wbs_code', "'.'", 1) }}) as cost_code,
    coalesce(wbs_codes.cost_type, job_costs.cost_type,
        {{ dbt.split_part('budget.wbs_code', "'.'", 2) }}) as cost_type,
    budget.description,
    {{ money('coalesce(budget.original_budget_amount, 0)') }} as original_budget_amount,
    {{ money('coalesce(job_costs.jtd_cost, 0)') }} as erp_job_to_date_costs,
    {{ money('coalesce(job_costs.commitment_invoiced, 0)') }} as erp_commitment_invoiced,
    {{ money('coalesce(job_costs.jtd_cost, 0) - coalesce(job_costs.commitment_invoiced, 0)') }}
        as erp_direct_costs,
    {%- for column in ['subcontract_invoices', 'invoices', 'expenses', 'payroll'] %}
    case
        when connections.has_amount_types
            then {{ money('coalesce(job_costs.' ~ column ~ ', 0)') }}
    end as erp_{{ column }}{{ "," if not loop.last }}
    {%- endfor %}
from budget
full outer join job_costs
    on job_costs.connection_id = budget.connection_id
    and job_costs.project_id = budget.project_id
    and job_costs.wbs_code = budget.wbs_code
left join wbs_codes
    on wbs_codes.wbs_code_id = budget.wbs_code_id
inner join connections
    on connections.connection_id = coalesce(budget.connection_id, job_costs.connection_id)
