"""The card acquirer adapter: `PaymentProvider` over the acquirer's HTTP API.

The API, in the style of the common acquirers: `POST /v1/authorisations`,
`POST /v1/authorisations/{id}/capture`, `POST /v1/authorisations/{id}/cancel` and
`POST /v1/captures/{id}/refunds`, each with an `Idempotency-Key` header, amounts as decimal
strings beside their currency, and an answer `{id, status: approved|declined, amount, currency,
reason}`. A timeout, a connection error, a 409 (the same key still in flight), a 429 or a 5xx
is retried with the same key, a bounded number of times; then the call is unavailable and the
operation stays pending, to be sent again with its key (see `operations.resume_pending`).
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from evhub.payments.port import Money, Outcome, ProviderAnswer, ProviderUnavailable

log = logging.getLogger("evhub.payments")

RETRIED_STATUSES = frozenset({409, 429, 500, 502, 503, 504})


class HttpAcquirer:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout_s: float = 10.0,
        attempts: int = 3,
        backoff_s: float = 0.2,
    ) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            timeout=timeout_s,
        )
        self.attempts = attempts
        self.backoff_s = backoff_s

    async def aclose(self) -> None:
        await self.client.aclose()

    async def authorise(
        self, idempotency_key: str, amount: Money, shopper_ref: str, reference: str
    ) -> ProviderAnswer:
        body = _money(amount) | {"shopper_ref": shopper_ref, "reference": reference}
        return await self._call("/v1/authorisations", idempotency_key, body)

    async def capture(
        self, idempotency_key: str, authorisation_ref: str, amount: Money
    ) -> ProviderAnswer:
        path = f"/v1/authorisations/{authorisation_ref}/capture"
        return await self._call(path, idempotency_key, _money(amount))

    async def cancel(self, idempotency_key: str, authorisation_ref: str) -> ProviderAnswer:
        path = f"/v1/authorisations/{authorisation_ref}/cancel"
        return await self._call(path, idempotency_key, {})

    async def refund(self, idempotency_key: str, capture_ref: str, amount: Money) -> ProviderAnswer:
        return await self._call(
            f"/v1/captures/{capture_ref}/refunds", idempotency_key, _money(amount)
        )

    async def _call(self, path: str, key: str, body: dict[str, Any]) -> ProviderAnswer:
        """POST with the key, retrying what may not have reached (or come back from) the
        acquirer; the key makes the retry safe."""
        delay = self.backoff_s
        for attempt in range(1, self.attempts + 1):
            try:
                response = await self.client.post(path, json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError as exc:  # timeouts included
                problem = f"{type(exc).__name__} {exc}"
            else:
                if response.status_code not in RETRIED_STATUSES:
                    return _answer(response)
                problem = f"HTTP {response.status_code}"
            log.warning(
                "event=acquirer_retry path=%s key=%s attempt=%d problem=%s",
                path, key, attempt, problem,
            )  # fmt: skip
            if attempt < self.attempts:
                await asyncio.sleep(delay)  # back-off before the same request again
                delay *= 2
        raise ProviderUnavailable(f"the acquirer did not answer {path}", idempotency_key=key)


def _money(amount: Money) -> dict[str, Any]:
    return {"amount": str(amount.amount), "currency": amount.currency}


def _answer(response: httpx.Response) -> ProviderAnswer:
    """An approval or a decline; a 4xx that is not retried is a decline with its reason."""
    try:
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError("not an object")
        if response.is_success:
            return ProviderAnswer(
                Outcome(data["status"]),
                str(data["id"]),
                Money(Decimal(str(data["amount"])), str(data["currency"])),
                data.get("reason"),
            )
        reason = str(data.get("reason") or data.get("detail") or response.status_code)
    except (KeyError, ValueError, InvalidOperation) as exc:
        raise ProviderUnavailable(f"the acquirer's answer is malformed: {exc}") from exc
    return ProviderAnswer(
        Outcome.DECLINED, str(data.get("id") or ""), Money(Decimal(0), "XXX"), reason[:200]
    )
