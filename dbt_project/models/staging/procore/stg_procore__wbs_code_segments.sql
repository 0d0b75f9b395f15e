select
    cast(_root_id as bigint) as wbs_code_id,
    cast(_idx as bigint) + 1 as segment_position,
    segment_name,
    code as segment_code,
    name as segment_item_name
from {{ raw('raw_procore', 'wbs_codes__segment_items') }} as source_table
