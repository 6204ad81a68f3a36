"""skygate's OIDC signing keys: RSA keys generated on first start, sealed at rest with the master key,
rotated with an overlap (a new key is published before it signs; the previous one stays published), and the
RS256 assertions they sign (SPEC §3)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["ASSERTION_AUDIENCE", "ASSERTION_LIFETIME_SECONDS", "SigningKey", "SigningKeySet", "workload_subject"]

ASSERTION_AUDIENCE = "api://AzureADTokenExchange"
# Short-lived: Entra exchanges it at once; SPEC §3 caps it at 10 minutes.
ASSERTION_LIFETIME_SECONDS = 300
# How many keys a set keeps: the signing one, the one before it (still published), and one scheduled.
_KEEP = 3


def workload_subject(org_id: str, subject_suffix: str) -> str:
    return f"skygate:org:{org_id}:azure:{subject_suffix}"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    sign_from: float
    created_at: float

    @classmethod
    def generate(cls, sign_from: float) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        kid = base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:16]).rstrip(b"=").decode()
        return cls(kid, key, sign_from, time.time())

    def jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }

    def to_json(self) -> dict[str, Any]:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {"kid": self.kid, "pem": pem, "sign_from": self.sign_from, "created_at": self.created_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SigningKey:
        key = serialization.load_pem_private_key(data["pem"].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return cls(data["kid"], key, float(data["sign_from"]), float(data["created_at"]))


@dataclass(frozen=True)
class SigningKeySet:
    keys: tuple[SigningKey, ...]

    def serialise(self) -> str:
        return json.dumps([k.to_json() for k in self.keys])

    @classmethod
    def parse(cls, text: str) -> SigningKeySet:
        return cls(tuple(SigningKey.from_json(k) for k in json.loads(text)))

    @classmethod
    def first(cls) -> SigningKeySet:
        return cls((SigningKey.generate(sign_from=time.time()),))

    def rotated(self, overlap_seconds: float) -> SigningKeySet:
        """Add a key that starts signing after `overlap_seconds`; until then (and after) the others stay published."""
        fresh = SigningKey.generate(sign_from=time.time() + overlap_seconds)
        keys = (*self.keys, fresh)
        # Prune only keys older than the one signing now: rotating again inside an overlap must never drop
        # the key still in use (its assertions would fail with AADSTS7000272).
        current = self.signing_key()
        while len(keys) > _KEEP and keys[0].sign_from < current.sign_from:
            keys = keys[1:]
        return SigningKeySet(keys)

    def signing_key(self, now: float | None = None) -> SigningKey:
        moment = time.time() if now is None else now
        ready = [k for k in self.keys if k.sign_from <= moment]
        return max(ready, key=lambda k: k.sign_from) if ready else min(self.keys, key=lambda k: k.sign_from)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys]}

    def assertion(self, issuer: str, subject: str) -> str:
        now = int(time.time())
        key = self.signing_key(now)
        claims = {
            "iss": issuer,
            "sub": subject,
            "aud": ASSERTION_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})
