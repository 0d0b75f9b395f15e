-- A table: the queue and a dozen data tests read it; as a view each would rebuild it.
{{ config(materialized='table') }}

-- Import candidates (ERP -> Procore, docs/exports.md §2-§4), one row per item, in the columns
-- of the export side's int_export_candidates_checked, for the export_queue mart:
--   direct_cost     an ERP transaction that syncs as a Procore direct cost (C-5, XE-13,
--                   NS-15, NS-16, AC-21)
--   vendor_update   a linked vendor whose ERP change flows to Procore (NS-10, AC-1; XE-6)
--   payment         an ERP payment of a subcontractor invoice exported from Procore (XE-10,
--                   NS-12, AC-17)
-- Each piece says which of its items are already in Procore (is_synced).
select {{ import_candidate_columns() }} from {{ ref('int_import_candidates_direct_costs') }}
union all
select {{ import_candidate_columns() }} from {{ ref('int_import_candidates_vendor_updates') }}
union all
select {{ import_candidate_columns() }} from {{ ref('int_import_candidates_payments') }}
