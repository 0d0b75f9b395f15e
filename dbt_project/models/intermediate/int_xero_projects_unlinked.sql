-- C-4, XE-5: a Xero project is an option of the connection's designated tracking category,
-- linked to a Procore project whose origin_id is the option's id. Projects that were in
-- progress before the connection went live cannot be synced by the connector, so they stay
-- unlinked until an accountant links them. One row per unlinked project on either side:
--   procore  a live Procore project with no origin_id (not_linked) or one that names no
--            option of the tracking category (option_not_found)
--   erp      an active option of the tracking category no live Procore project links to
-- Xero options have no number of their own: only names can be compared.
with connections as (
    select connection_id, tracking_category
    from {{ ref('stg_ops__connections') }}
    where erp = 'xero'
),

options as (
    select
        categories.connection_id,
        options.tracking_option_id,
        options.tracking_option_name,
        options.status
    from {{ ref('stg_xero__tracking_options') }} as options
    inner join {{ ref('stg_xero__tracking_categories') }} as categories
        on categories.tracking_category_id = options.tracking_category_id
    inner join connections
        on connections.connection_id = categories.connection_id
        and connections.tracking_category = categories.tracking_category_name
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
            else 'option_not_found'
        end as unlinked_reason
    from projects
    left join options
        on options.connection_id = projects.connection_id
        and lower(options.tracking_option_id) = lower(projects.erp_project_ref)
    where options.tracking_option_id is null
),

erp_side as (
    select
        options.connection_id,
        'erp' as side,
        cast(null as bigint) as project_id,
        cast(null as varchar) as project_number,
        cast(null as varchar) as project_name,
        options.tracking_option_id as erp_project_ref,
        cast(null as varchar) as erp_project_number,
        options.tracking_option_name as erp_project_name,
        'not_linked' as unlinked_reason
    from options
    left join projects
        on projects.connection_id = options.connection_id
        and lower(projects.erp_project_ref) = lower(options.tracking_option_id)
    where projects.project_id is null
        and options.status = 'ACTIVE'
)

select * from procore_side
union all
select * from erp_side
