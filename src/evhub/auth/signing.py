"""Values signed with the server's secret: console session cookies and upload URL tokens.

The signature is an HMAC-SHA256 over a purpose label and the payload, so that a value signed for
one purpose is never accepted for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from evhub.settings import Settings

SECRET_FILE = "secret_key"


def server_secret(settings: Settings) -> bytes:
    """The configured secret, or one generated once and kept under var_dir (single node)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.var_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def sign(secret: bytes, purpose: str, payload: bytes) -> str:
    mac = hmac.new(secret, purpose.encode() + b"\0" + payload, hashlib.sha256).digest()
    return _b64(mac)


def verify(secret: bytes, purpose: str, payload: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, purpose, payload), signature)


@dataclass(frozen=True)
class SessionData:
    """What the console cookie holds: the signed-in user (None before sign-in), the CSRF token
    of the session, when it was issued (epoch seconds), and the id of its server-side record
    (signed-in sessions only), which sign-out revokes."""

    user_id: int | None
    csrf: str
    issued_at: float
    session_id: str | None = None

    @classmethod
    def anonymous(cls, now: float) -> SessionData:
        return cls(None, secrets.token_urlsafe(24), now)

    @classmethod
    def signed_in(cls, user_id: int, now: float, session_id: str) -> SessionData:
        return cls(user_id, secrets.token_urlsafe(24), now, session_id)


def encode_session(secret: bytes, data: SessionData) -> str:
    fields = {"u": data.user_id, "c": data.csrf, "t": data.issued_at, "s": data.session_id}
    payload = json.dumps(fields).encode()
    return f"{_b64(payload)}.{sign(secret, 'session', payload)}"


def decode_session(secret: bytes, raw: str, now: float, max_age_s: float) -> SessionData | None:
    """The cookie's content if its signature holds and it has not expired."""
    encoded, _, signature = raw.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return None
    if not signature or not verify(secret, "session", payload, signature):
        return None
    fields = json.loads(payload)
    data = SessionData(fields["u"], str(fields["c"]), float(fields["t"]), fields.get("s"))
    if not 0 <= now - data.issued_at <= max_age_s:
        return None
    return data


def upload_token(secret: bytes, station_id: str, request_id: int, expires_at: int) -> str:
    """The unguessable part of the URL a station uploads one request's logs to: the expiry
    (epoch seconds) and an HMAC over the station, the request id and that expiry."""
    payload = f"{station_id}\0{request_id}\0{expires_at}".encode()
    return f"{expires_at}.{sign(secret, 'upload', payload)[:32]}"


def check_upload_token(
    secret: bytes, station_id: str, request_id: int, token: str, now: float
) -> str:
    """ "valid", "expired" (genuine but too late), or "invalid" (forged, foreign, garbled)."""
    expires, _, _ = token.partition(".")
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return "invalid"
    expected = upload_token(secret, station_id, request_id, int(expires))
    # Bytes: compare_digest refuses str with non-ASCII characters (a hostile URL has them).
    if not hmac.compare_digest(expected.encode(), token.encode()):
        return "invalid"
    return "valid" if now < int(expires) else "expired"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
