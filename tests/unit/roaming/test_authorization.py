"""The whitelist rules of OCPI 2.2.1 §12.4.5, with the eMSP's real-time answer or its absence."""

from __future__ import annotations

import pytest

from evhub.roaming.authorization import NoAnswer, Realtime, asks_realtime, decide
from evhub.roaming.schemas import Allowed, Whitelist

W = Whitelist


@pytest.mark.parametrize(
    ("whitelist", "valid", "realtime", "allowed"),
    [
        # ALWAYS: never asked; the token as pushed decides.
        (W.ALWAYS, True, NoAnswer.NOT_ASKED, True),
        (W.ALWAYS, False, NoAnswer.NOT_ASKED, False),
        (W.ALWAYS, True, Allowed.BLOCKED, True),
        # ALLOWED: the answer when there is one, the whitelist otherwise.
        (W.ALLOWED, True, Allowed.ALLOWED, True),
        (W.ALLOWED, True, Allowed.BLOCKED, False),
        (W.ALLOWED, True, NoAnswer.UNREACHABLE, True),
        (W.ALLOWED, False, NoAnswer.UNREACHABLE, False),
        # ALLOWED_OFFLINE: real time normally, the token allowed when the eMSP is offline.
        (W.ALLOWED_OFFLINE, True, Allowed.ALLOWED, True),
        (W.ALLOWED_OFFLINE, True, Allowed.NO_CREDIT, False),
        (W.ALLOWED_OFFLINE, True, Allowed.EXPIRED, False),
        (W.ALLOWED_OFFLINE, True, NoAnswer.UNREACHABLE, True),
        (W.ALLOWED_OFFLINE, False, NoAnswer.UNREACHABLE, False),
        # NEVER: only the real-time answer allows.
        (W.NEVER, True, Allowed.ALLOWED, True),
        (W.NEVER, True, Allowed.NOT_ALLOWED, False),
        (W.NEVER, True, NoAnswer.UNREACHABLE, False),
        (W.NEVER, True, NoAnswer.NOT_ASKED, False),
        # An eMSP that does not know the token (2004) refuses it.
        (W.ALLOWED_OFFLINE, True, NoAnswer.UNKNOWN_TOKEN, False),
        (W.ALLOWED, True, NoAnswer.UNKNOWN_TOKEN, False),
    ],
)
def test_decide(whitelist: Whitelist, valid: bool, realtime: Realtime, allowed: bool) -> None:
    assert decide(valid, whitelist, realtime) is allowed


def test_only_always_whitelisted_tokens_skip_the_realtime_request() -> None:
    assert [w for w in Whitelist if not asks_realtime(w)] == [Whitelist.ALWAYS]
