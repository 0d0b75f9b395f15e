-- C-7: a Xero document voided or deleted after it synced to Procore is not propagated: the
-- Procore direct cost stays until someone deletes it by hand. Xero keeps such documents with
-- their status, so these are the live synced Procore direct costs of Xero connections whose
-- bill, spend money or credit note (origin_id = the document's id) is now DELETED or VOIDED.
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'xero'
),

direct_costs as (
    select direct_cost_id, connection_id, erp_transaction_ref
    from {{ ref('stg_procore__direct_costs') }}
    where not is_deleted and erp_transaction_ref is not null
),

documents as (
    select connection_id, erp_transaction_id, erp_transaction_type, status, updated_at
    from {{ ref('stg_xero__invoices') }}
    union all
    select connection_id, erp_transaction_id, erp_transaction_type, status, updated_at
    from {{ ref('stg_xero__bank_transactions') }}
    union all
    select connection_id, erp_transaction_id, erp_transaction_type, status, updated_at
    from {{ ref('stg_xero__credit_notes') }}
)

select
    direct_costs.direct_cost_id,
    direct_costs.connection_id,
    direct_costs.erp_transaction_ref,
    case documents.status when 'DELETED' then 'deleted' else 'voided' end as removal,
    documents.erp_transaction_type,
    documents.status as erp_status,
    'C-7' as rule_ids,
    -- Xero stamps the document when its status changes
    documents.updated_at as removed_at
from direct_costs
inner join connections
    on connections.connection_id = direct_costs.connection_id
inner join documents
    on documents.connection_id = direct_costs.connection_id
    and documents.erp_transaction_id = direct_costs.erp_transaction_ref
where documents.status in ('DELETED', 'VOIDED')
