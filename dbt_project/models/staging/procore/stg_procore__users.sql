-- Company users with their ERP Integrations tool level and its `Can Push to Accounting`
-- granular permission (C-2, R-3).
select
    cast(id as bigint) as user_id,
    connection_id,
    name as user_name,
    email_address as email,
    cast(is_active as boolean) as is_active,
    erp_integrations_permission,
    cast(can_push_to_accounting as boolean) as can_push_to_accounting,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'users') }} as source_table
