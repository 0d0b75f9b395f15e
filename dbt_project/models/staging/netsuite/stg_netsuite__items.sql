select
    cast(id as bigint) as item_id,
    connection_id,
    itemid as item_name,  -- NS-3: <project number>-<cost code>.<cost type>[.<segments>]
    displayname as display_name,
    itemtype as item_type,
    subtype as item_subtype,
    externalid as external_id,
    {{ netsuite_flag('isinactive') }} as is_inactive,
    cast(createddate as timestamp) as created_at,
    cast(lastmodifieddate as timestamp) as updated_at
from {{ raw('raw_netsuite', 'items') }} as source_table
