"""Streamlit pages, one module per page; they only render (queries live in ``reports/``)."""
