-- Every Procore WBS code with its segments by name: sub job, task, cost code, cost type.
-- The flat code cannot be split on '.' on every ERP: on Acumatica projects it leads with the
-- task (and sub job) and the cost code itself has a '.' (B1.02.03-100.000.LABOR, AC-4, AC-6,
-- AC-9). Segment names are Procore's (Sub Job, Task, Cost Code, Cost Type); a code without
-- segments keeps the flat code's first two parts as cost code and cost type (Xero and
-- NetSuite flat codes are cost code.cost type[.custom segments]).
with wbs_codes as (
    select * from {{ ref('stg_procore__wbs_codes') }}
),

segments as (
    select
        wbs_code_id,
        max(case when segment_name = 'Sub Job' then segment_code end) as sub_job,
        max(case when segment_name = 'Task' then segment_code end) as task,
        max(case when segment_name = 'Cost Code' then segment_code end) as cost_code,
        max(case when segment_name = 'Cost Type' then segment_code end) as cost_type,
        count(*) as segment_count
    from {{ ref('stg_procore__wbs_code_segments') }}
    group by wbs_code_id
)

select
    wbs_codes.wbs_code_id,
    wbs_codes.connection_id,
    wbs_codes.project_id,
    wbs_codes.wbs_code,
    segments.sub_job,
    segments.task,
    coalesce(segments.cost_code, wbs_codes.cost_code) as cost_code,
    coalesce(segments.cost_type, wbs_codes.cost_type) as cost_type,
    wbs_codes.description,
    wbs_codes.erp_item_ref,
    coalesce(segments.segment_count, 0) as segment_count,
    segments.sub_job is not null as has_sub_job,
    segments.task is not null as has_task
from wbs_codes
left join segments
    on segments.wbs_code_id = wbs_codes.wbs_code_id
