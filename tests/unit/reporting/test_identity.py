"""AFIREV ids of stations and points, and SIREN numbers."""

from __future__ import annotations

import pytest

from evhub.errors import InvalidInput
from evhub.reporting.identity import (
    check_afirev_id,
    check_siren,
    compact,
    point_afirev_id,
    station_afirev_id,
)


def test_ids_are_built_in_the_afirev_form_and_compacted_for_the_files() -> None:
    assert station_afirev_id("E1H", "0001") == "FR*E1H*P0001"
    assert point_afirev_id("E1H", "0001AC-01 2") == "FR*E1H*E0001AC012"
    assert compact("FR*E1H*E0001AC012") == "FRE1HE0001AC012"


@pytest.mark.parametrize(
    ("value", "kind"),
    [("FR*E1H*X0001", None), ("FR*E1*P0001", None), ("FR-E1H-P0001", None), ("FR*E1H*P1", "E")],
)
def test_malformed_afirev_ids_are_refused(value: str, kind: str | None) -> None:
    with pytest.raises(InvalidInput):
        check_afirev_id(value, kind)


def test_operator_id_must_be_three_characters() -> None:
    with pytest.raises(InvalidInput):
        station_afirev_id("E1", "1")


def test_siren_passes_only_with_its_check_digit() -> None:
    assert check_siren("732 829 320") == "732829320"
    with pytest.raises(InvalidInput):
        check_siren("732829321")
    with pytest.raises(InvalidInput):
        check_siren("12345678")
