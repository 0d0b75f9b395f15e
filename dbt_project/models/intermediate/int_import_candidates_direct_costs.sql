-- Import candidates, item type direct_cost (docs/exports.md §3, §4): one item per ERP
-- transaction whose lines sync as Procore direct cost detail, the lines in its document.
-- The connector's own rules decide what is a direct cost and of which type, in
-- int_direct_costs_mapped: XE-13 (bill Invoice, bill exported from Procore Subcontractor
-- Invoice, spend money Expense), NS-16 (NetSuite subcontractor invoices are commitment
-- invoiced, never direct costs), AC-21 (the amount types), status Approved (C-5, NS-15).
-- A line whose project or code is not on the Procore side is no candidate: it is unsyncable
-- and already in R-2.
-- is_synced: Procore holds every line (int_direct_costs_matched). A transaction with a line
-- Procore lacks is to import, whether it changed after the last import (pending_import, R-5)
-- or the import skipped it (erp_only, C-7). Procore files a direct cost under one project:
-- the first line's (as the sandbox does); a line's wbs_code_id is that project's code, null
-- where the project lacks it. The connector then adds the code to the budget ($0 line; XE-11,
-- NS-4, AC-10); costbridge does not create budget codes, so such an item is blocked until the
-- code is on the project (code_not_on_project), rather than failing at Procore.
with mapped as (
    select * from {{ ref('int_direct_costs_mapped') }}
),

matched as (
    select
        connection_id,
        erp_line_id,
        match_status,
        direct_cost_id,
        erp_vendor_id,
        erp_updated_at,
        is_direct_cost_in_erp
    from {{ ref('int_direct_costs_matched') }}
),

line_numbers as (
    select connection_id, erp_line_id, line_number from {{ ref('int_cost_lines_unioned') }}
),

vendors as (
    select connection_id, erp_vendor_ref, min(vendor_id) as vendor_id
    from {{ ref('stg_procore__vendors') }}
    where erp_vendor_ref is not null
    group by connection_id, erp_vendor_ref
),

wbs_codes as (
    select project_id, wbs_code, min(wbs_code_id) as wbs_code_id
    from {{ ref('stg_procore__wbs_codes') }}
    group by project_id, wbs_code
),

lines as (
    select
        mapped.*,
        line_numbers.line_number,
        matched.match_status,
        matched.direct_cost_id,
        matched.erp_vendor_id,
        matched.erp_updated_at,
        -- Procore lacks the line (R-5 pending_import, or C-7 erp_only)
        matched.match_status in ('pending_import', 'erp_only') as is_to_import
    from mapped
    inner join matched
        on matched.connection_id = mapped.connection_id
        and matched.erp_line_id = mapped.direct_cost_line_id
    left join line_numbers
        on line_numbers.connection_id = mapped.connection_id
        and line_numbers.erp_line_id = mapped.direct_cost_line_id
    -- NS-16: never a direct cost on NetSuite (mapped already leaves them out)
    where matched.is_direct_cost_in_erp
),

-- the header is the transaction's, the same on every line; the project the first line's
headers as (
    select
        connection_id,
        erp,
        erp_transaction_id,
        arg_min(project_id, line_number) as project_id,
        min(direct_cost_type) as direct_cost_type,
        min(status) as status,
        min(vendor_name) as vendor_name,
        min(erp_vendor_id) as erp_vendor_id,
        min(invoice_number) as invoice_number,
        min(description) as description,
        min(transaction_date) as direct_cost_date,
        min(received_date) as received_date,
        min(direct_cost_id) as direct_cost_id,
        bool_and(not is_to_import) as is_synced,
        max(erp_updated_at) as updated_at
    from lines
    group by connection_id, erp, erp_transaction_id
),

documented as (
    select
        headers.*,
        vendors.vendor_id,
        {{ money('sum(lines.amount)') }} as total,
        string_agg(distinct case when wbs_codes.wbs_code_id is null then lines.wbs_code end,
                   ', ' order by case when wbs_codes.wbs_code_id is null
                                 then lines.wbs_code end) as codes_not_on_project,
        list(struct_pack(
            origin_id := lines.direct_cost_line_id,
            wbs_code_id := wbs_codes.wbs_code_id,
            wbs_code := lines.wbs_code,
            description := lines.line_description,
            quantity := lines.quantity,
            unit_cost := lines.unit_cost,
            amount := lines.amount
        ) order by lines.line_number, lines.direct_cost_line_id) as document_lines
    from headers
    inner join lines
        on lines.connection_id = headers.connection_id
        and lines.erp_transaction_id = headers.erp_transaction_id
    left join wbs_codes
        on wbs_codes.project_id = headers.project_id
        and wbs_codes.wbs_code = lines.wbs_code
    left join vendors
        on vendors.connection_id = headers.connection_id
        and vendors.erp_vendor_ref = headers.erp_vendor_id
    group by all
),

documents as (
    select
        *,
        struct_pack(
            erp_txn_id := erp_transaction_id,
            project_id := project_id,
            direct_cost_type := direct_cost_type,
            status := status,
            vendor_id := vendor_id,
            vendor_name := vendor_name,
            invoice_number := invoice_number,
            description := description,
            direct_cost_date := direct_cost_date,
            received_date := received_date,
            total := total,
            lines := document_lines
        ) as document_struct
    from documented
)

select
    connection_id,
    erp,
    'import' as direction,
    'direct_cost' as item_type,
    'direct_cost:' || erp_transaction_id as item_key,
    direct_cost_id as procore_id,
    project_id as procore_project_id,
    direct_cost_type || ' ' || coalesce(invoice_number, description, erp_transaction_id)
        || coalesce(' – ' || vendor_name, '') as label,
    total as amount,
    erp_transaction_id as erp_ref,
    is_synced,
    -- a voided or deleted ERP transaction no longer syncs, so is no direct cost here
    false as is_archived,
    {{ import_candidate_tail('document_struct') }},
    findings,
    len(findings) > 0 as is_blocked,
    updated_at
from (
    select
        *,
        {%- set message = "'codes ' || codes_not_on_project || ' of ' || erp_transaction_id"
                          ~ " || ' are not on Procore project ' || project_id"
                          ~ " || ': add them to its budget first'" %}
        {{ exports_findings([
            exports_finding('XE-11', 'error', 'code_not_on_project', message,
                            "not is_synced and erp = 'xero' and codes_not_on_project is not null"),
            exports_finding('NS-4', 'error', 'code_not_on_project', message,
                            "not is_synced and erp = 'netsuite' and codes_not_on_project is not null"),
            exports_finding('AC-10', 'error', 'code_not_on_project', message,
                            "not is_synced and erp = 'acumatica' and codes_not_on_project is not null"),
        ]) }} as findings
    from documents
) as checked
