-- A bill line; po_order_type / po_order_nbr name the subcontract (Subcontract, its
-- SubcontractNbr) or purchase order (Normal, its OrderNbr) the line is billed against.
select
    id as bill_detail_id,
    bill_id,
    connection_id,
    inventory_id,
    transaction_description as line_description,
    {{ quantity('qty') }} as quantity,
    {{ quantity('unit_cost') }} as unit_cost,
    {{ money('amount') }} as amount,
    account,
    project as project_id,
    project_task as project_task_id,
    cost_code as cost_code_id,
    po_order_type,
    po_order_nbr,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'bill_details') }} as source_table
