select
    cast(outbox_id as bigint) as outbox_id,
    connection_id,
    item_type,
    item_key,
    payload_hash,
    payload_json,
    idempotency_key,
    cast(decision_id as bigint) as decision_id,
    state,  -- pending | sending | sent | failed
    erp_id,
    last_error,
    cast(created_at as timestamptz) as created_at,
    cast(updated_at as timestamptz) as updated_at
from {{ raw('raw_ops', 'outbox') }} as source_table
