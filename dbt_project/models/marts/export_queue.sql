-- One row per item that can cross to the other side, for every connection (docs/exports.md
-- §2): the export candidates with their preflight findings, the import candidates, and each
-- item's state (§5) as of this run's copy of the ops store. The app and the CLI work out the
-- live state with the same rules (pipelines/exports/actions.py).
-- C-3: a decision counts only on the payload hash it was made on, the latest decision wins;
-- an outbox row belongs to one payload hash; an item event (sent for acceptance, retrieved)
-- made after the latest decision supersedes it. State, first that applies (the order of
-- pipelines/exports/actions.py live_state):
--   synced            an import Procore already holds
--   synced            the latest sent outbox row is of the current hash
--   failed_to_export  the current hash's outbox row failed (resend from there), unless an
--                     approver rejected the item since (the export is then cancelled)
--   accepted          the current hash's outbox row is pending or sending
--   retrieved         the latest item event, after the latest decision, is a retrieval (C-3:
--                     pulled back by its sender, not a rejection); after a `send` event the
--                     item waits again (ready_to_update if we sent an earlier version)
--   accepted/rejected the latest decision, on the current hash
--   ready_to_update   synced through our outbox, and the current hash is not the one sent
--   synced            the ERP id is known otherwise (synced by the vendor's connector)
--   archived          not synced, and inactive or deleted on its own side
--   ready_to_export / ready_to_import   waiting for an approver
{% set columns = [
    'connection_id', 'erp', 'direction', 'item_type', 'item_key', 'procore_id',
    'procore_project_id', 'label', 'amount', 'erp_ref', 'is_synced', 'is_archived', 'document',
    'payload_hash', 'findings', 'is_blocked', 'updated_at'] %}

with candidates as (
    select {{ columns | join(', ') }} from {{ ref('int_export_candidates_checked') }}
    union all
    select {{ columns | join(', ') }} from {{ ref('int_import_candidates') }}
),

decisions as (
    select decisions.*, users.login as decided_by_login
    from {{ ref('stg_ops__decisions') }} as decisions
    left join {{ ref('stg_ops__users') }} as users
        on users.user_id = decisions.decided_by
),

latest_decision as (
    select *
    from decisions
    qualify row_number() over (
        partition by connection_id, item_type, item_key order by decision_id desc
    ) = 1
),

outbox as (
    select
        outbox.*,
        (select count(*) from {{ ref('stg_ops__outbox_attempts') }} as attempts
         where attempts.outbox_id = outbox.outbox_id) as attempts
    from {{ ref('stg_ops__outbox') }} as outbox
),

latest_outbox as (
    select *
    from outbox
    qualify row_number() over (
        partition by connection_id, item_type, item_key order by outbox_id desc
    ) = 1
),

last_sent as (
    select connection_id, item_type, item_key, payload_hash
    from outbox
    where state = 'sent'
    qualify row_number() over (
        partition by connection_id, item_type, item_key order by outbox_id desc
    ) = 1
),

latest_event as (
    select *
    from {{ ref('stg_ops__item_events') }}
    qualify row_number() over (
        partition by connection_id, item_type, item_key order by event_id desc
    ) = 1
),

joined as (
    select
        candidates.*,
        latest_decision.decision,
        latest_decision.decision_id as latest_decision_id,
        latest_decision.payload_hash = candidates.payload_hash as is_decision_current,
        latest_decision.decided_by_login as decided_by,
        latest_decision.decided_at,
        latest_decision.reason as decision_reason,
        current_outbox.state as current_outbox_state,
        current_outbox.decision_id as current_outbox_decision_id,
        last_sent.payload_hash as last_sent_hash,
        latest_event.event as latest_event,
        latest_event.event_at as latest_event_at,
        latest_outbox.state as outbox_state,
        latest_outbox.last_error,
        latest_outbox.attempts
    from candidates
    left join latest_decision
        on latest_decision.connection_id = candidates.connection_id
        and latest_decision.item_type = candidates.item_type
        and latest_decision.item_key = candidates.item_key
    left join outbox as current_outbox
        on current_outbox.connection_id = candidates.connection_id
        and current_outbox.item_type = candidates.item_type
        and current_outbox.item_key = candidates.item_key
        and current_outbox.payload_hash = candidates.payload_hash
    left join latest_outbox
        on latest_outbox.connection_id = candidates.connection_id
        and latest_outbox.item_type = candidates.item_type
        and latest_outbox.item_key = candidates.item_key
    left join last_sent
        on last_sent.connection_id = candidates.connection_id
        and last_sent.item_type = candidates.item_type
        and last_sent.item_key = candidates.item_key
    left join latest_event
        on latest_event.connection_id = candidates.connection_id
        and latest_event.item_type = candidates.item_type
        and latest_event.item_key = candidates.item_key
)

select
    {{ columns | join(',\n    ') }},
    case
        -- an import Procore already holds is done, whatever its document says now
        when direction = 'import' and is_synced then 'synced'
        when last_sent_hash = payload_hash then 'synced'
        -- a failed export an approver then rejected is cancelled: rejected, below (C-3)
        when current_outbox_state = 'failed'
            and not (decision = 'reject' and latest_decision_id > current_outbox_decision_id)
            then 'failed_to_export'
        when current_outbox_state in ('pending', 'sending') then 'accepted'
        when latest_event is not null
            and (decided_at is null or latest_event_at > decided_at) then
            case
                when latest_event = 'retrieve' then 'retrieved'
                when last_sent_hash is not null then 'ready_to_update'
                else 'ready_to_' || direction
            end
        when is_decision_current and decision = 'accept' then 'accepted'
        when is_decision_current and decision = 'reject' then 'rejected'
        when last_sent_hash is not null then 'ready_to_update'
        when is_synced then 'synced'
        when is_archived then 'archived'
        else 'ready_to_' || direction
    end as state,
    decided_by,
    decided_at,
    decision_reason,
    outbox_state,
    last_error,
    attempts
from joined
