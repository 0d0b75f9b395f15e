select
    cast(id as bigint) as transaction_id,
    connection_id,
    cast(entity as bigint) as vendor_id,  -- null on journal entries
    tranid as transaction_number,
    type as transaction_type,
    status,
    memo,
    externalid as external_id,
    {{ money('foreigntotal') }} as total,
    {{ netsuite_flag('posting') }} as is_posting,
    cast(trandate as date) as transaction_date,
    cast(duedate as date) as due_date,
    cast(createddate as timestamp) as created_at,
    cast(lastmodifieddate as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_netsuite', 'transactions') }} as source_table
