{# A raw table as staging reads it: every column declared in the sources YAML, null where
   the table lacks it, and no rows where the table does not exist yet. dlt creates a table,
   and a column, only once a value arrives: an organisation with no credit notes yet, or a
   field no record has filled, must not break the build. #}
{% macro raw(source_name, table_name) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
                   | selectattr('name', 'equalto', table_name) | first -%}
    {%- set existing = adapter.get_relation(database=relation.database,
                                            schema=relation.schema,
                                            identifier=relation.identifier) -%}
    {%- set present = [] -%}
    {%- if existing -%}
        {%- for column in adapter.get_columns_in_relation(existing) -%}
            {%- do present.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    (
        select
        {%- for column in node.columns.values() %}
            {% if column.name in present -%}
                {{ adapter.quote(column.name) }}
            {%- else -%}
                cast(null as {{ column.data_type }})
            {%- endif %} as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
        {%- endfor %}
        {% if existing -%}
        from {{ relation }}
        {%- else -%}
        where 1 = 0
        {%- endif %}
    )
{% endmacro %}
