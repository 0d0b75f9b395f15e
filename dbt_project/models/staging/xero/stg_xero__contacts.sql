select
    contact_id,
    connection_id,
    name as contact_name,
    contact_status,
    {{ xero_timestamp('updated_date_utc') }} as updated_at
from {{ source('raw_xero', 'contacts') }}
