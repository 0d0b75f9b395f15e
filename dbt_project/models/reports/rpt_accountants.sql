-- R-3 — the Accountant report: per company (connection), the active users who are accounting
-- approvers, i.e. Standard or Admin on the ERP Integrations tool and holding the
-- `Can Push to Accounting` privilege (C-2). An access audit, not a financial report.
select
    users.connection_id,
    connections.erp,
    connections.procore_company_id,
    connections.company_name,
    users.user_id,
    users.user_name,
    users.email,
    users.erp_integrations_permission
from {{ ref('stg_procore__users') }} as users
inner join {{ ref('connections') }} as connections
    on connections.connection_id = users.connection_id
where users.is_active
    and users.can_push_to_accounting
    and users.erp_integrations_permission in ('standard', 'admin')
