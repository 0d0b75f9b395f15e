select
    cast(id as bigint) as commitment_id,
    connection_id,
    cast(project_id as bigint) as project_id,
    number as commitment_number,
    title,
    status,
    cast(vendor__id as bigint) as vendor_id,
    vendor__name as vendor_name,
    -- the ERP commitment it was exported as (Acumatica: the Subcontract's or Purchase
    -- Order's id GUID, AC-14); null when never exported
    origin_id as erp_commitment_ref,
    deleted_at is not null as is_deleted,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'work_order_contracts') }} as source_table
