-- AC-3: the Acumatica cost code list is imported as the company's standard list in Procore,
-- separate from Procore's own codes; a code added in Acumatica shows in Procore only after the
-- next import. AC-4: Procore shows it as division, dash, the rest (03100.000 → 03-100.000).
-- One row per Acumatica cost code of an Acumatica connection, with its Procore display form
-- and whether Procore's standard list has it (origin_id = CostCodeID).
with connections as (
    select connection_id from {{ ref('stg_ops__connections') }} where erp = 'acumatica'
),

cost_codes as (
    select cost_codes.*
    from {{ ref('stg_acumatica__cost_codes') }} as cost_codes
    inner join connections
        on connections.connection_id = cost_codes.connection_id
),

standard_cost_codes as (
    select connection_id, erp_cost_code_ref, min(cost_code) as procore_cost_code
    from {{ ref('stg_procore__standard_cost_codes') }}
    where erp_cost_code_ref is not null
    group by connection_id, erp_cost_code_ref
)

select
    cost_codes.connection_id,
    cost_codes.cost_code_id,
    cost_codes.description,
    {{ acumatica_cost_code_display('cost_codes.cost_code_id') }} as cost_code,
    standard_cost_codes.procore_cost_code,
    standard_cost_codes.erp_cost_code_ref is not null as is_imported,
    cost_codes.updated_at
from cost_codes
left join standard_cost_codes
    on standard_cost_codes.connection_id = cost_codes.connection_id
    and standard_cost_codes.erp_cost_code_ref = cost_codes.cost_code_id
