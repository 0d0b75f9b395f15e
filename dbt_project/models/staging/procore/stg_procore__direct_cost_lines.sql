select
    cast(id as bigint) as direct_cost_line_id,
    _root_id as direct_cost_id,
    origin_id as erp_line_ref,
    wbs_code__flat_code as wbs_code,
    description as line_description,
    {{ quantity('quantity') }} as quantity,
    {{ quantity('unit_cost') }} as unit_cost,
    {{ money('amount') }} as amount
from {{ raw('raw_procore', 'direct_costs__line_items') }} as source_table
