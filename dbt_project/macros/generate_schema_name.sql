{# Custom schemas are used as given (staging, intermediate, marts, reports), not prefixed
   with the target schema, so readers and the publisher find them by plain name. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
