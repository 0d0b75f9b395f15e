select
    payment_id,
    connection_id,
    invoice__invoice_id as erp_transaction_id,
    invoice__invoice_number as invoice_number,
    payment_type,
    status,
    cast({{ xero_timestamp('date') }} as date) as payment_date,
    {{ money('amount') }} as amount,
    reference,
    status = 'DELETED' as is_deleted,
    {{ xero_timestamp('updated_date_utc') }} as updated_at
from {{ raw('raw_xero', 'payments') }} as source_table
