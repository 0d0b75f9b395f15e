{{ config(severity='error') }}
-- Conservation: every ERP source line lands in exactly one bucket of rpt_cost_line_balance,
-- to the cent, on every connection. dbt reports only a count of failing rows, so an
-- unbalanced connection raises an error that names it and its differences (in the filter:
-- an unused column would be optimised away, and with it the error).
select
    connection_id,
    erp,
    difference_lines,
    difference_amount
from {{ ref('rpt_cost_line_balance') }}
where case
    when difference_lines = 0 and difference_amount = 0 then false
    else error(
        'cost lines do not balance on connection ' || connection_id
        || ' (' || coalesce(erp, 'unknown ERP') || '): '
        || coalesce(cast(difference_lines as varchar), 'null') || ' line(s) and '
        || coalesce(cast(difference_amount as varchar), 'null')
        || ' between the ERP source lines and erp_cost_lines + int_cost_lines_excluded'
    ) is null
end
