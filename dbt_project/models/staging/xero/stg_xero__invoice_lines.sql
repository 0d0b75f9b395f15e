{{ stg_xero_document_lines('invoices__line_items') }}
