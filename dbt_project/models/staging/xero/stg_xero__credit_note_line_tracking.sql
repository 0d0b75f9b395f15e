{{ stg_xero_line_tracking('credit_notes__line_items__tracking') }}
