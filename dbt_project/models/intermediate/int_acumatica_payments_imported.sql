-- AC-17: payments are import-only (unless paid with Procore Pay) and only for subcontractor
-- invoices; AC-16: a payment recorded in Acumatica appears in Procore only for a synced
-- invoice, on a synced subcontract or purchase order (seed 003, Payment Import
-- Requirements). One row per check line applied to a bill, with the Procore subcontractor
-- invoice (requisition) the bill was exported from and whether the payment imports. A line
-- that does not gets the first reason that applies:
--   check_voided             the payment was voided in Acumatica
--   bill_not_found           it applies to no loaded bill (not a bill, or not extracted)
--   invoice_not_synced       the bill was not exported from Procore as a subcontractor
--                            invoice (no requisition has its id as origin_id)
--   commitment_not_synced    the invoice's commitment is not synced with Acumatica
-- AC-17: a partial payment reduces what is still payable in Procore, so nothing is
-- overpaid: cumulative_paid adds the imported payments of the bill in payment order, and
-- remaining_payable = bill amount − cumulative_paid, never below zero (both only for bills
-- that are Procore subcontractor invoices).
with check_details as (
    select * from {{ ref('stg_acumatica__check_details') }}
),

checks as (
    select * from {{ ref('stg_acumatica__checks') }}
),

bills as (
    select * from {{ ref('stg_acumatica__bills') }}
),

requisitions as (
    select connection_id, requisition_id, project_id, commitment_id, invoice_number,
        erp_transaction_ref
    from {{ ref('stg_procore__requisitions') }}
    where erp_transaction_ref is not null
),

commitments as (
    select commitment_id, erp_commitment_ref
    from {{ ref('stg_procore__commitments') }}
),

joined as (
    select
        check_details.connection_id,
        check_details.check_detail_id,
        check_details.check_id,
        checks.reference_nbr as check_reference_nbr,
        checks.status as check_status,
        checks.payment_method,
        checks.payment_ref,
        checks.application_date,
        check_details.doc_type,
        check_details.reference_nbr as bill_reference_nbr,
        check_details.amount_paid,
        bills.bill_id,
        bills.status as bill_status,
        bills.vendor_id,
        bills.vendor_ref,
        bills.amount as bill_amount,
        requisitions.requisition_id,
        requisitions.project_id,
        requisitions.commitment_id,
        requisitions.invoice_number,
        commitments.erp_commitment_ref,
        coalesce(checks.status = 'Voided', false) as is_check_voided,
        bills.bill_id is not null as is_bill_found,
        requisitions.requisition_id is not null as is_invoice_synced,
        commitments.erp_commitment_ref is not null as is_commitment_synced
    from check_details
    left join checks
        on checks.connection_id = check_details.connection_id
        and checks.check_id = check_details.check_id
    -- the bill paid, by its Acumatica key within the tenant
    left join bills
        on bills.connection_id = check_details.connection_id
        and bills.bill_type = check_details.doc_type
        and bills.reference_nbr = check_details.reference_nbr
    left join requisitions
        on requisitions.connection_id = bills.connection_id
        and requisitions.erp_transaction_ref = bills.bill_id
    left join commitments
        on commitments.commitment_id = requisitions.commitment_id
),

reasoned as (
    select
        *,
        case
            when is_check_voided then 'check_voided'
            when not is_bill_found then 'bill_not_found'
            when not is_invoice_synced then 'invoice_not_synced'
            when not is_commitment_synced then 'commitment_not_synced'
        end as not_imported_reason
    from joined
),

cumulated as (
    select
        *,
        not_imported_reason is null as imports,
        -- the bill's imported payments so far, in payment order (a voided or otherwise not
        -- imported payment pays nothing in Procore)
        sum(case when not_imported_reason is null then amount_paid else 0 end) over (
            partition by connection_id, bill_id
            order by application_date, check_reference_nbr, check_detail_id
            rows between unbounded preceding and current row
        ) as cumulative_paid
    from reasoned
)

select
    check_detail_id,
    connection_id,
    -- the Check's id
    check_id as payment_id,
    check_reference_nbr,
    check_status,
    payment_method,
    payment_ref,
    application_date,
    doc_type,
    bill_reference_nbr,
    bill_id,
    bill_status,
    vendor_id,
    vendor_ref,
    requisition_id,
    project_id,
    commitment_id,
    invoice_number,
    {{ money('amount_paid') }} as amount_paid,
    {{ money('bill_amount') }} as bill_amount,
    is_check_voided,
    is_bill_found,
    is_invoice_synced,
    is_commitment_synced,
    imports,
    not_imported_reason,
    -- only a Procore subcontractor invoice has something payable in Procore
    case
        when requisition_id is not null then {{ money('cumulative_paid') }}
    end as cumulative_paid,
    -- AC-17: what Procore still lets be paid on the invoice
    case
        when requisition_id is not null
            then {{ money('greatest(bill_amount - cumulative_paid, 0)') }}
    end as remaining_payable,
    coalesce(imports and bill_amount - cumulative_paid > 0, false) as is_partial
from cumulated
