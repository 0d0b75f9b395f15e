select
    contact_id,
    connection_id,
    name as contact_name,
    contact_status,
    {{ xero_timestamp('updated_date_utc') }} as updated_at
from {{ raw('raw_xero', 'contacts') }} as source_table
