select
    cast(id as bigint) as vendor_id,
    connection_id,
    cast(company_id as bigint) as procore_company_id,
    name as vendor_name,
    origin_id as erp_vendor_ref,
    is_active,
    address,
    city,
    state_code,
    zip as postal_code,
    business_phone,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'vendors') }} as source_table
