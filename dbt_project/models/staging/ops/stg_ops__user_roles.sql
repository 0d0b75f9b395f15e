-- C-2: an accounting approver has Standard or Admin on ERP Integrations for the connection and
-- Can Push to Accounting (the user must also be active: stg_ops__users).
select
    cast(user_id as bigint) as user_id,
    connection_id,
    erp_level,
    cast(can_push_to_accounting as boolean) as can_push_to_accounting,
    cast(updated_at as timestamptz) as updated_at
from {{ raw('raw_ops', 'user_roles') }} as source_table
