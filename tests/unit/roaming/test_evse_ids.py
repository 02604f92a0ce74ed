"""EVSE ids in the eMI3 form and EVSE uids."""

from __future__ import annotations

import pytest

from evhub.roaming.evse_ids import build_evse_id, check_evse_id, evse_uid


def test_evse_id_from_a_station_and_its_evse_number() -> None:
    assert build_evse_id("FR", "EVH", "CP-1", 2) == "FR*EVH*ECP1*2"
    assert build_evse_id("fr", "evh", "mall.p2/ac-07", 1) == "FR*EVH*EMALLP2AC07*1"


@pytest.mark.parametrize("value", ["FR*EVH*E1", "DE*AB7*E840*6487", "NL*TNM*EXYZ123456"])
def test_valid_evse_ids(value: str) -> None:
    assert check_evse_id(value) == value


@pytest.mark.parametrize(
    "value", ["FR*EVH*1", "FR*EV*E1", "FRA*EVH*E1", "FR*EVH*E-1", "FR*EVH*E" + "1" * 41, ""]
)
def test_invalid_evse_ids(value: str) -> None:
    with pytest.raises(ValueError):
        check_evse_id(value)


def test_a_station_id_without_letters_or_digits_gives_no_evse_id() -> None:
    with pytest.raises(ValueError):
        build_evse_id("FR", "EVH", "---", 1)


def test_evse_uid_fits_36_characters() -> None:
    assert evse_uid("CP-1", 2) == "CP-1:2"
    with pytest.raises(ValueError):
        evse_uid("S" * 40, 1)
