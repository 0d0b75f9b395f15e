-- Syncable Acumatica lines as Procore direct cost detail. Unlike NetSuite (NS-16), Acumatica
-- syncs transactional job cost by all four amount types (AC-21): Invoices, Expenses, Payroll
-- and Subcontractor Invoices all arrive as direct costs; status always Approved (C-5; AC-1's
-- Edit Synced Direct Costs makes them editable in Procore, and edits never flow back).
-- Received date only for documents first entered in Acumatica (not the bills of
-- subcontractor invoices exported from Procore), as for Xero (XE-13).
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
    case amount_type
        when 'invoice' then 'Invoice'
        when 'expense' then 'Expense'
        when 'payroll' then 'Payroll'
        when 'subcontract_invoice' then 'Subcontractor Invoice'
    end as direct_cost_type,
    'Approved' as status,
    transaction_date,
    case when not is_exported_from_procore then transaction_date end as received_date,
    contact_name as vendor_name,
    invoice_number,
    memo as description,
    line_description,
    quantity,
    unit_amount as unit_cost,
    signed_amount as amount,
    counts_in_jtd
from {{ ref('int_acumatica_cost_lines_classified') }}
where is_syncable
