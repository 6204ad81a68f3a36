"""AADSTS error bodies as Entra's v2 token endpoint returns them (reference §9.4, §9.5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from starlette.responses import JSONResponse

__all__ = ["EntraError"]

_NO_STORE = {
    "cache-control": "no-store, no-cache",
    "pragma": "no-cache",
    "expires": "-1",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}


class EntraError(Exception):
    """One AADSTS failure: OAuth `error`, numeric code, HTTP status and the message essentials of §9.5."""

    def __init__(self, code: int, error: str, status: int, message: str) -> None:
        super().__init__(f"AADSTS{code}: {message}")
        self.code, self.error, self.status, self.message = code, error, status, message

    def response(self) -> JSONResponse:
        now = datetime.now(UTC)
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        # Newer captures separate the trailer lines with spaces (§9.4).
        description = (
            f"AADSTS{self.code}: {self.message} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {stamp}"
        )
        body = {
            "error": self.error,
            "error_description": description,
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }
        return JSONResponse(
            body, status_code=self.status, headers=_NO_STORE, media_type="application/json; charset=utf-8"
        )


_FIC_TRAILER = (
    " Please check your federated identity credential Subject, Audience and Issuer against the presented "
    "assertion. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation"
)


def multi_tenant_endpoint() -> EntraError:
    # §9.1: client credentials are refused on /common and /consumers.
    return EntraError(
        9001023,
        "invalid_request",
        400,
        "The grant type is not supported over the /common or "
        "/consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
    )


def invalid_tenant(tenant: str) -> EntraError:
    return EntraError(
        90002,
        "invalid_tenant",
        400,
        f"Tenant '{tenant}' not found. Check to make sure you have the "
        "correct tenant ID and are signing into the correct cloud. Check with your subscription "
        "administrator, this may happen if there are no active subscriptions for the tenant.",
    )


def missing_parameter(name: str) -> EntraError:
    return EntraError(
        900144, "invalid_request", 400, f"The request body must contain the following parameter: '{name}'."
    )


def unsupported_grant(grant: str) -> EntraError:
    return EntraError(70003, "unsupported_grant_type", 400, f"The app requested an unsupported grant type '{grant}'.")


def unknown_client(client_id: str, tenant: str) -> EntraError:
    return EntraError(
        700016,
        "unauthorized_client",
        400,
        f"Application with identifier '{client_id}' was not found "
        f"in the directory '{tenant}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You may have sent your "
        "authentication request to the wrong tenant.",
    )


def scope_without_default(scope: str) -> EntraError:
    return EntraError(
        1002012,
        "invalid_scope",
        400,
        f"The provided value for scope {scope} is not valid. Client "
        "credential flows must have a scope value with /.default suffixed to the resource identifier "
        "(application ID URI).",
    )


def invalid_scope(scope: str) -> EntraError:
    return EntraError(
        70011,
        "invalid_scope",
        400,
        f"The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.",
    )


def no_credential() -> EntraError:
    return EntraError(
        7000218,
        "invalid_client",
        401,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )


def wrong_secret(client_id: str) -> EntraError:
    return EntraError(
        7000215,
        "invalid_client",
        401,
        "Invalid client secret provided. Ensure the secret being sent "
        "in the request is the client secret value, not the client secret ID, for a secret added to "
        f"app '{client_id}'.",
    )


def malformed_assertion() -> EntraError:
    return EntraError(50027, "invalid_request", 400, "JWT token is invalid or is malformed.")


def issuer_not_matched(issuer: str) -> EntraError:
    return EntraError(
        700211,
        "invalid_client",
        401,
        f"No matching federated identity record found for presented assertion issuer '{issuer}'." + _FIC_TRAILER,
    )


def audience_not_matched(audience: str) -> EntraError:
    return EntraError(
        700212,
        "invalid_client",
        401,
        f"No matching federated identity record found for presented assertion audience '{audience}'." + _FIC_TRAILER,
    )


def subject_not_matched(subject: str) -> EntraError:
    return EntraError(
        700213,
        "invalid_client",
        401,
        "No matching federated identity record found for presented "
        f"assertion subject '{subject}'. Check your federated identity credential Subject, Audience and "
        "Issuer against the presented assertion. "
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    )


def oidc_unreachable() -> EntraError:
    return EntraError(50166, "invalid_request", 400, "Request to External OIDC endpoint failed.")


def signing_key_unknown(kid: str, issuer: str) -> EntraError:
    return EntraError(
        7000272,
        "invalid_client",
        401,
        f"The certificate with identifier {kid} used to sign the "
        f"federated credential could not be found in the metadata of identity provider {issuer}. Please "
        "validate that your Identity Provider's metadata exposes the key used to sign the incoming "
        "token.",
    )


def bad_signature() -> EntraError:
    return EntraError(700027, "invalid_client", 401, "Client assertion failed signature validation.")


def _entra_time(epoch: float | None) -> str:
    if epoch is None:
        return "1970-01-01T00:00:00.0000000Z"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def assertion_out_of_time(now: float, nbf: float | None, exp: float | None) -> EntraError:
    return EntraError(
        700024,
        "invalid_client",
        401,
        f"Client assertion is not within its valid time range. Current "
        f"time: {_entra_time(now)}, assertion valid from {_entra_time(nbf)}, expiry time of assertion "
        f"{_entra_time(exp)}. Review the documentation at "
        "https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
    )


def unknown_resource(resource: str, tenant: str) -> EntraError:
    return EntraError(
        500011,
        "invalid_resource",
        400,
        f"The resource principal named {resource} was not found in the "
        f"tenant named {tenant}. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You might have sent your "
        "authentication request to the wrong tenant.",
    )
