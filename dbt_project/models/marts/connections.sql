select connection_id, erp, procore_company_id, company_name
from {{ ref('stg_ops__connections') }}
