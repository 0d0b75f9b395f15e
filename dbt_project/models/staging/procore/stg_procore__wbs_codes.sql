-- The flat code is cost code . cost type, then any custom segments (NetSuite projects may
-- carry them, NS-3: 03-100.L.02); the cost code's own tiers are joined by '-'.
select
    cast(id as bigint) as wbs_code_id,
    connection_id,
    cast(project_id as bigint) as project_id,
    flat_code as wbs_code,
    {{ dbt.split_part('flat_code', "'.'", 1) }} as cost_code,
    {{ dbt.split_part('flat_code', "'.'", 2) }} as cost_type,
    description,
    status,
    origin_id as erp_item_ref,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'wbs_codes') }} as source_table
