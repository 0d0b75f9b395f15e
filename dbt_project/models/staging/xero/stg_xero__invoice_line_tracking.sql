{{ stg_xero_line_tracking('invoices__line_items__tracking') }}
