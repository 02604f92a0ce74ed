"""The memoized helpers give the library's own results, and cover all it uses them for."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import ocpp
import ocpp.charge_point as ocpp_charge_point
import ocpp.routing as ocpp_routing
import pytest

from evhub.ocpp import library_hot_path
from evhub.ocpp.v16.handlers import V16Handler
from evhub.ocpp.v21.handlers import V21Handler
from evhub.ocpp.v201.handlers import V201Handler

LIBRARY = Path(ocpp.__file__).parent


def _schema_keys() -> set[str]:
    """Every property name of every schema the library ships (1.6, 2.0.1, 2.1)."""
    keys: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                keys.update(properties)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in LIBRARY.glob("**/schemas/*.json"):
        walk(json.loads(path.read_text(encoding="utf-8-sig")))
    return keys


KEYS = sorted(_schema_keys())


def test_every_schema_key_is_renamed_as_the_library_renames_it() -> None:
    assert len(KEYS) > 500
    for key in KEYS:
        snake = library_hot_path._library_camel_to_snake({key: 1})
        assert library_hot_path.camel_to_snake_case({key: 1}) == snake
        back = next(iter(snake))
        assert library_hot_path.snake_to_camel_case({back: 1}) == (
            library_hot_path._library_snake_to_camel({back: 1})
        )


def test_nested_payloads_are_renamed_whole() -> None:
    payload = {
        "meterValue": [
            {"timestamp": "t", "sampledValue": [{"value": "1", "unitOfMeasure": {"unit": "W"}}]}
        ],
        "evseId": 1,
        "customData": {"vendorId": "x", "someVendorKeyV2X": [{"innerSoC": 3}]},
    }
    assert library_hot_path.camel_to_snake_case(payload) == (
        library_hot_path._library_camel_to_snake(payload)
    )
    snake = library_hot_path._library_camel_to_snake(payload)
    assert library_hot_path.snake_to_camel_case(snake) == (
        library_hot_path._library_snake_to_camel(snake)
    )


@pytest.mark.parametrize("handler_class", [V16Handler, V201Handler])
def test_handler_signatures_are_the_ones_inspect_gives(handler_class: type) -> None:
    handler = handler_class.__new__(handler_class)
    methods = [
        getattr(handler, name)
        for name, member in inspect.getmembers(handler_class, inspect.isfunction)
        if name.startswith("on_")
    ]
    assert methods
    for method in methods:
        assert library_hot_path.signature(method) == inspect.signature(method)
        assert library_hot_path.signature(method) is library_hot_path.signature(method)


def test_the_library_uses_nothing_else_of_inspect() -> None:
    """The module's `inspect` is replaced by a namespace of two functions: an upgrade of the
    library that uses a third must fail here, not in production."""
    source = Path(ocpp_charge_point.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r"\binspect\.(\w+)", source))
    assert used == {"signature", "isawaitable"}
    library_hot_path.install()
    assert ocpp_charge_point.camel_to_snake_case is library_hot_path.camel_to_snake_case


@pytest.mark.parametrize("handler_class", [V16Handler, V201Handler, V21Handler])
def test_route_map_is_the_one_the_library_builds(handler_class: type) -> None:
    """Per class, bound per connection: the same actions, options and bound handlers as
    `ocpp.routing.create_route_map` gives for the instance."""
    handler = handler_class.__new__(handler_class)
    expected = ocpp_routing.create_route_map(handler)
    routes = library_hot_path.BoundRoutes(handler)
    assert len(expected) > 10
    assert set(routes) == set(expected) and len(routes) == len(expected)
    for action, entry in expected.items():
        assert action in routes
        assert routes[action] == entry  # bound methods compare by function and instance
        for option, value in routes[action].items():
            if option != "_skip_schema_validation":
                assert value.__self__ is handler
    assert "NoSuchAction" not in routes
    other = handler_class.__new__(handler_class)
    first = next(iter(expected))
    assert library_hot_path.BoundRoutes(other)[first]["_on_action"].__self__ is other


def test_the_library_builds_its_route_map_with_the_name_replaced() -> None:
    source = Path(ocpp_charge_point.__file__).read_text(encoding="utf-8")
    assert "self.route_map = create_route_map(self)" in source
    library_hot_path.install()
    assert ocpp_charge_point.create_route_map is library_hot_path.BoundRoutes
