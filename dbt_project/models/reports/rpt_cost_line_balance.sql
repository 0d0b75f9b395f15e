-- Conservation: every ERP source line is counted exactly once, per connection and to the
-- cent, in one bucket: direct_cost (syncable, not commitment invoiced), commitment_invoiced
-- (syncable subcontractor invoice), unsyncable (R-2) or excluded (int_cost_lines_excluded).
-- Source lines are counted straight from staging, apart from the classification, so a line
-- lost or doubled on the way to erp_cost_lines shows as a difference:
-- difference = source − the four buckets. Amounts are the line amount as the ERP states it.
with xero_documents as (
    select erp_transaction_id, connection_id, load_id from {{ ref('stg_xero__invoices') }}
    union all
    select erp_transaction_id, connection_id, load_id
    from {{ ref('stg_xero__bank_transactions') }}
    union all
    select erp_transaction_id, connection_id, load_id from {{ ref('stg_xero__credit_notes') }}
),

xero_lines as (
    select erp_transaction_id, line_amount, load_id from {{ ref('stg_xero__invoice_lines') }}
    union all
    select erp_transaction_id, line_amount, load_id
    from {{ ref('stg_xero__bank_transaction_lines') }}
    union all
    select erp_transaction_id, line_amount, load_id
    from {{ ref('stg_xero__credit_note_lines') }}
),

source_lines as (
    -- Xero: the lines of each document's current version (older loads keep stale children)
    select xero_documents.connection_id, 'xero' as erp, xero_lines.line_amount
    from xero_documents
    inner join xero_lines
        on xero_lines.erp_transaction_id = xero_documents.erp_transaction_id
        and xero_lines.load_id = xero_documents.load_id

    union all

    select connection_id, 'netsuite' as erp, net_amount as line_amount
    from {{ ref('stg_netsuite__transaction_lines') }}

    union all

    select connection_id, 'acumatica' as erp, amount as line_amount
    from {{ ref('stg_acumatica__project_transaction_details') }}
),

source as (
    select
        connection_id,
        any_value(erp) as erp,
        count(*) as source_lines,
        sum(line_amount) as source_amount
    from source_lines
    group by connection_id
),

classified as (
    select
        connection_id,
        count(*) filter (where is_syncable and not is_subcontractor_invoice)
            as direct_cost_lines,
        sum(line_amount) filter (where is_syncable and not is_subcontractor_invoice)
            as direct_cost_amount,
        count(*) filter (where is_syncable and is_subcontractor_invoice)
            as commitment_invoiced_lines,
        sum(line_amount) filter (where is_syncable and is_subcontractor_invoice)
            as commitment_invoiced_amount,
        count(*) filter (where not is_syncable) as unsyncable_lines,
        sum(line_amount) filter (where not is_syncable) as unsyncable_amount
    from {{ ref('erp_cost_lines') }}
    group by connection_id
),

excluded as (
    select
        connection_id,
        count(*) as excluded_lines,
        sum(line_amount) as excluded_amount
    from {{ ref('int_cost_lines_excluded') }}
    group by connection_id
),

connections as (
    select connection_id, erp, company_name from {{ ref('connections') }}
),

-- every configured connection, and any connection found in the lines
connection_ids as (
    select connection_id from connections
    union
    select connection_id from source
    union
    select connection_id from classified
    union
    select connection_id from excluded
),

counted as (
    select
        connection_ids.connection_id,
        coalesce(connections.erp, source.erp) as erp,
        connections.company_name,
        coalesce(source.source_lines, 0) as source_lines,
        coalesce(source.source_amount, 0) as source_amount,
        coalesce(classified.direct_cost_lines, 0) as direct_cost_lines,
        coalesce(classified.direct_cost_amount, 0) as direct_cost_amount,
        coalesce(classified.commitment_invoiced_lines, 0) as commitment_invoiced_lines,
        coalesce(classified.commitment_invoiced_amount, 0) as commitment_invoiced_amount,
        coalesce(classified.unsyncable_lines, 0) as unsyncable_lines,
        coalesce(classified.unsyncable_amount, 0) as unsyncable_amount,
        coalesce(excluded.excluded_lines, 0) as excluded_lines,
        coalesce(excluded.excluded_amount, 0) as excluded_amount
    from connection_ids
    left join connections
        on connections.connection_id = connection_ids.connection_id
    left join source
        on source.connection_id = connection_ids.connection_id
    left join classified
        on classified.connection_id = connection_ids.connection_id
    left join excluded
        on excluded.connection_id = connection_ids.connection_id
),

balanced as (
    select
        *,
        source_lines
            - (direct_cost_lines + commitment_invoiced_lines + unsyncable_lines
               + excluded_lines) as difference_lines,
        source_amount
            - (direct_cost_amount + commitment_invoiced_amount + unsyncable_amount
               + excluded_amount) as difference_amount
    from counted
)

select
    connection_id,
    erp,
    company_name,
    cast(source_lines as bigint) as source_lines,
    {{ money('source_amount') }} as source_amount,
    cast(direct_cost_lines as bigint) as direct_cost_lines,
    {{ money('direct_cost_amount') }} as direct_cost_amount,
    cast(commitment_invoiced_lines as bigint) as commitment_invoiced_lines,
    {{ money('commitment_invoiced_amount') }} as commitment_invoiced_amount,
    cast(unsyncable_lines as bigint) as unsyncable_lines,
    {{ money('unsyncable_amount') }} as unsyncable_amount,
    cast(excluded_lines as bigint) as excluded_lines,
    {{ money('excluded_amount') }} as excluded_amount,
    cast(difference_lines as bigint) as difference_lines,
    {{ money('difference_amount') }} as difference_amount,
    difference_lines = 0 and difference_amount = 0 as is_balanced
from balanced
