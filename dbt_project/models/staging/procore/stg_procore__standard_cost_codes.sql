-- The company's standard cost code list. On an Acumatica connection it is the imported
-- Acumatica list (AC-3): code in Procore's display form (03-100.000, AC-4), erp_cost_code_ref
-- the Acumatica CostCodeID (03100.000) it was imported from.
select
    cast(id as bigint) as standard_cost_code_id,
    connection_id,
    code as cost_code,
    name as cost_code_name,
    origin_id as erp_cost_code_ref,
    cast(updated_at as timestamp) as updated_at
from {{ raw('raw_procore', 'standard_cost_codes') }} as source_table
