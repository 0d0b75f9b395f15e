{#- One select per item type (docs/exports.md §3, §4), parametrised by ERP; the per-ERP
    candidate models union the ones their ERP supports. Each select reads one flat subquery
    (`items`), so the document and the findings name its columns unqualified. Findings per §6;
    a rule that differs by ERP names the ERP's rule ID. -#}

{#- company: Xero Contact (XE-6), NetSuite vendor (NS-10), Acumatica Vendor (AC-13). AC-13:
    the approver types the ERP Vendor ID at export; the queue proposes 'PC' || the Procore
    company id (unique per connection, within Acumatica's key length) for the approver to keep
    or change. -#}
{% macro exports_companies(erp) -%}
    {#- XE-6 (Xero refuses a second contact of a name), NS-10 (link at import to an existing
        company), AC-13 (link existing vendors first): an unlinked company whose name the ERP
        already has is linked, not exported. -#}
    {%- set exists_rule = {'xero': 'XE-6', 'netsuite': 'NS-10', 'acumatica': 'AC-13'}[erp] -%}
    {%- set checks = [exports_finding(exists_rule, 'error', 'company_exists_in_erp',
        "'Company ' || vendor_name || ': the ERP already has a vendor of that name ('
         || existing_erp_vendor_id || '): link the company to it instead of exporting it'",
        'erp_vendor_ref is null and existing_erp_vendor_id is not null')] -%}
    {%- if erp == 'xero' -%}
        {%- do checks.append(exports_finding('XE-6', 'error', 'contact_name_too_long',
            "'Company ' || vendor_name || ': the name has ' || length(vendor_name)
             || ' characters, a Xero contact name at most 41'",
            'length(vendor_name) > 41')) -%}
    {%- endif -%}
    select
        {{ exports_candidate(
            erp, 'company', 'vendor_id', 'null', 'vendor_name', 'null', 'erp_vendor_ref',
            'not is_active',
            "{
                'vendor_id': vendor_id,
                'name': vendor_name,
                'address': address,
                'city': city,
                'state_code': state_code,
                'postal_code': postal_code,
                'phone': business_phone,
                'is_active': is_active,
                'erp_vendor_id': " ~ ("'PC' || vendor_id" if erp == 'acumatica'
                                       else 'cast(null as varchar)') ~ "
            }",
            exports_findings(checks), 'updated_at') }}
    from (
        select vendors.*, existing.erp_vendor_id as existing_erp_vendor_id
        from ({{ exports_vendors(erp) }}) as vendors
        left join ({{ exports_erp_vendor_names(erp) }}) as existing
            on existing.connection_id = vendors.connection_id
            and existing.name_key = lower(vendors.vendor_name)
    ) as items
{%- endmacro %}

{#- project: Xero tracking option (XE-5), NetSuite job (NS-11), Acumatica Project (AC-7).
    AC-7: the ERP Job ID is the project number with every character other than letters,
    digits, `. -$,` and space removed. C-4: a project with a suggested ERP match predates
    the connection; it is linked, never exported. -#}
{% macro exports_project_items(erp) -%}
    {%- set job_id = "regexp_replace(coalesce(project_number, ''), '[^A-Za-z0-9. $,-]', '', 'g')"
        if erp == 'acumatica' else 'project_number' -%}
    {%- set not_standard_rule = {'xero': 'XE-5', 'netsuite': 'NS-9'} -%}
    {%- set checks = [
        exports_finding('C-4', 'error', 'project_existed_before_go_live',
            "'Project ' || project_number || ' ' || project_name
             || ' existed before the connection went live: link it to ERP project '
             || coalesce(closest_erp_project_number, closest_erp_project_ref) || ' '
             || coalesce(closest_erp_project_name, '') || ' instead of exporting it'",
            'has_suggested_match')] -%}
    {%- if erp == 'netsuite' -%}
        {%- do checks.append(exports_finding('NS-5', 'error', 'cost_code_list_single_tier',
            "'Project ' || project_number || ': the connection''s cost code list has a single
             tier (' || cost_code_count || ' cost codes, none with two tiers)'",
            'is_single_tier')) -%}
    {%- endif -%}
    {%- if erp in not_standard_rule -%}
        {%- do checks.append(exports_finding(not_standard_rule[erp], 'error',
            'not_standard_cost_code_list',
            "'Project ' || project_number || ' does not use the ERP standard cost code list'",
            'not uses_standard_cost_code_list')) -%}
    {%- endif -%}
    {%- if erp == 'acumatica' -%}
        {%- do checks.extend([
            exports_finding('AC-7', 'error', 'project_not_active',
                "'Project ' || project_number || ' is not active'", 'not is_active'),
            exports_finding('AC-7', 'error', 'job_id_invalid',
                "'Project ' || project_id || ': nothing of the project number '''
                 || coalesce(project_number, '')
                 || ''' is left for the ERP Job ID (letters, digits, . - $ , and space only)'",
                job_id ~ " = ''"),
            exports_finding('AC-7', 'warning', 'project_name_truncated',
                "'Project ' || project_number || ': the name ''' || project_name || ''' has '
                 || length(project_name) || ' characters; Acumatica keeps the first 30'",
                'length(project_name) > 30'),
            exports_finding('AC-7', 'warning', 'address_commas',
                "'Project ' || project_number || ': the address ''' || address
                 || ''' has commas; Acumatica takes none'",
                "address like '%,%'")]) -%}
    {%- endif -%}
    select
        {{ exports_candidate(
            erp, 'project', 'project_id', 'project_id',
            "project_number || ' – ' || project_name", 'null', 'erp_project_ref',
            'is_deleted or not is_active',
            "{
                'project_id': project_id,
                'project_number': project_number,
                'name': project_name,
                'address': address,
                'city': city,
                'is_active': is_active,
                'erp_job_id': " ~ job_id ~ ",
                'tracking_category': " ~ ('tracking_category' if erp == 'xero'
                                           else 'cast(null as varchar)') ~ "
            }",
            exports_findings(checks), 'updated_at') }}
    from (
        select
            projects.*,
            coalesce(unlinked.has_suggested_match, false) as has_suggested_match,
            unlinked.closest_erp_project_ref,
            unlinked.closest_erp_project_number,
            unlinked.closest_erp_project_name,
            {%- if erp == 'netsuite' %}
            tiers.cost_code_count,
            coalesce(tiers.is_single_tier, false) as is_single_tier
            {%- else %}
            false as is_single_tier
            {%- endif %}
        from ({{ exports_projects(erp) }}) as projects
        left join {{ ref('int_projects_unlinked_matched') }} as unlinked
            on unlinked.side = 'procore'
            and unlinked.connection_id = projects.connection_id
            and unlinked.project_id = projects.project_id
        {%- if erp == 'netsuite' %}
        left join {{ ref('int_netsuite_cost_code_tiers') }} as tiers
            on tiers.connection_id = projects.connection_id
        {%- endif %}
    ) as items
{%- endmacro %}

{#- wbs_code: Xero Item, code = cost code + cost type (XE-4, company-level, compared as the
    flat code cost_code.cost_type like int_xero_cost_lines_classified); NetSuite Other Charge
    item [project number]-[flat code] (NS-3; custom segments are in the flat code). -#}
{% macro exports_wbs_items(erp) -%}
    {%- set item_code = "wbs.cost_code || '.' || wbs.cost_type" if erp == 'xero'
        else "projects.project_number || '-' || wbs.wbs_code" -%}
    {%- set project_rule = {'xero': 'XE-5', 'netsuite': 'NS-11'}[erp] -%}
    {#- XE-4: Xero's limit on products and services (a var only so a unit test can lower it) -#}
    {%- set xero_max_items = var('xero_max_items', 4000) -%}
    {%- set checks = [
        exports_finding(project_rule, 'error', 'project_not_synced',
            "'WBS code ' || wbs_code || ': its project ' || project_number || ' is not synced'",
            'project_erp_ref is null')] -%}
    {%- if erp == 'xero' -%}
        {%- do checks.extend([
            exports_finding('XE-4', 'error', 'item_code_too_long',
                "'WBS code ' || wbs_code || ': the item code ''' || erp_item_code
                 || ''' has ' || length(erp_item_code) || ' characters, at most 30'",
                'length(erp_item_code) > 30'),
            exports_finding('XE-4', 'error', 'too_many_items',
                "'WBS code ' || wbs_code || ': the connection has ' || item_count
                 || ' cost codes, Xero allows at most " ~ xero_max_items ~ " items'",
                'item_count > ' ~ xero_max_items ~ ' and erp_item_ref is null')]) -%}
    {%- else -%}
        {%- do checks.append(exports_finding('NS-5', 'error', 'cost_code_list_single_tier',
            "'WBS code ' || wbs_code || ' of project ' || project_number
             || ': the connection''s cost code list has a single tier'",
            'is_single_tier')) -%}
    {%- endif -%}
    select
        {{ exports_candidate(
            erp, 'wbs_code', 'wbs_code_id', 'project_id',
            "project_number || ' ' || wbs_code || ' – ' || description",
            'null', 'erp_item_ref', "status <> 'active' or is_project_deleted",
            "{
                'wbs_code_id': wbs_code_id,
                'project_id': project_id,
                'project_number': project_number,
                'project_erp_ref': project_erp_ref,
                'cost_code': cost_code,
                'cost_type': cost_type,
                'flat_code': wbs_code,
                'description': description,
                'erp_item_code': erp_item_code
            }",
            exports_findings(checks), 'updated_at') }}
    from (
        select
            wbs.*,
            projects.project_number,
            projects.erp_project_ref as project_erp_ref,
            projects.is_deleted as is_project_deleted,
            {{ item_code }} as erp_item_code,
            count(distinct {{ item_code }}) over (partition by wbs.connection_id) as item_count,
            {%- if erp == 'netsuite' %}
            coalesce(tiers.is_single_tier, false) as is_single_tier
            {%- else %}
            false as is_single_tier
            {%- endif %}
        from ({{ exports_wbs_codes() }}) as wbs
        inner join ({{ exports_projects(erp) }}) as projects
            on projects.connection_id = wbs.connection_id
            and projects.project_id = wbs.project_id
        {%- if erp == 'netsuite' %}
        left join {{ ref('int_netsuite_cost_code_tiers') }} as tiers
            on tiers.connection_id = wbs.connection_id
        {%- endif %}
    ) as items
{%- endmacro %}

{#- The lines of each commitment (its schedule of values), with the ERP item of each line's
    WBS code (exports_line_items: company-level on Xero, XE-4). -#}
{% macro exports_commitment_lines(erp) -%}
    select
        commitment_lines.connection_id,
        commitment_lines.commitment_id,
        commitment_lines.commitment_line_id as line_id,
        commitment_lines.wbs_code,
        line_items.cost_code,
        line_items.cost_type,
        commitment_lines.description,
        commitment_lines.quantity,
        commitment_lines.unit_cost,
        commitment_lines.amount,
        line_items.item_erp_ref
    from {{ ref('stg_procore__commitment_lines') }} as commitment_lines
    left join ({{ exports_line_items(erp) }}) as line_items
        on line_items.wbs_code_id = commitment_lines.wbs_code_id
{%- endmacro %}

{#- Unsynced-line summary columns of a lines CTE grouped by its document. -#}
{% macro exports_lines_summary(id_column) -%}
    list({
        'line_id': line_id, 'wbs_code': wbs_code, 'cost_code': cost_code,
        'cost_type': cost_type, 'description': description,
        {%- if id_column == 'commitment_id' %}
        'quantity': quantity, 'unit_cost': unit_cost,
        {%- endif %}
        'amount': amount, 'item_erp_ref': item_erp_ref
    } order by line_id) as lines,
    count(*) as line_count,
    count(item_erp_ref) as synced_line_count,
    string_agg(distinct case when item_erp_ref is null then wbs_code end, ', '
               order by case when item_erp_ref is null then wbs_code end) as unsynced_codes,
    {{ money('sum(amount)') }} as lines_total
{%- endmacro %}

{#- commitment: Xero Purchase Order (XE-7), Acumatica Subcontract (AC-14); never NetSuite
    (NS-1). The sandbox's Procore serves subcontracts (work order contracts) only. XE-7: the
    order date is the commitment's creation date; at least one SOV line must have a synced
    Xero item. -#}
{% macro exports_commitment_items(erp) -%}
    {%- set checks = [
        exports_finding({'xero': 'XE-7', 'acumatica': 'AC-13'}[erp], 'error',
            'company_not_synced',
            "'Commitment ' || number || ': its company ' || coalesce(vendor_name, '#' || vendor_id)
             || ' is not synced'",
            'vendor_erp_ref is null'),
        exports_finding({'xero': 'XE-5', 'acumatica': 'AC-9'}[erp], 'error',
            'project_not_synced',
            "'Commitment ' || number || ': its project ' || project_number || ' is not synced'",
            'project_erp_ref is null')] -%}
    {%- if erp == 'xero' -%}
        {%- do checks.extend([
            exports_finding('XE-7', 'error', 'commitment_field_too_long',
                "'Commitment ' || left(number, 40) || ': the number or title is over 255 characters'",
                'length(number) > 255 or length(title) > 255'),
            exports_finding('XE-7', 'error', 'commitment_not_approved',
                "'Commitment ' || number || ' is ' || coalesce(status, 'without a status')
                 || ', not Approved'",
                "status is distinct from 'Approved'"),
            exports_finding('XE-7', 'error', 'no_sov_line',
                "'Commitment ' || number || ' has no SOV line'", 'line_count = 0'),
            exports_finding('XE-7', 'error', 'line_code_not_synced',
                "'Commitment ' || number || ': no line has a synced Xero item (' || unsynced_codes
                 || ')'",
                'line_count > 0 and synced_line_count = 0')]) -%}
    {%- else -%}
        {%- do checks.extend([
            exports_finding('AC-14', 'error', 'commitment_number_too_long',
                "'Commitment ' || number || ': the number has ' || length(number)
                 || ' characters, at most 15'",
                'length(number) > 15'),
            exports_finding('AC-14', 'error', 'commitment_title_too_long',
                "'Commitment ' || number || ': the title ''' || title || ''' has '
                 || length(title) || ' characters, at most 60'",
                'length(title) > 60'),
            exports_finding('AC-5', 'error', 'line_code_not_synced',
                "'Commitment ' || number || ': line codes not on the Acumatica list: '
                 || unsynced_codes",
                'line_count > synced_line_count')]) -%}
    {%- endif -%}
    select
        {{ exports_candidate(
            erp, 'commitment', 'commitment_id', 'project_id',
            "number || ' – ' || title", 'lines_total', 'erp_commitment_ref', 'is_deleted',
            "{
                'commitment_id': commitment_id,
                'number': number,
                'title': title,
                'status': status,
                'contract_date': contract_date,
                'kind': 'subcontract',
                'vendor': vendor_ref,
                'project': project_ref,
                'lines': lines
            }",
            exports_findings(checks), 'updated_at') }}
    from (
        select
            commitments.commitment_id,
            commitments.connection_id,
            commitments.project_id,
            commitments.commitment_number as number,
            commitments.title,
            commitments.status,
            cast(commitments.created_at as date) as contract_date,
            commitments.erp_commitment_ref,
            commitments.is_deleted,
            commitments.updated_at,
            commitments.vendor_id,
            vendors.vendor_name,
            vendors.erp_vendor_ref as vendor_erp_ref,
            {'vendor_id': commitments.vendor_id, 'name': vendors.vendor_name,
             'erp_ref': vendors.erp_vendor_ref} as vendor_ref,
            projects.project_number,
            projects.erp_project_ref as project_erp_ref,
            projects.project_ref,
            coalesce(lines.lines, []) as lines,
            coalesce(lines.line_count, 0) as line_count,
            coalesce(lines.synced_line_count, 0) as synced_line_count,
            lines.unsynced_codes,
            lines.lines_total
        from {{ ref('stg_procore__commitments') }} as commitments
        inner join ({{ exports_projects(erp) }}) as projects
            on projects.connection_id = commitments.connection_id
            and projects.project_id = commitments.project_id
        left join {{ ref('stg_procore__vendors') }} as vendors
            on vendors.connection_id = commitments.connection_id
            and vendors.vendor_id = commitments.vendor_id
        left join (
            select connection_id, commitment_id, {{ exports_lines_summary('commitment_id') }}
            from ({{ exports_commitment_lines(erp) }}) as commitment_lines
            group by connection_id, commitment_id
        ) as lines
            on lines.connection_id = commitments.connection_id
            and lines.commitment_id = commitments.commitment_id
    ) as items
{%- endmacro %}

{#- subcontractor_invoice: Xero Bill ACCPAY (XE-9), NetSuite Vendor Bill / Vendor Credit when
    negative (NS-12, NS-13), Acumatica Bill (AC-16). C-3: only Approved, Approved as Noted or
    Pending Owner Approval invoices can be sent. NS-4: the connector's invoice export creates
    the items its codes lack; costbridge exports them as wbs_code items (as NS-4's manual
    Export Cost Codes & Cost Types does), so an unsynced line code blocks the invoice until
    they are synced, rather than failing at NetSuite. -#}
{% macro exports_invoice_items(erp) -%}
    {%- set checks = [
        exports_finding('C-3', 'error', 'status_not_sendable',
            "'Subcontractor invoice ' || invoice_number || ' is ' || coalesce(status, 'without a status')
             || ': only Approved, Approved as Noted or Pending Owner Approval invoices can be sent'",
            "coalesce(lower(status) not in ('approved', 'approved_as_noted',
              'pending_owner_approval'), true)"),
        exports_finding({'xero': 'XE-9', 'netsuite': 'NS-10', 'acumatica': 'AC-13'}[erp],
            'error', 'company_not_synced',
            "'Subcontractor invoice ' || invoice_number || ': its company '
             || coalesce(vendor_name, '#' || vendor_id, 'of the commitment') || ' is not synced'",
            'vendor_erp_ref is null'),
        exports_finding({'xero': 'XE-5', 'netsuite': 'NS-11', 'acumatica': 'AC-9'}[erp],
            'error', 'project_not_synced',
            "'Subcontractor invoice ' || invoice_number || ': its project ' || project_number
             || ' is not synced'",
            'project_erp_ref is null')] -%}
    {%- if erp == 'xero' -%}
        {%- do checks.extend([
            exports_finding('XE-9', 'error', 'line_code_not_synced',
                "'Subcontractor invoice ' || invoice_number
                 || ': no line has a synced Xero item (' || coalesce(unsynced_codes, 'no lines') || ')'",
                'synced_line_count = 0'),
            exports_finding('XE-9', 'error', 'negative_invoice',
                "'Subcontractor invoice ' || invoice_number || ' totals ' || total
                 || ': negative invoices do not export to Xero'",
                'total < 0'),
            exports_finding('XE-9', 'error', 'missing_billing_date',
                "'Subcontractor invoice ' || invoice_number || ' has no billing date'",
                'billing_date is null'),
            exports_finding('XE-9', 'error', 'missing_payment_date',
                "'Subcontractor invoice ' || invoice_number || ' has no payment date'",
                'payment_date is null'),
            exports_finding('XE-9', 'error', 'invoice_number_too_long',
                "'Subcontractor invoice ' || left(invoice_number, 40) || '…: the number has '
                 || length(invoice_number) || ' characters, at most 255'",
                'length(invoice_number) > 255')]) -%}
    {%- elif erp == 'netsuite' -%}
        {%- do checks.append(exports_finding('NS-4', 'error', 'line_code_not_synced',
            "'Subcontractor invoice ' || invoice_number || ': export the WBS codes '
             || unsynced_codes || ' (Other Charge items) first'",
            'line_count > synced_line_count')) -%}
    {%- else -%}
        {%- do checks.append(exports_finding('AC-16', 'error', 'line_code_not_synced',
            "'Subcontractor invoice ' || invoice_number || ': line codes not synced: '
             || unsynced_codes",
            'line_count > synced_line_count')) -%}
    {%- endif -%}
    select
        {{ exports_candidate(
            erp, 'subcontractor_invoice', 'requisition_id', 'project_id', 'invoice_number',
            'total', 'erp_transaction_ref', 'false',
            "{
                'requisition_id': requisition_id,
                'invoice_number': invoice_number,
                'status': status,
                'billing_date': billing_date,
                'payment_date': payment_date,
                'total': total,
                'retainage': retainage,
                'commitment': commitment_ref,
                'vendor': vendor_ref,
                'project': project_ref,
                'lines': lines
            }",
            exports_findings(checks), 'updated_at') }}
    from (
        select
            requisitions.requisition_id,
            requisitions.connection_id,
            requisitions.project_id,
            requisitions.invoice_number,
            requisitions.status,
            requisitions.billing_date,
            requisitions.payment_date,
            requisitions.erp_transaction_ref,
            requisitions.updated_at,
            -- total = sum of the lines (§4); 0.00 for an invoice without lines
            coalesce(lines.lines_total, {{ money('0') }}) as total,
            {{ money('requisitions.total_retainage') }} as retainage,
            {'commitment_id': requisitions.commitment_id,
             'number': commitments.commitment_number,
             'erp_ref': commitments.erp_commitment_ref} as commitment_ref,
            commitments.vendor_id,
            vendors.vendor_name,
            vendors.erp_vendor_ref as vendor_erp_ref,
            {'vendor_id': commitments.vendor_id, 'name': vendors.vendor_name,
             'erp_ref': vendors.erp_vendor_ref} as vendor_ref,
            projects.project_number,
            projects.erp_project_ref as project_erp_ref,
            projects.project_ref,
            coalesce(lines.lines, []) as lines,
            coalesce(lines.line_count, 0) as line_count,
            coalesce(lines.synced_line_count, 0) as synced_line_count,
            lines.unsynced_codes
        from {{ ref('stg_procore__requisitions') }} as requisitions
        inner join ({{ exports_projects(erp) }}) as projects
            on projects.connection_id = requisitions.connection_id
            and projects.project_id = requisitions.project_id
        left join {{ ref('stg_procore__commitments') }} as commitments
            on commitments.connection_id = requisitions.connection_id
            and commitments.commitment_id = requisitions.commitment_id
        left join {{ ref('stg_procore__vendors') }} as vendors
            on vendors.connection_id = commitments.connection_id
            and vendors.vendor_id = commitments.vendor_id
        left join (
            select
                requisitions.connection_id,
                lines.requisition_id,
                {{ exports_lines_summary('requisition_id') }}
            from (
                select
                    requisition_lines.requisition_id,
                    requisition_lines.requisition_line_id as line_id,
                    requisition_lines.wbs_code,
                    line_items.cost_code,
                    line_items.cost_type,
                    line_items.description,
                    requisition_lines.amount,
                    line_items.item_erp_ref
                from {{ ref('stg_procore__requisition_lines') }} as requisition_lines
                inner join {{ ref('stg_procore__requisitions') }} as requisitions
                    on requisitions.requisition_id = requisition_lines.requisition_id
                left join ({{ exports_line_items(erp) }}) as line_items
                    on line_items.connection_id = requisitions.connection_id
                    and line_items.project_id = requisitions.project_id
                    and line_items.wbs_code = requisition_lines.wbs_code
            ) as lines
            inner join {{ ref('stg_procore__requisitions') }} as requisitions
                on requisitions.requisition_id = lines.requisition_id
            group by requisitions.connection_id, lines.requisition_id
        ) as lines
            on lines.connection_id = requisitions.connection_id
            and lines.requisition_id = requisitions.requisition_id
    ) as items
{%- endmacro %}

{#- budget: Acumatica project budget, amounts only (AC-11); one per project with budget
    lines, keyed by the project id. AC-11: the project must be synced and every budget code
    already exported (AC-10). -#}
{% macro exports_budget_items(erp) -%}
    {%- set checks = [
        exports_finding('AC-11', 'error', 'project_not_synced',
            "'Budget of project ' || project_number || ': the project is not synced'",
            'project_erp_ref is null'),
        exports_finding('AC-11', 'error', 'budget_codes_not_exported',
            "'Budget of project ' || project_number || ': budget codes not exported: '
             || unsynced_codes",
            'unsynced_codes is not null')] -%}
    select
        {{ exports_candidate(
            erp, 'budget', 'project_id', 'project_id',
            "'Budget ' || project_number || ' – ' || project_name", 'total', 'null',
            'is_deleted or not is_active',
            "{'project': project_ref, 'lines': lines}",
            exports_findings(checks), 'updated_at') }}
    from (
        select
            projects.connection_id,
            projects.project_id,
            projects.project_number,
            projects.project_name,
            projects.erp_project_ref as project_erp_ref,
            projects.project_ref,
            projects.is_deleted,
            projects.is_active,
            max(budget.updated_at) as updated_at,
            list({
                'budget_line_item_id': budget.budget_line_item_id,
                'wbs_code': budget.wbs_code,
                'cost_code': codes.cost_code,
                'cost_type': codes.cost_type,
                'task': codes.task,
                'amount': budget.original_budget_amount
            } order by budget.budget_line_item_id) as lines,
            {{ money('sum(budget.original_budget_amount)') }} as total,
            string_agg(distinct case when codes.erp_item_ref is null then budget.wbs_code end,
                       ', ' order by case when codes.erp_item_ref is null
                                          then budget.wbs_code end) as unsynced_codes
        from {{ ref('stg_procore__budget_line_items') }} as budget
        inner join ({{ exports_projects(erp) }}) as projects
            on projects.connection_id = budget.connection_id
            and projects.project_id = budget.project_id
        left join ({{ exports_wbs_codes() }}) as codes
            on codes.wbs_code_id = budget.wbs_code_id
        group by all
    ) as items
{%- endmacro %}

{#- cco: a commitment change order. Xero: its lines appended to the commitment's Purchase
    Order (XE-8: the PO must be synced, the company linked, the CCO Approved, and at least one
    line carry a Xero item; a commitment line changed more than once is summed by the writer,
    so a line's `line_id` is the commitment line it changes, else its own). Acumatica: a
    change order of class COMMITMENT (AC-15: the commitment synced, every line on a cost code
    Acumatica has). Never NetSuite (NS-1). -#}
{% macro exports_cco_items(erp) -%}
    {%- set rule = {'xero': 'XE-8', 'acumatica': 'AC-15'}[erp] -%}
    {%- set checks = [
        exports_finding(rule, 'error', 'commitment_not_synced',
            "'CCO ' || number || ': its commitment ' || coalesce(commitment_number,
             '#' || commitment_id) || ' is not synced'",
            'commitment_erp_ref is null')] -%}
    {%- if erp == 'xero' -%}
        {%- do checks.extend([
            exports_finding('XE-8', 'error', 'company_not_synced',
                "'CCO ' || number || ': its company ' || coalesce(vendor_name, '#' || vendor_id)
                 || ' is not synced'",
                'vendor_erp_ref is null'),
            exports_finding('XE-8', 'error', 'change_order_not_approved',
                "'CCO ' || number || ' is ' || coalesce(status, 'without a status')
                 || ', not Approved'",
                "status is distinct from 'Approved'"),
            exports_finding('XE-8', 'error', 'no_line',
                "'CCO ' || number || ' has no line'", 'line_count = 0'),
            exports_finding('XE-8', 'error', 'line_code_not_synced',
                "'CCO ' || number || ': no line has a synced Xero item ('
                 || coalesce(unsynced_codes, 'lines without a code') || ')'",
                'line_count > 0 and synced_line_count = 0')]) -%}
    {%- else -%}
        {%- do checks.append(exports_finding('AC-15', 'error', 'line_code_not_synced',
            "'CCO ' || number || ': lines not on an Acumatica cost code: '
             || coalesce(unsynced_codes, 'lines without a code')",
            'line_count > synced_line_count')) -%}
    {%- endif -%}
    select
        {{ exports_candidate(
            erp, 'cco', 'change_order_id', 'project_id', "number || ' – ' || title",
            'lines_total', 'erp_change_order_ref', 'is_deleted',
            "{
                'change_order_id': change_order_id,
                'number': number,
                'title': title,
                'status': status,
                'date': change_date,
                'commitment': commitment_ref,
                'vendor': vendor_ref,
                'project': project_ref,
                'lines': lines
            }",
            exports_findings(checks), 'updated_at') }}
    from (
        select
            orders.change_order_id,
            orders.connection_id,
            orders.project_id,
            orders.change_order_number as number,
            orders.title,
            orders.status,
            cast(orders.created_at as date) as change_date,
            orders.erp_change_order_ref,
            orders.is_deleted,
            orders.updated_at,
            orders.commitment_id,
            commitments.commitment_number,
            commitments.erp_commitment_ref as commitment_erp_ref,
            {'commitment_id': orders.commitment_id,
             'number': commitments.commitment_number, 'kind': 'subcontract',
             'erp_ref': commitments.erp_commitment_ref} as commitment_ref,
            commitments.vendor_id,
            vendors.vendor_name,
            vendors.erp_vendor_ref as vendor_erp_ref,
            {'vendor_id': commitments.vendor_id, 'name': vendors.vendor_name,
             'erp_ref': vendors.erp_vendor_ref} as vendor_ref,
            projects.project_ref,
            coalesce(lines.lines, []) as lines,
            coalesce(lines.line_count, 0) as line_count,
            coalesce(lines.synced_line_count, 0) as synced_line_count,
            lines.unsynced_codes,
            coalesce(lines.lines_total, {{ money('0') }}) as lines_total
        from {{ ref('stg_procore__commitment_change_orders') }} as orders
        inner join ({{ exports_projects(erp) }}) as projects
            on projects.connection_id = orders.connection_id
            and projects.project_id = orders.project_id
        left join {{ ref('stg_procore__commitments') }} as commitments
            on commitments.connection_id = orders.connection_id
            and commitments.commitment_id = orders.commitment_id
        left join {{ ref('stg_procore__vendors') }} as vendors
            on vendors.connection_id = commitments.connection_id
            and vendors.vendor_id = commitments.vendor_id
        left join (
            select
                connection_id,
                change_order_id,
                list({
                    'line_id': line_id, 'change_order_line_id': change_order_line_id,
                    'wbs_code': wbs_code, 'cost_code': cost_code, 'cost_type': cost_type,
                    'task': task, 'description': description, 'amount': amount,
                    'item_erp_ref': item_erp_ref
                } order by change_order_line_id) as lines,
                count(*) as line_count,
                count(item_erp_ref) as synced_line_count,
                string_agg(distinct case when item_erp_ref is null then wbs_code end, ', '
                           order by case when item_erp_ref is null then wbs_code end)
                    as unsynced_codes,
                {{ money('sum(amount)') }} as lines_total
            from (
                select
                    cco_lines.connection_id,
                    cco_lines.change_order_id,
                    cco_lines.change_order_line_id,
                    coalesce(cco_lines.commitment_line_id, cco_lines.change_order_line_id)
                        as line_id,
                    cco_lines.wbs_code,
                    line_items.cost_code,
                    line_items.cost_type,
                    line_items.task,
                    cco_lines.description,
                    cco_lines.amount,
                    line_items.item_erp_ref
                from {{ ref('stg_procore__commitment_change_order_lines') }} as cco_lines
                left join ({{ exports_line_items(erp) }}) as line_items
                    on line_items.wbs_code_id = cco_lines.wbs_code_id
            ) as cco_lines
            group by connection_id, change_order_id
        ) as lines
            on lines.connection_id = orders.connection_id
            and lines.change_order_id = orders.change_order_id
    ) as items
{%- endmacro %}

{#- budget_change: Acumatica change order of class BUDGET, On Hold, "Potential Budget CO"
    (AC-12): the project synced and every line's budget code exported (AC-10). -#}
{% macro exports_budget_change_items(erp) -%}
    {%- set checks = [
        exports_finding('AC-12', 'error', 'project_not_synced',
            "'Budget change ' || number || ': its project ' || project_number
             || ' is not synced'",
            'project_erp_ref is null'),
        exports_finding('AC-12', 'error', 'budget_codes_not_exported',
            "'Budget change ' || number || ': budget codes not exported: '
             || coalesce(unsynced_codes, 'lines without a code')",
            'line_count > synced_line_count'),
        exports_finding('AC-12', 'error', 'no_line',
            "'Budget change ' || number || ' has no line'", 'line_count = 0')] -%}
    select
        {{ exports_candidate(
            erp, 'budget_change', 'budget_change_id', 'project_id',
            "number || ' – ' || coalesce(description, '')", 'lines_total',
            'erp_change_order_ref', 'is_deleted',
            "{
                'budget_change_id': budget_change_id,
                'number': number,
                'description': description,
                'date': change_date,
                'project': project_ref,
                'lines': lines
            }",
            exports_findings(checks), 'updated_at') }}
    from (
        select
            changes.budget_change_id,
            changes.connection_id,
            changes.project_id,
            changes.budget_change_number as number,
            changes.description,
            cast(changes.created_at as date) as change_date,
            changes.erp_change_order_ref,
            changes.is_deleted,
            changes.updated_at,
            projects.project_number,
            projects.erp_project_ref as project_erp_ref,
            projects.project_ref,
            coalesce(lines.lines, []) as lines,
            coalesce(lines.line_count, 0) as line_count,
            coalesce(lines.synced_line_count, 0) as synced_line_count,
            lines.unsynced_codes,
            coalesce(lines.lines_total, {{ money('0') }}) as lines_total
        from {{ ref('stg_procore__budget_changes') }} as changes
        inner join ({{ exports_projects(erp) }}) as projects
            on projects.connection_id = changes.connection_id
            and projects.project_id = changes.project_id
        left join (
            select
                change_lines.connection_id,
                change_lines.budget_change_id,
                list({
                    'line_id': change_lines.budget_change_line_id,
                    'wbs_code': change_lines.wbs_code, 'cost_code': codes.cost_code,
                    'cost_type': codes.cost_type, 'task': codes.task,
                    'description': change_lines.description, 'amount': change_lines.amount
                } order by change_lines.budget_change_line_id) as lines,
                count(*) as line_count,
                count(codes.item_erp_ref) as synced_line_count,
                string_agg(distinct case when codes.item_erp_ref is null
                                         then change_lines.wbs_code end, ', '
                           order by case when codes.item_erp_ref is null
                                         then change_lines.wbs_code end) as unsynced_codes,
                {{ money('sum(change_lines.amount)') }} as lines_total
            from {{ ref('stg_procore__budget_change_lines') }} as change_lines
            left join ({{ exports_line_items(erp) }}) as codes
                on codes.wbs_code_id = change_lines.wbs_code_id
            group by change_lines.connection_id, change_lines.budget_change_id
        ) as lines
            on lines.connection_id = changes.connection_id
            and lines.budget_change_id = changes.budget_change_id
    ) as items
{%- endmacro %}

{#- procore_pay_payment: a Procore Pay payout exported to Acumatica as a Check On Hold,
    payment method PROCORE, applied to the invoice's bill (AC-17). Item type
    `procore_pay_payment`: `payment` is the import direction's (ERP payments into Procore).
    AC-17: only subcontractor invoices; the invoice approved, synced and its bill Open. -#}
{% macro exports_pay_payment_items(erp) -%}
    {%- set checks = [
        exports_finding('AC-17', 'error', 'not_subcontractor_invoice',
            "'Procore Pay payment ' || pay_payment_id || ': invoice '
             || coalesce(invoice_number, '#' || requisition_id)
             || ' is not a subcontractor invoice Procore holds'",
            'invoice_status is null'),
        exports_finding('AC-17', 'error', 'invoice_not_approved',
            "'Procore Pay payment ' || pay_payment_id || ': invoice ' || invoice_number
             || ' is ' || invoice_status || ', not approved'",
            "lower(invoice_status) is distinct from 'approved'"),
        exports_finding('AC-17', 'error', 'invoice_not_synced',
            "'Procore Pay payment ' || pay_payment_id || ': invoice ' || invoice_number
             || ' is not synced to Acumatica'",
            'invoice_status is not null and invoice_erp_ref is null'),
        exports_finding('AC-17', 'error', 'invoice_not_open',
            "'Procore Pay payment ' || pay_payment_id || ': the Acumatica bill '
             || coalesce(bill_reference_nbr, invoice_erp_ref) || ' of invoice '
             || invoice_number || ' is ' || coalesce(bill_status, 'not in Acumatica')
             || ', not Open'",
            "invoice_erp_ref is not null and bill_status is distinct from 'Open'"),
        exports_finding('AC-13', 'error', 'company_not_synced',
            "'Procore Pay payment ' || pay_payment_id || ': its company '
             || coalesce(vendor_name, '#' || vendor_id) || ' is not synced'",
            'vendor_erp_ref is null')] -%}
    select
        {{ exports_candidate(
            erp, 'procore_pay_payment', 'pay_payment_id', 'project_id',
            "'Procore Pay ' || coalesce(invoice_number, '#' || requisition_id)", 'amount',
            'erp_payment_ref', 'is_deleted',
            "{
                'payment_id': pay_payment_id,
                'invoice_number': invoice_number,
                'amount': amount,
                'payment_date': payment_date,
                'reference': reference,
                'vendor': vendor_ref,
                'invoice': {'requisition_id': requisition_id, 'erp_ref': invoice_erp_ref,
                            'reference_nbr': bill_reference_nbr},
                'project': project_ref
            }",
            exports_findings(checks), 'updated_at') }}
    from (
        select
            pays.pay_payment_id,
            pays.connection_id,
            pays.project_id,
            pays.requisition_id,
            coalesce(requisitions.invoice_number, pays.invoice_number) as invoice_number,
            pays.amount,
            pays.payment_date,
            pays.reference,
            pays.erp_payment_ref,
            pays.is_deleted,
            pays.updated_at,
            requisitions.status as invoice_status,
            requisitions.erp_transaction_ref as invoice_erp_ref,
            bills.reference_nbr as bill_reference_nbr,
            bills.status as bill_status,
            pays.vendor_id,
            vendors.vendor_name,
            vendors.erp_vendor_ref as vendor_erp_ref,
            {'vendor_id': pays.vendor_id, 'name': vendors.vendor_name,
             'erp_ref': vendors.erp_vendor_ref} as vendor_ref,
            projects.project_ref
        from {{ ref('stg_procore__pay_payments') }} as pays
        inner join ({{ exports_projects(erp) }}) as projects
            on projects.connection_id = pays.connection_id
            and projects.project_id = pays.project_id
        left join {{ ref('stg_procore__requisitions') }} as requisitions
            on requisitions.connection_id = pays.connection_id
            and requisitions.requisition_id = pays.requisition_id
        left join {{ ref('stg_acumatica__bills') }} as bills
            on bills.connection_id = pays.connection_id
            and bills.bill_id = requisitions.erp_transaction_ref
        left join {{ ref('stg_procore__vendors') }} as vendors
            on vendors.connection_id = pays.connection_id
            and vendors.vendor_id = pays.vendor_id
    ) as items
{%- endmacro %}
