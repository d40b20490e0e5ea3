"""The Hourbook-Signature header: HMAC-SHA256 of "t.body", one v1 per secret in use."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from adapters.webhooks_out.signing import header, new_secret, signature

BODY = b'{"id":"evt_1","type":"ping"}'


def test_the_signature_is_the_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"whsec_k", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signature("whsec_k", 1_700_000_000, BODY) == expected


def test_the_header_carries_the_timestamp_then_one_v1_per_secret_newest_first() -> None:
    value = header(["whsec_new", "whsec_old"], 1_700_000_000, BODY)
    assert value == (
        f"t=1700000000,v1={signature('whsec_new', 1_700_000_000, BODY)}"
        f",v1={signature('whsec_old', 1_700_000_000, BODY)}"
    )


def test_another_timestamp_or_body_gives_another_signature() -> None:
    one = signature("whsec_k", 1, BODY)
    assert signature("whsec_k", 2, BODY) != one
    assert signature("whsec_k", 1, BODY + b" ") != one
    assert signature("whsec_j", 1, BODY) != one


def test_an_endpoint_without_a_secret_cannot_sign() -> None:
    with pytest.raises(ValueError, match="secret"):
        header([], 1, BODY)


def test_new_secrets_are_prefixed_and_never_repeat() -> None:
    made = {new_secret() for _ in range(100)}
    assert len(made) == 100
    assert all(secret.startswith("whsec_") and len(secret) > 40 for secret in made)
