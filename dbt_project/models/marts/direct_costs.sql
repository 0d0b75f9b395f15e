select
    mapped.direct_cost_line_id,
    mapped.connection_id,
    mapped.erp,
    mapped.project_id,
    projects.project_name,
    mapped.wbs_code,
    mapped.cost_code,
    mapped.cost_type,
    mapped.erp_transaction_id,
    mapped.erp_transaction_type,
    mapped.direct_cost_type,
    mapped.status,
    mapped.transaction_date,
    mapped.received_date,
    mapped.vendor_name,
    mapped.invoice_number,
    mapped.description,
    mapped.line_description,
    {{ quantity('mapped.quantity') }} as quantity,
    {{ quantity('mapped.unit_cost') }} as unit_cost,
    {{ money('mapped.amount') }} as amount,
    mapped.counts_in_jtd
from {{ ref('int_direct_costs_mapped') }} as mapped
inner join {{ ref('stg_procore__projects') }} as projects
    on projects.project_id = mapped.project_id
