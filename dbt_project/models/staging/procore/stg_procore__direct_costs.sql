select
    cast(id as bigint) as direct_cost_id,
    connection_id,
    cast(project_id as bigint) as project_id,
    direct_cost_type,
    status,
    invoice_number,
    description,
    vendor__name as vendor_name,
    cast(direct_cost_date as date) as direct_cost_date,
    {{ money('grand_total') }} as grand_total,
    origin_id as erp_transaction_ref,
    deleted_at is not null as is_deleted,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'direct_costs') }} as source_table
