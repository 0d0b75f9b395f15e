"""Mechanics every dlt source shares: per-key incremental cursors with a lag, and the Arrow
fast path that turns a page of nested API records into flat tables.

Pages go to the warehouse as Arrow tables, one per table, so dlt skips its row-by-row JSON
normaliser (about 15k rows/s here for nested records) and loads Parquet directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import dlt
import polars as pl
import pyarrow as pa

ROOT_ID, PARENT_ID, INDEX = "_root_id", "_parent_id", "_idx"


def secret(system: str, connection_id: str, key: str) -> tuple[str, str] | None:
    """A credential the dlt way, per connection when set (``sources.<system>.<id>.<key>``),
    else shared (``sources.<system>.<key>``): ``(value, path it came from)``, or None.

    The id is also tried with ``-`` as ``_``, the form an environment variable can spell
    (``SOURCES__NETSUITE__NS_1__TOKEN_ID``)."""
    ids = dict.fromkeys((connection_id, connection_id.replace("-", "_")))
    for path in [f"sources.{system}.{cid}.{key}" for cid in ids] + [f"sources.{system}.{key}"]:
        value = dlt.secrets.get(path)
        if value:
            return str(value), path
    return None


class KeyedCursor:
    """Incremental cursor kept in dlt resource state, one value per key (tenant, project).

    dlt's own ``incremental`` keeps one cursor per resource; a resource that reads several
    tenants or projects needs one per key. The state is committed with the load, so a failed
    load does not advance it. Reads start ``lag`` before the last value seen, to pick up rows
    that arrived late with an older timestamp; merge on primary keys absorbs the overlap.
    """

    def __init__(self, name: str, lag_seconds: int) -> None:
        self.name = name
        self.lag = timedelta(seconds=lag_seconds)
        self._state = dlt.current.resource_state().setdefault("cursors", {})
        self._seen: dict[str, datetime] = {}

    def start(self, key: str) -> datetime | None:
        """Where to read from for ``key`` (last value minus lag), or None for a full read."""
        last = self._state.get(key)
        return datetime.fromisoformat(last) - self.lag if last else None

    def observe(self, key: str, value: datetime) -> None:
        if key not in self._seen or value > self._seen[key]:
            self._seen[key] = value

    def commit(self, key: str, ceiling: datetime | None = None) -> None:
        """Record the newest value seen for ``key``; call after its last page was yielded.

        ``ceiling`` is when the read began: a record modified while we paged may carry a
        newer time than others we have not seen in their new state, so the cursor never
        passes the start of the read (the lag absorbs clock skew with the server)."""
        if key in self._seen:
            prev = self._state.get(key)
            new = self._seen[key].astimezone(UTC)
            if ceiling is not None:
                new = min(new, ceiling.astimezone(UTC))
            if prev is None or new > datetime.fromisoformat(prev):
                self._state[key] = new.isoformat()


@dataclass(frozen=True)
class Child:
    """A list field of a record that becomes its own table.

    Rows carry ``_root_id`` (the top record's key, the merge key: when a record is reloaded,
    all its child rows are replaced, so a line deleted at the source disappears too),
    ``_parent_id`` (the enclosing record's key) and ``_idx`` (position in the list).
    """

    field: str
    table: str
    key: str | None = None  # the child's own id field, if it has one
    children: tuple[Child, ...] = ()
    columns: tuple[tuple[str, pl.DataType], ...] = ()  # optional fields, as Shape.columns


@dataclass(frozen=True)
class Shape:
    """How one endpoint's records become tables."""

    table: str
    key: str
    children: tuple[Child, ...] = ()
    drop: tuple[str, ...] = ()
    decimals: frozenset[str] = frozenset()  # columns always DECIMAL, whatever a page holds
    # optional fields some records carry and others lack (a record written through the API
    # beside generated ones): present, typed, on every page, so pages share one schema
    columns: tuple[tuple[str, pl.DataType], ...] = ()
    by_field: dict[str, Child] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.by_field.update({c.field: c for c in self.children})


def _flatten(rec: dict, skip: set[str], prefix: str = "") -> dict:
    """Scalars as they are, nested objects as ``parent__field`` columns, other lists as JSON."""
    row: dict = {}
    for k, v in rec.items():
        if k in skip:
            continue
        if isinstance(v, dict):
            row.update(_flatten(v, set(), f"{prefix}{k}__"))
        elif isinstance(v, list):
            row[f"{prefix}{k}"] = json.dumps(v, default=str)  # an unmodelled list, kept whole
        else:
            row[f"{prefix}{k}"] = v
    return row


def _flatten_children(child: Child, items: list, root_id: object, parent_id: object,
                      out: dict[str, list[dict]]) -> None:
    skip = {c.field for c in child.children}
    for i, item in enumerate(items):
        row = _flatten(item, skip)
        row[ROOT_ID], row[PARENT_ID], row[INDEX] = root_id, parent_id, i
        out.setdefault(child.table, []).append(row)
        own = item.get(child.key) if child.key else f"{parent_id}/{i}"
        for c in child.children:
            _flatten_children(c, item.get(c.field) or [], root_id, own, out)


def flatten_page(shape: Shape, records: list[dict], extra: dict) -> dict[str, list[dict]]:
    """Rows per table for one page of records; ``extra`` columns go on every top-level row."""
    out: dict[str, list[dict]] = {shape.table: []}
    skip = set(shape.by_field) | set(shape.drop)
    for rec in records:
        root_id = rec[shape.key]
        out[shape.table].append(_flatten(rec, skip) | extra)
        for child in shape.children:
            _flatten_children(child, rec.get(child.field) or [], root_id, root_id, out)
    return out


def to_arrow(rows: list[dict], decimals: frozenset[str] = frozenset(),
             keys: tuple[str, ...] = (),
             dtypes: Mapping[str, pl.DataType] | None = None,
             columns: tuple[tuple[str, pl.DataType], ...] = ()) -> pa.Table:
    """Rows → Arrow. Money stays DECIMAL (38, 9, as dlt stores decimals), also where a page
    happens to hold only whole numbers (``decimals``: else the first page would fix an
    integer column and later cents would be rounded away); a column that is null on every
    row of a page is typed text so pages of one table share a schema, unless ``dtypes``
    knows its type (a date column empty on one page stays DATE). ``keys`` are declared
    not null, as dlt declares key columns (else dlt warns on every page)."""
    frame = pl.DataFrame(rows, infer_schema_length=None)
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in columns
               if name not in frame.schema]
    if missing:
        frame = frame.with_columns(missing)
    dtypes = {**dict(columns), **(dtypes or {})}
    casts = {name: (pl.Decimal(38, 9) if isinstance(dtype, pl.Decimal) or name in decimals
                    else pl.Utf8)
             for name, dtype in frame.schema.items()
             if isinstance(dtype, pl.Decimal) or dtype == pl.Null or name in decimals}
    casts.update({name: dtype for name, dtype in (dtypes or {}).items() if name in frame.schema})
    table = frame.cast(casts).to_arrow() if casts else frame.to_arrow()
    return keys_not_null(table, keys) if keys else table


