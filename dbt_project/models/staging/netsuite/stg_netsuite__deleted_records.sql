-- deletedrecord names record types in words; transaction_type gives the transaction type code
-- of the same record (as transaction.type has it), null for records that are not transactions.
select
    cast(recordid as bigint) as record_id,
    connection_id,
    recordtypename as record_type_name,
    case recordtypename
        when 'Vendor Bill' then 'VendBill'
        when 'Vendor Credit' then 'VendCred'
        when 'Check' then 'Check'
        when 'Journal Entry' then 'Journal'
        when 'Bill Payment' then 'VendPymt'
        when 'Deposit' then 'Deposit'
    end as transaction_type,
    name as record_name,
    cast(deleteddate as timestamp) as deleted_at
from {{ raw('raw_netsuite', 'deleted_records') }} as source_table
