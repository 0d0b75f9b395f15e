-- VendorID (V000123) is the vendor's key in Acumatica and a linked Procore vendor's origin_id
-- (AC-1); the record's GUID is vendor_guid.
select
    vendor_id,
    connection_id,
    id as vendor_guid,
    vendor_name,
    status,
    vendor_class,
    main_contact__email as email,
    main_contact__phone1 as phone,
    main_contact__address__address_line1 as address_line1,
    main_contact__address__city as city,
    main_contact__address__state as state,
    main_contact__address__postal_code as postal_code,
    main_contact__address__country as country,
    cast(created_date_time as timestamp) as created_at,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'vendors') }} as source_table
