select
    connection_id,
    cast(previousdoc as bigint) as previous_transaction_id,
    cast(previousline as bigint) as previous_line_id,
    cast(nextdoc as bigint) as next_transaction_id,
    cast(nextline as bigint) as next_line_id,
    previoustype as previous_transaction_type,
    nexttype as next_transaction_type,
    linktype as link_type,
    {{ money('foreignamount') }} as applied_amount
from {{ raw('raw_netsuite', 'transaction_links') }} as source_table
