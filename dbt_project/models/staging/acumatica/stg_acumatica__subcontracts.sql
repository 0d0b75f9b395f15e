-- subcontract_id is the record's GUID: a Procore commitment exported to Acumatica carries it
-- as origin_id. SubcontractNbr is the Procore contract number (AC-1 Use Procore Contract #).
select
    id as subcontract_id,
    connection_id,
    subcontract_nbr,
    status,
    cast(source_table."date" as date) as subcontract_date,
    description,
    vendor_id,
    vendor_ref,
    {{ money('subcontract_total') }} as subcontract_total,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'subcontracts') }} as source_table
