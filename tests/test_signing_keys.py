"""The OIDC signing key set: overlap, publication and pruning."""

from __future__ import annotations

import time

import jwt

from skygate.identity.signing import ASSERTION_AUDIENCE, SigningKeySet


def test_a_rotated_key_is_published_before_it_signs() -> None:
    first = SigningKeySet.first()
    rotated = first.rotated(overlap_seconds=600)
    assert [k["kid"] for k in rotated.jwks()["keys"]] == [first.keys[0].kid, rotated.keys[-1].kid]
    assert rotated.signing_key().kid == first.keys[0].kid
    assert rotated.signing_key(time.time() + 601).kid == rotated.keys[-1].kid


def test_rotating_again_inside_an_overlap_never_drops_the_signing_key() -> None:
    keys = SigningKeySet.first()
    signing = keys.signing_key().kid
    for _ in range(4):
        keys = keys.rotated(overlap_seconds=600)
    assert signing in {k.kid for k in keys.keys}
    assert keys.signing_key().kid == signing


def test_assertions_carry_the_contract_claims() -> None:
    keys = SigningKeySet.first()
    token = keys.assertion("https://gw.example.com", "skygate:org:org_1:azure:prod")
    header = jwt.get_unverified_header(token)
    public = keys.keys[0].private_key.public_key()
    claims = jwt.decode(token, public, algorithms=["RS256"], audience=ASSERTION_AUDIENCE)
    assert header["kid"] == keys.keys[0].kid
    assert claims["iss"] == "https://gw.example.com"
    assert claims["sub"] == "skygate:org:org_1:azure:prod"
    assert 0 < claims["exp"] - claims["iat"] <= 600
    assert claims["nbf"] == claims["iat"]
    assert claims["jti"]
    assert SigningKeySet.parse(keys.serialise()).jwks() == keys.jwks()
