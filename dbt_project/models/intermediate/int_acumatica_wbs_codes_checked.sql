-- Each WBS code of a Procore project (not deleted) on an Acumatica connection, checked
-- against the Acumatica rules Procore enforces on export:
--   AC-5  no project-specific cost codes: every code comes from the imported Acumatica list
--         (AC-3: Procore's standard list, origin_id = CostCodeID)
--   AC-6  the WBS needs a Task segment (Acumatica Project Tasks)
--   AC-9  a sub job code also needs a main Task; its Acumatica task is 'SubJob - Task'
-- code_state is the first that applies: cost_code_off_list (AC-5), no_task_segment (AC-6),
-- else ok. Whether Acumatica has the code's task yet (is_task_in_acumatica) is noted only:
-- budget codes export when a line is added to the budget (AC-10), not before.
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'acumatica'
),

projects as (
    select projects.connection_id, projects.project_id, projects.project_number,
        projects.erp_project_ref
    from {{ ref('stg_procore__projects') }} as projects
    inner join connections
        on connections.connection_id = projects.connection_id
    where not projects.is_deleted
),

wbs_codes as (
    select * from {{ ref('int_procore_wbs_codes_segmented') }}
),

standard_cost_codes as (
    select connection_id, cost_code, min(erp_cost_code_ref) as erp_cost_code_ref
    from {{ ref('stg_procore__standard_cost_codes') }}
    where erp_cost_code_ref is not null
    group by connection_id, cost_code
),

tasks as (
    select distinct connection_id, project_id, project_task_id
    from {{ ref('stg_acumatica__project_tasks') }}
),

joined as (
    select
        wbs_codes.wbs_code_id,
        projects.connection_id,
        projects.project_id,
        projects.project_number,
        projects.erp_project_ref,
        wbs_codes.wbs_code,
        wbs_codes.sub_job,
        wbs_codes.task,
        wbs_codes.cost_code,
        wbs_codes.cost_type,
        wbs_codes.has_sub_job,
        wbs_codes.has_task,
        standard_cost_codes.erp_cost_code_ref,
        projects.erp_project_ref is not null as is_project_synced,
        standard_cost_codes.erp_cost_code_ref is not null as is_on_erp_list,
        -- AC-9: the Acumatica task a sub job code lands on
        case
            when wbs_codes.has_sub_job then wbs_codes.sub_job || ' - ' || wbs_codes.task
            else wbs_codes.task
        end as expected_project_task_id,
        tasks.project_task_id is not null as is_task_in_acumatica
    from wbs_codes
    inner join projects
        on projects.project_id = wbs_codes.project_id
    left join standard_cost_codes
        on standard_cost_codes.connection_id = projects.connection_id
        and standard_cost_codes.cost_code = wbs_codes.cost_code
    left join tasks
        on tasks.connection_id = projects.connection_id
        and tasks.project_id = projects.erp_project_ref
        and tasks.project_task_id
            = case
                when wbs_codes.has_sub_job then wbs_codes.sub_job || ' - ' || wbs_codes.task
                else wbs_codes.task
            end
)

select
    *,
    case
        when not is_on_erp_list then 'cost_code_off_list'
        when not has_task then 'no_task_segment'
        else 'ok'
    end as code_state
from joined
