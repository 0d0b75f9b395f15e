-- C-7, R-5: Procore's synced direct cost lines matched to the ERP's cost lines. A synced
-- record keeps the ERP's own ids as origin_id (the transaction on the direct cost, the line
-- on its line item), so lines match by id on every ERP, never by code or amount. One row per
-- (connection, ERP transaction, ERP line) that Procore holds or that syncs in the ERP:
--   Procore  live direct costs with an origin_id, status approved, of the four types R-5
--            sums (invoice, expense, payroll, subcontractor invoice)
--   ERP      every syncable cost line (int_cost_lines_unioned), and any line Procore holds
-- Procore's last job cost import (last_import_at) is the latest stamp on a live synced
-- direct cost of the connection, since each import stamps what it writes. match_status:
--   matched              in both, same amount and WBS code
--   changed_in_erp       in both, but the ERP line's amount or WBS code changed since
--   no_longer_syncable   in Procore; the ERP line is still there but no longer syncs
--   deleted_in_erp       in Procore; its ERP transaction was deleted (C-7, NS-18)
--   voided_in_erp        in Procore; its ERP transaction was voided (C-7)
--   procore_only         in Procore; the ERP has no such line (C-7)
--   commitment_invoiced  syncable in the ERP, never a direct cost: a subcontractor invoice
--                        exported from Procore to NetSuite (NS-16); Xero (XE-13) and
--                        Acumatica (AC-21) sync it as a Subcontractor Invoice direct cost
--   pending_import       syncable in the ERP, not in Procore, changed after the last import
--   erp_only             syncable in the ERP, not in Procore, unchanged since before the
--                        last import (C-7)
-- accuracy_cause is the R-5 part of the difference the line explains (null: unexplained):
-- both of its legs — +Procore amount, −ERP JTD amount — are attributed to it.
-- Where Procore and the ERP disagree on the line's project or WBS code, the Procore leg
-- takes the ERP line's project, and Procore's WBS code unless it has none. Procore files a
-- direct cost under one project, the connector splitting an ERP transaction by project (the
-- sandbox files it under its first line's project); and Procore adds the budget code for a
-- cost on a code the project lacks (the sandbox leaves such a line without a code).
{% set removed_columns = 'connection_id, erp_transaction_ref, removal, erp_status, rule_ids, removed_at' %}

with connections as (
    select connection_id, erp from {{ ref('stg_ops__connections') }}
),

direct_costs as (
    select *
    from {{ ref('stg_procore__direct_costs') }}
    where not is_deleted
        and erp_transaction_ref is not null
        and lower(status) = 'approved'
        and lower(direct_cost_type) in ('invoice', 'expense', 'payroll', 'subcontractor_invoice')
),

last_imports as (
    select connection_id, max(updated_at) as last_import_at
    from direct_costs
    group by connection_id
),

-- one row per ERP line Procore holds (a line imported twice sums)
procore_lines as (
    select
        direct_costs.connection_id,
        direct_costs.erp_transaction_ref as erp_transaction_id,
        lines.erp_line_ref as erp_line_id,
        min(direct_costs.direct_cost_id) as direct_cost_id,
        min(lines.direct_cost_line_id) as direct_cost_line_id,
        count(*) as procore_line_count,
        min(direct_costs.project_id) as procore_project_id,
        min(lines.wbs_code) as procore_wbs_code,
        min(direct_costs.direct_cost_type) as direct_cost_type,
        min(direct_costs.direct_cost_date) as procore_date,
        min(direct_costs.vendor_name) as procore_vendor_name,
        sum(lines.amount) as procore_amount
    from direct_costs
    inner join {{ ref('stg_procore__direct_cost_lines') }} as lines
        on lines.direct_cost_id = direct_costs.direct_cost_id
    where lines.erp_line_ref is not null
    group by direct_costs.connection_id, direct_costs.erp_transaction_ref, lines.erp_line_ref
),

erp_lines as (
    select * from {{ ref('int_cost_lines_unioned') }}
),

erp_transactions as (
    select distinct connection_id, erp_transaction_id from erp_lines
),

-- each connector's own rule for what deleted or voided is (C-7, NS-18)
removals as (
    select distinct {{ removed_columns }}
    from {{ ref('int_xero_direct_costs_voided_or_deleted') }}
    union
    select distinct {{ removed_columns }}
    from {{ ref('int_netsuite_direct_costs_voided_or_deleted') }}
    union
    select distinct {{ removed_columns }}
    from {{ ref('int_acumatica_direct_costs_voided_or_deleted') }}
),

joined as (
    select
        coalesce(procore_lines.connection_id, erp_lines.connection_id) as connection_id,
        coalesce(procore_lines.erp_transaction_id, erp_lines.erp_transaction_id)
            as erp_transaction_id,
        coalesce(procore_lines.erp_line_id, erp_lines.erp_line_id) as erp_line_id,
        procore_lines.direct_cost_id,
        procore_lines.direct_cost_line_id,
        coalesce(procore_lines.procore_line_count, 0) as procore_line_count,
        procore_lines.procore_project_id,
        erp_lines.project_id as erp_project_id,
        procore_lines.procore_wbs_code,
        erp_lines.wbs_code as erp_wbs_code,
        procore_lines.direct_cost_type,
        erp_lines.erp_transaction_type,
        erp_lines.status as erp_status,
        procore_lines.procore_amount,
        erp_lines.signed_amount as erp_amount,
        procore_lines.procore_date,
        erp_lines.transaction_date as erp_date,
        procore_lines.procore_vendor_name,
        erp_lines.contact_id as erp_vendor_id,
        erp_lines.contact_name as erp_vendor_name,
        procore_lines.erp_line_id is not null as is_in_procore,
        erp_lines.erp_line_id is not null as is_in_erp,
        coalesce(erp_lines.is_syncable, false) as is_erp_syncable,
        coalesce(erp_lines.is_subcontractor_invoice, false) as is_subcontractor_invoice,
        erp_lines.amount_type,
        coalesce(erp_lines.counts_in_jtd, false) as counts_in_jtd,
        erp_lines.updated_at as erp_updated_at
    from procore_lines
    full outer join erp_lines
        on erp_lines.connection_id = procore_lines.connection_id
        and erp_lines.erp_line_id = procore_lines.erp_line_id
    where procore_lines.erp_line_id is not null or erp_lines.is_syncable
),

flagged as (
    select
        joined.*,
        connections.erp,
        erp_transactions.erp_transaction_id is not null as is_erp_transaction_found,
        removals.removal as erp_removal,
        removals.rule_ids as removal_rule_ids,
        removals.removed_at as erp_removed_at,
        last_imports.last_import_at,
        -- NS-16: on NetSuite a subcontractor invoice is commitment invoiced and left out of
        -- direct costs; Xero shows it as a Subcontractor Invoice direct cost (XE-13) and
        -- Acumatica as its Subcontract Invoices amount type (AC-21)
        joined.is_erp_syncable
            and not (joined.is_subcontractor_invoice and connections.erp = 'netsuite')
            as is_direct_cost_in_erp,
        -- never imported: every ERP change is after the last import
        coalesce(joined.erp_updated_at > last_imports.last_import_at, true)
            as is_changed_after_import
    from joined
    inner join connections
        on connections.connection_id = joined.connection_id
    left join erp_transactions
        on erp_transactions.connection_id = joined.connection_id
        and erp_transactions.erp_transaction_id = joined.erp_transaction_id
    left join removals
        on removals.connection_id = joined.connection_id
        and removals.erp_transaction_ref = joined.erp_transaction_id
    left join last_imports
        on last_imports.connection_id = joined.connection_id
),

statused as (
    select
        *,
        case
            when is_in_procore and erp_removal = 'deleted' then 'deleted_in_erp'
            when is_in_procore and erp_removal = 'voided' then 'voided_in_erp'
            when is_in_procore and not is_in_erp then 'procore_only'
            when is_in_procore and not is_erp_syncable then 'no_longer_syncable'
            when is_in_procore
                and (procore_amount <> erp_amount
                    or (procore_wbs_code is not null
                        and procore_wbs_code is distinct from erp_wbs_code))
                then 'changed_in_erp'
            when is_in_procore then 'matched'
            when not is_direct_cost_in_erp then 'commitment_invoiced'
            when is_changed_after_import then 'pending_import'
            else 'erp_only'
        end as match_status
    from flagged
)

select
    connection_id,
    erp,
    erp_transaction_id,
    erp_line_id,
    direct_cost_id,
    direct_cost_line_id,
    procore_line_count,
    match_status,
    case
        when match_status in ('deleted_in_erp', 'voided_in_erp')
            then 'deleted_or_voided_after_sync'
        -- XE-12: it syncs, but JTD leaves it out (Xero credit notes)
        when is_in_procore and is_erp_syncable and not counts_in_jtd
            then 'credit_notes_not_in_jtd'
        when match_status in ('changed_in_erp', 'no_longer_syncable') then 'changed_after_sync'
        when match_status = 'commitment_invoiced' then 'commitment_invoiced_not_direct_cost'
        when match_status = 'pending_import' then 'pending_import'
    end as accuracy_cause,
    removal_rule_ids,
    -- R-5: the row each leg counts on
    coalesce(erp_project_id, procore_project_id) as project_id,
    coalesce(procore_wbs_code, erp_wbs_code) as wbs_code,
    procore_project_id,
    erp_project_id,
    procore_wbs_code,
    erp_wbs_code,
    direct_cost_type,
    erp_transaction_type,
    erp_status,
    erp_removal,
    procore_vendor_name,
    -- null where the ERP record names no vendor (a journal entry, NS-17; Acumatica payroll,
    -- whose name is the employee's)
    erp_vendor_id,
    erp_vendor_name,
    {{ money('procore_amount') }} as procore_amount,
    {{ money('erp_amount') }} as erp_amount,
    -- the ERP's JTD cost on the line (0 where it does not count, R-1)
    {{ money('case when counts_in_jtd then erp_amount else 0 end') }} as erp_jtd_amount,
    is_in_procore,
    is_in_erp,
    is_erp_transaction_found,
    is_erp_syncable,
    is_direct_cost_in_erp,
    is_subcontractor_invoice,
    counts_in_jtd,
    is_changed_after_import,
    procore_date,
    erp_date,
    erp_updated_at,
    erp_removed_at,
    last_import_at
from statused
