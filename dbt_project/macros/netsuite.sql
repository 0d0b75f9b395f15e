{# NetSuite sends booleans as 'T'/'F' text. Anything but 'T' is false (a flag no record has
   filled yet reads as null, which means the default 'F'); a loader that already typed the
   column as boolean reads the same. #}
{% macro netsuite_flag(expr) -%}
    coalesce(upper(cast({{ expr }} as varchar)) in ('T', 'TRUE'), false)
{%- endmacro %}
