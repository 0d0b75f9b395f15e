-- NetSuite job cost lines and whether each syncs as a Procore direct cost (R-2: the reason
-- codes are this project's, from the NetSuite rules). Every loaded line (main and tax lines
-- are not cost lines) of a transaction not deleted in NetSuite, with its header, vendor,
-- item, job, the Procore project linked to the job and the Procore WBS code the item was
-- created for. failed_reasons lists every rule the line fails, in this order, one reason per
-- chain (docs/reports.md): type, status, list, project (no_project … project_not_synced) and
-- item (no_item … item_not_for_project). unsyncable_reason is the first:
--   type_not_eligible           only vendor bills, vendor credits (NS-13), checks and
--                               journal entries (NS-17) are job cost transactions
--   status_not_approved         only posting transactions; direct costs arrive Approved (NS-15)
--   cost_code_list_single_tier  NS-5: the connection's cost code list has a single tier
--   no_project                  the line is coded to no customer:job
--   sub_job_not_supported       NS-6: the job is a sub job
--   project_not_synced          C-4/NS-9: the job is linked to no Procore project
--   no_item                     NS-14: an expense line (no item) cannot be retrieved
--   item_type_not_supported     NS-7: only Other Charge items stand for WBS codes
--   item_not_synced             NS-14: an Other Charge item the integration did not create
--                               (no Procore WBS code has it as its ERP item)
--   item_not_for_project        NS-14: the item is another project's WBS code (NS-3 items
--                               are project-specific); checked only when the project
--                               chain passes, as otherwise there is no project to compare
with lines as (
    select * from {{ ref('stg_netsuite__transaction_lines') }}
    -- the extract leaves main and tax lines out; they would double the header's amount
    where not is_main_line and not is_tax_line
),

transactions as (
    select * from {{ ref('stg_netsuite__transactions') }}
),

-- NS-18: a deleted transaction's rows stay in raw (nothing reloads them); it is no cost.
deleted_transactions as (
    select distinct connection_id, record_id
    from {{ ref('stg_netsuite__deleted_records') }}
    where transaction_type is not null
),

vendors as (
    select connection_id, vendor_id, vendor_number, vendor_name
    from {{ ref('stg_netsuite__vendors') }}
),

items as (
    select connection_id, item_id, item_name, item_type
    from {{ ref('stg_netsuite__items') }}
),

jobs as (
    select connection_id, job_id, job_number, job_name, parent_job_id
    from {{ ref('stg_netsuite__jobs') }}
),

-- The Procore project's origin_id is the job's internal id (as text).
projects as (
    select connection_id, project_id, project_number, project_name, erp_project_ref
    from {{ ref('stg_procore__projects') }}
    where not is_deleted and erp_project_ref is not null
),

-- NS-3: the item the integration created for a WBS code is that code's origin_id.
wbs_codes as (
    select connection_id, project_id, wbs_code_id, wbs_code, cost_code, cost_type, erp_item_ref
    from {{ ref('stg_procore__wbs_codes') }}
    where erp_item_ref is not null
),

-- NS-12/NS-13: a subcontractor invoice exported from Procore is a vendor bill (a negative
-- one a vendor credit) whose internal id is the requisition's origin_id.
subcontractor_invoices as (
    select distinct connection_id, erp_transaction_ref
    from {{ ref('stg_procore__requisitions') }}
    where erp_transaction_ref is not null
),

tiers as (
    select connection_id, is_single_tier from {{ ref('int_netsuite_cost_code_tiers') }}
),

