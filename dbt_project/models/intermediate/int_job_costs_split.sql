-- XE-12: JTD cost = bills and spend money; commitment invoiced = bills that are
-- subcontractor invoices exported from Procore; direct cost = JTD − commitment invoiced.
-- Only syncable lines count: Xero's job cost report is per synced cost code (XE-11).
select
    connection_id,
    project_id,
    item_code as wbs_code,
    cost_code,
    cost_type,
    sum(line_amount) as jtd_cost,
    sum(case when is_subcontractor_invoice then line_amount else 0 end) as commitment_invoiced,
    sum(line_amount)
        - sum(case when is_subcontractor_invoice then line_amount else 0 end) as direct_cost
from {{ ref('int_xero_cost_lines_classified') }}
where is_syncable
    and erp_transaction_type in ('ACCPAY', 'SPEND')
group by connection_id, project_id, item_code, cost_code, cost_type
