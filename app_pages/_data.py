"""What every page needs: the chosen snapshot, cached report results, shared widgets.

Caches are keyed by snapshot id, so the first rerun after a publish reads the new snapshot.
Time travel: ``?as_of=<snapshot_id>`` (the sidebar's "As of" picker) reads an older kept
snapshot; without it every page reads the current one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
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
    kept_snapshots,
    published_dir,
    snapshot_by_id,
)

T = TypeVar("T", bound=Hashable)
# Tables format money in the browser ($1,234.56); the data stays DECIMAL and totals are summed
# in SQL, so only the display is rounded, never a total.
MONEY_FORMAT = "dollar"
AS_OF_PARAM = "as_of"


def _chosen_snapshot(published: Path) -> Snapshot:
    """The snapshot ``?as_of=`` names if it is still kept, else the current one."""
    wanted = st.query_params.get(AS_OF_PARAM)
    if wanted:
        try:
            return snapshot_by_id(published, wanted)
        except SnapshotNotFound:
            pass  # pruned or mistyped: the sidebar says so and shows the current one
    return current_snapshot(published)


def snapshot() -> Snapshot:
    """The snapshot chosen in the sidebar (default the current one); stops the page with a
    clear message when nothing is published."""
    try:
        return _chosen_snapshot(published_dir())
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


def created(snap: Snapshot, zone: bool = True) -> str:
    """When the snapshot was published, to the second (UTC)."""
    stamp = datetime.fromisoformat(snap.created_at).strftime("%Y-%m-%d %H:%M:%S %Z")
    return stamp if zone else stamp.removesuffix(" UTC")


def sidebar() -> None:
    """Which snapshot the figures come from: a picker of the kept snapshots (time travel),
    and a warning above the page while an older one is shown."""
    published = published_dir()
    with st.sidebar:
        try:
            current = current_snapshot(published)
        except SnapshotNotFound:
            st.caption(f"**Snapshot:** none published in `{published}`")
            return
        kept = {s.snapshot_id: s for s in kept_snapshots(published)}
        kept.setdefault(current.snapshot_id, current)
        wanted = st.query_params.get(AS_OF_PARAM)
        if wanted and wanted not in kept:
            st.warning(f"Snapshot `{wanted}` is no longer kept; showing the current one.",
                       icon=":material/history:")
        options = list(kept)
        labels = {sid: f"{created(s, zone=False)} · {s.run_id or sid}"
                  for sid, s in kept.items()}
        labels[current.snapshot_id] = f"Current · {labels[current.snapshot_id]}"
        index = options.index(wanted if wanted in kept else current.snapshot_id)
        # Keyed by the current snapshot: after a publish a session that was following the
        # current one follows the new one, while a chosen older one stays in the URL.
        chosen_id = st.selectbox("As of (UTC)", options, index=index,
                                 key=f"as_of_{current.snapshot_id}",
                                 format_func=labels.__getitem__,
                                 help="The published snapshots kept (`keep_snapshots`); "
                                      "an older one shows the figures as they were then.")
        # A link without as_of always means "the current one", so it is only set for older.
        if chosen_id == current.snapshot_id:
            st.query_params.pop(AS_OF_PARAM, None)
        else:
            st.query_params[AS_OF_PARAM] = chosen_id
        snap = kept[chosen_id]
        st.caption(f"**Snapshot** `{snap.snapshot_id}`  \nCreated {created(snap)}  \n"
                   f"Run `{snap.run_id}` · {len(snap.tables)} tables  \nFrom `{published}`")
    if chosen_id != current.snapshot_id:
        st.warning(f"You are viewing an older snapshot, published {created(snap)} (run "
                   f"`{snap.run_id}`). The current one was published {created(current)}.",
                   icon=":material/history:")


def pick(
    label: str,
    options: Sequence[T],
    param: str,
    labels: Mapping[T, str],
    *,
    optional: bool = False,
    everything: str | None = None,
    key: str | None = None,
) -> T | None:
    """A selectbox kept in step with the URL query parameter ``param``, so links can open it.

    An unknown or missing parameter falls back to the first option (or to none if optional).
    With ``everything`` (e.g. "All connections") a first option of that label stands for no
    filter: it returns None and leaves ``param`` out of the URL.
    """
    wanted = st.query_params.get(param)
    values: list[T | None] = [None, *options] if everything is not None else list(options)
    index = next((i for i, o in enumerate(values) if o is not None and str(o) == wanted), None)
    if index is None and (everything is not None or not optional) and values:
        index = 0
    choice = st.selectbox(label, values, index=index, key=key or f"pick_{param}",
                          format_func=lambda o: everything if o is None else labels.get(o, str(o)),
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
