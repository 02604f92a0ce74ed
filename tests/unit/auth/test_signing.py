"""Signed session cookies and upload tokens; password and key hashes."""

from __future__ import annotations

from pathlib import Path

from evhub.auth import passwords
from evhub.auth.roles import Role
from evhub.auth.signing import (
    SessionData,
    check_upload_token,
    decode_session,
    encode_session,
    server_secret,
    upload_token,
)
from evhub.settings import Settings

SECRET = b"s" * 32


def test_a_session_cookie_reads_back_until_it_expires() -> None:
    data = SessionData.signed_in(7, now=1000.0, session_id="s1")
    raw = encode_session(SECRET, data)
    assert decode_session(SECRET, raw, now=1010.0, max_age_s=60) == data
    assert decode_session(SECRET, raw, now=1061.0, max_age_s=60) is None


def test_a_tampered_or_foreign_cookie_is_refused() -> None:
    raw = encode_session(SECRET, SessionData.signed_in(7, now=1000.0, session_id="s1"))
    payload, signature = raw.split(".")
    forged = encode_session(b"other" * 8, SessionData.signed_in(1, now=1000.0, session_id="s2"))
    assert decode_session(SECRET, forged, now=1000.0, max_age_s=60) is None
    assert decode_session(SECRET, payload + "." + signature[:-2] + "AA", 1000.0, 60) is None
    assert decode_session(SECRET, "garbage", 1000.0, 60) is None


def test_an_upload_token_is_bound_to_its_station_request_and_expiry() -> None:
    token = upload_token(SECRET, "CP-1", 42, expires_at=2000)
    assert check_upload_token(SECRET, "CP-1", 42, token, now=1999.0) == "valid"
    assert check_upload_token(SECRET, "CP-1", 42, token, now=2000.0) == "expired"
    assert check_upload_token(SECRET, "CP-2", 42, token, now=1000.0) == "invalid"
    assert check_upload_token(SECRET, "CP-1", 43, token, now=1000.0) == "invalid"
    later = token.replace("2000.", "9999.")
    assert check_upload_token(SECRET, "CP-1", 42, later, now=1000.0) == "invalid"
    assert check_upload_token(SECRET, "CP-1", 42, "é", now=1000.0) == "invalid"
    assert check_upload_token(SECRET, "CP-1", 42, "2000.é", now=1000.0) == "invalid"


def test_the_generated_secret_is_kept_for_the_next_start(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    first = server_secret(settings)
    assert len(first) >= 32 and server_secret(settings) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert server_secret(Settings(var_dir=tmp_path, secret_key="k" * 32)) == b"k" * 32


def test_passwords_and_keys_are_stored_as_hashes() -> None:
    encoded = passwords.hash_password("correct horse")
    assert "correct horse" not in encoded and encoded.startswith("scrypt$")
    assert passwords.verify_password("correct horse", encoded)
    assert not passwords.verify_password("wrong horse", encoded)
    assert not passwords.verify_password("x", "not-a-hash")
    key = passwords.generate_api_key()
    assert key.startswith("evh_") and len(key) > 40
    assert passwords.key_digest(key) != key and len(passwords.key_digest(key)) == 64


def test_roles_are_ordered() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)
