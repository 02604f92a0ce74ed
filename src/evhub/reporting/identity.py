"""Identifiers of the IRVE open data: AFIREV ids of stations and points, and the SIREN.

AFIREV ids are written `FR*XXX*P...` (a station, "pool") and `FR*XXX*E...` (a point, "EVSE"),
`XXX` being the operator id the AFIREV gave out. The IRVE files carry them without the `*`
separators (etalab/schema-irve v2.3.0, id_station_itinerance and id_pdc_itinerance).
"""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.fr import siren

from evhub.errors import InvalidInput

OPERATOR_RE = re.compile(r"^[A-Z0-9]{3}$")
AFIREV_RE = re.compile(r"^FR\*([A-Z0-9]{3})\*([PE])([A-Z0-9]{1,30})$")
# The pattern both IRVE schemas put on the ids, once the separators are dropped.
IRVE_ID_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{4,33}$")


def check_operator_id(operator_id: str) -> str:
    if not OPERATOR_RE.match(operator_id):
        raise InvalidInput(f"AFIREV operator id {operator_id!r} is not 3 letters or digits")
    return operator_id


def station_afirev_id(operator_id: str, code: str) -> str:
    return check_afirev_id(f"FR*{check_operator_id(operator_id)}*P{_code(code)}", "P")


def point_afirev_id(operator_id: str, code: str) -> str:
    return check_afirev_id(f"FR*{check_operator_id(operator_id)}*E{_code(code)}", "E")


def check_afirev_id(value: str, kind: str | None = None) -> str:
    """The id itself when it is in the AFIREV form (of the given kind, P or E)."""
    match = AFIREV_RE.match(value)
    if match is None or (kind is not None and match.group(2) != kind):
        what = {"P": "a station (FR*XXX*P...)", "E": "a point (FR*XXX*E...)"}.get(kind or "")
        raise InvalidInput(f"{value!r} is not an AFIREV id of {what or 'a station or a point'}")
    return value


def compact(afirev_id: str) -> str:
    """The id as the IRVE files carry it: without the separators."""
    value = afirev_id.replace("*", "")
    if not IRVE_ID_RE.match(value):
        raise InvalidInput(f"{afirev_id!r} does not give a valid IRVE id")
    return value


def check_siren(value: str) -> str:
    """The SIREN, compacted, when its 9 digits pass the Luhn check (INSEE)."""
    try:
        return str(siren.validate(value))
    except ValidationError as exc:
        raise InvalidInput(f"SIREN {value!r} is not valid: {exc}") from exc


def _code(code: str) -> str:
    """Upper-case letters and digits of a local name (`AC-01` -> `AC01`)."""
    return re.sub(r"[^A-Z0-9]", "", code.upper())
