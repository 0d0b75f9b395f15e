-- Commitment payments Procore holds (Contract Payments): imported from the ERP (XE-10,
-- NS-12, AC-17), origin_id being the ERP payment.
select
    cast(id as bigint) as payment_id,
    connection_id,
    cast(project_id as bigint) as project_id,
    cast(contract_id as bigint) as commitment_id,
    cast(requisition_id as bigint) as requisition_id,
    invoice_number,
    origin_id as erp_payment_ref,
    {{ money('amount') }} as amount,
    cast("date" as date) as payment_date,
    notes as reference,
    status,
    deleted_at is not null as is_deleted,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'payments') }} as source_table
