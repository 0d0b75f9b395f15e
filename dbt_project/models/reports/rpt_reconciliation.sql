-- The reconciliation audit: one row per finding, Procore against its ERP (docs/reports.md).
-- Each connector's rules live in its own intermediate models; this is their union:
--   direct costs   int_direct_costs_matched, by ERP transaction: erp_only, procore_only,
--                  deleted_after_sync, voided_after_sync (C-7, NS-18), amount_differs,
--                  date_differs, vendor_differs (C-7)
--   payments       int_xero_payments_deleted_after_import (XE-10, C-7), inferred from Xero
--                  alone: Procore's payments are not read
--   vendors        int_<erp>_vendors_compared, one row per differing field (NS-10, AC-1,
--                  XE-6), saying whether the difference flows on the next sync or never will
--   projects       int_projects_unlinked_matched (C-4), with a suggested counterpart

with matched as (
    select * from {{ ref('int_direct_costs_matched') }}
),

connections as (
    select connection_id, erp from {{ ref('stg_ops__connections') }}
),

projects as (
    select project_id, project_number, project_name from {{ ref('stg_procore__projects') }}
),

-- ERP transaction by ERP transaction: Procore's side (its direct costs of it) and the ERP's
-- (the lines that would sync as direct costs)
transactions as (
    select
        connection_id,
        erp,
        erp_transaction_id,
        bool_or(is_in_procore) as is_in_procore,
        string_agg(distinct cast(direct_cost_id as varchar), ', ') as direct_cost_ids,
        min(procore_project_id) as procore_project_id,
        min(erp_project_id) as erp_project_id,
        sum(case when is_in_procore then procore_amount end) as procore_amount,
        coalesce(sum(case when is_direct_cost_in_erp then erp_amount end), 0) as erp_amount,
        max(erp_removal) as erp_removal,
        max(removal_rule_ids) as removal_rule_ids,
        max(erp_status) as erp_status,
        bool_or(is_erp_transaction_found) as is_erp_transaction_found,
        bool_or(match_status = 'erp_only') as has_erp_only_lines,
        min(procore_date) as procore_date,
        min(erp_date) as erp_date,
        min(procore_vendor_name) as procore_vendor_name,
        min(erp_vendor_id) as erp_vendor_id,
        min(erp_vendor_name) as erp_vendor_name,
        max(erp_updated_at) as erp_updated_at,
        max(erp_removed_at) as erp_removed_at,
        max(last_import_at) as last_import_at
    from matched
    group by connection_id, erp, erp_transaction_id
),

-- in Procore and still live in the ERP: the fields can be compared
live_in_both as (
    select * from transactions
    where is_in_procore and erp_removal is null and is_erp_transaction_found
),

direct_cost_findings as (
    select
        connection_id,
        erp,
        case erp_removal when 'deleted' then 'deleted_after_sync' else 'voided_after_sync' end
            as finding,
        removal_rule_ids as rule_ids,
        'error' as severity,
        procore_project_id as project_id,
        direct_cost_ids as procore_id,
        erp_transaction_id as erp_id,
        'status' as field,
        'approved' as procore_value,
        coalesce(erp_status, erp_removal) as erp_value,
        procore_amount as amount,
        'The ERP record was ' || erp_removal || ' after it synced'
            || coalesce(' (on ' || strftime(erp_removed_at, '%Y-%m-%d') || ')', '')
            || '; the connector does not propagate it, so Procore still shows the direct cost'
            || ' until someone deletes it by hand.' as detail
    from transactions
    where is_in_procore and erp_removal is not null

    union all

    select
        connection_id,
        erp,
        'procore_only',
        'C-7',
        'error',
        procore_project_id,
        direct_cost_ids,
        erp_transaction_id,
        null,
        null,
        null,
        procore_amount,
        'Procore shows a synced direct cost whose ERP record is nowhere in the ERP (not even'
            || ' as deleted or voided).'
    from transactions
    where is_in_procore and erp_removal is null and not is_erp_transaction_found

    union all

    select
        connection_id,
        erp,
        'erp_only',
        'C-7',
        'error',
        erp_project_id,
        null,
        erp_transaction_id,
        null,
        null,
        null,
        erp_amount,
        'A syncable ERP cost unchanged since '
            || coalesce(strftime(erp_updated_at, '%Y-%m-%d'), 'before the last import')
            || ', before Procore''s last import'
            || coalesce(' (' || strftime(last_import_at, '%Y-%m-%d') || ')', '')
            || ', is not among Procore''s direct costs (deleted in Procore by hand, or never'
            || ' imported).'
    from transactions
    where not is_in_procore and has_erp_only_lines

    union all

    select
        connection_id,
        erp,
        'amount_differs',
        'C-7',
        'error',
        procore_project_id,
        direct_cost_ids,
        erp_transaction_id,
        'amount',
        cast(procore_amount as varchar),
        cast(erp_amount as varchar),
        erp_amount - procore_amount,
        'The ERP amount (of the lines that sync) is ' || cast(erp_amount as varchar)
            || ', Procore''s ' || cast(procore_amount as varchar) || '; the ERP record changed '
            || case
                when erp_updated_at > last_import_at then 'after Procore''s last import.'
                else 'without Procore''s last import picking it up.'
            end
    from live_in_both
    where procore_amount <> erp_amount

    union all

    select
        connection_id,
        erp,
        'date_differs',
        'C-7',
        'warning',
        procore_project_id,
        direct_cost_ids,
        erp_transaction_id,
        'date',
        cast(procore_date as varchar),
        cast(erp_date as varchar),
        procore_amount,
        'The direct cost''s date differs from the ERP transaction''s date.'
    from live_in_both
    where procore_date is distinct from erp_date

    union all

    select
        connection_id,
        erp,
        'vendor_differs',
        'C-7',
        'warning',
        procore_project_id,
        direct_cost_ids,
        erp_transaction_id,
        'vendor',
        procore_vendor_name,
        erp_vendor_name,
        procore_amount,
        'The direct cost''s vendor differs from the ERP transaction''s vendor.'
    from live_in_both
    -- an ERP record without a vendor (a journal entry, payroll) has none to compare
    where erp_vendor_id is not null
        and lower(nullif(trim(procore_vendor_name), ''))
        is distinct from lower(nullif(trim(erp_vendor_name), ''))
),

