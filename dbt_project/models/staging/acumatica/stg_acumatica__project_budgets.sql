select
    id as project_budget_id,
    connection_id,
    project_id,
    project_task_id,
    cost_code as cost_code_id,
    account_group,
    source_table."type" as budget_type,
    description,
    {{ money('original_budgeted_amount') }} as original_budgeted_amount,
    {{ money('revised_budgeted_amount') }} as revised_budgeted_amount,
    -- released cost on the line, as Acumatica sums it
    {{ money('actual_amount') }} as actual_amount,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'project_budgets') }} as source_table
