select
    cast(id as bigint) as job_id,
    connection_id,
    cast(parent as bigint) as parent_job_id,  -- set on sub jobs (NS-6)
    entityid as job_number,
    companyname as job_name,
    altname as alt_name,
    externalid as external_id,
    {{ netsuite_flag('isinactive') }} as is_inactive,
    cast(datecreated as timestamp) as created_at,
    cast(lastmodifieddate as timestamp) as updated_at
from {{ raw('raw_netsuite', 'jobs') }} as source_table
