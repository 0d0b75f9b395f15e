"""What the source tests share: frames a sandbox API serves, changed by the tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl


class Provider:
    """An account's or tenant's tables; tests replace frames to change it, and ``on_call``
    runs a hook when the API reads the tables for the n-th time."""

    def __init__(self, tables: dict[str, pl.DataFrame]) -> None:
        self.frames = tables
        self.calls = 0
        self.on_call: dict[int, Callable[[], None]] = {}

    def __call__(self) -> dict[str, pl.DataFrame]:
        self.calls += 1
        hook = self.on_call.pop(self.calls, None)
        if hook is not None:
            hook()
        return self.frames

    def update(self, table: str, where: pl.Expr, **values: Any) -> None:
        frame = self.frames[table]
        self.frames[table] = frame.with_columns(
            pl.when(where).then(pl.lit(v, dtype=frame.schema[k])).otherwise(pl.col(k)).alias(k)
            for k, v in values.items())
