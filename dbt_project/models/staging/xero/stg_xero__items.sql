select
    item_id,
    connection_id,
    code as item_code,
    name as item_name,
    {{ xero_timestamp('updated_date_utc') }} as updated_at
from {{ raw('raw_xero', 'items') }} as source_table