def keys_not_null(table: pa.Table, keys: tuple[str, ...] | set[str]) -> pa.Table:
    """Declare key columns not null, as dlt's key hints do (else dlt warns on every page)."""
    return table.cast(pa.schema([f.with_nullable(f.name not in keys) for f in table.schema]))


def page_items(shape: Shape, records: list[dict], extra: dict,
               write_disposition: str = "merge") -> Iterator[object]:
    """dlt items for one page: the top table as is, each child table with its own hints."""
    tables = flatten_page(shape, records, extra)
    yield dlt.mark.with_table_name(
        to_arrow(tables.pop(shape.table), shape.decimals, (shape.key,), columns=shape.columns),
        shape.table)
    for child in _walk(shape.children):
        rows = tables.get(child.table)
        if rows:
            hints = dlt.mark.make_hints(
                table_name=child.table, write_disposition=write_disposition,
                merge_key=ROOT_ID, primary_key=[PARENT_ID, INDEX])
            yield dlt.mark.with_hints(to_arrow(rows, shape.decimals, (ROOT_ID, PARENT_ID, INDEX),
                                               columns=child.columns),
                                      hints,
                                      create_table_variant=True)


def _walk(children: tuple[Child, ...]) -> Iterator[Child]:
    for c in children:
        yield c
        yield from _walk(c.children)
