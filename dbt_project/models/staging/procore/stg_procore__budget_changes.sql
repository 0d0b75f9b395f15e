-- Budget changes: exported to Acumatica as potential budget change orders On Hold (AC-12).
select
    cast(id as bigint) as budget_change_id,
    connection_id,
    cast(project_id as bigint) as project_id,
    number as budget_change_number,
    description,
    status,
    origin_id as erp_change_order_ref,
    deleted_at is not null as is_deleted,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'budget_changes') }} as source_table
