select
    tracking_option_id,
    _dlt_parent_id as category_row_id,
    name as tracking_option_name,
    status
from {{ source('raw_xero', 'tracking_categories__options') }}
