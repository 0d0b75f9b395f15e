{{ stg_xero_document('invoices', 'invoice_id', 'type', 'invoice_number') }}
