-- The Acumatica cost code list (AC-3) as Acumatica writes the codes (03100.000); Procore's
-- display form (03-100.000, AC-4) is derived downstream.
select
    cost_code_id,
    connection_id,
    id as cost_code_guid,
    description,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'cost_codes') }} as source_table
