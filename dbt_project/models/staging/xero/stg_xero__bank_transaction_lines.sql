{{ stg_xero_document_lines('bank_transactions__line_items') }}
