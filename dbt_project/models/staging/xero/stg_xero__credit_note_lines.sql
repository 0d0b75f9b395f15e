{{ stg_xero_document_lines('credit_notes__line_items') }}
