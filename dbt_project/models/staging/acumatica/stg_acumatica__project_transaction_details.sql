-- Project ledger lines, the job cost source (AC-21). The amount is signed as Acumatica posts
-- it (a debit adjustment's lines are negative); the project task is kept whole (a sub job's
-- is 'B1 - 02', AC-9).
select
    id as project_transaction_detail_id,
    project_transaction_id,
    connection_id,
    cast(transaction_id as bigint) as transaction_id,
    cast(source_table."date" as date) as transaction_date,
    project as project_id,
    project_task as project_task_id,
    cost_code as cost_code_id,
    account_group,
    description as line_description,
    {{ quantity('qty') }} as quantity,
    {{ quantity('unit_rate') }} as unit_rate,
    {{ money('amount') }} as amount,
    coalesce(released, false) as is_released,
    vendor_or_customer,
    employee,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'project_transaction_details') }} as source_table
