{#- Field comparisons of one record held on two sides (vendor drift, NS-10, AC-1, XE-6). -#}

{% macro text_differs(a, b) -%}
    {#- trimmed text, a blank counting as no value -#}
    nullif(trim({{ a }}), '') is distinct from nullif(trim({{ b }}), '')
{%- endmacro %}

{% macro phone_differs(a, b) -%}
    {#- by digits only: the systems format phone numbers differently -#}
    nullif(regexp_replace(coalesce({{ a }}, ''), '[^0-9]', '', 'g'), '')
    is distinct from nullif(regexp_replace(coalesce({{ b }}, ''), '[^0-9]', '', 'g'), '')
{%- endmacro %}
