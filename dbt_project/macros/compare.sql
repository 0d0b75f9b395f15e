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

{% macro linked_procore_vendors(erp) -%}
    {#- the Procore vendors of this ERP's connections that are linked to an ERP vendor -#}
    select vendors.*
    from {{ ref('stg_procore__vendors') }} as vendors
    inner join {{ ref('stg_ops__connections') }} as connections
        on connections.connection_id = vendors.connection_id
    where connections.erp = '{{ erp }}'
        and vendors.erp_vendor_ref is not null
{%- endmacro %}
