select
    cast(user_id as bigint) as user_id,
    login,
    display_name,
    cast(active as boolean) as is_active,
    cast(created_at as timestamptz) as created_at,
    cast(updated_at as timestamptz) as updated_at
from {{ raw('raw_ops', 'users') }} as source_table
