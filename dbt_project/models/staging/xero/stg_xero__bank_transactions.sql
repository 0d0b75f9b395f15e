{{ stg_xero_document('bank_transactions', 'bank_transaction_id', 'type', 'cast(null as varchar)') }}
