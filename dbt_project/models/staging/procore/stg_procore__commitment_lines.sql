-- A commitment's schedule of values (SOV). Child rows carry only their commitment's id
-- (_root_id); the connection comes from the commitment itself.
select
    cast(line.id as bigint) as commitment_line_id,
    cast(line._root_id as bigint) as commitment_id,
    commitment.connection_id,
    cast(line.wbs_code__id as bigint) as wbs_code_id,
    line.wbs_code__flat_code as wbs_code,
    line.description,
    {{ quantity('line.quantity') }} as quantity,
    {{ money('line.unit_cost') }} as unit_cost,
    {{ money('line.amount') }} as amount
from {{ raw('raw_procore', 'work_order_contracts__line_items') }} as line
left join {{ raw('raw_procore', 'work_order_contracts') }} as commitment
    on commitment.id = line._root_id
