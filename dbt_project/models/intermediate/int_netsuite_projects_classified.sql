-- Every Procore project of a NetSuite connection (not deleted), and whether it is synced: its
-- origin_id is the internal id of a NetSuite job that is not a sub job. A project that is not
-- gets the first reason that applies:
--   sub_job_not_supported           NS-6: it is linked to a sub job
--   job_not_found                   it carries a NetSuite id that no loaded job has (the job
--                                   was deleted in NetSuite, or is not extracted yet)
--   cost_code_list_single_tier      NS-5: the connection's cost code list has a single tier,
--                                   so no project can be exported
--   not_on_standard_cost_code_list  NS-9: a project must use the NetSuite standard cost
--                                   code list to be exported
--   not_linked                      C-4: otherwise never exported or linked (a project that
--                                   predates the connection cannot be synced by the connector)
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'netsuite'
),

projects as (
    select projects.*
    from {{ ref('stg_procore__projects') }} as projects
    inner join connections
        on connections.connection_id = projects.connection_id
    where not projects.is_deleted
),

jobs as (
    select connection_id, job_id, job_number, job_name, parent_job_id
    from {{ ref('stg_netsuite__jobs') }}
),

tiers as (
    select connection_id, is_single_tier from {{ ref('int_netsuite_cost_code_tiers') }}
),

joined as (
    select
        projects.project_id,
        projects.connection_id,
        projects.project_number,
        projects.project_name,
        projects.erp_project_ref,
        jobs.job_id,
        jobs.job_number,
        jobs.job_name,
        projects.is_active,
        projects.uses_standard_cost_code_list,
        jobs.parent_job_id is not null as is_sub_job,
        coalesce(tiers.is_single_tier, false) as is_cost_code_list_single_tier,
        jobs.job_id is not null and jobs.parent_job_id is null as is_synced
    from projects
    left join jobs
        on jobs.connection_id = projects.connection_id
        and cast(jobs.job_id as varchar) = projects.erp_project_ref
    left join tiers
        on tiers.connection_id = projects.connection_id
)

select
    *,
    case
        when is_synced then null
        when is_sub_job then 'sub_job_not_supported'
        when erp_project_ref is not null and job_id is null then 'job_not_found'
        when is_cost_code_list_single_tier then 'cost_code_list_single_tier'
        when not uses_standard_cost_code_list then 'not_on_standard_cost_code_list'
        else 'not_linked'
    end as unsynced_reason
from joined
