select
    cast(id as bigint) as project_id,
    connection_id,
    cast(company_id as bigint) as procore_company_id,
    project_number,
    name as project_name,
    origin_id as erp_project_ref,
    active as is_active,
    -- NS-9: the project uses the company's ERP standard cost code list. Projects loaded
    -- before Procore sent the field have it null: the standard list was then the only one.
    coalesce(standard_cost_code_list, true) as uses_standard_cost_code_list,
    address,
    city,
    deleted_at is not null as is_deleted,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at,
    cast(deleted_at as timestamp) as deleted_at
from {{ raw('raw_procore', 'projects') }} as source_table
