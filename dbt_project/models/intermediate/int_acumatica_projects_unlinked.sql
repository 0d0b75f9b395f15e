-- C-4, AC-7: Acumatica projects are exported from Procore, which then carries the ProjectID
-- as origin_id (the ERP Job ID, normally the Procore project number). Projects that never
-- linked (macro projects_unlinked: one row per project on either side; a Procore origin_id
-- naming no loaded Acumatica project is project_not_found; the non-project code X is no
-- project). The ProjectID can match the Procore project number.
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'acumatica'
),

erp_projects as (
    select
        erp_projects.connection_id,
        erp_projects.project_id as erp_project_ref,
        erp_projects.project_id as erp_project_number,
        erp_projects.project_description as erp_project_name,
        true as is_active
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

{{ projects_unlinked('project_not_found') }}
