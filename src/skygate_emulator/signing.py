"""The emulated Entra's RSA signing key: signs access tokens, published as JWKS, verifies them on the data plane."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["SigningKey"]


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return cls(key, base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode())  # noqa: S324

    def jwks(self) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "x5t": self.kid,
                    "n": _b64url_uint(numbers.n),
                    "e": _b64url_uint(numbers.e),
                }
            ]
        }

    def access_token(
        self, tenant_id: str, app_id: str, object_id: str, audience: str, appidacr: str, lifetime: int = 3599
    ) -> str:
        """A v1.0 app-only token as Entra issues for Cognitive Services (reference §12)."""
        now = int(time.time())
        issuer = f"https://sts.windows.net/{tenant_id}/"
        claims = {
            "aud": audience,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "aio": uuid.uuid4().hex,
            "appid": app_id,
            "appidacr": appidacr,
            "idp": issuer,
            "idtyp": "app",
            "oid": object_id,
            "rh": "0.emulator",
            "sub": object_id,
            "tid": tenant_id,
            "uti": uuid.uuid4().hex[:22],
            "ver": "1.0",
        }
        return jwt.encode(
            claims, self.private_key, algorithm="RS256", headers={"typ": "JWT", "kid": self.kid, "x5t": self.kid}
        )

    def verify(self, token: str) -> dict[str, Any]:
        """Signature and expiry; audience and tenant are the caller's to judge. Raises jwt.PyJWTError."""
        claims: dict[str, Any] = jwt.decode(
            token, self.private_key.public_key(), algorithms=["RS256"], options={"verify_aud": False}
        )
        return claims
