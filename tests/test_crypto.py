"""Envelope encryption, key hashing and token formats."""

from __future__ import annotations

import base64
import re

import pytest

from skygate.crypto import (
    MasterKey,
    SealedSecret,
    generate_token,
    hash_token,
    new_id,
    open_secret,
    parse_master_key,
    rewrap_secret,
    seal_secret,
    secret_fingerprint,
)
from skygate.errors import StartupError


def test_sealed_secret_opens_only_with_its_context_and_master() -> None:
    master = MasterKey.generate()
    sealed = seal_secret(master, "s3cret-value", "provider:prov_1:secret")
    assert "s3cret-value" not in sealed
    assert SealedSecret.parse(sealed).key_id == master.key_id
    assert open_secret({master.key_id: master}, sealed, "provider:prov_1:secret") == "s3cret-value"
    with pytest.raises(StartupError, match="does not belong"):
        open_secret({master.key_id: master}, sealed, "provider:prov_2:secret")
    other = MasterKey.generate()
    with pytest.raises(StartupError, match="not configured"):
        open_secret({other.key_id: other}, sealed, "provider:prov_1:secret")


def test_each_seal_uses_a_fresh_data_key_and_nonce() -> None:
    master = MasterKey.generate()
    assert seal_secret(master, "same", "c") != seal_secret(master, "same", "c")


def test_tampered_ciphertext_is_refused() -> None:
    master = MasterKey.generate()
    sealed = SealedSecret.parse(seal_secret(master, "value", "c"))
    flipped = bytearray(sealed.ciphertext)
    flipped[-1] ^= 1
    tampered = SealedSecret(sealed.key_id, sealed.wrapped_key, bytes(flipped)).serialise()
    with pytest.raises(StartupError):
        open_secret({master.key_id: master}, tampered, "c")


def test_rewrap_moves_the_data_key_and_keeps_the_ciphertext() -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    sealed = seal_secret(old, "value", "c")
    moved = rewrap_secret(sealed, {old.key_id: old}, new)
    assert SealedSecret.parse(moved).ciphertext == SealedSecret.parse(sealed).ciphertext
    assert SealedSecret.parse(moved).key_id == new.key_id
    assert open_secret({new.key_id: new}, moved, "c") == "value"
    with pytest.raises(StartupError):
        open_secret({old.key_id: old}, moved, "c")


def test_master_key_accepts_base64_urlsafe_and_hex() -> None:
    raw = bytes(range(32))
    for text in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(), raw.hex()):
        assert parse_master_key(text).key == raw


@pytest.mark.parametrize("text", ["", "short", base64.b64encode(b"x" * 16).decode(), "z" * 64])
def test_bad_master_keys_are_refused_with_how_to_make_one(text: str) -> None:
    with pytest.raises(StartupError, match="32 random bytes"):
        parse_master_key(text)


def test_master_key_repr_hides_the_key() -> None:
    key = MasterKey.generate()
    assert key.encoded() not in repr(key)
    assert key.key_id in repr(key)


def test_tokens_hashes_and_fingerprints() -> None:
    token = generate_token("sk-sg-")
    assert re.fullmatch(r"sk-sg-[0-9A-Za-z]{43}", token)
    assert generate_token("sk-sg-") != token
    assert re.fullmatch(r"org_[0-9A-Za-z]{22}", new_id("org"))
    pepper_a, pepper_b = b"a" * 32, b"b" * 32
    assert hash_token(pepper_a, token) == hash_token(pepper_a, token)
    assert hash_token(pepper_a, token) != hash_token(pepper_b, token)
    assert token not in hash_token(pepper_a, token)
    # Stored key hashes are HMAC-SHA-256 in hex: however it is computed, the value must not change.
    assert hash_token(pepper_a, "sk-sg-abc") == "ee57c1e5854e8efeec681781d18d59c42d6971683a30efbcdadd009c92c12be0"
    assert re.fullmatch(r"hmac-sha256:[0-9a-f]{16}", secret_fingerprint(pepper_a, "secret"))
    assert secret_fingerprint(pepper_a, "secret") != secret_fingerprint(pepper_a, "secreT")
