-- Every Procore item a Xero connection can export (docs/exports.md §3), synced or not, with
-- its document (§4) and the Xero preflight findings (§6), CCOs included (XE-8). Not
-- candidates: budgets (XE-2).
{{ exports_companies('xero') }}
union all
{{ exports_project_items('xero') }}
union all
{{ exports_wbs_items('xero') }}
union all
{{ exports_commitment_items('xero') }}
union all
{{ exports_invoice_items('xero') }}
union all
{{ exports_cco_items('xero') }}
