-- NS-18, C-7: a NetSuite transaction deleted after it synced to Procore as a direct cost is
-- not detected by the connector; the direct cost stays in Procore until someone deletes it by
-- hand. These are the Procore direct costs (not deleted in Procore) of NetSuite connections
-- whose ERP record (origin_id = NetSuite internal id) is in NetSuite's deleted records.
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'netsuite'
),

direct_costs as (
    select *
    from {{ ref('stg_procore__direct_costs') }}
    where not is_deleted and erp_transaction_ref is not null
),

-- only deleted transactions: a deleted vendor or item may share the number
deleted_transactions as (
    select connection_id, record_id, record_type_name, transaction_type, deleted_at
    from {{ ref('stg_netsuite__deleted_records') }}
    where transaction_type is not null
)

select
    direct_costs.direct_cost_id,
    direct_costs.connection_id,
    direct_costs.project_id,
    direct_costs.erp_transaction_ref,
    direct_costs.direct_cost_type,
    direct_costs.invoice_number,
    direct_costs.vendor_name,
    direct_costs.description,
    direct_costs.grand_total,
    deleted_transactions.record_type_name as deleted_record_type,
    deleted_transactions.transaction_type as deleted_transaction_type,
    direct_costs.direct_cost_date,
    deleted_transactions.deleted_at
from direct_costs
inner join connections
    on connections.connection_id = direct_costs.connection_id
inner join deleted_transactions
    on deleted_transactions.connection_id = direct_costs.connection_id
    and cast(deleted_transactions.record_id as varchar) = direct_costs.erp_transaction_ref
