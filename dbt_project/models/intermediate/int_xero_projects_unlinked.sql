-- C-4, XE-5: a Xero project is an option of the connection's designated tracking category,
-- linked to a Procore project whose origin_id is the option's id. Projects that were in
-- progress before the connection went live cannot be synced by the connector, so they stay
-- unlinked until an accountant links them (macro projects_unlinked: one row per unlinked
-- project on either side; a Procore origin_id naming no option is option_not_found; only
-- active options count on the Xero side). Xero options have no number of their own: only
-- names can be compared.
with connections as (
    select connection_id, tracking_category
    from {{ ref('stg_ops__connections') }}
    where erp = 'xero'
),

erp_projects as (
    select
        categories.connection_id,
        options.tracking_option_id as erp_project_ref,
        cast(null as varchar) as erp_project_number,
        options.tracking_option_name as erp_project_name,
        options.status = 'ACTIVE' as is_active
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

{{ projects_unlinked('option_not_found') }}
