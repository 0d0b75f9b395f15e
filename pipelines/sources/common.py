"""Mechanics every dlt source shares: per-key incremental cursors with a lag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dlt


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

    def commit(self, key: str) -> None:
        """Record the newest value seen for ``key``; call after its last page was yielded."""
        if key in self._seen:
            prev = self._state.get(key)
            new = self._seen[key].astimezone(UTC)
            if prev is None or new > datetime.fromisoformat(prev):
                self._state[key] = new.isoformat()
