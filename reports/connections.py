"""The connections (a Procore company paired with one ERP company, C-1) in a snapshot."""

from __future__ import annotations

import duckdb
import polars as pl

from reports.snapshot import query

# Display names only; an ERP kind missing here shows under its raw code.
ERP_NAMES = {"xero": "Xero", "netsuite": "NetSuite", "acumatica": "Acumatica"}


def with_erp_name(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``erp_name`` (display name of the ``erp`` code)."""
    return frame.with_columns(erp_name=pl.col("erp").replace(ERP_NAMES))


def connections(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per connection: connection_id, erp, erp_name, procore_company_id, company_name,
    label."""
    frame = query(
        con,
        """
        select connection_id, erp, procore_company_id, company_name
        from connections
        order by company_name, connection_id
        """,
    )
    return with_erp_name(frame).with_columns(
        label=pl.concat_str(pl.col("company_name"), pl.lit(" · "), pl.col("erp_name"))
    )
