"""The `Authorization: Token <base64>` header of OCPI 2.2.1 §4.1.3, and 2.1.1's raw form."""

from __future__ import annotations

import base64

import pytest

from evhub.roaming.credentials_token import (
    authorization_header,
    generate_token,
    header_candidates,
    token_hash,
)


def test_the_header_carries_the_base64_of_the_token() -> None:
    header = authorization_header("example-token")
    assert header == "Token " + base64.b64encode(b"example-token").decode()
    assert header_candidates(header)[0] == "example-token"


def test_a_raw_token_is_offered_as_written() -> None:
    decoded, written = header_candidates("Token example-token")
    assert decoded is None and written == "example-token"
    assert authorization_header("example-token", raw=True) == "Token example-token"


def test_the_spec_example_decodes() -> None:
    # OCPI 2.2.1 §4.1.3 example (its token ends with a newline, which is not printable).
    decoded, written = header_candidates("Token ZXhhbXBsZS10b2tlbg==")
    assert decoded == "example-token" and written == "ZXhhbXBsZS10b2tlbg=="


@pytest.mark.parametrize("header", [None, "", "Bearer abc", "Token ", "Token a b", "Basic Zm9v"])
def test_other_headers_carry_no_token(header: str | None) -> None:
    assert header_candidates(header) == (None, None)


def test_generated_tokens_are_printable_ascii_and_short_enough() -> None:
    tokens = {generate_token() for _ in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        assert len(token) <= 64 and all(0x21 <= ord(c) <= 0x7E for c in token)
        assert len(token_hash(token)) == 64
