"""eMI3 contract ids: the check digit against published examples, and the errors it catches."""

from __future__ import annotations

import pytest

from evhub.accounts.contract_ids import ALPHABET, check_digit, for_driver, parse

# The example of eMI3 "Check digit calculation for Contract-IDs" (DE-83D-UIEN83QGZ-D), the
# GIREVE example FR-XYZ-123456789-2, and NL-TNM-000122045-U (mobilityid's documentation).
PUBLISHED = [
    ("DE83DUIEN83QGZ", "D"),
    ("FRXYZ123456789", "2"),
    ("NLTNM000122045", "U"),
]


@pytest.mark.parametrize(("body", "expected"), PUBLISHED)
def test_check_digit_of_published_examples(body: str, expected: str) -> None:
    assert check_digit(body) == expected
    assert check_digit(body.lower()) == expected


def test_a_wrong_character_or_a_swap_of_neighbours_changes_the_check_digit() -> None:
    body = "DE83DUIEN83QGZ"
    good = check_digit(body)
    for i in range(len(body)):
        for char in ALPHABET:
            if char != body[i]:
                assert check_digit(body[:i] + char + body[i + 1 :]) != good, (i, char)
        if i + 1 < len(body) and body[i] != body[i + 1]:
            swapped = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
            assert check_digit(swapped) != good, i


def test_parse_accepts_both_forms_and_refuses_a_wrong_check() -> None:
    assert str(parse("de-83d-uien83qgz-d")) == "DE-83D-UIEN83QGZ-D"
    assert parse("DE83DUIEN83QGZD").compact == "DE83DUIEN83QGZD"
    assert parse("DE-83D-UIEN83QGZ").check == "D"
    with pytest.raises(ValueError, match="wrong check digit"):
        parse("DE-83D-UIEN83QGZ-E")
    with pytest.raises(ValueError, match="not a contract id"):
        parse("DE-83D-UIEN83Q")


def test_driver_contract_ids_are_well_formed_and_distinct() -> None:
    first, second = for_driver("fr", "evh", 1), for_driver("FR", "EVH", 2)
    assert str(first).startswith("FR-EVH-C00000001-")
    assert parse(str(first)) == first
    assert first.compact != second.compact
    with pytest.raises(ValueError):
        for_driver("FR", "EVH", 10**8)
