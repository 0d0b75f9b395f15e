-- The job cost split of every ERP (R-1, R-4): JTD cost = the signed lines that count in JTD,
-- commitment invoiced = those of them that are subcontractor invoices exported from Procore,
-- direct cost = JTD − commitment invoiced. Which lines count is each connector's rule, set in
-- its classified model:
--   XE-12     Xero: syncable bills and spend money (credit notes are not in JTD).
--   NetSuite  (the vendor gives no formula; this project's definition) every syncable line:
--             vendor bills + checks + journal entries (NS-17) − vendor credits (signed
--             negative); commitment invoiced = the vendor bills, and the vendor credits from
--             negative invoices (NS-13), exported from Procore.
--   AC-21     Acumatica: every syncable line, in four amount types; JTD = all four,
--             commitment invoiced = Subcontract Invoices, direct = Invoices + Expenses +
--             Payroll.
-- The four amount-type columns are filled where the ERP provides amount types (a line with
-- an amount_type): a type with no lines is 0 there. They stay null for ERPs without them
-- (Xero, NetSuite), so a reader can tell "none" from "not provided".
-- Only syncable lines count: the ERP job cost report is per synced project and cost code.
{% set amount_types = {
    'subcontract_invoices': 'subcontract_invoice', 'invoices': 'invoice',
    'expenses': 'expense', 'payroll': 'payroll'} %}
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
        - sum(case when is_subcontractor_invoice then signed_amount else 0 end) as direct_cost,
    {%- for column, amount_type in amount_types.items() %}
    sum(case
        when amount_type = '{{ amount_type }}' then signed_amount
        when amount_type is not null then 0
    end) as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ ref('int_cost_lines_unioned') }}
where counts_in_jtd
group by connection_id, project_id, wbs_code, cost_code, cost_type
