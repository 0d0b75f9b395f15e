-- AC-1: vendors are updated automatically from Acumatica (name, address, phone, fax), never
-- the other way. One row per Procore vendor of an Acumatica connection linked to an Acumatica
-- vendor (origin_id = VendorID): which of name, phone and address differ, and which way the
-- difference goes.
--   flows_to_procore          Acumatica changed the vendor after Procore last changed it:
--                             the next vendor import (twice a day, C-6) overwrites Procore
--   never_flows_to_acumatica  Procore changed it after Acumatica last did: an edit made in
--                             Procore, which never reaches Acumatica (drift to report)
-- The direction compares Acumatica's LastModifiedDateTime with Procore's updated_at: an
-- import stamps the Procore vendor when it writes, so after an import Procore is the later
-- of the two; an Acumatica edit since then makes Acumatica the later one. A tie counts as a
-- Procore-side change (the import that stamped it would have made them equal).
-- Compared: names and address line and city trimmed (a blank is no value); phones by their
-- digits only, since the two systems format them differently.
with procore_vendors as (
    {{ linked_procore_vendors('acumatica') }}
),

erp_vendors as (
    select * from {{ ref('stg_acumatica__vendors') }}
),

joined as (
    select
        procore_vendors.connection_id,
        procore_vendors.vendor_id as procore_vendor_id,
        procore_vendors.erp_vendor_ref as vendor_id,
        erp_vendors.vendor_id is not null as is_vendor_found,
        procore_vendors.vendor_name as procore_name,
        erp_vendors.vendor_name as acumatica_name,
        procore_vendors.business_phone as procore_phone,
        erp_vendors.phone as acumatica_phone,
        procore_vendors.address as procore_address_line1,
        erp_vendors.address_line1 as acumatica_address_line1,
        procore_vendors.city as procore_city,
        erp_vendors.city as acumatica_city,
        procore_vendors.updated_at as procore_updated_at,
        erp_vendors.updated_at as acumatica_updated_at
    from procore_vendors
    left join erp_vendors
        on erp_vendors.connection_id = procore_vendors.connection_id
        and erp_vendors.vendor_id = procore_vendors.erp_vendor_ref
),

compared as (
    select
        *,
        is_vendor_found and {{ text_differs('procore_name', 'acumatica_name') }}
            as is_name_different,
        is_vendor_found and {{ phone_differs('procore_phone', 'acumatica_phone') }}
            as is_phone_different,
        is_vendor_found
            and (
                {{ text_differs('procore_address_line1', 'acumatica_address_line1') }}
                or {{ text_differs('procore_city', 'acumatica_city') }}
            ) as is_address_different
    from joined
)

select
    *,
    is_name_different or is_phone_different or is_address_different as is_different,
    nullif(concat_ws(', ',
        case when is_name_different then 'name' end,
        case when is_phone_different then 'phone' end,
        case when is_address_different then 'address' end
    ), '') as different_fields,
    case
        when not (is_name_different or is_phone_different or is_address_different) then null
        when acumatica_updated_at > procore_updated_at then 'flows_to_procore'
        else 'never_flows_to_acumatica'
    end as direction
from compared
