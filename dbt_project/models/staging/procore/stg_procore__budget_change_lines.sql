-- A budget change's adjustment lines; the connection comes from the budget change.
select
    cast(line.id as bigint) as budget_change_line_id,
    cast(line._root_id as bigint) as budget_change_id,
    budget_change.connection_id,
    cast(line.wbs_code__id as bigint) as wbs_code_id,
    line.wbs_code__flat_code as wbs_code,
    line.description,
    {{ money('line.amount') }} as amount
from {{ raw('raw_procore', 'budget_changes__adjustment_line_items') }} as line
left join {{ raw('raw_procore', 'budget_changes') }} as budget_change
    on budget_change.id = line._root_id
