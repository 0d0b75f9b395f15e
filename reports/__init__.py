"""Report queries over the published snapshot (never the warehouse file).

Each report is a function taking a snapshot connection (``reports.snapshot.connect``) plus
filters and returning a polars DataFrame. Money stays DECIMAL end to end: totals are summed in
SQL, so nothing is rounded through float.
"""
