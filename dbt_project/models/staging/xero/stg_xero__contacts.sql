select
    contact_id,
    connection_id,
    name as contact_name,
    contact_status,
    -- XE-6: the billing address (Xero's postal address, else the street address) and the
    -- default phone, the fields Procore's company maps to. Xero sends both as JSON lists.
    coalesce(
        list_filter(cast(addresses as json[]), lambda a: a ->> 'AddressType' = 'POBOX'
            and coalesce(a ->> 'AddressLine1', '') <> '')[1],
        list_filter(cast(addresses as json[]), lambda a: a ->> 'AddressType' = 'STREET')[1]
    ) ->> 'AddressLine1' as address_line1,
    coalesce(
        list_filter(cast(addresses as json[]), lambda a: a ->> 'AddressType' = 'POBOX'
            and coalesce(a ->> 'AddressLine1', '') <> '')[1],
        list_filter(cast(addresses as json[]), lambda a: a ->> 'AddressType' = 'STREET')[1]
    ) ->> 'City' as city,
    list_filter(cast(phones as json[]), lambda p: p ->> 'PhoneType' = 'DEFAULT')[1]
        ->> 'PhoneNumber' as phone,
    {{ xero_timestamp('updated_date_utc') }} as updated_at
from {{ raw('raw_xero', 'contacts') }} as source_table
