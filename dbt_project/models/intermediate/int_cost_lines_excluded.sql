-- ERP source lines that are not cost lines, each with the reason it is left out of
-- erp_cost_lines: exactly the rows the classified models drop, so that the conservation
-- balance (rpt_cost_line_balance) can account for every source line.
--   main_line                  NetSuite: the header line repeats the transaction's total
--   tax_line                   NetSuite: tax is not job cost
--   deleted_in_erp             NS-18: the transaction was deleted in NetSuite; its rows stay
--                              in raw because nothing reloads them
--   connection_not_configured  Xero: the document's connection is not in the configuration
--                              (a connection removed after its data was loaded)
-- Acumatica drops no project ledger line. A line with several reasons gets the first.
with netsuite_lines as (
    select * from {{ ref('stg_netsuite__transaction_lines') }}
),

-- the same test of deletion as int_netsuite_cost_lines_classified
netsuite_deleted as (
    select distinct connection_id, record_id
    from {{ ref('stg_netsuite__deleted_records') }}
    where transaction_type is not null
),

netsuite as (
    select
        netsuite_lines.connection_id,
        'netsuite' as erp,
        cast(netsuite_lines.transaction_id as varchar)
            || '-' || cast(netsuite_lines.line_id as varchar) as erp_line_id,
        cast(netsuite_lines.transaction_id as varchar) as erp_transaction_id,
        netsuite_lines.net_amount as line_amount,
        case
            when netsuite_lines.is_main_line then 'main_line'
            when netsuite_lines.is_tax_line then 'tax_line'
            when netsuite_deleted.record_id is not null then 'deleted_in_erp'
        end as excluded_reason
    from netsuite_lines
    left join netsuite_deleted
        on netsuite_deleted.connection_id = netsuite_lines.connection_id
        and netsuite_deleted.record_id = netsuite_lines.transaction_id
),

xero_documents as (
    select erp_transaction_id, connection_id, load_id from {{ ref('stg_xero__invoices') }}
    union all
    select erp_transaction_id, connection_id, load_id
    from {{ ref('stg_xero__bank_transactions') }}
    union all
    select erp_transaction_id, connection_id, load_id from {{ ref('stg_xero__credit_notes') }}
),

xero_lines as (
    select erp_line_id, erp_transaction_id, line_amount, load_id
    from {{ ref('stg_xero__invoice_lines') }}
    union all
    select erp_line_id, erp_transaction_id, line_amount, load_id
    from {{ ref('stg_xero__bank_transaction_lines') }}
    union all
    select erp_line_id, erp_transaction_id, line_amount, load_id
    from {{ ref('stg_xero__credit_note_lines') }}
),

connections as (
    select connection_id from {{ ref('stg_ops__connections') }}
),

xero as (
    select
        xero_documents.connection_id,
        'xero' as erp,
        xero_lines.erp_line_id,
        xero_lines.erp_transaction_id,
        xero_lines.line_amount,
        'connection_not_configured' as excluded_reason
    from xero_documents
    -- only the lines of the document's current version are source lines
    inner join xero_lines
        on xero_lines.erp_transaction_id = xero_documents.erp_transaction_id
        and xero_lines.load_id = xero_documents.load_id
    left join connections
        on connections.connection_id = xero_documents.connection_id
    where connections.connection_id is null
)

select * from netsuite where excluded_reason is not null
union all
select * from xero
