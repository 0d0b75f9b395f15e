-- R-5: Acumatica's own job cost summary. Each cost budget line (one per project, task, cost
-- code and account group) carries ActualAmount, the released cost Acumatica has posted to
-- it; here on the Procore project synced with its ProjectID and the Procore flat WBS code it
-- stands for: [sub job.]task.cost code.cost type, the cost code in Procore's form (AC-4) and
-- the task split into sub job and task (AC-9), as the classified lines build it.
with budgets as (
    select * from {{ ref('stg_acumatica__project_budgets') }}
    where budget_type = 'Expense'
),

projects as (
    select connection_id, project_id, erp_project_ref
    from {{ ref('stg_procore__projects') }}
    where not is_deleted and erp_project_ref is not null
),

coded as (
    select
        budgets.connection_id,
        budgets.project_id as erp_project_id,
        budgets.project_task_id as erp_task_id,
        budgets.cost_code_id as erp_cost_code_id,
        budgets.account_group,
        {{ acumatica_sub_job('budgets.project_task_id') }} as sub_job,
        {{ acumatica_main_task('budgets.project_task_id') }} as task,
        {{ acumatica_cost_code_display('budgets.cost_code_id') }} as cost_code,
        budgets.actual_amount
    from budgets
)

select
    coded.connection_id,
    projects.project_id,
    case when coded.sub_job is not null then coded.sub_job || '.' else '' end
        || coded.task || '.' || coded.cost_code || '.' || coded.account_group as wbs_code,
    coded.erp_project_id,
    coded.erp_task_id,
    coded.erp_cost_code_id,
    coded.account_group,
    coded.actual_amount
from coded
inner join projects
    on projects.connection_id = coded.connection_id
    and projects.erp_project_ref = coded.erp_project_id
