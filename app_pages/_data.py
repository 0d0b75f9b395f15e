"""What every page needs: the current snapshot, cached report results, shared widgets.

Caches are keyed by snapshot id, so the first rerun after a publish reads the new snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import duckdb
import polars as pl
import streamlit as st

from reports.formatting import money
from reports.snapshot import (
    PUBLISHED_DIR_ENV,
    Snapshot,
    SnapshotNotFound,
    connect,
    current_snapshot,
    published_dir,
)

T = TypeVar("T", bound=Hashable)
# Tables format money in the browser ($1,234.56); the data stays DECIMAL and totals are summed
# in SQL, so only the display is rounded, never a total.
MONEY_FORMAT = "dollar"


def snapshot() -> Snapshot:
    """The current snapshot; stops the page with a clear message when nothing is published."""
    try:
        return current_snapshot(published_dir())
    except SnapshotNotFound as exc:
        st.error(str(exc), icon=":material/inventory_2:")
        st.caption(f"The app reads published snapshots only. Set `{PUBLISHED_DIR_ENV}` to read "
                   "another directory.")
        st.stop()


def require_tables(snap: Snapshot, *tables: str) -> None:
    """Stop with a warning if this snapshot predates a table the page reads."""
    missing = [t for t in tables if t not in snap.tables]
    if missing:
        st.warning(f"Snapshot {snap.snapshot_id} has no {', '.join(missing)} table: "
                   "publish again after the models are built.")
        st.stop()


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(published: str, snapshot_id: str, _snap: Snapshot) -> duckdb.DuckDBPyConnection:
    return connect(_snap)


@st.cache_data(max_entries=512, show_spinner=False)
def _run(
    report_name: str,
    published: str,
    snapshot_id: str,
    args: tuple,
    _report: Callable[..., pl.DataFrame],
    _snap: Snapshot,
) -> pl.DataFrame:
    # ``report_name`` stands in for the unhashable ``_report`` in the cache key.
    return _report(_connection(published, snapshot_id, _snap), *args)


def run(report: Callable[..., pl.DataFrame], snap: Snapshot, *args: Any) -> pl.DataFrame:
    """``report(con, *args)`` on this snapshot, cached per snapshot id and arguments."""
    name = f"{report.__module__}.{report.__qualname__}"
    return _run(name, str(snap.published), snap.snapshot_id, args, report, snap)


def sidebar() -> None:
    """Which snapshot the figures come from."""
    published = published_dir()
    with st.sidebar:
        try:
            snap = current_snapshot(published)
        except SnapshotNotFound:
            st.caption(f"**Snapshot:** none published in `{published}`")
            return
        created = datetime.fromisoformat(snap.created_at).strftime("%Y-%m-%d %H:%M:%S %Z")
        st.caption(f"**Snapshot** `{snap.snapshot_id}`  \nCreated {created}  \n"
                   f"Run `{snap.run_id}` · {len(snap.tables)} tables  \nFrom `{published}`")


def pick(
    label: str,
    options: Sequence[T],
    param: str,
    labels: Mapping[T, str],
    *,
    optional: bool = False,
) -> T | None:
    """A selectbox kept in step with the URL query parameter ``param``, so links can open it.

    An unknown or missing parameter falls back to the first option (or to none if optional).
    """
    wanted = st.query_params.get(param)
    index = next((i for i, o in enumerate(options) if str(o) == wanted), None)
    if index is None and not optional and options:
        index = 0
    choice = st.selectbox(label, options, index=index, key=f"pick_{param}",
                          format_func=lambda o: labels.get(o, str(o)),
                          placeholder=f"Choose a {label.lower()}")
    if choice is None:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = str(choice)
    return choice


def with_total_row(frame: pl.DataFrame, totals: pl.DataFrame, label_column: str) -> pl.DataFrame:
    """``frame`` with the SQL-summed ``totals`` appended as a row labelled "Total"."""
    shared = [c for c in totals.columns if c in frame.columns]
    total = totals.select(shared).with_columns(pl.lit("Total").alias(label_column))
    out = pl.concat([frame, total], how="diagonal_relaxed")
    # Blank, not "None", in the total row's other text columns.
    return out.with_columns(pl.col(pl.String).fill_null(""))


def money_column(label: str) -> Any:
    return st.column_config.NumberColumn(label, format=MONEY_FORMAT)


def money_metrics(figures: Mapping[str, Decimal | None]) -> None:
    """A row of bordered metrics showing exact money amounts; sized to their text and wrapping,
    so large amounts are never cut off."""
    row = st.container(horizontal=True, gap="medium")
    for label, value in figures.items():
        row.metric(label, money(value), border=True, width="content")
