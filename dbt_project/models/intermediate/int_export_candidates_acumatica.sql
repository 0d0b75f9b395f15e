-- Every Procore item an Acumatica connection can export (docs/exports.md §3), synced or not,
-- with its document (§4) and the Acumatica preflight findings (§6). Not candidates: WBS codes
-- (the codes come from Acumatica, AC-3/AC-5; budget lines post them, AC-10).
{{ exports_companies('acumatica') }}
union all
{{ exports_project_items('acumatica') }}
union all
{{ exports_commitment_items('acumatica') }}
union all
{{ exports_invoice_items('acumatica') }}
union all
{{ exports_budget_items('acumatica') }}
union all
{{ exports_cco_items('acumatica') }}
union all
{{ exports_budget_change_items('acumatica') }}
union all
{{ exports_pay_payment_items('acumatica') }}
