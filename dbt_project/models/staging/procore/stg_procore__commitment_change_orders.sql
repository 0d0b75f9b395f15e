-- Commitment change orders (CCOs): exported to the ERP with their commitment's (XE-8: lines
-- appended to the Xero Purchase Order; AC-15: an Acumatica change order, class COMMITMENT).
select
    cast(id as bigint) as change_order_id,
    connection_id,
    cast(project_id as bigint) as project_id,
    cast(contract_id as bigint) as commitment_id,
    number as change_order_number,
    title,
    status,
    -- the ERP record it was exported as (written back); null when never exported
    origin_id as erp_change_order_ref,
    deleted_at is not null as is_deleted,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'commitment_change_orders') }} as source_table
