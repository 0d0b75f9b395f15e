-- The job cost split of every ERP (R-1, R-4): JTD cost = the signed lines that count in JTD,
-- commitment invoiced = those of them that are subcontractor invoices exported from Procore,
-- direct cost = JTD − commitment invoiced. Which lines count is each connector's rule, set in
-- its classified model:
--   XE-12     Xero: syncable bills and spend money (credit notes are not in JTD).
--   NetSuite  (the vendor gives no formula; this project's definition) every syncable line:
--             vendor bills + checks + journal entries (NS-17) − vendor credits (signed
--             negative); commitment invoiced = the vendor bills, and the vendor credits from
--             negative invoices (NS-13), exported from Procore.
-- Only syncable lines count: the ERP job cost report is per synced project and cost code.
select
    connection_id,
    project_id,
    wbs_code,
    cost_code,
    cost_type,
    sum(signed_amount) as jtd_cost,
    sum(case when is_subcontractor_invoice then signed_amount else 0 end)
        as commitment_invoiced,
    sum(signed_amount)
        - sum(case when is_subcontractor_invoice then signed_amount else 0 end) as direct_cost
from {{ ref('int_cost_lines_unioned') }}
where counts_in_jtd
group by connection_id, project_id, wbs_code, cost_code, cost_type
