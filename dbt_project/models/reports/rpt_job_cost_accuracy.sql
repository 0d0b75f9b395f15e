-- R-5: the job cost accuracy check. Per budget line, Procore's synced direct cost lines (live,
-- approved, types invoice, expense, payroll, subcontractor invoice) beside the ERP's job cost
-- summary; any difference is a finding. One row per (connection, project, WBS code) with a
-- budget line, a job cost or a synced direct cost. difference = synced direct costs − ERP
-- JTD cost, split into its known parts: every line of int_direct_costs_matched counts +its
-- Procore amount and −its ERP JTD amount, each on its own row, under the line's cause
-- (credit_notes_not_in_jtd XE-12; commitment_invoiced_not_direct_cost NS-16;
-- pending_import; deleted_or_voided_after_sync C-7, NS-18; changed_after_sync), or under
-- unexplained. The parts are summed from the lines, the difference from the job_costs mart,
-- so that they add up is a test of the match, not arithmetic.
{% set causes = [
    'credit_notes_not_in_jtd', 'commitment_invoiced_not_direct_cost', 'pending_import',
    'deleted_or_voided_after_sync', 'changed_after_sync'] %}

with matched as (
    select * from {{ ref('int_direct_costs_matched') }}
),

-- each line's two legs: Procore's amount on the row Procore counts it in, the ERP's JTD
-- amount (negated) on the row the ERP counts it in
legs as (
    select
        connection_id,
        project_id,
        wbs_code,
        procore_amount as amount,
        procore_line_count as procore_lines,
        procore_amount as synced_amount,
        accuracy_cause
    from matched
    where is_in_procore

    union all

    select
        connection_id,
        erp_project_id as project_id,
        erp_wbs_code as wbs_code,
        -erp_jtd_amount as amount,
        0 as procore_lines,
        0 as synced_amount,
        accuracy_cause
    from matched
    where counts_in_jtd
),

parts as (
    select
        connection_id,
        project_id,
        wbs_code,
        sum(synced_amount) as synced_direct_costs,
        sum(procore_lines) as synced_direct_cost_lines,
        {%- for cause in causes %}
        sum(case when accuracy_cause = '{{ cause }}' then amount else 0 end) as {{ cause }},
        {%- endfor %}
        sum(case when accuracy_cause is null then amount else 0 end) as unexplained
    from legs
    group by connection_id, project_id, wbs_code
),

budget as (
    select connection_id, project_id, wbs_code, min(description) as description
    from {{ ref('stg_procore__budget_line_items') }}
    group by connection_id, project_id, wbs_code
),

job_costs as (
    select connection_id, project_id, wbs_code, jtd_cost from {{ ref('job_costs') }}
),

-- AC-21: Acumatica's own summary, the budget line's ActualAmount
reported_actuals as (
    select connection_id, project_id, wbs_code, actual_amount
    from {{ ref('int_acumatica_budget_actuals_mapped') }}
),

row_keys as (
    select connection_id, project_id, wbs_code from budget
    union
    select connection_id, project_id, wbs_code from job_costs
    union
    select connection_id, project_id, wbs_code from parts
),

projects as (
    select project_id, project_number, project_name from {{ ref('stg_procore__projects') }}
),

wbs_codes as (
    select project_id, wbs_code, min(description) as description
    from {{ ref('stg_procore__wbs_codes') }}
    group by project_id, wbs_code
),

connections as (
    select connection_id, erp from {{ ref('stg_ops__connections') }}
),

compared as (
    select
        row_keys.connection_id,
        connections.erp,
        row_keys.project_id,
        projects.project_number,
        projects.project_name,
        row_keys.wbs_code,
        coalesce(budget.description, wbs_codes.description) as description,
        {{ money('coalesce(job_costs.jtd_cost, 0)') }} as erp_job_to_date_costs,
        {{ money('reported_actuals.actual_amount') }} as erp_reported_actual,
        {{ money('coalesce(parts.synced_direct_costs, 0)') }} as synced_direct_costs,
        cast(coalesce(parts.synced_direct_cost_lines, 0) as bigint) as synced_direct_cost_lines,
        {{ money('coalesce(parts.synced_direct_costs, 0) - coalesce(job_costs.jtd_cost, 0)') }}
            as difference,
        {%- for cause in causes %}
        {{ money('coalesce(parts.' ~ cause ~ ', 0)') }} as {{ cause }},
        {%- endfor %}
        {{ money('coalesce(parts.unexplained, 0)') }} as unexplained
    from row_keys
    inner join connections
        on connections.connection_id = row_keys.connection_id
    left join budget
        on budget.connection_id = row_keys.connection_id
        and budget.project_id = row_keys.project_id
        and budget.wbs_code is not distinct from row_keys.wbs_code
    left join job_costs
        on job_costs.connection_id = row_keys.connection_id
        and job_costs.project_id = row_keys.project_id
        and job_costs.wbs_code is not distinct from row_keys.wbs_code
    left join parts
        on parts.connection_id = row_keys.connection_id
        and parts.project_id = row_keys.project_id
        and parts.wbs_code is not distinct from row_keys.wbs_code
    left join reported_actuals
        on reported_actuals.connection_id = row_keys.connection_id
        and reported_actuals.project_id = row_keys.project_id
        and reported_actuals.wbs_code = row_keys.wbs_code
    left join projects
        on projects.project_id = row_keys.project_id
    left join wbs_codes
        on wbs_codes.project_id = row_keys.project_id
        and wbs_codes.wbs_code = row_keys.wbs_code
)

select
    *,
    case
        when difference <> 0 then coalesce(nullif(concat_ws(', ',
            {%- for cause in causes %}
            case when {{ cause }} <> 0 then '{{ cause }}' end,
            {%- endfor %}
            case when unexplained <> 0 then 'unexplained' end
        ), ''), 'unexplained')
    end as causes,
    difference <> 0 as is_finding
from compared
