-- A sub job's task is 'SubJobID - TaskID' (B1 - 02, AC-9); staging keeps it whole.
select
    project_id,
    project_task_id,
    connection_id,
    id as project_task_guid,
    description,
    status,
    coalesce(source_table."default", false) as is_default,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'project_tasks') }} as source_table
