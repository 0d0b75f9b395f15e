select
    connection_id,
    erp,
    procore_company_id,
    company_name,
    -- AC-21: the ERP splits job cost into amount types (Subcontract Invoices, Invoices,
    -- Expenses, Payroll); reports show those columns for these connections only
    erp = 'acumatica' as has_amount_types
from {{ ref('stg_ops__connections') }}
