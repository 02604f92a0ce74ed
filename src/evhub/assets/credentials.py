"""Station passwords for OCPP security profiles 1 and 2 (HTTP Basic auth).

OCPP 2.0.1 requires a 16-40 character password (A00.FR.205); evhub generates random ones by
default. With secrets of that entropy a modest PBKDF2 work factor suffices, and it keeps a
reconnection storm of thousands of stations affordable on a small node.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 5_000
MIN_LENGTH = 16
MAX_LENGTH = 40


def generate_password() -> str:
    return secrets.token_urlsafe(24)[:32]


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    salt_b64, digest_b64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"pbkdf2_sha256${ITERATIONS}${salt_b64}${digest_b64}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, iterations, salt_b64, digest_b64 = encoded.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt_b64), int(iterations)
    )
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic ...` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None
