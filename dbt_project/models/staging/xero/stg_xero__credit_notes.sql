{{ stg_xero_document('credit_notes', 'credit_note_id', 'type', 'credit_note_number') }}
