select
    cast(id as bigint) as requisition_id,
    connection_id,
    cast(project_id as bigint) as project_id,
    cast(commitment_id as bigint) as commitment_id,
    invoice_number,
    status,
    cast(billing_date as date) as billing_date,
    cast(payment_date as date) as payment_date,
    origin_id as erp_transaction_ref,
    {{ money('g702__total_completed_and_stored_to_date') }} as total_completed_to_date,
    {{ money('g702__total_retainage') }} as total_retainage,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'requisitions') }} as source_table
