-- The project ledger's documents: module AP (one per released bill or debit adjustment, named
-- by original_doc_type / original_doc_nbr), PR payroll, GL expenses, AR revenue.
select
    id as project_transaction_id,
    connection_id,
    module,
    reference_nbr,
    status,
    description,
    original_doc_type,
    original_doc_nbr,
    {{ money('total_amount') }} as total_amount,
    cast(created_date_time as timestamp) as created_at,
    cast(last_modified_date_time as timestamp) as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_acumatica', 'project_transactions') }} as source_table
