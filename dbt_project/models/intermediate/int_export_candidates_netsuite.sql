-- Every Procore item a NetSuite connection can export (docs/exports.md §3), synced or not, with
-- its document (§4) and the NetSuite preflight findings (§6). Not candidates: commitments and
-- budgets (NS-1).
{{ exports_companies('netsuite') }}
union all
{{ exports_project_items('netsuite') }}
union all
{{ exports_wbs_items('netsuite') }}
union all
{{ exports_invoice_items('netsuite') }}
