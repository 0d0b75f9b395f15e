-- R-2: the ERP Unsyncable Direct Costs report. One row per ERP cost line that does not sync
-- and per rule it fails (erp_cost_lines.failed_reasons, one reason per chain), with the
-- rule IDs and plain-language reason of the seed unsyncable_reasons. Lines that sync have no
-- failed reason, so they never appear. is_first_reason marks the line's unsyncable_reason.
with lines as (
    select * from {{ ref('erp_cost_lines') }}
    where not is_syncable
),

failed as (
    select
        lines.*,
        unnest(lines.failed_reasons) as reason_code
    from lines
),

reasons as (
    select reason_code, rule_ids, reason from {{ ref('unsyncable_reasons') }}
),

connections as (
    select connection_id, company_name from {{ ref('connections') }}
),

projects as (
    select connection_id, project_id, project_number
    from {{ ref('stg_procore__projects') }}
),

-- the seed lists the rules of every ERP a code applies to; a line shows the common rules
-- (C-*) and its own ERP's
erp_prefixes as (
    select * from (values ('xero', 'XE-'), ('netsuite', 'NS-'), ('acumatica', 'AC-'))
        as prefixes (erp, rule_prefix)
)

select
    failed.connection_id,
    failed.erp,
    connections.company_name,
    failed.project_id,
    projects.project_number,
    failed.project_name,
    failed.tracking_option_id as erp_project_ref,
    failed.tracking_option_name as erp_project_name,
    failed.erp_line_id,
    failed.erp_transaction_id,
    failed.erp_transaction_type,
    failed.status,
    failed.transaction_date,
    failed.vendor_name,
    failed.invoice_number,
    failed.wbs_code,
    failed.item_code,
    failed.line_amount,
    failed.signed_amount,
    failed.reason_code,
    array_to_string(list_filter(
        string_split(reasons.rule_ids, ', '),
        lambda rule_id: rule_id like 'C-%' or starts_with(rule_id, erp_prefixes.rule_prefix)
    ), ', ') as rule_ids,
    reasons.reason,
    failed.reason_code = failed.unsyncable_reason as is_first_reason
from failed
left join reasons
    on reasons.reason_code = failed.reason_code
left join erp_prefixes
    on erp_prefixes.erp = failed.erp
left join connections
    on connections.connection_id = failed.connection_id
left join projects
    on projects.connection_id = failed.connection_id
    and projects.project_id = failed.project_id
