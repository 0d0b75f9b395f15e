{# load_id: a record reloaded without some child rows (a line removed, tracking cleared)
   keeps its old children in the raw table, since a merge can only replace the rows a load
   brings; children are current only when they came in the same load as their parent. #}

{# The three Xero cost documents (bills, bank transactions, credit notes) share one shape:
   a header, its line items (keyed by the document id), and each line's tracking (keyed by
   the line id). These macros stage each part. #}

{% macro stg_xero_document(source_table, id_column, type_expr, number_expr) %}
select
    {{ id_column }} as erp_transaction_id,
    connection_id,
    {{ type_expr }} as erp_transaction_type,
    status,
    {{ number_expr }} as invoice_number,
    reference,
    contact__contact_id as contact_id,
    contact__name as contact_name,
    {{ xero_date('date_string') }} as transaction_date,
    {{ money('total') }} as total,
    {{ xero_timestamp('updated_date_utc') }} as updated_at,
    _dlt_load_id as load_id
from {{ raw('raw_xero', source_table) }} as source_table
{% endmacro %}

{% macro stg_xero_document_lines(source_table) %}
select
    line_item_id as erp_line_id,
    _root_id as erp_transaction_id,
    _idx + 1 as line_number,
    item_code,
    description as line_description,
    {{ quantity('quantity') }} as quantity,
    {{ quantity('unit_amount') }} as unit_amount,
    {{ money('line_amount') }} as line_amount,
    _dlt_load_id as load_id
from {{ raw('raw_xero', source_table) }} as source_table
{% endmacro %}

{% macro stg_xero_line_tracking(source_table) %}
select
    _parent_id as erp_line_id,
    tracking_category_id,
    tracking_option_id,
    name as tracking_category_name,
    option as tracking_option_name,
    _dlt_load_id as load_id
from {{ raw('raw_xero', source_table) }} as source_table
{% endmacro %}
