-- C-7, NS-18: NetSuite transactions deleted or voided after they synced to Procore as direct
-- costs; the connector detects neither, so the direct cost stays in Procore. Deleted ones are
-- int_netsuite_deleted_after_sync (NetSuite's deleted records). Voided ones are still
-- in NetSuite with a voided status: a vendor bill or vendor credit in status C, a check in
-- status V (the letters NetSuite's transaction.status gives them).
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'netsuite'
),

direct_costs as (
    select direct_cost_id, connection_id, erp_transaction_ref
    from {{ ref('stg_procore__direct_costs') }}
    where not is_deleted and erp_transaction_ref is not null
),

voided_transactions as (
    select connection_id, transaction_id, transaction_type, status, updated_at
    from {{ ref('stg_netsuite__transactions') }}
    where (transaction_type in ('VendBill', 'VendCred') and status = 'C')
        or (transaction_type = 'Check' and status = 'V')
),

deleted as (
    select
        direct_cost_id,
        connection_id,
        erp_transaction_ref,
        'deleted' as removal,
        deleted_transaction_type as erp_transaction_type,
        'deleted' as erp_status,
        'C-7, NS-18' as rule_ids,
        deleted_at as removed_at
    from {{ ref('int_netsuite_deleted_after_sync') }}
),

voided as (
    select
        direct_costs.direct_cost_id,
        direct_costs.connection_id,
        direct_costs.erp_transaction_ref,
        'voided' as removal,
        voided_transactions.transaction_type as erp_transaction_type,
        voided_transactions.status as erp_status,
        'C-7' as rule_ids,
        voided_transactions.updated_at as removed_at
    from direct_costs
    inner join connections
        on connections.connection_id = direct_costs.connection_id
    inner join voided_transactions
        on voided_transactions.connection_id = direct_costs.connection_id
        and cast(voided_transactions.transaction_id as varchar) = direct_costs.erp_transaction_ref
    -- a deleted transaction's last row stays in raw: deleted wins over its old status
    left join deleted
        on deleted.direct_cost_id = direct_costs.direct_cost_id
    where deleted.direct_cost_id is null
)

select * from deleted
union all
select * from voided
