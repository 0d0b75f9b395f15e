select
    cast(run_id as bigint) as run_id,
    kind,
    status,
    cast(started_at as timestamptz) as started_at,
    cast(finished_at as timestamptz) as finished_at,
    summary_json,
    cast(updated_at as timestamptz) as updated_at
from {{ raw('raw_ops', 'runs') }} as source_table
