-- XE-11: a Xero line syncs as a Procore direct cost only if its type is ACCPAY, SPEND or
-- ACCPAYCREDIT, its status is approved (AUTHORISED or PAID), its tracking option is a synced
-- Procore project, and its item is a synced cost code/cost type (XE-4: one company list, the
-- item code is cost code + cost type). Whether the code is already a WBS code of the project
-- is only noted: Procore adds a $0 budget line for a cost on a new code.
-- R-2: failed_reasons lists every rule the line fails, one reason per chain (docs/reports.md):
-- type, status, project (no_project, else project_not_synced) and item (item_not_synced;
-- XE-4 items are company-level, so the item is checked whatever the project).
-- unsyncable_reason is its first element.
with lines as (
    select * from {{ ref('int_xero_cost_lines_unioned') }}
),

projects as (
    select connection_id, project_id, project_number, project_name, erp_project_ref
    from {{ ref('stg_procore__projects') }}
    where not is_deleted and erp_project_ref is not null
),

items as (
    select connection_id, item_id, item_code from {{ ref('stg_xero__items') }}
),

synced_items as (
    select distinct connection_id, erp_item_ref, cost_code, cost_type
    from {{ ref('stg_procore__wbs_codes') }}
    where erp_item_ref is not null
),

project_codes as (
    select connection_id, project_id, wbs_code_id, wbs_code
    from {{ ref('stg_procore__wbs_codes') }}
    where erp_item_ref is not null
),

subcontractor_invoices as (
    select connection_id, erp_transaction_ref, requisition_id
    from {{ ref('stg_procore__requisitions') }}
    where erp_transaction_ref is not null
),

joined as (
    select
        lines.*,
        projects.project_id,
        projects.project_number,
        projects.project_name,
        synced_items.erp_item_ref is not null as is_item_synced,
        synced_items.cost_code,
        synced_items.cost_type,
        project_codes.wbs_code_id,
        subcontractor_invoices.requisition_id
    from lines
    left join projects
        on projects.connection_id = lines.connection_id
        and projects.erp_project_ref = lines.tracking_option_id
    left join items
        on items.connection_id = lines.connection_id
        and items.item_code = lines.item_code
    left join synced_items
        on synced_items.connection_id = lines.connection_id
        and synced_items.erp_item_ref = items.item_id
    left join project_codes
        on project_codes.connection_id = lines.connection_id
        and project_codes.project_id = projects.project_id
        and project_codes.wbs_code = lines.item_code
    left join subcontractor_invoices
        on subcontractor_invoices.connection_id = lines.connection_id
        and subcontractor_invoices.erp_transaction_ref = lines.erp_transaction_id
),

flagged as (
    select
        *,
        erp_transaction_type in ('ACCPAY', 'SPEND', 'ACCPAYCREDIT') as is_type_eligible,
        status in ('AUTHORISED', 'PAID') as is_status_approved,
        project_id is not null as is_project_synced,
        wbs_code_id is not null as is_code_on_project,
        requisition_id is not null as is_subcontractor_invoice
    from joined
),

reasoned as (
    select
        *,
        -- one element per chain, in evaluation order; a chain that passes adds null
        list_filter([
            case when not is_type_eligible then 'type_not_eligible' end,
            case when not is_status_approved then 'status_not_approved' end,
            case
                when tracking_option_id is null then 'no_project'
                when not is_project_synced then 'project_not_synced'
            end,
            case when not is_item_synced then 'item_not_synced' end
        ], lambda reason: reason is not null) as failed_reasons
    from flagged
)

select
    *,
    is_type_eligible and is_status_approved and is_project_synced and is_item_synced
        as is_syncable,
    failed_reasons[1] as unsyncable_reason,
    -- A vendor credit reduces cost; Xero sends its lines positive.
    case when erp_transaction_type = 'ACCPAYCREDIT' then -line_amount else line_amount end
        as signed_amount,
    -- XE-12: JTD cost is syncable bills and spend money; credit notes sync as direct costs
    -- (XE-11) but are not in it.
    is_type_eligible and is_status_approved and is_project_synced and is_item_synced
        and erp_transaction_type in ('ACCPAY', 'SPEND') as counts_in_jtd
from reasoned
