"""Amounts as people read them in reports: to the cent, each with its currency.

The CSV and JSON keep them exact (`monthly_csv.money`); the PDF and the console round here.
Apart from the PDF so that the console need not load the plotting library.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENTS = Decimal("0.01")


def money_text(amounts: dict[str, Decimal]) -> str:
    """Amounts per currency, to the cent ("-" when there are none)."""
    if not amounts:
        return "-"
    return " + ".join(
        f"{a.quantize(CENTS, ROUND_HALF_UP):,} {c}" for c, a in sorted(amounts.items())
    )
