-- C-7: Acumatica cannot delete a released document; it voids it. The project ledger keeps
-- the released transaction of a voided bill, so the direct cost synced from it stays in
-- Procore. These are the live synced Procore direct costs of Acumatica connections whose
-- project transaction (origin_id = its id) came from an AP document now Voided.
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'acumatica'
),

direct_costs as (
    select direct_cost_id, connection_id, erp_transaction_ref
    from {{ ref('stg_procore__direct_costs') }}
    where not is_deleted and erp_transaction_ref is not null
),

transactions as (
    select connection_id, project_transaction_id, module, original_doc_type, original_doc_nbr
    from {{ ref('stg_acumatica__project_transactions') }}
),

voided_bills as (
    select connection_id, bill_type, reference_nbr, status, updated_at
    from {{ ref('stg_acumatica__bills') }}
    where status = 'Voided'
)

select
    direct_costs.direct_cost_id,
    direct_costs.connection_id,
    direct_costs.erp_transaction_ref,
    'voided' as removal,
    transactions.module as erp_transaction_type,
    voided_bills.status as erp_status,
    'C-7' as rule_ids,
    voided_bills.updated_at as removed_at
from direct_costs
inner join connections
    on connections.connection_id = direct_costs.connection_id
inner join transactions
    on transactions.connection_id = direct_costs.connection_id
    and transactions.project_transaction_id = direct_costs.erp_transaction_ref
-- an AP transaction names its bill by type and number within the tenant
inner join voided_bills
    on transactions.module = 'AP'
    and voided_bills.connection_id = transactions.connection_id
    and voided_bills.bill_type = transactions.original_doc_type
    and voided_bills.reference_nbr = transactions.original_doc_nbr
