-- purchase_order_id is the record's GUID (a Procore purchase order exported to Acumatica
-- carries it as origin_id); the Acumatica key is (order_type, order_nbr).
select
    id as purchase_order_id,
    connection_id,
    source_table."type" as order_type,
    order_nbr,
    status,
    cast(source_table."date" as date) as order_date,
    description,
    vendor_id,
    project as project_id,
    {{ money('order_total') }} as order_total,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'purchase_orders') }} as source_table
