"""Display formatting shared by the app and report writers."""

from __future__ import annotations

from decimal import Decimal

# The column contract carries no currency code yet, so one symbol serves every connection.
CURRENCY_SYMBOL = "$"


def money(value: Decimal | int | None, symbol: str = CURRENCY_SYMBOL) -> str:
    """``Decimal('-1234.5')`` → ``'-$1,234.50'``; None → ``'—'``. Exact: no float on the way."""
    if value is None:
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"
