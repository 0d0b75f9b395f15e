-- Every ERP cost line of every connection, whatever the ERP, in one shape: each connector's
-- classified model applies its own rules (XE-11/XE-12 for Xero, NS-* for NetSuite, AC-* for
-- Acumatica) and says for each line whether it syncs, why not (every rule it fails,
-- failed_reasons, R-2), its signed amount as a cost, whether it counts in JTD cost and
-- whether it is commitment invoiced (a subcontractor invoice exported from Procore;
-- Acumatica, AC-21, a Subcontract Invoice). amount_type is the ERP's own split of job cost
-- (Acumatica, AC-21: subcontract_invoice, invoice, expense, payroll); null for ERPs that do
-- not provide one. Downstream models (the JTD split, the marts) are the same for every ERP.
{% set columns = [
    'erp_line_id', 'connection_id', 'erp', 'erp_transaction_id', 'erp_transaction_type',
    'status', 'transaction_date', 'contact_id', 'contact_name', 'reference', 'invoice_number',
    'line_number', 'item_code', 'line_description', 'quantity', 'unit_amount', 'line_amount',
    'signed_amount', 'tracking_option_id', 'tracking_option_name', 'project_id',
    'project_number', 'project_name', 'wbs_code', 'cost_code', 'cost_type',
    'is_type_eligible', 'is_status_approved', 'is_project_synced', 'is_item_synced',
    'is_code_on_project', 'is_subcontractor_invoice', 'is_syncable', 'unsyncable_reason',
    'failed_reasons', 'counts_in_jtd', 'amount_type', 'updated_at'] %}

with xero as (
    select
        -- XE-4: the Xero item code is the flat WBS code (cost code.cost type)
        *,
        item_code as wbs_code,
        cast(null as varchar) as amount_type
    from {{ ref('int_xero_cost_lines_classified') }}
),

netsuite as (
    select *, cast(null as varchar) as amount_type
    from {{ ref('int_netsuite_cost_lines_classified') }}
),

acumatica as (
    select * from {{ ref('int_acumatica_cost_lines_classified') }}
)

select {{ columns | join(', ') }} from xero
union all
select {{ columns | join(', ') }} from netsuite
union all
select {{ columns | join(', ') }} from acumatica
