"""Station credentials: a keyed hash checked in microseconds; PBKDF2 hashes still verify and
are marked for replacement; a hash made under another key is refused."""

from __future__ import annotations

import base64

from evhub.assets.credentials import (
    credential_key,
    hash_password,
    is_slow,
    key_id,
    needs_rehash,
    verify_password,
)

PASSWORD = "9qX3-station-secret-Lk2"
KEY = credential_key(b"server secret of this node, 48 characters long..")


def test_a_keyed_hash_verifies_its_password_only() -> None:
    encoded = hash_password(PASSWORD, KEY)
    assert encoded.startswith(f"hmac_sha256${key_id(KEY)}$")
    assert verify_password(PASSWORD, encoded, KEY)
    assert not verify_password(PASSWORD + "x", encoded, KEY)
    assert not needs_rehash(encoded) and not is_slow(encoded)
    # Salted: the same password twice gives two hashes (shared passwords do not show).
    assert hash_password(PASSWORD, KEY) != encoded


def test_a_keyed_hash_needs_its_key() -> None:
    encoded = hash_password(PASSWORD, KEY)
    other = credential_key(b"another server secret")
    assert not verify_password(PASSWORD, encoded, other)
    assert not verify_password(PASSWORD, encoded, None)
    # The key id names the key, but forging it does not help without the key itself.
    scheme, _, salt, mac = encoded.split("$")
    assert not verify_password(PASSWORD, f"{scheme}${key_id(other)}${salt}${mac}", other)


def test_a_stored_pbkdf2_hash_verifies_and_asks_to_be_replaced() -> None:
    encoded = hash_password(PASSWORD)
    assert encoded.startswith("pbkdf2_sha256$")
    assert verify_password(PASSWORD, encoded, KEY) and verify_password(PASSWORD, encoded)
    assert not verify_password("wrong-password-0000", encoded, KEY)
    assert needs_rehash(encoded) and is_slow(encoded)


def test_malformed_hashes_verify_nothing() -> None:
    junk = base64.b64encode(b"x").decode()
    for encoded in ["", "plain", f"md5$1${junk}${junk}", f"pbkdf2_sha256$many${junk}${junk}",
                    "hmac_sha256$abc$not base64!$x"]:  # fmt: skip
        assert not verify_password(PASSWORD, encoded, KEY)
