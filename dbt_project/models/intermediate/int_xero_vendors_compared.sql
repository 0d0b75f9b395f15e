-- XE-6: companies export as Xero contacts (name, billing address, phone, fax) and are
-- imported from them (XE-3); name and phone map both ways, but address changes are not
-- synced after linking (either way), and a contact name is at most 41 characters. One row
-- per Procore vendor of a Xero connection linked to a Xero contact (origin_id = ContactID):
-- which of name, phone and address differ, and what becomes of each difference:
--   flows_to_procore   Xero changed the contact after Procore last changed the company:
--                      the next vendor import brings the name or phone to Procore
--   flows_to_xero      Procore changed it after Xero last did: the company shows under
--                      Ready to Update (C-3) and the change reaches Xero once it is sent
--                      and accepted
--   never_flows        the address (XE-6: not synced after linking), or a Procore name
--                      longer than Xero's 41 characters that Xero holds cut short
-- The direction compares Xero's UpdatedDateUTC with Procore's updated_at (a tie counts as a
-- Procore-side change). Names, address line and city trimmed; phones by their digits.
with procore_vendors as (
    {{ linked_procore_vendors('xero') }}
),

erp_vendors as (
    select * from {{ ref('stg_xero__contacts') }}
),

joined as (
    select
        procore_vendors.connection_id,
        procore_vendors.vendor_id as procore_vendor_id,
        procore_vendors.erp_vendor_ref as vendor_id,
        erp_vendors.contact_id is not null as is_vendor_found,
        procore_vendors.vendor_name as procore_name,
        erp_vendors.contact_name as xero_name,
        procore_vendors.business_phone as procore_phone,
        erp_vendors.phone as xero_phone,
        procore_vendors.address as procore_address_line1,
        erp_vendors.address_line1 as xero_address_line1,
        procore_vendors.city as procore_city,
        erp_vendors.city as xero_city,
        procore_vendors.updated_at as procore_updated_at,
        erp_vendors.updated_at as xero_updated_at
    from procore_vendors
    left join erp_vendors
        on erp_vendors.connection_id = procore_vendors.connection_id
        and lower(erp_vendors.contact_id) = lower(procore_vendors.erp_vendor_ref)
),

compared as (
    select
        *,
        is_vendor_found and {{ text_differs('procore_name', 'xero_name') }}
            as is_name_different,
        -- XE-6: Xero holds at most 41 characters of a longer Procore name
        length(trim(procore_name)) > 41
            and trim(xero_name) = trim(left(trim(procore_name), 41)) as is_name_cut_short,
        is_vendor_found and {{ phone_differs('procore_phone', 'xero_phone') }}
            as is_phone_different,
        is_vendor_found
            and (
                {{ text_differs('procore_address_line1', 'xero_address_line1') }}
                or {{ text_differs('procore_city', 'xero_city') }}
            ) as is_address_different,
        case
            when xero_updated_at > procore_updated_at then 'flows_to_procore'
            else 'flows_to_xero'
        end as later_side_direction
    from joined
)

select
    connection_id,
    procore_vendor_id,
    vendor_id,
    is_vendor_found,
    procore_name,
    xero_name,
    procore_phone,
    xero_phone,
    procore_address_line1,
    xero_address_line1,
    procore_city,
    xero_city,
    procore_updated_at,
    xero_updated_at,
    is_name_different,
    is_phone_different,
    is_address_different,
    is_name_different or is_phone_different or is_address_different as is_different,
    nullif(concat_ws(', ',
        case when is_name_different then 'name' end,
        case when is_phone_different then 'phone' end,
        case when is_address_different then 'address' end
    ), '') as different_fields,
    case
        when not is_name_different then null
        when coalesce(is_name_cut_short, false) then 'never_flows'
        else later_side_direction
    end as name_direction,
    case when is_phone_different then later_side_direction end as phone_direction,
    case when is_address_different then 'never_flows' end as address_direction
from compared
