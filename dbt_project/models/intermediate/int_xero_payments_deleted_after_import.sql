-- XE-10, C-7: bill payments import into Procore, onto the subcontractor invoice the bill was
-- exported from (the requisition whose origin_id is the bill's InvoiceID); a payment deleted
-- in Xero afterwards is not deleted in Procore (only Procore support can remove it). Procore
-- serves no payments here, so this is inferred from the Xero side alone: every payment now
-- DELETED in Xero on a bill that is a synced Procore subcontractor invoice is taken to have
-- been imported before it was deleted (payments import on demand and daily). XE-10 imports
-- only payments made after the sync was configured; the connection's go-live date is not in
-- the warehouse, so no payment is left out for that.
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'xero'
),

payments as (
    select payments.*
    from {{ ref('stg_xero__payments') }} as payments
    inner join connections
        on connections.connection_id = payments.connection_id
    where payments.is_deleted
),

requisitions as (
    select connection_id, requisition_id, project_id, invoice_number, erp_transaction_ref
    from {{ ref('stg_procore__requisitions') }}
    where erp_transaction_ref is not null
)

select
    payments.payment_id,
    payments.connection_id,
    payments.erp_transaction_id,
    requisitions.requisition_id,
    requisitions.project_id,
    coalesce(requisitions.invoice_number, payments.invoice_number) as invoice_number,
    payments.reference,
    payments.status,
    payments.amount,
    payments.payment_date,
    -- Xero stamps the payment when it is deleted
    payments.updated_at as deleted_at
from payments
inner join requisitions
    on requisitions.connection_id = payments.connection_id
    and lower(requisitions.erp_transaction_ref) = lower(payments.erp_transaction_id)
