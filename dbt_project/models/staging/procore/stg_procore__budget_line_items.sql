select
    cast(id as bigint) as budget_line_item_id,
    connection_id,
    cast(project_id as bigint) as project_id,
    cast(wbs_code__id as bigint) as wbs_code_id,
    wbs_code__flat_code as wbs_code,
    wbs_code__description as description,
    {{ money('original_budget_amount') }} as original_budget_amount,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'budget_line_items') }} as source_table
