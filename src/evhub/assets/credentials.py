"""Station passwords for OCPP security profiles 1 and 2 (HTTP Basic auth).

OCPP 2.0.1 requires a 16-40 character password (A00.FR.205) and evhub generates random ones:
machine secrets of 128 bits and more, which no dictionary holds. A slow hash defends weak human
passwords against guessing; for these it only makes a reconnect storm of thousands of stations
expensive. They are stored as a keyed hash, HMAC-SHA256 under a key derived from the server
secret (`hmac_sha256$<key id>$<salt>$<mac>`): a stolen table without the key proves nothing,
and a check costs microseconds. Hashes stored by older releases (PBKDF2) are still accepted, and
`needs_rehash` tells the gateway to replace one with the keyed hash after it verified.

The key comes from the configured secret (`EVHUB_SECRET_KEY`), the same on every node and
stable: a station whose hash was made under another key is refused (its key id tells an operator
why). Without a configured secret, the gateway keeps the PBKDF2 hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

KEYED_SCHEME = "hmac_sha256"
PBKDF2_SCHEME = "pbkdf2_sha256"
ITERATIONS = 5_000
MIN_LENGTH = 16
MAX_LENGTH = 40
_KEY_PURPOSE = b"evhub station credentials v1"


def generate_password() -> str:
    return secrets.token_urlsafe(24)[:32]


def credential_key(server_secret: bytes) -> bytes:
    """The key of station hashes, derived so that the server secret serves this use alone."""
    return hmac.new(server_secret, _KEY_PURPOSE, hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """A short public name of a key (not the key): which key a stored hash was made with."""
    return hashlib.sha256(b"key id\0" + key).hexdigest()[:8]


def hash_password(password: str, key: bytes | None = None) -> str:
    """The keyed hash of `password` under `key`; without a key (no server secret at hand),
    the PBKDF2 hash, which the gateway replaces by a keyed one at the first login."""
    salt = secrets.token_bytes(16)
    if key is not None:
        mac = _mac(key, salt, password)
        return f"{KEYED_SCHEME}${key_id(key)}${_b64(salt)}${_b64(mac)}"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    return f"{PBKDF2_SCHEME}${ITERATIONS}${_b64(salt)}${_b64(digest)}"


def needs_rehash(encoded: str) -> bool:
    """Whether a verified password's stored hash should be replaced by the keyed one."""
    return not encoded.startswith(KEYED_SCHEME + "$")


def is_slow(encoded: str) -> bool:
    """Whether checking against this hash costs milliseconds (worth a worker thread)."""
    return encoded.startswith(PBKDF2_SCHEME + "$")


def verify_password(password: str, encoded: str, key: bytes | None = None) -> bool:
    """Whether `password` matches the stored hash, of either scheme (constant-time compare)."""
    try:
        scheme, param, salt_b64, digest_b64 = encoded.split("$")
        salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except ValueError:
        return False
    if scheme == KEYED_SCHEME:
        if key is None or param != key_id(key):
            return False
        return hmac.compare_digest(_mac(key, salt, password), digest)
    if scheme == PBKDF2_SCHEME:
        try:
            iterations = int(param)
        except ValueError:
            return False
        computed = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
        return hmac.compare_digest(computed, digest)
    return False


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


def _mac(key: bytes, salt: bytes, password: str) -> bytes:
    return hmac.new(key, salt + password.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
