-- One document a payment applies to, named by its Acumatica key (doc_type = the bill's type,
-- reference_nbr).
select
    id as check_detail_id,
    check_id,
    connection_id,
    doc_type,
    reference_nbr,
    {{ money('amount_paid') }} as amount_paid,
    {{ money('balance') }} as balance,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'check_details') }} as source_table
