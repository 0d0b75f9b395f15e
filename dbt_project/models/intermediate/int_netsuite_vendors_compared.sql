-- NS-10: vendor changes in NetSuite update the Procore company; Procore changes do not
-- update NetSuite. One row per Procore vendor of a NetSuite connection linked to a NetSuite
-- vendor (origin_id = internal id): whether name and phone differ, and which way the
-- difference goes, as for Acumatica (int_acumatica_vendors_compared, AC-1):
--   flows_to_procore          NetSuite changed the vendor after Procore last changed it: the
--                             next vendor import (on demand, C-6) overwrites Procore
--   never_flows_to_netsuite   Procore changed it after NetSuite last did: an edit made in
--                             Procore, which never reaches NetSuite
-- The direction compares NetSuite's lastmodifieddate with Procore's updated_at (an import
-- stamps the Procore vendor; a tie counts as a Procore-side change). The NetSuite extract
-- has no vendor address, so only name and phone are compared: names trimmed (a person
-- vendor, with no company name, by its entity id), phones by their digits.
with procore_vendors as (
    {{ linked_procore_vendors('netsuite') }}
),

erp_vendors as (
    select
        connection_id,
        vendor_id,
        coalesce(vendor_name, vendor_number) as vendor_name,
        phone,
        updated_at
    from {{ ref('stg_netsuite__vendors') }}
),

joined as (
    select
        procore_vendors.connection_id,
        procore_vendors.vendor_id as procore_vendor_id,
        procore_vendors.erp_vendor_ref as vendor_id,
        erp_vendors.vendor_id is not null as is_vendor_found,
        procore_vendors.vendor_name as procore_name,
        erp_vendors.vendor_name as netsuite_name,
        procore_vendors.business_phone as procore_phone,
        erp_vendors.phone as netsuite_phone,
        procore_vendors.updated_at as procore_updated_at,
        erp_vendors.updated_at as netsuite_updated_at
    from procore_vendors
    left join erp_vendors
        on erp_vendors.connection_id = procore_vendors.connection_id
        and cast(erp_vendors.vendor_id as varchar) = procore_vendors.erp_vendor_ref
),

compared as (
    select
        *,
        is_vendor_found and {{ text_differs('procore_name', 'netsuite_name') }}
            as is_name_different,
        is_vendor_found and {{ phone_differs('procore_phone', 'netsuite_phone') }}
            as is_phone_different
    from joined
)

select
    *,
    is_name_different or is_phone_different as is_different,
    nullif(concat_ws(', ',
        case when is_name_different then 'name' end,
        case when is_phone_different then 'phone' end
    ), '') as different_fields,
    case
        when not (is_name_different or is_phone_different) then null
        when netsuite_updated_at > procore_updated_at then 'flows_to_procore'
        else 'never_flows_to_netsuite'
    end as direction
from compared
