-- Every Xero cost-document line (bills, bank transactions, credit notes) with its header and
-- the option of the connection's designated tracking category (the project, XE-5).
with documents as (
    select * from {{ ref('stg_xero__invoices') }}
    union all
    select * from {{ ref('stg_xero__bank_transactions') }}
    union all
    select * from {{ ref('stg_xero__credit_notes') }}
),

lines as (
    select * from {{ ref('stg_xero__invoice_lines') }}
    union all
    select * from {{ ref('stg_xero__bank_transaction_lines') }}
    union all
    select * from {{ ref('stg_xero__credit_note_lines') }}
),

tracking as (
    select * from {{ ref('stg_xero__invoice_line_tracking') }}
    union all
    select * from {{ ref('stg_xero__bank_transaction_line_tracking') }}
    union all
    select * from {{ ref('stg_xero__credit_note_line_tracking') }}
),

connections as (
    select connection_id, erp, tracking_category from {{ ref('stg_ops__connections') }}
)

select
    documents.connection_id,
    connections.erp,
    documents.erp_transaction_id,
    documents.erp_transaction_type,
    documents.status,
    documents.transaction_date,
    documents.contact_id,
    documents.contact_name,
    documents.reference,
    documents.invoice_number,
    lines.erp_line_id,
    lines.line_number,
    lines.item_code,
    lines.line_description,
    lines.quantity,
    lines.unit_amount,
    lines.line_amount,
    tracking.tracking_option_id,
    tracking.tracking_option_name,
    documents.updated_at
from documents
inner join lines
    on lines.erp_transaction_id = documents.erp_transaction_id
    and lines.load_id = documents.load_id  -- only the children of the current version
inner join connections
    on connections.connection_id = documents.connection_id
left join tracking
    on tracking.erp_line_id = lines.erp_line_id
    and tracking.load_id = lines.load_id
    and tracking.tracking_category_name = connections.tracking_category
