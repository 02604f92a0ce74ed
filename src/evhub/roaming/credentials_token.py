"""Credentials tokens: making them, hashing them, and the `Authorization: Token ...` header."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets

_PRINTABLE = set(range(0x21, 0x7F))


def generate_token() -> str:
    """A new credentials token: printable non-whitespace ASCII, at most 64 (OCPI 2.2.1 §7.3.1)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authorization_header(token: str, raw: bool = False) -> str:
    """OCPI 2.2.1 §4.1.3: `Token ` and the Base64 of the token's UTF-8 (raw for 2.1.1 peers)."""
    return f"Token {token if raw else base64.b64encode(token.encode()).decode()}"


def header_candidates(header: str | None) -> tuple[str | None, str | None]:
    """The token a header carries: (Base64-decoded, as written). Either may be None.

    The decoded form is the 2.2.1 one; the written form is looked up only for partners flagged
    as sending raw tokens (2.1.1 and early 2.2 implementations, §4.1.3 note).
    """
    if not header:
        return None, None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value or not set(value.encode()) <= _PRINTABLE:
        return None, None
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, value
    if not decoded or not set(decoded.encode()) <= _PRINTABLE:
        return None, value
    return decoded, value
