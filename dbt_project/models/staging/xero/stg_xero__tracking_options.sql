select
    tracking_option_id,
    _parent_id as tracking_category_id,
    name as tracking_option_name,
    status
from {{ raw('raw_xero', 'tracking_categories__options') }} as source_table