payment_findings as (
    select
        payments.connection_id,
        connections.erp,
        'payment_deleted_after_import' as finding,
        'XE-10, C-7' as rule_ids,
        'error' as severity,
        payments.project_id,
        cast(payments.requisition_id as varchar) as procore_id,
        payments.payment_id as erp_id,
        'status' as field,
        'imported' as procore_value,
        payments.status as erp_value,
        payments.amount,
        'Payment ' || coalesce(payments.reference, payments.payment_id)
            || ' on subcontractor invoice ' || coalesce(payments.invoice_number, '?')
            || ' was deleted in Xero'
            || coalesce(' on ' || strftime(payments.deleted_at, '%Y-%m-%d'), '')
            || '; Procore keeps imported payments (XE-10): ask Procore support to delete it.'
            || ' Inferred from Xero: Procore''s payments are not read.' as detail
    from {{ ref('int_xero_payments_deleted_after_import') }} as payments
    inner join connections
        on connections.connection_id = payments.connection_id
),

{#- field: (procore column, ERP column, direction column) per connector -#}
{% set vendor_models = [
    ('acumatica', 'int_acumatica_vendors_compared', 'AC-1', [
        ('name', 'procore_name', 'acumatica_name', 'direction'),
        ('phone', 'procore_phone', 'acumatica_phone', 'direction'),
        ('address', "concat_ws(', ', procore_address_line1, procore_city)",
         "concat_ws(', ', acumatica_address_line1, acumatica_city)", 'direction')]),
    ('netsuite', 'int_netsuite_vendors_compared', 'NS-10', [
        ('name', 'procore_name', 'netsuite_name', 'direction'),
        ('phone', 'procore_phone', 'netsuite_phone', 'direction')]),
    ('xero', 'int_xero_vendors_compared', 'XE-6', [
        ('name', 'procore_name', 'xero_name', 'name_direction'),
        ('phone', 'procore_phone', 'xero_phone', 'phone_direction'),
        ('address', "concat_ws(', ', procore_address_line1, procore_city)",
         "concat_ws(', ', xero_address_line1, xero_city)", 'address_direction')]),
] %}
vendor_fields as (
    {%- for erp, model, rule, fields in vendor_models %}
    {%- set outer_loop = loop %}
    {%- for field, procore_value, erp_value, direction in fields %}
    select
        connection_id,
        '{{ erp }}' as erp,
        '{{ rule }}' as rule_ids,
        procore_vendor_id,
        vendor_id,
        '{{ field }}' as field,
        {{ procore_value }} as procore_value,
        {{ erp_value }} as erp_value,
        {{ direction }} as direction
    from {{ ref(model) }}
    where is_{{ field }}_different
    {% if not (outer_loop.last and loop.last) %}union all{% endif %}
    {%- endfor %}
    {%- endfor %}
),

vendor_findings as (
    select
        connection_id,
        erp,
        'vendor_drift' as finding,
        rule_ids,
        case when direction like 'flows_to_%' then 'info' else 'warning' end as severity,
        cast(null as bigint) as project_id,
        cast(procore_vendor_id as varchar) as procore_id,
        cast(vendor_id as varchar) as erp_id,
        field,
        procore_value,
        erp_value,
        cast(null as decimal(18, 2)) as amount,
        case
            when direction = 'flows_to_procore'
                then 'Changed in the ERP after Procore: flows to Procore on the next vendor'
                    || ' import (' || rule_ids || ').'
            when direction = 'flows_to_xero'
                then 'Changed in Procore after Xero: flows to Xero once the company is sent'
                    || ' again (Ready to Update) and accepted (' || rule_ids || ', C-3).'
            when direction = 'never_flows' and field = 'name'
                then 'Xero holds at most 41 characters of the name: the difference never'
                    || ' resolves (XE-6).'
            when direction = 'never_flows'
                then 'Address changes are not synced after linking, either way: it never'
                    || ' flows (XE-6); correct it on both sides.'
            else 'Changed in Procore after the ERP: Procore changes never reach the ERP ('
                || rule_ids || '); make the change in the ERP.'
        end as detail
    from vendor_fields
),

unlinked_projects as (
    select * from {{ ref('int_projects_unlinked_matched') }}
    -- an ERP project suggested for a Procore project is in that project's row
    where side = 'procore' or not is_suggested_for_a_procore_project
),

project_findings as (
    select
        unlinked_projects.connection_id,
        connections.erp,
        'project_unlinked' as finding,
        'C-4' as rule_ids,
        case
            when side = 'procore' or has_suggested_match then 'warning' else 'info'
        end as severity,
        unlinked_projects.project_id,
        cast(case
            when side = 'procore' then unlinked_projects.project_id
            when has_suggested_match then closest_project_id
        end as varchar) as procore_id,
        case
            when side = 'erp' then erp_project_ref
            when has_suggested_match then closest_erp_project_ref
        end as erp_id,
        'project' as field,
        case
            when side = 'procore' then concat_ws(' ', project_number, project_name)
            when has_suggested_match then concat_ws(' ', closest_project_number,
                closest_project_name)
        end as procore_value,
        case
            when side = 'erp' then concat_ws(' ', erp_project_number, erp_project_name)
            when has_suggested_match then concat_ws(' ', closest_erp_project_number,
                closest_erp_project_name)
        end as erp_value,
        cast(null as decimal(18, 2)) as amount,
        case
            when side = 'procore' then 'The Procore project is linked to no ERP project ('
                || unlinked_reason || ').'
            else 'The ERP project is linked to no Procore project.'
        end
            || ' C-4: projects in progress before the connection went live cannot be synced'
            || ' by the connector; an accountant can link them.'
            || case
                when not has_suggested_match and closest_score is not null
                    then ' Closest: ' || coalesce(closest_project_name, closest_erp_project_name)
                        || ' (' || cast(closest_score as varchar) || '), too unlike to suggest.'
                else ''
            end as detail,
        case
            when has_suggested_match and side = 'procore'
                then concat_ws(' ', closest_erp_project_number, closest_erp_project_name)
            when has_suggested_match
                then concat_ws(' ', closest_project_number, closest_project_name)
        end as suggested_match,
        case when has_suggested_match then closest_score end as confidence
    from unlinked_projects
    inner join connections
        on connections.connection_id = unlinked_projects.connection_id
),

findings as (
    select *, null as suggested_match, null as confidence from direct_cost_findings
    union all
    select *, null, null from payment_findings
    union all
    select *, null, null from vendor_findings
    union all
    select
        connection_id, erp, finding, rule_ids, severity, project_id, procore_id, erp_id, field,
        procore_value, erp_value, amount, detail, suggested_match, confidence
    from project_findings
)

select
    findings.connection_id,
    findings.erp,
    findings.finding,
    findings.rule_ids,
    findings.severity,
    case
        when findings.finding in ('vendor_drift') then 'vendor'
        when findings.finding = 'project_unlinked' then 'project'
        when findings.finding = 'payment_deleted_after_import' then 'payment'
        else 'direct_cost'
    end as entity,
    cast(findings.project_id as bigint) as project_id,
    projects.project_number,
    projects.project_name,
    cast(findings.procore_id as varchar) as procore_id,
    cast(findings.erp_id as varchar) as erp_id,
    cast(findings.field as varchar) as field,
    cast(findings.procore_value as varchar) as procore_value,
    cast(findings.erp_value as varchar) as erp_value,
    {{ money('findings.amount') }} as amount,
    cast(findings.suggested_match as varchar) as suggested_match,
    cast(findings.confidence as decimal(4, 2)) as confidence,
    cast(findings.detail as varchar) as detail
from findings
left join projects
    on projects.project_id = findings.project_id
