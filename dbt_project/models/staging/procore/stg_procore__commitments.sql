select
    cast(id as bigint) as commitment_id,
    connection_id,
    cast(project_id as bigint) as project_id,
    number as commitment_number,
    title,
    status,
    cast(vendor__id as bigint) as vendor_id,
    deleted_at is not null as is_deleted,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'work_order_contracts') }} as source_table
