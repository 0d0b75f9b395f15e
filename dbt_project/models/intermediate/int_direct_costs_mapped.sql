-- Procore direct cost detail of every ERP, each connector mapped by its own rules (XE-13 for
-- Xero; NS-15, NS-16, NS-17 for NetSuite; AC-21, C-5 for Acumatica), in one shape.
{% set columns = [
    'direct_cost_line_id', 'connection_id', 'erp', 'project_id', 'wbs_code', 'cost_code',
    'cost_type', 'erp_transaction_id', 'erp_transaction_type', 'direct_cost_type', 'status',
    'transaction_date', 'received_date', 'vendor_name', 'invoice_number', 'description',
    'line_description', 'quantity', 'unit_cost', 'amount', 'counts_in_jtd'] %}

select {{ columns | join(', ') }} from {{ ref('int_xero_direct_costs_mapped') }}
union all
select {{ columns | join(', ') }} from {{ ref('int_netsuite_direct_costs_mapped') }}
union all
select {{ columns | join(', ') }} from {{ ref('int_acumatica_direct_costs_mapped') }}
