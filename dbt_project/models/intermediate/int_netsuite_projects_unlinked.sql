-- C-4: projects that never linked between Procore and NetSuite, one row per project on
-- either side:
--   procore  a live Procore project that is not synced (int_netsuite_projects_classified:
--            not_linked, job_not_found, and those NS-5 or NS-9 keep from being exported);
--            a project linked to a sub job is left to NS-6 (rpt_erp_unsupported)
--   erp      a NetSuite job that is not a sub job (NS-6: sub jobs do not sync) and that no
--            live Procore project links to (origin_id = the job's internal id)
-- A NetSuite job's number (entityid) can match the Procore project number.
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'netsuite'
),

classified as (
    select * from {{ ref('int_netsuite_projects_classified') }}
),

linked as (
    select distinct projects.connection_id, projects.erp_project_ref
    from {{ ref('stg_procore__projects') }} as projects
    where not projects.is_deleted and projects.erp_project_ref is not null
),

jobs as (
    select jobs.*
    from {{ ref('stg_netsuite__jobs') }} as jobs
    inner join connections
        on connections.connection_id = jobs.connection_id
    where jobs.parent_job_id is null
),

procore_side as (
    select
        connection_id,
        'procore' as side,
        project_id,
        project_number,
        project_name,
        erp_project_ref,
        cast(null as varchar) as erp_project_number,
        cast(null as varchar) as erp_project_name,
        unsynced_reason as unlinked_reason
    from classified
    where unsynced_reason is not null
        and unsynced_reason <> 'sub_job_not_supported'
),

erp_side as (
    select
        jobs.connection_id,
        'erp' as side,
        cast(null as bigint) as project_id,
        cast(null as varchar) as project_number,
        cast(null as varchar) as project_name,
        cast(jobs.job_id as varchar) as erp_project_ref,
        jobs.job_number as erp_project_number,
        jobs.job_name as erp_project_name,
        'not_linked' as unlinked_reason
    from jobs
    left join linked
        on linked.connection_id = jobs.connection_id
        and linked.erp_project_ref = cast(jobs.job_id as varchar)
    where linked.erp_project_ref is null
)

select * from procore_side
union all
select * from erp_side
