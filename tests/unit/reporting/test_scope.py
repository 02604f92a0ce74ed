"""A reader's report scope: a funder sees its own towns only, whatever it asks."""

from __future__ import annotations

import pytest

from evhub.errors import Forbidden
from evhub.reporting.scope import report_scope


def test_an_unlimited_reader_gets_what_it_asks() -> None:
    assert report_scope(None, None).towns is None
    assert report_scope(None, "Jassans").town == "Jassans"


def test_a_funder_without_a_town_gets_all_of_its_towns_and_only_those() -> None:
    scope = report_scope(["Anse", "Ambérieux"], None)
    assert scope.town is None and scope.towns == ("Anse", "Ambérieux")


def test_a_funder_may_name_one_of_its_towns_in_any_case() -> None:
    scope = report_scope(["Anse"], "ANSE")
    assert scope.town == "ANSE" and scope.towns == ("Anse",)


def test_a_funder_asking_for_another_town_is_refused_with_its_towns() -> None:
    with pytest.raises(Forbidden, match="Jassans is not among yours: Anse"):
        report_scope(["Anse"], "Jassans")
