-- R-2: every reason code a line fails has its rule IDs and text in the seed
-- unsyncable_reasons; a code missing there would show in the report without its reason.
with used as (
    select distinct unnest(failed_reasons) as reason_code
    from {{ ref('erp_cost_lines') }}
)

select used.reason_code
from used
left join {{ ref('unsyncable_reasons') }} as seed
    on seed.reason_code = used.reason_code
where seed.reason_code is null
