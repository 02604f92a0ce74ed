"""Signed, expiring links sent by mail: e-mail verification and setting a password.

A link token is `driver_id.expires.signature`, the signature an HMAC (`auth.signing`) over the
purpose, the driver, the expiry and a value the link is bound to: the e-mail address for a
verification, the current password hash for a reset, so that a reset link works once (the
hash changes when it is used) and a verification link dies with a change of address.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from evhub.auth.signing import sign

VERIFY = "driver-verify"
PASSWORD = "driver-password"


def link_token(secret: bytes, purpose: str, driver_id: int, expires: datetime, bound: str) -> str:
    expiry = int(expires.timestamp())
    return f"{driver_id}.{expiry}.{_signature(secret, purpose, driver_id, expiry, bound)}"


def driver_of(token: str) -> int | None:
    """The driver a token names (unchecked): to look up what it is bound to."""
    driver, _, _ = token.partition(".")
    return int(driver) if driver.isascii() and driver.isdigit() and len(driver) < 10 else None


def check_link(secret: bytes, purpose: str, token: str, bound: str, now: datetime) -> str:
    """ "valid", "expired" (genuine but late) or "invalid" (forged, altered, used)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() for p in parts):
        return "invalid"
    driver, expiry, signature = parts
    if not (driver.isdigit() and expiry.isdigit()) or len(driver) >= 10 or len(expiry) > 12:
        return "invalid"
    expected = _signature(secret, purpose, int(driver), int(expiry), bound)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "invalid"
    return "valid" if now.timestamp() < int(expiry) else "expired"


def _signature(secret: bytes, purpose: str, driver_id: int, expiry: int, bound: str) -> str:
    return sign(secret, purpose, f"{driver_id}\0{expiry}\0{bound}".encode())
