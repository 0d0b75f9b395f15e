-- Acumatica job cost lines and whether each syncs as a Procore direct cost (R-2: the reason
-- codes are this project's, from the Acumatica rules). The project ledger is the job cost
-- source: one row per project transaction detail line, with its transaction, the bill it
-- came from (module AP), the Procore project synced with its ProjectID and the Procore WBS
-- code it lands on. failed_reasons lists every rule the line fails, in this order, one
-- reason per chain (docs/reports.md): type, status, project (no_project …
-- sub_job_not_synced), item (cost_code_not_synced) and task (no_task). unsyncable_reason is
-- the first:
--   type_not_eligible     only AP (bills, debit adjustments), PR (payroll) and GL (expenses)
--                         are job costs; AR is project revenue
--   status_not_approved   the transaction is not Released or the line not released, or (AP)
--                         its bill is not Open or Closed (a voided bill keeps its transaction)
--   no_project            no project, or the non-project code X
--   project_not_synced    C-4, AC-21: no Procore project is synced with the ProjectID
--   sub_job_not_synced    AC-9: the task is a sub job task (B1 - 02) whose sub job is on no
--                         Procore WBS code of the project
--   cost_code_not_synced  AC-3: the cost code is not on the imported list yet (added in
--                         Acumatica after the last cost code import)
--   no_task               AC-6: no project task, so no WBS code (a guard: Acumatica requires a
--                         task on project lines)
-- AC-22: there is no reason for the cost type: job cost types cannot be filtered out, so
-- payroll and labor always sync. Whether the WBS code is already on the project is only
-- noted (is_code_on_project): Procore adds the budget code for a cost on a new one.
-- AC-21: every syncable line is one of four amount types, and all four are JTD cost.
with details as (
    select * from {{ ref('stg_acumatica__project_transaction_details') }}
),

transactions as (
    select * from {{ ref('stg_acumatica__project_transactions') }}
),

bills as (
    select * from {{ ref('stg_acumatica__bills') }}
),

bill_details as (
    select connection_id, bill_id, po_order_type, po_order_nbr
    from {{ ref('stg_acumatica__bill_details') }}
    where po_order_nbr is not null
),

-- AC-14: a Procore commitment exported to Acumatica carries the Subcontract's (or Purchase
-- Order's) id as origin_id
synced_commitments as (
    select distinct connection_id, erp_commitment_ref
    from {{ ref('stg_procore__commitments') }}
    where erp_commitment_ref is not null and not is_deleted
),

-- AC-21: bills with a line on a synced subcontract (POOrderType Subcontract, POOrderNbr =
-- SubcontractNbr) or a synced purchase order (POOrderType = its Type, Normal, and OrderNbr)
-- are Subcontract Invoices. Within one bill every line is on the same commitment or none.
commitment_bills as (
    select bill_details.connection_id, bill_details.bill_id
    from bill_details
    inner join {{ ref('stg_acumatica__subcontracts') }} as subcontracts
        on subcontracts.connection_id = bill_details.connection_id
        and subcontracts.subcontract_nbr = bill_details.po_order_nbr
    inner join synced_commitments
        on synced_commitments.connection_id = subcontracts.connection_id
        and synced_commitments.erp_commitment_ref = subcontracts.subcontract_id
    where bill_details.po_order_type = 'Subcontract'

    union

    select bill_details.connection_id, bill_details.bill_id
    from bill_details
    inner join {{ ref('stg_acumatica__purchase_orders') }} as purchase_orders
        on purchase_orders.connection_id = bill_details.connection_id
        and purchase_orders.order_type = bill_details.po_order_type
        and purchase_orders.order_nbr = bill_details.po_order_nbr
    inner join synced_commitments
        on synced_commitments.connection_id = purchase_orders.connection_id
        and synced_commitments.erp_commitment_ref = purchase_orders.purchase_order_id
),

-- AC-16: a subcontractor invoice exported from Procore is a bill whose id is the
-- requisition's origin_id
exported_bills as (
    select distinct connection_id, erp_transaction_ref
    from {{ ref('stg_procore__requisitions') }}
    where erp_transaction_ref is not null
),

vendors as (
    select connection_id, vendor_id, vendor_name from {{ ref('stg_acumatica__vendors') }}
),

erp_projects as (
    select connection_id, project_id, project_description
    from {{ ref('stg_acumatica__projects') }}
),

-- C-4: a synced Procore project's origin_id is the Acumatica ProjectID
projects as (
    select connection_id, project_id, project_number, project_name, erp_project_ref
    from {{ ref('stg_procore__projects') }}
    where not is_deleted and erp_project_ref is not null
),

wbs_codes as (
    select connection_id, project_id, wbs_code_id, wbs_code, sub_job
    from {{ ref('int_procore_wbs_codes_segmented') }}
),

-- AC-9: the sub jobs a Procore project has, as Sub Job segments of its WBS codes
project_sub_jobs as (
    select distinct project_id, sub_job from wbs_codes where sub_job is not null
),

-- AC-3: the imported Acumatica cost code list (origin_id = CostCodeID)
standard_cost_codes as (
    select distinct connection_id, erp_cost_code_ref
    from {{ ref('stg_procore__standard_cost_codes') }}
    where erp_cost_code_ref is not null
),

joined as (
    select
        details.connection_id,
        details.project_transaction_detail_id,
        details.project_transaction_id,
        details.transaction_id,
        details.transaction_date,
        details.project_id as erp_project_id,
        details.project_task_id as erp_task_id,
        details.cost_code_id as erp_cost_code_id,
        details.account_group,
        details.line_description,
        details.quantity,
        details.unit_rate,
        details.amount,
        details.is_released,
        details.vendor_or_customer,
        details.employee,
        transactions.module,
        transactions.status as transaction_status,
        transactions.reference_nbr as transaction_reference_nbr,
        transactions.description as transaction_description,
        transactions.original_doc_type,
        transactions.original_doc_nbr,
        transactions.updated_at,
        bills.bill_id,
        bills.status as bill_status,
        bills.reference_nbr as bill_reference_nbr,
        bills.vendor_id as bill_vendor_id,
        bills.vendor_ref as bill_vendor_ref,
        bills.bill_date,
        bills.description as bill_description,
        vendors.vendor_name,
        erp_projects.project_description,
        projects.project_id,
        projects.project_number,
        projects.project_name,
        {{ acumatica_sub_job('details.project_task_id') }} as sub_job,
        {{ acumatica_main_task('details.project_task_id') }} as task,
        -- AC-4: Procore's display form of the code
        {{ acumatica_cost_code_display('details.cost_code_id') }} as cost_code,
        -- cost types are account groups
        details.account_group as cost_type,
        commitment_bills.bill_id is not null as is_on_synced_commitment,
        exported_bills.erp_transaction_ref is not null as is_exported_from_procore,
        standard_cost_codes.erp_cost_code_ref is not null as is_cost_code_synced
    from details
    left join transactions
        on transactions.connection_id = details.connection_id
        and transactions.project_transaction_id = details.project_transaction_id
    -- an AP transaction names its bill by type and number within the tenant
    left join bills
        on transactions.module = 'AP'
        and bills.connection_id = transactions.connection_id
        and bills.bill_type = transactions.original_doc_type
        and bills.reference_nbr = transactions.original_doc_nbr
    left join commitment_bills
        on commitment_bills.connection_id = bills.connection_id
        and commitment_bills.bill_id = bills.bill_id
    left join exported_bills
        on exported_bills.connection_id = bills.connection_id
        and exported_bills.erp_transaction_ref = bills.bill_id
    left join vendors
        on vendors.connection_id = details.connection_id
        and vendors.vendor_id = coalesce(details.vendor_or_customer, bills.vendor_id)
    left join erp_projects
        on erp_projects.connection_id = details.connection_id
        and erp_projects.project_id = details.project_id
    left join projects
        on projects.connection_id = details.connection_id
        and projects.erp_project_ref = details.project_id
    left join standard_cost_codes
        on standard_cost_codes.connection_id = details.connection_id
        and standard_cost_codes.erp_cost_code_ref = details.cost_code_id
),

coded as (
    select
        *,
        -- [sub job.]task.cost code.cost type, Procore's flat code on an Acumatica project
        case when sub_job is not null then sub_job || '.' else '' end
            || task || '.' || cost_code || '.' || cost_type as wbs_code
    from joined
),

flagged as (
    select
        coded.*,
        coalesce(coded.module in ('AP', 'PR', 'GL'), false) as is_type_eligible,
        coalesce(coded.transaction_status = 'Released', false)
            and coded.is_released
            -- a bill not loaded does not block: the ledger has released it
            and (coded.bill_id is null or coded.bill_status in ('Open', 'Closed'))
            as is_status_approved,
        coded.erp_project_id is null or coded.erp_project_id = 'X' as is_no_project,
        coded.project_id is not null as is_project_synced,
        coded.sub_job is null or project_sub_jobs.sub_job is not null as is_sub_job_synced,
        wbs_codes.wbs_code_id,
        wbs_codes.wbs_code_id is not null as is_code_on_project
    from coded
    left join project_sub_jobs
        on project_sub_jobs.project_id = coded.project_id
        and project_sub_jobs.sub_job = coded.sub_job
    left join wbs_codes
        on wbs_codes.project_id = coded.project_id
        and wbs_codes.wbs_code = coded.wbs_code
),

reasoned as (
    select
        *,
        -- one element per chain, in evaluation order; a chain that passes adds null
        list_filter([
            case when not is_type_eligible then 'type_not_eligible' end,
            case when not is_status_approved then 'status_not_approved' end,
            case
                when is_no_project then 'no_project'
                when not is_project_synced then 'project_not_synced'
                when not is_sub_job_synced then 'sub_job_not_synced'
            end,
            case when not is_cost_code_synced then 'cost_code_not_synced' end,
            case when task is null or task = '' then 'no_task' end
        ], lambda reason: reason is not null) as failed_reasons,
        -- AC-21: the four amount types
        case
            when module = 'AP' and is_on_synced_commitment then 'subcontract_invoice'
            when module = 'AP' then 'invoice'
            when module = 'GL' then 'expense'
            when module = 'PR' then 'payroll'
        end as amount_type
    from flagged
)

select
    project_transaction_detail_id as erp_line_id,
    connection_id,
    'acumatica' as erp,
    project_transaction_id as erp_transaction_id,
    module as erp_transaction_type,
    -- the bill's status on AP lines (Open, Closed, Voided, …), else the transaction's
    coalesce(bill_status, transaction_status) as status,
    coalesce(transaction_date, bill_date) as transaction_date,
    coalesce(vendor_or_customer, bill_vendor_id) as contact_id,
    coalesce(vendor_name, vendor_or_customer, bill_vendor_id, employee) as contact_name,
    coalesce(bill_reference_nbr, transaction_reference_nbr) as reference,
    -- the vendor's invoice number on AP lines
    bill_vendor_ref as invoice_number,
    coalesce(bill_description, transaction_description) as memo,
    cast(row_number() over (
        partition by connection_id, project_transaction_id
        order by transaction_id, project_transaction_detail_id
    ) as bigint) as line_number,
    transaction_id,
    module,
    original_doc_type,
    original_doc_nbr,
    bill_id,
    bill_status,
    transaction_status,
    employee,
    -- the ERP's own coding: cost code as Acumatica writes it, project and task
    erp_cost_code_id as item_code,
    erp_project_id,
    erp_task_id,
    line_description,
    quantity,
    unit_rate as unit_amount,
    amount as line_amount,
    -- Acumatica signs the line already: a debit adjustment's lines are negative
    amount as signed_amount,
    -- the line's ERP project, in the columns Xero fills with its project tracking option
    erp_project_id as tracking_option_id,
    project_description as tracking_option_name,
    project_id,
    project_number,
    project_name,
    sub_job,
    task,
    wbs_code_id,
    wbs_code,
    cost_code,
    cost_type,
    account_group,
    amount_type,
    is_type_eligible,
    is_status_approved,
    is_project_synced,
    is_sub_job_synced,
    is_cost_code_synced,
    -- the shared column: for Acumatica, the cost code is on the imported list (AC-3)
    is_cost_code_synced as is_item_synced,
    is_code_on_project,
    is_on_synced_commitment,
    is_exported_from_procore,
    -- AC-21: Subcontract Invoices are the commitment invoiced part of JTD
    coalesce(amount_type = 'subcontract_invoice', false) as is_subcontractor_invoice,
    len(failed_reasons) = 0 as is_syncable,
    failed_reasons[1] as unsyncable_reason,
    failed_reasons,
    -- AC-21: JTD cost is the sum of all four amount types, every syncable line
    len(failed_reasons) = 0 as counts_in_jtd,
    updated_at
from reasoned
