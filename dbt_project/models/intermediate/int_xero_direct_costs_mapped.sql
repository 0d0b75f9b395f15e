-- XE-13: syncable Xero lines as Procore direct cost detail. Bills are Invoices, bills exported
-- from Procore are Subcontractor Invoices, spend money is Expense (credit notes, which XE-11
-- makes syncable, come as negative Invoices). Status is always Approved. Description is the
-- reference on spend money and on bills first synced from Procore; invoice # is the bill's
-- number; received date only for transactions first entered in Xero.
select
    erp_line_id as direct_cost_line_id,
    connection_id,
    erp,
    project_id,
    item_code as wbs_code,
    cost_code,
    cost_type,
    erp_transaction_id,
    erp_transaction_type,
    case
        when erp_transaction_type = 'SPEND' then 'Expense'
        when is_subcontractor_invoice then 'Subcontractor Invoice'
        else 'Invoice'
    end as direct_cost_type,
    'Approved' as status,
    transaction_date,
    case when not is_subcontractor_invoice then transaction_date end as received_date,
    contact_name as vendor_name,
    case
        when erp_transaction_type in ('ACCPAY', 'ACCPAYCREDIT') then invoice_number
    end as invoice_number,
    case
        when erp_transaction_type = 'SPEND' then reference
        when is_subcontractor_invoice then invoice_number
    end as description,
    line_description,
    quantity,
    unit_amount as unit_cost,
    signed_amount as amount,
    erp_transaction_type in ('ACCPAY', 'SPEND') as counts_in_jtd
from {{ ref('int_xero_cost_lines_classified') }}
where is_syncable
