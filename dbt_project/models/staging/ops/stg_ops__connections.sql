select
    connection_id,
    erp,
    cast(procore_company_id as bigint) as procore_company_id,
    company_name,
    erp_tenant_id,
    tracking_category,
    retainage_item,
    enabled as is_enabled
from {{ source('raw_ops', 'connections') }}
