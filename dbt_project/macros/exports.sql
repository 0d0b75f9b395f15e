{#- Building blocks of the export candidates (docs/exports.md §2-§6). Every candidate select
    ends in exports_candidate(), so the per-ERP models union without surprises. -#}

{#- A preflight finding (§6) when `condition` holds, else null; `message` is a SQL expression
    naming the record and the value at fault. -#}
{% macro exports_finding(rule_id, severity, code, message, condition) -%}
    case when {{ condition }} then {
        'rule_id': '{{ rule_id }}', 'severity': '{{ severity }}', 'code': '{{ code }}',
        'message': cast({{ message }} as varchar)
    } end
{%- endmacro %}

{% macro exports_findings_type() -%}
    struct(rule_id varchar, severity varchar, code varchar, message varchar)[]
{%- endmacro %}

{#- The findings that apply, in the order given; an empty list when none does. -#}
{% macro exports_findings(findings) -%}
    {%- if findings | length == 0 -%}
        cast([] as {{ exports_findings_type() }})
    {%- else -%}
        cast(list_filter([
            {{ findings | join(',\n            ') }}
        ], lambda finding: finding is not null) as {{ exports_findings_type() }})
    {%- endif -%}
{%- endmacro %}

{#- Keys in a fixed order and lists ordered, so the same data always gives the same text and
    hash (§2); money is DECIMAL(18,2), a JSON number with two decimals. -#}
{% macro exports_document(struct_sql) -%}
    cast(to_json({{ struct_sql }}) as varchar)
{%- endmacro %}

{#- The Procore projects of this ERP's connections, with each project's reference as it goes
    into a document. -#}
{% macro exports_projects(erp) -%}
    select
        projects.*,
        connections.tracking_category,
        {
            'project_id': projects.project_id,
            'project_number': projects.project_number,
            'name': projects.project_name,
            'erp_ref': projects.erp_project_ref
        } as project_ref
    from {{ ref('stg_procore__projects') }} as projects
    inner join {{ ref('stg_ops__connections') }} as connections
        on connections.connection_id = projects.connection_id
    where connections.erp = '{{ erp }}'
{%- endmacro %}

{% macro exports_vendors(erp) -%}
    select
        vendors.*,
        {
            'vendor_id': vendors.vendor_id,
            'name': vendors.vendor_name,
            'erp_ref': vendors.erp_vendor_ref
        } as vendor_ref
    from {{ ref('stg_procore__vendors') }} as vendors
    inner join {{ ref('stg_ops__connections') }} as connections
        on connections.connection_id = vendors.connection_id
    where connections.erp = '{{ erp }}'
{%- endmacro %}

{#- The ERP's own vendor names per connection (lower case), to catch a Procore company that
    would be exported as a second vendor of a name the ERP already has. -#}
{% macro exports_erp_vendor_names(erp) -%}
    {%- if erp == 'xero' -%}
    select connection_id, lower(contact_name) as name_key, min(contact_id) as erp_vendor_id
    from {{ ref('stg_xero__contacts') }}
    where coalesce(contact_status, 'ACTIVE') = 'ACTIVE'
    {%- elif erp == 'netsuite' -%}
    select connection_id, lower(vendor_name) as name_key, min(cast(vendor_id as varchar))
        as erp_vendor_id
    from {{ ref('stg_netsuite__vendors') }}
    {%- else -%}
    select connection_id, lower(vendor_name) as name_key, min(vendor_id) as erp_vendor_id
    from {{ ref('stg_acumatica__vendors') }}
    {%- endif %}
    group by all
{%- endmacro %}

{#- WBS codes with their cost code, cost type and task from the named segments: an Acumatica
    flat code is task.code.type and its code holds a dot (01.03-102.000.SUBCON, AC-4/AC-6),
    so splitting the flat code does not give them. -#}
{% macro exports_wbs_codes() -%}
    select
        wbs.connection_id,
        wbs.project_id,
        wbs.wbs_code_id,
        wbs.wbs_code,
        coalesce(segments.cost_code, wbs.cost_code) as cost_code,
        coalesce(segments.cost_type, wbs.cost_type) as cost_type,
        segments.task,
        wbs.description,
        wbs.status,
        wbs.erp_item_ref,
        wbs.updated_at
    from {{ ref('stg_procore__wbs_codes') }} as wbs
    left join (
        select
            wbs_code_id,
            max(case when segment_name = 'Cost Code' then segment_code end) as cost_code,
            max(case when segment_name = 'Cost Type' then segment_code end) as cost_type,
            -- AC-9: a sub job's task is the Acumatica Project Task `SubJobID - TaskID`
            coalesce(max(case when segment_name = 'Sub Job' then segment_code end) || ' - ', '')
                || max(case when segment_name = 'Task' then segment_code end) as task
        from {{ ref('stg_procore__wbs_code_segments') }}
        group by wbs_code_id
    ) as segments
        on segments.wbs_code_id = wbs.wbs_code_id
{%- endmacro %}

{#- The ERP item of each project WBS code, as a line on that project names it (flat code).
    Xero items are company-level, one per cost code + cost type (XE-4): a code is synced when
    any project's WBS code of that flat code is. NetSuite and Acumatica: the project's own WBS
    code (NS-3 project-specific items; AC-10 budget codes per project). -#}
{% macro exports_line_items(erp) -%}
    select
        *,
        {%- if erp == 'xero' %}
        max(erp_item_ref) over (partition by connection_id, wbs_code) as item_erp_ref
        {%- else %}
        erp_item_ref as item_erp_ref
        {%- endif %}
    from ({{ exports_wbs_codes() }}) as wbs
{%- endmacro %}

{#- The columns every candidate select ends with, in the order the union needs. -#}
{% macro exports_candidate(erp, item_type, procore_id, procore_project_id, label, amount,
                           origin_ref, is_archived, document, findings, updated_at) -%}
        connection_id,
        '{{ erp }}' as erp,
        '{{ item_type }}' as item_type,
        cast({{ procore_id }} as bigint) as procore_id,
        cast({{ procore_project_id }} as bigint) as procore_project_id,
        cast({{ label }} as varchar) as label,
        cast({{ amount }} as decimal(18, 2)) as amount,
        cast({{ origin_ref }} as varchar) as origin_ref,
        coalesce({{ is_archived }}, false) as is_archived,
        {{ exports_document(document) }} as document,
        {{ findings }} as findings,
        -- '<rule_id> <code>' per finding: what the unit tests compare
        list_transform({{ findings }}, lambda finding: finding.rule_id || ' ' || finding.code)
            as finding_codes,
        cast({{ updated_at }} as timestamp) as updated_at
{%- endmacro %}
