-- C-3: decisions are append-only and bound to the payload hash they were made on; the
-- latest (highest decision_id) wins.
select
    cast(decision_id as bigint) as decision_id,
    connection_id,
    item_type,
    item_key,
    payload_hash,
    decision,
    cast(decided_by as bigint) as decided_by,  -- ops user_id; the mart shows the login
    cast(decided_at as timestamptz) as decided_at,
    reason,
    cast(updated_at as timestamptz) as updated_at
from {{ raw('raw_ops', 'decisions') }} as source_table
