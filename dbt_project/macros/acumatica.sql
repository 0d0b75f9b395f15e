{# AC-4: Procore shows an imported Acumatica cost code as division, dash, then the rest:
   Acumatica 10600.000 shows as 10-600.000 (the division is the first two characters). #}
{% macro acumatica_cost_code_display(expr) -%}
    case
        when {{ expr }} is not null
            then substring({{ expr }}, 1, 2) || '-' || substring({{ expr }}, 3)
    end
{%- endmacro %}

{# AC-9: a sub job's Project Task is 'SubJobID - TaskID' (B1 - 02); a plain task has no
   ' - '. The sub job part (null on a plain task) and the main task part. #}
{% macro acumatica_sub_job(expr) -%}
    case
        when {{ dbt.position("' - '", expr) }} > 0
            then trim(substring({{ expr }}, 1, {{ dbt.position("' - '", expr) }} - 1))
    end
{%- endmacro %}

{% macro acumatica_main_task(expr) -%}
    case
        when {{ dbt.position("' - '", expr) }} > 0
            then trim(substring({{ expr }}, {{ dbt.position("' - '", expr) }} + 3))
        else trim({{ expr }})
    end
{%- endmacro %}
