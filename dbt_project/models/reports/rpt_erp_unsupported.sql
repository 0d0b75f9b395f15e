-- What the NetSuite and Acumatica connectors cannot sync, per connection, so that nothing is
-- dropped silently. NetSuite: the Procore objects NetSuite never receives (NS-1), NetSuite sub
-- jobs (NS-6), every NetSuite cost line that does not become a Procore direct cost, by reason
-- (R-2: this project's reason codes, from NS-5, NS-6, NS-7, NS-14, NS-15, C-4),
-- subcontractor invoices kept out of direct costs (NS-16), projects that are not synced (C-4,
-- NS-5, NS-6, NS-9), WBS codes still without their item (NS-4) and direct costs deleted in
-- NetSuite that stay in Procore (NS-18, C-7). Acumatica: every project ledger line that does
-- not become a Procore direct cost, by reason (R-2 codes from C-4, AC-3, AC-6, AC-9), cost
-- codes added in Acumatica and not imported yet (AC-3), WBS codes off the imported list
-- (AC-5) or without a Task segment (AC-6), Procore projects never linked (C-4), payments
-- that do not import (AC-16, AC-17) and Procore vendor edits that never reach Acumatica
-- (AC-1). One row per connection, rule and object kind (and reason), with the record count
-- and the amount where the records have one; kinds costbridge does not extract have a null
-- count.
with connections as (
    select connection_id, erp, company_name
    from {{ ref('stg_ops__connections') }}
    where erp in ('netsuite', 'acumatica')
),

netsuite_connections as (
    select connection_id from connections where erp = 'netsuite'
),

acumatica_connections as (
    select connection_id from connections where erp = 'acumatica'
),

-- NS-1 counts the Procore objects of NetSuite connections only: Acumatica syncs commitments
-- (AC-14) and budgets (AC-11)
netsuite_projects as (
    select projects.project_id, projects.connection_id
    from {{ ref('stg_procore__projects') }} as projects
    inner join netsuite_connections
        on netsuite_connections.connection_id = projects.connection_id
    where not projects.is_deleted
),

explanations (erp, object_type, reason, rule_id, explanation) as (
    values
    ('netsuite', 'procore_objects_not_extracted', null, 'NS-1',
     'Prime contracts and PCCOs, prime contract invoices and payments, commitment change '
     || 'orders and timecards never sync with NetSuite. costbridge does not extract them, so '
     || 'they are not counted.'),
    ('netsuite', 'commitments', null, 'NS-1',
     'Commitments (subcontracts and purchase orders) do not sync to NetSuite; only their '
     || 'approved subcontractor invoices do, as vendor bills (NS-12). No commitment amount '
     || 'reaches NetSuite.'),
    ('netsuite', 'budget_line_items', null, 'NS-1',
     'Budgets do not sync to NetSuite: the amount is the original budget, which stays in '
     || 'Procore. A budgeted WBS code only gets its Other Charge item (NS-4).'),
    ('netsuite', 'netsuite_sub_jobs', null, 'NS-6',
     'NetSuite sub jobs are not supported: no Procore project can be synced with one; '
     || 'their cost lines are counted under sub_job_not_supported.'),
    ('netsuite', 'erp_cost_lines', 'type_not_eligible', 'R-2',
     'Lines of transactions that are not vendor bills, vendor credits, checks or journal '
     || 'entries (deposits, bill payments, …): not job costs.'),
    ('netsuite', 'erp_cost_lines', 'status_not_approved', 'NS-15',
     'Lines of transactions that do not post to the GL (pending approval, rejected, '
     || 'cancelled, voided): only approved costs are retrieved.'),
    ('netsuite', 'erp_cost_lines', 'cost_code_list_single_tier', 'NS-5',
     'The connection''s cost code list has a single tier; NetSuite needs two or more, so '
     || 'no job cost syncs.'),
    ('netsuite', 'erp_cost_lines', 'no_project', 'NS-14',
     'Lines coded to no customer:job: not project costs.'),
    ('netsuite', 'erp_cost_lines', 'sub_job_not_supported', 'NS-6',
     'Lines coded to a NetSuite sub job, which the connector does not support.'),
    ('netsuite', 'erp_cost_lines', 'project_not_synced', 'C-4',
     'Lines coded to a NetSuite job that no Procore project is synced with (a project that '
     || 'predates the connection, or was never exported or linked).'),
    ('netsuite', 'erp_cost_lines', 'no_item', 'NS-14',
     'Expense lines (no item): only lines coded to a project Other Charge item the '
     || 'integration created are retrieved.'),
    ('netsuite', 'erp_cost_lines', 'item_type_not_supported', 'NS-7',
     'Lines on inventory, non-inventory or service items: only Other Charge items stand '
     || 'for WBS codes.'),
    ('netsuite', 'erp_cost_lines', 'item_not_synced', 'NS-14',
     'Lines on Other Charge items the integration did not create (no Procore WBS code has '
     || 'them as its item).'),
    ('netsuite', 'erp_cost_lines', 'item_not_for_project', 'NS-14',
     'Lines on another project''s WBS code item: items are project-specific (NS-3).'),
    ('netsuite', 'subcontractor_invoice_lines', null, 'NS-16',
     'Lines of subcontractor invoices exported from Procore (vendor bills, and vendor '
     || 'credits of negative invoices, NS-13): in JTD cost as commitment invoiced, not '
     || 'listed as direct costs.'),
    ('netsuite', 'procore_projects', 'sub_job_not_supported', 'NS-6',
     'Procore projects linked to a NetSuite sub job, which the connector does not support.'),
    ('netsuite', 'procore_projects', 'job_not_found', 'NS-2',
     'Procore projects that carry a NetSuite job id no loaded job has (deleted in '
     || 'NetSuite, or not extracted yet): their costs cannot be matched.'),
    ('netsuite', 'procore_projects', 'cost_code_list_single_tier', 'NS-5',
     'Procore projects that cannot be exported: the cost code list has a single tier.'),
    ('netsuite', 'procore_projects', 'not_on_standard_cost_code_list', 'NS-9',
     'Procore projects that do not use the NetSuite standard cost code list, so cannot be '
     || 'exported.'),
    ('netsuite', 'procore_projects', 'not_linked', 'C-4',
     'Procore projects not synced with a NetSuite job: projects in progress or created '
     || 'before the connection cannot be synced by the connector; an accountant can link '
     || 'them.'),
    ('netsuite', 'wbs_codes', 'awaiting_cost_code_export', 'NS-4',
     'Budgeted WBS codes without their NetSuite item yet: costs cannot be coded to them in '
     || 'NetSuite until Export Cost Codes & Cost Types runs.'),
    ('netsuite', 'wbs_codes', 'not_synced_after_invoice_export', 'NS-4',
     'WBS codes on an exported subcontractor invoice but without a NetSuite item, which '
     || 'the invoice export should have created.'),
    ('netsuite', 'procore_direct_costs', 'deleted_in_netsuite', 'NS-18',
     'Direct costs whose NetSuite transaction was deleted after it synced: the connector '
     || 'does not remove them (C-7); delete them in Procore by hand.'),
    ('acumatica', 'erp_cost_lines', 'type_not_eligible', 'R-2',
     'Project ledger lines that are not AP, payroll or GL costs (AR is project revenue): '
     || 'not job costs.'),
    ('acumatica', 'erp_cost_lines', 'status_not_approved', 'R-2',
     'Project ledger lines not released, or from a bill that is not Open or Closed (a '
     || 'voided bill keeps its project transaction): only released costs sync.'),
    ('acumatica', 'erp_cost_lines', 'no_project', 'R-2',
     'Lines on no project or on the non-project code X: not project costs.'),
    ('acumatica', 'erp_cost_lines', 'project_not_synced', 'C-4',
     'Lines of an Acumatica project that no Procore project is synced with (AC-21: the '
     || 'project must be synced); a project that predates the connection cannot be synced '
     || 'by the connector.'),
    ('acumatica', 'erp_cost_lines', 'sub_job_not_synced', 'AC-9',
     'Lines on a sub job task (SubJob - Task) whose sub job is on no WBS code of the '
     || 'Procore project.'),
    ('acumatica', 'erp_cost_lines', 'cost_code_not_synced', 'AC-3',
     'Lines on a cost code added in Acumatica after the last cost code import: they sync '
     || 'once the code is imported.'),
    ('acumatica', 'erp_cost_lines', 'no_task', 'AC-6',
     'Lines without a project task: no WBS code to put them on.'),
    ('acumatica', 'acumatica_cost_codes', 'awaiting_import', 'AC-3',
     'Cost codes in the Acumatica list that are not in Procore''s imported list yet: new '
     || 'codes are added in Acumatica and then synced.'),
    ('acumatica', 'wbs_codes', 'cost_code_off_list', 'AC-5',
     'Project WBS codes whose cost code is not on the imported Acumatica list: Acumatica '
     || 'has no project-specific cost codes, so they cannot export.'),
    ('acumatica', 'wbs_codes', 'no_task_segment', 'AC-6',
     'Project WBS codes without a Task segment: Acumatica needs a Project Task for every '
     || 'budget code.'),
    ('acumatica', 'procore_projects', 'not_linked', 'C-4',
     'Procore projects not synced with an Acumatica project: projects in progress or '
     || 'created before the connection cannot be synced by the connector; an accountant can '
     || 'link them.'),
    ('acumatica', 'acumatica_payments', 'check_voided', 'AC-17',
     'Payment lines of voided checks: nothing is paid.'),
    ('acumatica', 'acumatica_payments', 'bill_not_found', 'AC-17',
     'Payment lines applied to no loaded bill: payments import only for subcontractor '
     || 'invoices.'),
    ('acumatica', 'acumatica_payments', 'invoice_not_synced', 'AC-16',
     'Payments of bills that were not exported from Procore as subcontractor invoices: they '
     || 'appear in Procore only for synced invoices.'),
    ('acumatica', 'acumatica_payments', 'commitment_not_synced', 'AC-17',
     'Payments of subcontractor invoices whose commitment is not synced with Acumatica.'),
    ('acumatica', 'procore_vendors', 'never_flows_to_acumatica', 'AC-1',
     'Procore vendors edited in Procore (name, phone or address) after the last import: '
     || 'Procore changes never update Acumatica, and the next Acumatica change overwrites '
     || 'them.')
),

counted as (
    select connection_id, 'procore_objects_not_extracted' as object_type,
        cast(null as varchar) as reason, cast(null as bigint) as record_count,
        cast(null as decimal(18, 2)) as amount
    from netsuite_connections

    union all
    select commitments.connection_id, 'commitments', null, count(*), null
    from {{ ref('stg_procore__commitments') }} as commitments
    inner join netsuite_projects as projects
        on projects.project_id = commitments.project_id
    where not commitments.is_deleted
    group by commitments.connection_id

    union all
    select budget.connection_id, 'budget_line_items', null, count(*),
        sum(budget.original_budget_amount)
    from {{ ref('stg_procore__budget_line_items') }} as budget
    inner join netsuite_projects as projects
        on projects.project_id = budget.project_id
    group by budget.connection_id

    union all
    select connection_id, 'netsuite_sub_jobs', null, count(*), null
    from {{ ref('stg_netsuite__jobs') }}
    where parent_job_id is not null
    group by connection_id

    union all
    select connection_id, 'erp_cost_lines', unsyncable_reason, count(*), sum(signed_amount)
    from {{ ref('int_netsuite_cost_lines_classified') }}
    where not is_syncable
    group by connection_id, unsyncable_reason

    union all
    select connection_id, 'subcontractor_invoice_lines', null, count(*), sum(signed_amount)
    from {{ ref('int_netsuite_cost_lines_classified') }}
    where is_syncable and is_subcontractor_invoice
    group by connection_id

    union all
    select connection_id, 'procore_projects', unsynced_reason, count(*), null
    from {{ ref('int_netsuite_projects_classified') }}
    where not is_synced
    group by connection_id, unsynced_reason

    union all
    select connection_id, 'wbs_codes', item_state, count(*), null
    from {{ ref('int_netsuite_wbs_codes_synced') }}
    where item_state in ('awaiting_cost_code_export', 'not_synced_after_invoice_export')
    group by connection_id, item_state

    union all
    select connection_id, 'procore_direct_costs', 'deleted_in_netsuite', count(*),
        sum(grand_total)
    from {{ ref('int_netsuite_deleted_after_sync') }}
    group by connection_id

    union all
    select connection_id, 'erp_cost_lines', unsyncable_reason, count(*), sum(signed_amount)
    from {{ ref('int_acumatica_cost_lines_classified') }}
    where not is_syncable
    group by connection_id, unsyncable_reason

    union all
    select connection_id, 'acumatica_cost_codes', 'awaiting_import', count(*), null
    from {{ ref('int_acumatica_cost_codes_imported') }}
    where not is_imported
    group by connection_id

    union all
    select connection_id, 'wbs_codes', code_state, count(*), null
    from {{ ref('int_acumatica_wbs_codes_checked') }}
    where code_state <> 'ok'
    group by connection_id, code_state

    union all
    select projects.connection_id, 'procore_projects', 'not_linked', count(*), null
    from {{ ref('stg_procore__projects') }} as projects
    inner join acumatica_connections
        on acumatica_connections.connection_id = projects.connection_id
    where not projects.is_deleted and projects.erp_project_ref is null
    group by projects.connection_id

    union all
    select connection_id, 'acumatica_payments', not_imported_reason, count(*), sum(amount_paid)
    from {{ ref('int_acumatica_payments_imported') }}
    where not imports
    group by connection_id, not_imported_reason

    union all
    select connection_id, 'procore_vendors', direction, count(*), null
    from {{ ref('int_acumatica_vendors_compared') }}
    where direction = 'never_flows_to_acumatica'
    group by connection_id, direction
)

select
    connections.connection_id,
    connections.erp,
    connections.company_name,
    explanations.rule_id,
    counted.object_type,
    counted.reason,
    counted.record_count,
    {{ money('counted.amount') }} as amount,
    explanations.explanation
from counted
inner join connections
    on connections.connection_id = counted.connection_id
left join explanations
    on explanations.erp = connections.erp
    and explanations.object_type = counted.object_type
    and explanations.reason is not distinct from counted.reason
