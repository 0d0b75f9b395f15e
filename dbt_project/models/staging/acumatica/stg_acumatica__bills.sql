-- bill_id is the record's GUID: a subcontractor invoice exported from Procore carries it as
-- origin_id. The Acumatica key is (bill_type, reference_nbr); a project transaction names
-- its bill by OriginalDocType / OriginalDocNbr.
select
    id as bill_id,
    connection_id,
    source_table."type" as bill_type,
    reference_nbr,
    status,
    vendor as vendor_id,
    vendor_ref,
    cast(source_table."date" as date) as bill_date,
    cast(due_date as date) as due_date,
    description,
    coalesce(hold, false) as is_on_hold,
    -- as Acumatica shows it: a debit adjustment's amount is positive here; its project
    -- transaction lines carry the sign
    {{ money('amount') }} as amount,
    {{ money('balance') }} as balance,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'bills') }} as source_table
