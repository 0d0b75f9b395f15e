select
    tracking_category_id,
    connection_id,
    name as tracking_category_name,
    status
from {{ raw('raw_xero', 'tracking_categories') }} as source_table
