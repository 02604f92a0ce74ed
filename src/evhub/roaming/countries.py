"""ISO 3166-1 alpha-2 to alpha-3, for the countries evhub operates in (OCPI asks alpha-3)."""

from __future__ import annotations

_ALPHA3 = {
    "AT": "AUT", "BE": "BEL", "BG": "BGR", "CH": "CHE", "CY": "CYP", "CZ": "CZE", "DE": "DEU",
    "DK": "DNK", "EE": "EST", "ES": "ESP", "FI": "FIN", "FR": "FRA", "GB": "GBR", "GR": "GRC",
    "HR": "HRV", "HU": "HUN", "IE": "IRL", "IS": "ISL", "IT": "ITA", "LI": "LIE", "LT": "LTU",
    "LU": "LUX", "LV": "LVA", "MC": "MCO", "MT": "MLT", "NL": "NLD", "NO": "NOR", "PL": "POL",
    "PT": "PRT", "RO": "ROU", "SE": "SWE", "SI": "SVN", "SK": "SVK", "US": "USA", "CA": "CAN",
}  # fmt: skip


def alpha3(code: str) -> str:
    try:
        return _ALPHA3[code.upper()]
    except KeyError:
        raise ValueError(f"no ISO 3166-1 alpha-3 code known for {code!r}") from None
