-- NS-5: single-tier cost codes are not supported; the NetSuite standard cost code list must
-- have two or more tiers. Procore joins a cost code's tiers with '-' (03-100), so a
-- connection's list is single tier when it has cost codes and none of them has a '-'. A
-- connection with no cost codes yet is not judged: nothing could be coded to it anyway.
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'netsuite'
),

cost_codes as (
    select
        connection_id,
        count(distinct cost_code) as cost_code_count,
        count(distinct case when cost_code like '%-%' then cost_code end)
            as multi_tier_cost_code_count
    from {{ ref('stg_procore__wbs_codes') }}
    where cost_code is not null and cost_code <> ''
    group by connection_id
)

select
    connections.connection_id,
    coalesce(cost_codes.cost_code_count, 0) as cost_code_count,
    coalesce(cost_codes.multi_tier_cost_code_count, 0) as multi_tier_cost_code_count,
    coalesce(cost_codes.cost_code_count, 0) > 0
        and coalesce(cost_codes.multi_tier_cost_code_count, 0) = 0
        as is_single_tier
from connections
left join cost_codes
    on cost_codes.connection_id = connections.connection_id
