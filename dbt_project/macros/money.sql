{# Money is DECIMAL end to end; one place says which. #}
{% macro money(expr) -%}
    cast({{ expr }} as decimal(18, 2))
{%- endmacro %}

{% macro quantity(expr) -%}
    cast({{ expr }} as decimal(18, 4))
{%- endmacro %}
