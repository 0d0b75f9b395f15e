-- C-4, AC-7: Acumatica projects are exported from Procore, which then carries the ProjectID
-- as origin_id (the ERP Job ID, normally the Procore project number). Projects that never
-- linked, one row per project on either side:
--   procore  a live Procore project with no origin_id (not_linked) or one that names no
--            loaded Acumatica project (project_not_found)
--   erp      an Acumatica project (not the non-project code X) that no live Procore
--            project links to
-- The ProjectID can match the Procore project number.
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'acumatica'
),

erp_projects as (
    select erp_projects.*
    from {{ ref('stg_acumatica__projects') }} as erp_projects
    inner join connections
        on connections.connection_id = erp_projects.connection_id
    where erp_projects.project_id <> 'X'
),

projects as (
    select projects.*
    from {{ ref('stg_procore__projects') }} as projects
    inner join connections
        on connections.connection_id = projects.connection_id
    where not projects.is_deleted
),

procore_side as (
    select
        projects.connection_id,
        'procore' as side,
        projects.project_id,
        projects.project_number,
        projects.project_name,
        projects.erp_project_ref,
        cast(null as varchar) as erp_project_number,
        cast(null as varchar) as erp_project_name,
        case
            when projects.erp_project_ref is null then 'not_linked'
            else 'project_not_found'
        end as unlinked_reason
    from projects
    left join erp_projects
        on erp_projects.connection_id = projects.connection_id
        and erp_projects.project_id = projects.erp_project_ref
    where erp_projects.project_id is null
),

erp_side as (
    select
        erp_projects.connection_id,
        'erp' as side,
        cast(null as bigint) as project_id,
        cast(null as varchar) as project_number,
        cast(null as varchar) as project_name,
        erp_projects.project_id as erp_project_ref,
        erp_projects.project_id as erp_project_number,
        erp_projects.project_description as erp_project_name,
        'not_linked' as unlinked_reason
    from erp_projects
    left join projects
        on projects.connection_id = erp_projects.connection_id
        and projects.erp_project_ref = erp_projects.project_id
    where projects.project_id is null
)

select * from procore_side
union all
select * from erp_side
