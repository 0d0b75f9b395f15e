-- Procore Pay payouts: a payment to a subcontractor for its invoice, exported to Acumatica as
-- a Check On Hold, payment method PROCORE (AC-17).
select
    cast(id as bigint) as pay_payment_id,
    connection_id,
    cast(disbursement_id as bigint) as disbursement_id,
    cast(project_id as bigint) as project_id,
    cast(contract_id as bigint) as commitment_id,
    cast(invoice_id as bigint) as requisition_id,
    cast(vendor__id as bigint) as vendor_id,
    invoice_number,
    {{ money('amount') }} as amount,
    cast(paid_date as date) as payment_date,
    reference,
    status,
    origin_id as erp_payment_ref,
    deleted_at is not null as is_deleted,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'pay_payouts') }} as source_table
