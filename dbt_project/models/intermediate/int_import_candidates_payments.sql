-- Import candidates, item type payment (docs/exports.md §3, §4): one item per ERP payment of
-- a subcontractor invoice exported from Procore (the requisition whose origin_id is the ERP
-- bill), to become a commitment payment on it:
--   XE-10   Xero bill payments (amount paid, date paid, invoice # the subcontractor
--           invoice's, notes the reference)
--   NS-12   NetSuite bill payments (VendPymt), applied to the bill through its link
--   AC-17   Acumatica checks applied to the bill, where the invoice's commitment is synced
--           too (AC-16); int_acumatica_payments_imported decides
-- is_synced: Procore holds a live payment with the ERP payment as origin_id. is_archived: the
-- ERP voided or deleted it before it was imported (one deleted after import stays in Procore,
-- XE-10, C-7, and is synced). XE-10 imports only payments made after the sync was configured:
-- the warehouse has no go-live date, and a payment of an invoice the sync exported follows
-- the sync, so none is left out for that. status: paid, voided or deleted (the ERP's).
with xero as (
    select
        connection_id,
        'xero' as erp,
        payment_id as erp_payment_id,
        erp_transaction_id as erp_bill_id,
        amount,
        payment_date,
        reference,
        case when is_deleted then 'deleted' else 'paid' end as status,
        updated_at
    from {{ ref('stg_xero__payments') }}
    where payment_type = 'ACCPAYPAYMENT'
),

netsuite_deleted as (
    select distinct connection_id, record_id
    from {{ ref('stg_netsuite__deleted_records') }}
    where transaction_type = 'VendPymt'
),

netsuite as (
    select
        payments.connection_id,
        'netsuite' as erp,
        cast(payments.transaction_id as varchar) as erp_payment_id,
        cast(links.previous_transaction_id as varchar) as erp_bill_id,
        links.applied_amount as amount,
        payments.transaction_date as payment_date,
        coalesce(payments.memo, payments.transaction_number) as reference,
        case when netsuite_deleted.record_id is not null then 'deleted' else 'paid' end
            as status,
        payments.updated_at
    from {{ ref('stg_netsuite__transactions') }} as payments
    inner join {{ ref('stg_netsuite__transaction_links') }} as links
        on links.connection_id = payments.connection_id
        and links.next_transaction_id = payments.transaction_id
        and links.previous_transaction_type = 'VendBill'
    left join netsuite_deleted
        on netsuite_deleted.connection_id = payments.connection_id
        and netsuite_deleted.record_id = payments.transaction_id
    where payments.transaction_type = 'VendPymt'
),

-- AC-16, AC-17: only checks whose invoice and commitment are synced import; a voided check
-- is archived if it never reached Procore
acumatica as (
    select
        payments.connection_id,
        'acumatica' as erp,
        payments.payment_id as erp_payment_id,
        payments.bill_id as erp_bill_id,
        payments.amount_paid as amount,
        payments.application_date as payment_date,
        coalesce(payments.payment_ref, payments.check_reference_nbr) as reference,
        case when payments.is_check_voided then 'voided' else 'paid' end as status,
        checks.updated_at
    from {{ ref('int_acumatica_payments_imported') }} as payments
    left join {{ ref('stg_acumatica__checks') }} as checks
        on checks.connection_id = payments.connection_id
        and checks.check_id = payments.payment_id
    where payments.imports
        or (payments.is_check_voided and payments.is_invoice_synced
            and payments.is_commitment_synced)
),

erp_payments as (
    select * from xero
    union all
    select * from netsuite
    union all
    select * from acumatica
),

-- XE-10, NS-12, AC-17: subcontractor invoices exported from Procore
invoices as (
    select connection_id, erp_transaction_ref, requisition_id, project_id, invoice_number
    from {{ ref('stg_procore__requisitions') }}
    where erp_transaction_ref is not null
),

procore_payments as (
    select connection_id, erp_payment_ref, min(payment_id) as payment_id
    from {{ ref('stg_procore__payments') }}
    where not is_deleted and erp_payment_ref is not null
    group by connection_id, erp_payment_ref
),

joined as (
    select
        erp_payments.*,
        invoices.requisition_id,
        invoices.project_id,
        invoices.invoice_number,
        procore_payments.payment_id as procore_payment_id,
        {{ money('erp_payments.amount') }} as payment_amount
    from erp_payments
    inner join invoices
        on invoices.connection_id = erp_payments.connection_id
        and invoices.erp_transaction_ref = erp_payments.erp_bill_id
    left join procore_payments
        on procore_payments.connection_id = erp_payments.connection_id
        and procore_payments.erp_payment_ref = erp_payments.erp_payment_id
),

documents as (
    select
        *,
        struct_pack(
            erp_payment_id := erp_payment_id,
            project_id := project_id,
            requisition_id := requisition_id,
            invoice_number := invoice_number,
            amount := payment_amount,
            payment_date := payment_date,
            reference := reference,
            status := status
        ) as document_struct
    from joined
)

select
    connection_id,
    erp,
    'import' as direction,
    'payment' as item_type,
    'payment:' || erp_payment_id as item_key,
    procore_payment_id as procore_id,
    project_id as procore_project_id,
    'Payment ' || coalesce(reference, erp_payment_id)
        || coalesce(' of invoice ' || invoice_number, '') as label,
    payment_amount as amount,
    erp_payment_id as erp_ref,
    procore_payment_id is not null as is_synced,
    procore_payment_id is null and status <> 'paid' as is_archived,
    {{ import_candidate_tail('document_struct') }},
    {{ import_no_findings() }} as findings,
    false as is_blocked,
    updated_at
from documents
