-- ProjectID is the Procore project number of a project exported from Procore, and a synced
-- Procore project's origin_id; the non-project code is X.
select
    project_id,
    connection_id,
    id as project_guid,
    description as project_description,
    status,
    coalesce(hold, false) as is_on_hold,
    customer,
    external_ref_nbr,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'projects') }} as source_table
