-- Import candidates, item type vendor_update (docs/exports.md §3, §4): one item per Procore
-- vendor linked to an ERP vendor whose changes flow to Procore. NS-10: vendor changes in
-- NetSuite update the Procore company; AC-1: Acumatica updates name, address and phone.
-- XE-6: Xero contacts are not synced after linking, so a Xero connection has no vendor
-- updates (its comparison still reports drift: rpt_reconciliation vendor_drift).
-- The document carries only the fields the ERP changed and Procore has not changed since
-- (direction flows_to_procore), with the ERP's values; is_synced: no such change left.
-- The NetSuite extract has no vendor address, so NetSuite changes are name and phone.
with netsuite as (
    select
        connection_id,
        'netsuite' as erp,
        procore_vendor_id,
        vendor_id as erp_vendor_id,
        is_vendor_found,
        procore_name,
        netsuite_name as erp_name,
        is_name_different,
        is_phone_different,
        netsuite_phone as erp_phone,
        false as is_address_line_different,
        cast(null as varchar) as erp_address,
        false as is_city_different,
        cast(null as varchar) as erp_city,
        direction,
        netsuite_updated_at as erp_updated_at
    from {{ ref('int_netsuite_vendors_compared') }}
),

acumatica as (
    select
        connection_id,
        'acumatica' as erp,
        procore_vendor_id,
        vendor_id as erp_vendor_id,
        is_vendor_found,
        procore_name,
        acumatica_name as erp_name,
        is_name_different,
        is_phone_different,
        acumatica_phone as erp_phone,
        is_vendor_found
            and {{ text_differs('procore_address_line1', 'acumatica_address_line1') }}
            as is_address_line_different,
        acumatica_address_line1 as erp_address,
        is_vendor_found and {{ text_differs('procore_city', 'acumatica_city') }}
            as is_city_different,
        acumatica_city as erp_city,
        direction,
        acumatica_updated_at as erp_updated_at
    from {{ ref('int_acumatica_vendors_compared') }}
),

-- XE-6: whatever the comparison says of a name or phone, nothing flows after linking
xero as (
    select
        connection_id,
        'xero' as erp,
        procore_vendor_id,
        vendor_id as erp_vendor_id,
        is_vendor_found,
        procore_name,
        xero_name as erp_name,
        is_name_different,
        is_phone_different,
        xero_phone as erp_phone,
        false as is_address_line_different,
        xero_address_line1 as erp_address,
        false as is_city_different,
        xero_city as erp_city,
        cast(null as varchar) as direction,
        xero_updated_at as erp_updated_at
    from {{ ref('int_xero_vendors_compared') }}
),

vendors as (
    select * from netsuite
    union all
    select * from acumatica
    union all
    select * from xero
),

flowing as (
    select *, coalesce(direction = 'flows_to_procore', false) as is_flowing
    from vendors
    -- XE-6: never a candidate on Xero
    where is_vendor_found and erp <> 'xero'
),

documents as (
    select
        *,
        struct_pack(
            vendor_id := procore_vendor_id,
            erp_vendor_ref := erp_vendor_id,
            -- the ERP's values of the fields that flow, in the contract's order; none once
            -- Procore is the later change (it never flows back)
            changes := map_from_entries(list_filter([
                struct_pack(k := 'name', v := case when is_name_different then trim(erp_name) end),
                struct_pack(k := 'address',
                    v := case when is_address_line_different then trim(erp_address) end),
                struct_pack(k := 'city', v := case when is_city_different then trim(erp_city) end),
                struct_pack(k := 'phone', v := case when is_phone_different then erp_phone end)
            ], lambda change: change.v is not null and is_flowing))
        ) as document_struct
    from flowing
)

select
    connection_id,
    erp,
    'import' as direction,
    'vendor_update' as item_type,
    'vendor_update:' || erp_vendor_id as item_key,
    procore_vendor_id as procore_id,
    cast(null as bigint) as procore_project_id,
    coalesce(trim(erp_name), procore_name) as label,
    {{ money('null') }} as amount,
    erp_vendor_id as erp_ref,
    not is_flowing as is_synced,
    false as is_archived,
    {{ import_candidate_tail('document_struct') }},
    {{ import_no_findings() }} as findings,
    false as is_blocked,
    erp_updated_at as updated_at
from documents
