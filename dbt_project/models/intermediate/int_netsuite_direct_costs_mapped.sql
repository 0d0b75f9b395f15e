-- Syncable NetSuite lines as Procore direct cost detail. Vendor bills and vendor credits are
-- Invoices (a credit's amount negative), checks and journal entries (NS-17) Expenses; status
-- always Approved, read-only in Procore (NS-15, C-5). NS-16: subcontractor invoices exported
-- from Procore (their bills, and the vendor credits of negative invoices, NS-13) are not
-- direct costs: they already count as commitment invoiced on the budget.
select
    erp_line_id as direct_cost_line_id,
    connection_id,
    erp,
    project_id,
    wbs_code,
    cost_code,
    cost_type,
    erp_transaction_id,
    erp_transaction_type,
    case
        when erp_transaction_type in ('VendBill', 'VendCred') then 'Invoice'
        when erp_transaction_type in ('Check', 'Journal') then 'Expense'
    end as direct_cost_type,
    'Approved' as status,
    transaction_date,
    -- every line here was first entered in NetSuite (Procore's own invoices are left out)
    transaction_date as received_date,
    contact_name as vendor_name,
    case
        when erp_transaction_type in ('VendBill', 'VendCred') then invoice_number
    end as invoice_number,
    memo as description,
    line_description,
    quantity,
    unit_amount as unit_cost,
    signed_amount as amount,
    counts_in_jtd
from {{ ref('int_netsuite_cost_lines_classified') }}
where is_syncable
    and not is_subcontractor_invoice
