-- NS-3, NS-4: each WBS code of a NetSuite project and the NetSuite item it became. NS-3: one
-- Other Charge item per project WBS code, named <Procore project number>-<flat WBS code>
-- (cost code.cost type, custom segments appended in Procore's order). NS-4: a code gets its
-- item once it is on the budget (a $0 line is enough; the manual Export Cost Codes & Cost
-- Types creates it) or is exported on a subcontractor invoice (the export creates it). Only
-- items the integration created carry NetSuite job costs into Procore (NS-14).
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'netsuite'
),

projects as (
    select
        projects.connection_id,
        projects.project_id,
        projects.project_number,
        projects.erp_project_ref is not null as is_project_synced
    from {{ ref('stg_procore__projects') }} as projects
    inner join connections
        on connections.connection_id = projects.connection_id
    where not projects.is_deleted
),

wbs_codes as (
    select * from {{ ref('stg_procore__wbs_codes') }}
),

-- the custom segments after cost code and cost type, in Procore's order (NS-3)
custom_segments as (
    select
        wbs_code_id,
        string_agg(segment_code, '.' order by segment_position) as custom_segments
    from {{ ref('stg_procore__wbs_code_segments') }}
    where segment_name not in ('Cost Code', 'Cost Type')
    group by wbs_code_id
),

items as (
    select connection_id, item_id, item_name, item_type
    from {{ ref('stg_netsuite__items') }}
),

budgeted as (
    select distinct wbs_code_id
    from {{ ref('stg_procore__budget_line_items') }}
    where wbs_code_id is not null
),

-- requisition lines name their code by flat code; the requisition gives the project
invoiced as (
    select distinct requisitions.project_id, requisition_lines.wbs_code
    from {{ ref('stg_procore__requisition_lines') }} as requisition_lines
    inner join {{ ref('stg_procore__requisitions') }} as requisitions
        on requisitions.requisition_id = requisition_lines.requisition_id
    where requisitions.erp_transaction_ref is not null
),

joined as (
    select
        wbs_codes.wbs_code_id,
        projects.connection_id,
        projects.project_id,
        items.item_id,
        projects.project_number,
        projects.is_project_synced,
        wbs_codes.wbs_code,
        wbs_codes.cost_code,
        wbs_codes.cost_type,
        custom_segments.custom_segments,
        wbs_codes.erp_item_ref,
        projects.project_number || '-' || wbs_codes.wbs_code as expected_item_name,
        items.item_name,
        items.item_type,
        budgeted.wbs_code_id is not null as on_budget,
        invoiced.wbs_code is not null as on_exported_subcontractor_invoice,
        items.item_id is not null as is_item_found
    from wbs_codes
    inner join projects
        on projects.project_id = wbs_codes.project_id
    left join custom_segments
        on custom_segments.wbs_code_id = wbs_codes.wbs_code_id
    left join items
        on items.connection_id = projects.connection_id
        and cast(items.item_id as varchar) = wbs_codes.erp_item_ref
    left join budgeted
        on budgeted.wbs_code_id = wbs_codes.wbs_code_id
    left join invoiced
        on invoiced.project_id = wbs_codes.project_id
        and invoiced.wbs_code = wbs_codes.wbs_code
)

select
    *,
    case
        when erp_item_ref is not null then 'synced'
        -- no item can exist before the project itself is synced (C-4, NS-5, NS-9)
        when not is_project_synced then 'project_not_synced'
        -- NS-4: budgeted; the manual cost code export has not run since
        when on_budget then 'awaiting_cost_code_export'
        -- NS-4 says exporting the invoice creates the item: a finding
        when on_exported_subcontractor_invoice then 'not_synced_after_invoice_export'
        else 'not_budgeted'
    end as item_state
from joined
