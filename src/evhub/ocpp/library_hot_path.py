"""The ocpp library's per-message helpers, memoized: same results, computed once per key.

For every Call, `ocpp.charge_point.ChargePoint._handle_call` renames each payload key from
camelCase to snake_case with two regular expressions, renames the answer's keys back, and
inspects the handler's signature (twice with an after-handler). Keys come from a finite
schema, and handlers are the same few methods, so both are memoized here; the library's own
functions still compute every result (for one key at a time), so the mapping is unchanged.
Measured under load (5,000 stations, py-spy): those three were 7 % of the gateway's time.

Each new connection also builds its route map (`ocpp.routing.create_route_map`): two
`getattr` per name any version's handlers decorated, most of them raising AttributeError, 3 %
of a reconnection storm. The map is the same for every instance of a class but for the
binding, so it is built once per class and bound per connection.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from types import SimpleNamespace
from typing import Any

import ocpp.charge_point as ocpp_charge_point
import ocpp.routing as ocpp_routing

_library_camel_to_snake = ocpp_charge_point.camel_to_snake_case
_library_snake_to_camel = ocpp_charge_point.snake_to_camel_case
KEYS_KEPT = 4096  # bounded: a station can send keys no schema knows (customData, vendor ids)


@functools.lru_cache(maxsize=KEYS_KEPT)
def _snake_key(key: str) -> str:
    (converted,) = _library_camel_to_snake({key: None})
    return str(converted)


@functools.lru_cache(maxsize=KEYS_KEPT)
def _camel_key(key: str) -> str:
    (converted,) = _library_snake_to_camel({key: None})
    return str(converted)


def _renamer(rename: Callable[[str], str]) -> Callable[[Any], Any]:
    def convert(data: Any) -> Any:
        if isinstance(data, dict):
            return {rename(k) if isinstance(k, str) else k: convert(v) for k, v in data.items()}
        if isinstance(data, list):
            return [convert(v) for v in data]
        return data

    return convert


camel_to_snake_case = _renamer(_snake_key)
snake_to_camel_case = _renamer(_camel_key)


@functools.lru_cache(maxsize=1024)
def _signature_of(function: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(function)


@functools.lru_cache(maxsize=1024)
def _bound_signature_of(function: Callable[..., Any]) -> inspect.Signature:
    full = inspect.signature(function)
    return full.replace(parameters=list(full.parameters.values())[1:])


def signature(handler: Callable[..., Any]) -> inspect.Signature:
    """`inspect.signature`, once per function: a bound method (a new object at every
    attribute access) is looked up by its function, whose first parameter it binds."""
    function = getattr(handler, "__func__", None)
    return _signature_of(handler) if function is None else _bound_signature_of(function)


_ROUTE_MAPS: dict[type, dict[Any, dict[str, Any]]] = {}


def _class_route_map(cls: type) -> dict[Any, dict[str, Any]]:
    """The library's map for the class itself (once per class): its entries hold the plain
    functions."""
    routes = _ROUTE_MAPS.get(cls)
    if routes is None:
        routes = _ROUTE_MAPS[cls] = dict(ocpp_routing.create_route_map(cls))
    return routes


class BoundRoutes(Mapping[Any, dict[str, Any]]):
    """`ocpp.routing.create_route_map(obj)` as a view of its class's map: the same actions and
    options, each handler bound to `obj` (as `getattr(obj, name)` binds it) when its action is
    looked up, so that a connection holds one object here instead of a dict and bound methods
    per action."""

    __slots__ = ("_obj", "_routes")

    def __init__(self, obj: object) -> None:
        self._obj = obj
        self._routes = _class_route_map(type(obj))

    def __getitem__(self, action: Any) -> dict[str, Any]:
        entry, obj = self._routes[action], self._obj
        return {
            option: value if option == "_skip_schema_validation" else value.__get__(obj)
            for option, value in entry.items()
        }

    def __contains__(self, action: object) -> bool:
        return action in self._routes

    def __iter__(self) -> Iterator[Any]:
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)


def install() -> None:
    """Have the library's ChargePoint use the memoized helpers (it calls the names of its
    module: the two renamers, `create_route_map`, and `inspect`, of which it uses `signature`
    and `isawaitable`)."""
    ocpp_charge_point.create_route_map = BoundRoutes
    ocpp_charge_point.camel_to_snake_case = camel_to_snake_case
    ocpp_charge_point.snake_to_camel_case = snake_to_camel_case
    ocpp_charge_point.inspect = SimpleNamespace(
        signature=signature, isawaitable=inspect.isawaitable
    )
