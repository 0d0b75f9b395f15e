select
    cast(id as bigint) as requisition_line_id,
    _root_id as requisition_id,
    cast(wbs_code__id as bigint) as wbs_code_id,
    wbs_code__flat_code as wbs_code,
    {{ money('amount') }} as amount
from {{ raw('raw_procore', 'requisitions__line_items') }} as source_table
