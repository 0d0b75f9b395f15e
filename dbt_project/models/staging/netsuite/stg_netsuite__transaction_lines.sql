select
    cast(source_table."transaction" as bigint) as transaction_id,
    cast(id as bigint) as line_id,
    connection_id,
    cast(item as bigint) as item_id,  -- null on expense lines
    cast(entity as bigint) as job_id,  -- the customer:job the line is coded to
    cast(expenseaccount as bigint) as expense_account_id,
    cast(linesequencenumber as bigint) as line_number,
    itemtype as item_type,
    memo as line_memo,
    {{ quantity('quantity') }} as quantity,
    {{ quantity('rate') }} as rate,
    -- signed as NetSuite posts it: cost positive, vendor credit lines and journal credits
    -- negative
    {{ money('netamount') }} as net_amount,
    {{ netsuite_flag('mainline') }} as is_main_line,
    {{ netsuite_flag('taxline') }} as is_tax_line,
    cast(linelastmodifieddate as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_netsuite', 'transaction_lines') }} as source_table
