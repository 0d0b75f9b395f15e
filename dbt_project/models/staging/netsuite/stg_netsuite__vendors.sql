select
    cast(id as bigint) as vendor_id,
    connection_id,
    entityid as vendor_number,
    companyname as vendor_name,
    phone,
    email,
    externalid as external_id,
    {{ netsuite_flag('isperson') }} as is_person,
    {{ netsuite_flag('isinactive') }} as is_inactive,
    cast(datecreated as timestamp) as created_at,
    cast(lastmodifieddate as timestamp) as updated_at
from {{ raw('raw_netsuite', 'vendors') }} as source_table
