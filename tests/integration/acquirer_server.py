"""A test card acquirer: a small real HTTP server (Starlette under uvicorn on a free port)
speaking the API `evhub.payments.acquirer` is written for, with its own idempotency.

It holds funds per shopper and declines a hold beyond them ("insufficient funds"); it keeps
every answer under its idempotency key and answers a retry from it; and it can be told to
lose the answers of the next requests *after* acting on them (the client times out, as when
the network drops a response), which is the case that must not move money twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Handler = Callable[[Request, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]


@dataclass
class SandboxAcquirer:
    funds: dict[str, Decimal] = field(default_factory=dict)
    default_funds: Decimal = Decimal("1000.00")
    holds: dict[str, dict[str, Any]] = field(default_factory=dict)
    captures: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    moves: list[tuple[str, str, Decimal]] = field(default_factory=list)  # kind, key, amount
    requests: list[str] = field(default_factory=list)  # the idempotency key of each request
    lose_answers: int = 0
    acted: asyncio.Event = field(default_factory=asyncio.Event)  # a new request acted on
    _in_flight: set[str] = field(default_factory=set)
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(path, self._keyed(handler), methods=["POST"])
                for path, handler in (
                    ("/v1/authorisations", self._authorise),
                    ("/v1/authorisations/{id}/capture", self._capture),
                    ("/v1/authorisations/{id}/cancel", self._cancel),
                    ("/v1/captures/{id}/refunds", self._refund),
                )
            ]
        )  # fmt: skip

    def moved(self, kind: str) -> list[Decimal]:
        return [amount for k, _, amount in self.moves if k == kind]

    def _keyed(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            key = request.headers.get("idempotency-key", "")
            self.requests.append(key)
            if not key:
                return JSONResponse({"reason": "Idempotency-Key required"}, 400)
            if key in self._in_flight:
                return JSONResponse({"reason": "in flight"}, 409)
            if key not in self.answers:
                self._in_flight.add(key)
                try:
                    self.answers[key] = await handler(request, await request.json())
                finally:
                    self._in_flight.discard(key)
                self.acted.set()
                if self.lose_answers > 0:
                    self.lose_answers -= 1
                    await self._release.wait()  # acted on, the answer never leaves
            code, body = self.answers[key]
            return JSONResponse(body, code)

        return endpoint

    async def _authorise(
        self, request: Request, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        key = request.headers["idempotency-key"]
        amount, shopper = Decimal(body["amount"]), str(body["shopper_ref"])
        hold_id = "auth_" + uuid.uuid4().hex[:12]
        if amount > self.funds.get(shopper, self.default_funds):
            return 200, _answer(hold_id, "declined", Decimal(0), body, "insufficient funds")
        self.funds[shopper] = self.funds.get(shopper, self.default_funds) - amount
        self.holds[hold_id] = {"amount": amount, "shopper": shopper, "status": "held"}
        self.moves.append(("hold", key, amount))
        return 200, _answer(hold_id, "approved", amount, body)

    async def _capture(self, request: Request, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = request.headers["idempotency-key"]
        hold = self.holds.get(request.path_params["id"])
        amount = Decimal(body["amount"])
        if hold is None or hold["status"] != "held" or amount > hold["amount"]:
            return 422, {"reason": "no such hold, or more than held"}
        hold["status"] = "captured"
        self.funds[hold["shopper"]] += hold["amount"] - amount  # the rest is released
        capture_id = "cap_" + uuid.uuid4().hex[:12]
        self.captures[capture_id] = {"amount": amount, "refunded": Decimal(0)}
        self.moves.append(("capture", key, amount))
        return 200, _answer(capture_id, "approved", amount, body)

    async def _cancel(self, request: Request, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        hold = self.holds.get(request.path_params["id"])
        if hold is None or hold["status"] != "held":
            return 422, {"reason": "no such hold"}
        hold["status"] = "cancelled"
        self.funds[hold["shopper"]] += hold["amount"]
        return 200, {"id": request.path_params["id"], "status": "approved", "amount": "0.00",
                     "currency": "EUR"}  # fmt: skip

    async def _refund(self, request: Request, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = request.headers["idempotency-key"]
        capture = self.captures.get(request.path_params["id"])
        amount = Decimal(body["amount"])
        if capture is None or capture["refunded"] + amount > capture["amount"]:
            return 422, {"reason": "no such capture, or more than captured"}
        capture["refunded"] += amount
        self.moves.append(("refund", key, amount))
        return 200, _answer("ref_" + uuid.uuid4().hex[:12], "approved", amount, body)


def _answer(
    id_: str, status: str, amount: Decimal, body: dict[str, Any], reason: str | None = None
) -> dict[str, Any]:
    return {"id": id_, "status": status, "amount": str(amount),
            "currency": body.get("currency", "EUR"), "reason": reason}  # fmt: skip


@asynccontextmanager
async def run_acquirer(
    acquirer: SandboxAcquirer | None = None,
) -> AsyncIterator[tuple[SandboxAcquirer, str]]:
    """The acquirer on a free loopback port, and its base URL."""
    acquirer = acquirer or SandboxAcquirer()
    config = uvicorn.Config(acquirer.app(), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield acquirer, f"http://127.0.0.1:{port}"
    finally:
        acquirer._release.set()
        server.should_exit = True
        await task
