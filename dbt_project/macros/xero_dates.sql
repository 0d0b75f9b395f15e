{# Xero writes timestamps as /Date(<ms since epoch>[+hhmm])/; the milliseconds are UTC. #}
{% macro xero_timestamp(expr) -%}
    {{ return(adapter.dispatch('xero_timestamp', 'costbridge')(expr)) }}
{%- endmacro %}

{% macro default__xero_timestamp(expr) -%}
    {{ dbt.dateadd('millisecond',
        "cast(" ~ dbt.split_part(dbt.split_part(expr, "'('", 2), "')'", 1) ~ " as bigint)",
        "cast('1970-01-01 00:00:00' as timestamp)") }}
{%- endmacro %}

{% macro duckdb__xero_timestamp(expr) -%}
    make_timestamp(cast(regexp_extract({{ expr }}, '(-?\d+)', 1) as bigint) * 1000)
{%- endmacro %}

{# Xero's companion DateString is ISO (YYYY-MM-DDT00:00:00); its date part is the date. #}
{% macro xero_date(expr) -%}
    cast(substring({{ expr }}, 1, 10) as date)
{%- endmacro %}
