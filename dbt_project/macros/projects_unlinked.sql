{#- C-4: projects that never linked, one row per project on either side. The calling model
    defines the CTEs `projects` (live Procore projects of its connections) and `erp_projects`
    (connection_id, erp_project_ref, erp_project_number, erp_project_name, is_active); a
    Procore project links to an ERP project by origin_id = erp_project_ref (case-insensitive).
      procore  a live Procore project with no origin_id (not_linked) or one that names no
               loaded ERP project (`not_found_reason`)
      erp      an active ERP project no live Procore project links to (not_linked) -#}
{% macro projects_unlinked(not_found_reason) %}
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
            else '{{ not_found_reason }}'
        end as unlinked_reason
    from projects
    left join erp_projects
        on erp_projects.connection_id = projects.connection_id
        and lower(erp_projects.erp_project_ref) = lower(projects.erp_project_ref)
    where erp_projects.erp_project_ref is null
),

erp_side as (
    select
        erp_projects.connection_id,
        'erp' as side,
        cast(null as bigint) as project_id,
        cast(null as varchar) as project_number,
        cast(null as varchar) as project_name,
        erp_projects.erp_project_ref,
        erp_projects.erp_project_number,
        erp_projects.erp_project_name,
        'not_linked' as unlinked_reason
    from erp_projects
    left join projects
        on projects.connection_id = erp_projects.connection_id
        and lower(projects.erp_project_ref) = lower(erp_projects.erp_project_ref)
    where projects.project_id is null
        and erp_projects.is_active
)

select * from procore_side
union all
select * from erp_side
{% endmacro %}
