-- A table: the queue and a dozen data tests read it; as a view each would rebuild it.
{{ config(materialized='table') }}

-- The export candidates of every ERP (docs/exports.md §2-§6) with their preflight findings
-- (computed per ERP in int_export_candidates_<erp>), the ERP reference once synced and the
-- document's hash. erp_ref: the Procore origin_id where the item carries one, else the ERP
-- id of the latest `sent` outbox row for the item (our own push, before Procore's next
-- extract shows the write-back). is_blocked: any error finding (C-2: not acceptable).
with candidates as (
    select * from {{ ref('int_export_candidates_xero') }}
    union all
    select * from {{ ref('int_export_candidates_netsuite') }}
    union all
    select * from {{ ref('int_export_candidates_acumatica') }}
),

last_sent as (
    select connection_id, item_type, item_key, erp_id
    from {{ ref('stg_ops__outbox') }}
    where state = 'sent'
    qualify row_number() over (
        partition by connection_id, item_type, item_key order by outbox_id desc
    ) = 1
),

keyed as (
    select
        *,
        item_type || ':' || procore_id as item_key
    from candidates
)

select
    keyed.connection_id,
    keyed.erp,
    'export' as direction,
    keyed.item_type,
    keyed.item_key,
    keyed.procore_id,
    keyed.procore_project_id,
    keyed.label,
    keyed.amount,
    coalesce(keyed.origin_ref, last_sent.erp_id) as erp_ref,
    coalesce(keyed.origin_ref, last_sent.erp_id) is not null as is_synced,
    keyed.is_archived,
    keyed.document,
    sha256(keyed.document) as payload_hash,
    keyed.findings,
    len(list_filter(keyed.findings, lambda finding: finding.severity = 'error')) > 0
        as is_blocked,
    keyed.updated_at
from keyed
left join last_sent
    on last_sent.connection_id = keyed.connection_id
    and last_sent.item_type = keyed.item_type
    and last_sent.item_key = keyed.item_key
