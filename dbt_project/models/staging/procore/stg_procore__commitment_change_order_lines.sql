-- A CCO's lines; the connection comes from the CCO (child rows carry only _root_id).
select
    cast(line.id as bigint) as change_order_line_id,
    cast(line._root_id as bigint) as change_order_id,
    change_order.connection_id,
    cast(line.contract_line_item_id as bigint) as commitment_line_id,
    cast(line.wbs_code__id as bigint) as wbs_code_id,
    line.wbs_code__flat_code as wbs_code,
    line.description,
    {{ money('line.amount') }} as amount
from {{ raw('raw_procore', 'commitment_change_orders__line_items') }} as line
left join {{ raw('raw_procore', 'commitment_change_orders') }} as change_order
    on change_order.id = line._root_id
