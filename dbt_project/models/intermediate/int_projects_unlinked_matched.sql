-- C-4: every project that never linked between Procore and its ERP (each connector's
-- int_<erp>_projects_unlinked), with the likeliest counterpart on the other side of the
-- same connection, so an accountant can link them (something the connectors cannot do).
-- Candidates are the other side's unlinked projects only. The score is 1 where the ERP
-- project's number equals the Procore project number (NetSuite job number, Acumatica
-- ProjectID), else the Jaro-Winkler similarity of the names (lower case, trimmed); names
-- whose digits differ (Tower 4, Tower 10) are different projects however alike the rest,
-- so their similarity counts 0.8 of itself. A counterpart is suggested, with its score as
-- confidence, only from min_confidence up; below that the closest one is still named.
{% set min_confidence = var('project_match_min_confidence', 0.9) %}
{% set columns = [
    'connection_id', 'side', 'project_id', 'project_number', 'project_name',
    'erp_project_ref', 'erp_project_number', 'erp_project_name', 'unlinked_reason'] %}

with unlinked as (
    select {{ columns | join(', ') }} from {{ ref('int_xero_projects_unlinked') }}
    union all
    select {{ columns | join(', ') }} from {{ ref('int_netsuite_projects_unlinked') }}
    union all
    select {{ columns | join(', ') }} from {{ ref('int_acumatica_projects_unlinked') }}
),

procore_side as (
    select * from unlinked where side = 'procore'
),

erp_side as (
    select * from unlinked where side = 'erp'
),

pairs as (
    select
        procore_side.connection_id,
        procore_side.project_id,
        erp_side.erp_project_ref,
        coalesce(
            lower(trim(procore_side.project_number)) = lower(trim(erp_side.erp_project_number)),
            false
        ) as is_number_match,
        jaro_winkler_similarity(
            lower(trim(procore_side.project_name)), lower(trim(erp_side.erp_project_name))
        ) as name_similarity,
        regexp_replace(procore_side.project_name, '[^0-9]', '', 'g')
            <> regexp_replace(erp_side.erp_project_name, '[^0-9]', '', 'g')
            as is_number_in_name_different
    from procore_side
    inner join erp_side
        on erp_side.connection_id = procore_side.connection_id
),

scored as (
    select
        *,
        case
            when is_number_match then 1.0
            when is_number_in_name_different then name_similarity * 0.8
            else name_similarity
        end as score
    from pairs
),

-- the best counterpart of each Procore project, and of each ERP project (ties: lowest id)
best_for_procore as (
    select connection_id, project_id, erp_project_ref, score
    from scored
    qualify row_number() over (
        partition by connection_id, project_id order by score desc, erp_project_ref
    ) = 1
),

best_for_erp as (
    select connection_id, project_id, erp_project_ref, score
    from scored
    qualify row_number() over (
        partition by connection_id, erp_project_ref order by score desc, project_id
    ) = 1
),

matched as (
    select
        unlinked.*,
        -- a Procore project's closest ERP project, an ERP project's closest Procore project
        best_for_procore.erp_project_ref as closest_erp_project_ref,
        best_for_erp.project_id as closest_project_id,
        coalesce(best_for_procore.score, best_for_erp.score) as closest_score
    from unlinked
    left join best_for_procore
        on unlinked.side = 'procore'
        and best_for_procore.connection_id = unlinked.connection_id
        and best_for_procore.project_id = unlinked.project_id
    left join best_for_erp
        on unlinked.side = 'erp'
        and best_for_erp.connection_id = unlinked.connection_id
        and best_for_erp.erp_project_ref = unlinked.erp_project_ref
),

-- ERP projects already suggested for a Procore project
suggested_erp_projects as (
    select distinct connection_id, erp_project_ref
    from best_for_procore
    where score >= {{ min_confidence }}
),

named as (
    select
        matched.*,
        closest_projects.project_number as closest_project_number,
        closest_projects.project_name as closest_project_name,
        closest_erp_projects.erp_project_number as closest_erp_project_number,
        closest_erp_projects.erp_project_name as closest_erp_project_name,
        matched.side = 'erp' and suggested_erp_projects.erp_project_ref is not null
            as is_suggested_for_a_procore_project
    from matched
    left join procore_side as closest_projects
        on closest_projects.connection_id = matched.connection_id
        and closest_projects.project_id = matched.closest_project_id
    left join erp_side as closest_erp_projects
        on closest_erp_projects.connection_id = matched.connection_id
        and closest_erp_projects.erp_project_ref = matched.closest_erp_project_ref
    left join suggested_erp_projects
        on suggested_erp_projects.connection_id = matched.connection_id
        and suggested_erp_projects.erp_project_ref = matched.erp_project_ref
)

select
    connection_id,
    side,
    project_id,
    project_number,
    project_name,
    erp_project_ref,
    erp_project_number,
    erp_project_name,
    unlinked_reason,
    closest_project_id,
    closest_project_number,
    closest_project_name,
    closest_erp_project_ref,
    closest_erp_project_number,
    closest_erp_project_name,
    cast(round(closest_score, 2) as decimal(4, 2)) as closest_score,
    coalesce(closest_score >= {{ min_confidence }}, false) as has_suggested_match,
    -- the ERP project is the suggested match of a Procore project (one finding for both)
    is_suggested_for_a_procore_project
from named
