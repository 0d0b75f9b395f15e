"""What every writer shares (docs/exports.md §8): the wire request a dry run shows, the error a
service's refusal raises, the writer protocol, documents parsed with exact decimals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class WireRequest:
    """One call exactly as it would be sent (no credentials): for dry runs and the app."""

    method: str
    path: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "params": self.params,
                "headers": self.headers, "body": self.body}


class RecordRejected(Exception):
    """The service refused the record itself (validation): permanent until the item changes.
    The message names the record and, where one applies, the rule."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class Writer(Protocol):
    system: str

    def requests(self, item_type: str, document: dict) -> list[WireRequest]: ...

    def find(self, item_type: str, document: dict, key: str) -> str | None: ...

    def send(self, item_type: str, document: dict, key: str) -> str: ...

    def close(self) -> None: ...


def parse_document(text: str) -> dict[str, Any]:
    """A document as the mart wrote it, numbers as Decimal (money stays exact)."""
    return json.loads(text, parse_float=Decimal)


def external_id(item_type: str, item_id: object) -> str:
    """The deterministic external id of an item on the ERP side (docs/exports.md §8)."""
    return f"costbridge-{item_type}-{item_id}"
