{#- The import candidates (int_import_candidates, same columns as int_export_candidates_checked)
    to union into export_queue, once that model is built: dbt's parse-time graph is empty, so a
    ref() cannot be made conditional on the model existing. The relation is looked up when the
    mart runs; unit tests switch it off with the var exports_include_imports. -#}
{% macro exports_import_candidates(columns) -%}
    {%- if execute and var('exports_include_imports', true) -%}
        {%- set node = graph.nodes.values() | selectattr('name', 'equalto', 'int_import_candidates')
                       | first -%}
        {%- if node -%}
            {%- set relation = adapter.get_relation(database=node.database, schema=node.schema,
                                                    identifier=node.alias) -%}
            {%- if relation %}
    union all
    select {{ columns | join(', ') }} from {{ relation }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
