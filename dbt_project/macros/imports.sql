{#- Shared pieces of the import candidates (ERP -> Procore, docs/exports.md §2-§4). -#}

{% macro import_no_findings() -%}
    {#- an empty, typed findings list: imports rarely have preflight findings -#}
    {{ exports_findings([]) }}
{%- endmacro %}

{% macro import_candidate_columns() -%}
    {#- the column list every import piece selects, in the export side's order -#}
    connection_id, erp, direction, item_type, item_key, procore_id, procore_project_id, label,
    amount, erp_ref, is_synced, is_archived, document, payload_hash, findings, is_blocked,
    updated_at
{%- endmacro %}

{% macro import_candidate_tail(document) -%}
    {#- document text, its hash and the findings columns, from a struct expression -#}
    to_json({{ document }})::varchar as document,
    sha256(to_json({{ document }})::varchar) as payload_hash
{%- endmacro %}
