{{ stg_xero_line_tracking('bank_transactions__line_items__tracking') }}
