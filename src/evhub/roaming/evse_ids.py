"""EVSE ids in the eMI3 / ISO 15118 form: `FR*EVH*E<power outlet id>` (OCPI 2.2.1 §8.3.2)."""

from __future__ import annotations

import re

_OUTLET = re.compile(r"[^A-Z0-9]")
EVSE_ID = re.compile(r"^[A-Z]{2}\*[A-Z0-9]{3}\*E[A-Z0-9][A-Z0-9*]{0,30}$")


def build_evse_id(country_code: str, party_id: str, station_id: str, evse_id: int) -> str:
    """The EVSE's public id: the station id reduced to letters and digits, `*`, the EVSE number.

    Two stations whose ids differ only in punctuation (`CP-1`, `CP1`) would share an EVSE id:
    station ids of one operator must differ in their letters or digits.
    """
    outlet = _OUTLET.sub("", station_id.upper())
    return check_evse_id(f"{country_code.upper()}*{party_id.upper()}*E{outlet}*{evse_id}")


def check_evse_id(value: str) -> str:
    """`value` if it is an eMI3 EVSE id of at most 48 characters; ValueError otherwise."""
    if len(value) > 48 or not EVSE_ID.match(value):
        raise ValueError(f"not an eMI3 EVSE id: {value!r}")
    return value


def evse_uid(station_id: str, evse_id: int) -> str:
    """The EVSE's uid at evhub (OCPI CiString(36)): station id and EVSE number, never reused."""
    uid = f"{station_id}:{evse_id}"
    if len(uid) > 36:
        raise ValueError(f"EVSE uid longer than 36 characters: {uid!r}")
    return uid
