select
    cast(attempt_id as bigint) as attempt_id,
    cast(outbox_id as bigint) as outbox_id,
    cast(attempt_no as bigint) as attempt_no,
    cast(started_at as timestamptz) as started_at,
    cast(finished_at as timestamptz) as finished_at,
    outcome,  -- sent | failed | abandoned; null while the attempt is open
    erp_id,
    error,
    cast(http_status as bigint) as http_status,
    cast(updated_at as timestamptz) as updated_at
from {{ raw('raw_ops', 'outbox_attempts') }} as source_table