joined as (
    select
        lines.connection_id,
        lines.transaction_id,
        lines.line_id,
        lines.line_number,
        lines.item_id,
        lines.job_id,
        lines.line_memo,
        lines.quantity,
        lines.rate,
        lines.net_amount,
        transactions.transaction_type,
        transactions.status,
        transactions.transaction_number,
        transactions.memo,
        transactions.vendor_id,
        transactions.transaction_date,
        transactions.updated_at,
        coalesce(transactions.is_posting, false) as is_posting,
        -- a person vendor has no company name
        coalesce(vendors.vendor_name, vendors.vendor_number) as vendor_name,
        items.item_name,
        coalesce(items.item_type, lines.item_type) as item_type,
        jobs.job_name,
        jobs.parent_job_id,
        jobs.job_id is not null as is_job_found,
        projects.project_id,
        projects.project_number,
        projects.project_name,
        wbs_codes.wbs_code_id,
        wbs_codes.project_id as wbs_code_project_id,
        wbs_codes.wbs_code,
        wbs_codes.cost_code,
        wbs_codes.cost_type,
        subcontractor_invoices.erp_transaction_ref is not null as is_subcontractor_invoice,
        coalesce(tiers.is_single_tier, false) as is_cost_code_list_single_tier
    from lines
    left join transactions
        on transactions.connection_id = lines.connection_id
        and transactions.transaction_id = lines.transaction_id
    left join deleted_transactions
        on deleted_transactions.connection_id = lines.connection_id
        and deleted_transactions.record_id = lines.transaction_id
    left join vendors
        on vendors.connection_id = lines.connection_id
        and vendors.vendor_id = transactions.vendor_id
    left join items
        on items.connection_id = lines.connection_id
        and items.item_id = lines.item_id
    left join jobs
        on jobs.connection_id = lines.connection_id
        and jobs.job_id = lines.job_id
    left join projects
        on projects.connection_id = lines.connection_id
        and projects.erp_project_ref = cast(lines.job_id as varchar)
    left join wbs_codes
        on wbs_codes.connection_id = lines.connection_id
        and wbs_codes.erp_item_ref = cast(lines.item_id as varchar)
    left join subcontractor_invoices
        on subcontractor_invoices.connection_id = lines.connection_id
        and subcontractor_invoices.erp_transaction_ref = cast(lines.transaction_id as varchar)
    left join tiers
        on tiers.connection_id = lines.connection_id
    where deleted_transactions.record_id is null
),

flagged as (
    select
        *,
        coalesce(transaction_type in ('VendBill', 'VendCred', 'Check', 'Journal'), false)
            as is_type_eligible,
        is_posting as is_status_approved,
        parent_job_id is not null as is_sub_job,
        project_id is not null as is_project_synced,
        coalesce(item_type = 'OthCharge', false) as is_item_type_supported,
        wbs_code_id is not null as is_item_synced,
        coalesce(wbs_code_project_id = project_id, false) as is_code_on_project
    from joined
),

reasoned as (
    select
        *,
        -- one element per chain, in evaluation order; a chain that passes adds null
        list_filter([
            case when not is_type_eligible then 'type_not_eligible' end,
            case when not is_status_approved then 'status_not_approved' end,
            case when is_cost_code_list_single_tier then 'cost_code_list_single_tier' end,
            case
                when job_id is null then 'no_project'
                when is_sub_job then 'sub_job_not_supported'
                when not is_project_synced then 'project_not_synced'
            end,
            case
                when item_id is null then 'no_item'
                when not is_item_type_supported then 'item_type_not_supported'
                when not is_item_synced then 'item_not_synced'
                -- compared only with a project the line can sync to
                when is_project_synced and not is_sub_job and not is_code_on_project
                    then 'item_not_for_project'
            end
        ], lambda reason: reason is not null) as failed_reasons
    from flagged
)

select
    cast(transaction_id as varchar) || '-' || cast(line_id as varchar) as erp_line_id,
    connection_id,
    'netsuite' as erp,
    cast(transaction_id as varchar) as erp_transaction_id,
    transaction_type as erp_transaction_type,
    status,
    transaction_date,
    cast(vendor_id as varchar) as contact_id,
    vendor_name as contact_name,
    transaction_number as reference,
    transaction_number as invoice_number,
    memo,
    line_number,
    item_id,
    item_name as item_code,
    item_type,
    line_memo as line_description,
    quantity,
    rate as unit_amount,
    net_amount as line_amount,
    -- NetSuite signs the line already: vendor credits and journal credits are negative.
    net_amount as signed_amount,
    -- the line's ERP project, in the columns Xero fills with its project tracking option
    cast(job_id as varchar) as tracking_option_id,
    job_name as tracking_option_name,
    job_id,
    parent_job_id,
    project_id,
    project_number,
    project_name,
    wbs_code_id,
    wbs_code,
    cost_code,
    cost_type,
    is_type_eligible,
    is_status_approved,
    is_cost_code_list_single_tier,
    is_sub_job,
    is_project_synced,
    is_item_type_supported,
    is_item_synced,
    is_code_on_project,
    is_subcontractor_invoice,
    len(failed_reasons) = 0 as is_syncable,
    failed_reasons[1] as unsyncable_reason,
    failed_reasons,
    -- NetSuite JTD cost is every syncable line: bills, checks and journal entries (NS-17)
    -- less vendor credits, which come signed negative.
    len(failed_reasons) = 0 as counts_in_jtd,
    updated_at
from reasoned
