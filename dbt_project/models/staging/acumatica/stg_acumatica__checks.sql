select
    id as check_id,
    connection_id,
    source_table."type" as check_type,
    reference_nbr,
    status,
    vendor as vendor_id,
    payment_method,
    payment_ref,
    cast(application_date as date) as application_date,
    {{ money('payment_amount') }} as payment_amount,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'checks') }} as source_table
