-- C-3: an item sent for acceptance, or retrieved by its sender before any decision.
select
    cast(event_id as bigint) as event_id,
    connection_id,
    item_type,
    item_key,
    payload_hash,
    event,  -- send | retrieve
    actor,  -- login
    cast("at" as timestamptz) as event_at,
    cast(updated_at as timestamptz) as updated_at
from {{ raw('raw_ops', 'item_events') }} as source_table
