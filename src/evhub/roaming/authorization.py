"""Real-time authorisation (OCPI 2.2.1 §12.2.1.2) and the whitelist rules (§12.4.5).

`decide` is the whole rule: a pure function of the stored token and what the eMSP said, or
that it could not be asked, so that each rule is tested alone.
"""

from __future__ import annotations

from enum import StrEnum

import httpx
from pydantic import ValidationError

from evhub.roaming.client import Credential, OcpiClient, Party
from evhub.roaming.schemas import Allowed, AuthorizationInfo, LocationReferences, Whitelist
from evhub.roaming.wire import OcpiStatus, PartnerError


class NoAnswer(StrEnum):
    """Why there is no AllowedType from the eMSP."""

    NOT_ASKED = "NOT_ASKED"  # the whitelist forbids asking, or the eMSP has no endpoint
    UNREACHABLE = "UNREACHABLE"  # timeout, transport error, 5xx, garbage
    UNKNOWN_TOKEN = "UNKNOWN_TOKEN"  # the eMSP answered 2004 (§12.2.1.2)


Realtime = Allowed | NoAnswer


def asks_realtime(whitelist: Whitelist) -> bool:
    """ALWAYS forbids a real-time request; evhub asks for every other token (for ALLOWED the
    CPO may choose: the eMSP's answer is the fresher one)."""
    return whitelist is not Whitelist.ALWAYS


def decide(valid: bool, whitelist: Whitelist, realtime: Realtime) -> bool:
    """May the token charge? `valid` and `whitelist` as the eMSP last pushed them."""
    if whitelist is Whitelist.ALWAYS:
        return valid  # §12.4.5: always whitelisted; a token pushed invalid is still refused
    if isinstance(realtime, Allowed):
        return realtime is Allowed.ALLOWED
    if realtime is NoAnswer.UNKNOWN_TOKEN:
        return False
    if whitelist is Whitelist.NEVER:
        return False  # whitelisting is forbidden: no answer, no charge
    return valid  # ALLOWED, ALLOWED_OFFLINE: the eMSP cannot be reached, the whitelist decides


async def ask(
    client: OcpiClient,
    tokens_url: str,
    credential: Credential,
    to: Party,
    uid: str,
    token_type: str,
    location: LocationReferences | None,
    timeout_s: float,
) -> tuple[Realtime, AuthorizationInfo | None]:
    """POST {tokens}/{uid}/authorize?type=...: the eMSP's answer, or why there is none."""
    url = f"{tokens_url.rstrip('/')}/{uid}/authorize"
    body = location.model_dump(exclude_none=True) if location is not None else None
    try:
        reply = await client.call("POST", url, credential, to, json=body,
                                  params={"type": token_type}, timeout_s=timeout_s)  # fmt: skip
    except (httpx.HTTPError, PartnerError):
        return NoAnswer.UNREACHABLE, None
    if reply.status_code == OcpiStatus.UNKNOWN_TOKEN:
        return NoAnswer.UNKNOWN_TOKEN, None
    if not reply.ok:
        return NoAnswer.UNREACHABLE, None
    try:
        info = AuthorizationInfo.model_validate(reply.data)
    except ValidationError:
        return NoAnswer.UNREACHABLE, None
    return info.allowed, info
