"""Azure OpenAI / Foundry data-plane error bodies, with the exact strings of reference §7 where they are known."""

from __future__ import annotations

from starlette.responses import JSONResponse

__all__ = [
    "api_not_supported",
    "bad_json",
    "content_filter",
    "deployment_not_found",
    "invalid_request",
    "key_denied",
    "operation_not_supported",
    "permission_denied",
    "rate_limited",
    "resource_not_found",
    "server_error",
    "tenant_mismatch",
    "token_invalid",
    "unknown_parameter",
]


def key_denied() -> JSONResponse:
    # §7 row 1; also what /anthropic answers (§5.3).
    return JSONResponse(
        {
            "error": {
                "code": "401",
                "message": "Access denied due to invalid subscription key or wrong "
                "API endpoint. Make sure to provide a valid key for an active subscription and use a correct "
                "regional API endpoint for your resource.",
            }
        },
        status_code=401,
    )


def token_invalid() -> JSONResponse:
    # §7 row 2: no `error` wrapper.
    return JSONResponse(
        {
            "statusCode": 401,
            "message": "Unauthorized. Access token is missing, invalid, audience is "
            "incorrect (https://cognitiveservices.azure.com), or have expired.",
        },
        status_code=401,
    )


def permission_denied(oid: str, action: str, operation: str) -> JSONResponse:
    # §7 row 3: 401, not 403; the path is the route template, not the real deployment.
    return JSONResponse(
        {
            "error": {
                "code": "PermissionDenied",
                "message": f"The principal `{oid}` lacks the required "
                f"data action `{action}` to perform `{operation}` operation.",
            }
        },
        status_code=401,
    )


def tenant_mismatch(token_tenant: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": "Tenant provided in token does not match resource token",
                "message": f"Token tenant {token_tenant} does not match resource tenant.",
            }
        },
        status_code=400,
    )


def deployment_not_found(*, v1: bool) -> JSONResponse:
    error = {
        "code": "DeploymentNotFound",
        "message": "The API deployment for this resource does not exist. If you "
        "created the deployment within the last 5 minutes, please wait a moment and try again.",
    }
    if v1:
        error["type"] = "invalid_request_error"  # the 2026 capture, likely from a v1 route (§7)
    return JSONResponse({"error": error}, status_code=404)


def resource_not_found() -> JSONResponse:
    return JSONResponse({"error": {"code": "404", "message": "Resource not found"}}, status_code=404)


def content_filter() -> JSONResponse:
    """§7.1, the 2024-10-21 form: `innererror` (no underscore) and singular `content_filter_result`."""
    categories = {
        "hate": {"filtered": False, "severity": "safe"},
        "jailbreak": {"filtered": True, "detected": True},
        "self_harm": {"filtered": False, "severity": "safe"},
        "sexual": {"filtered": False, "severity": "safe"},
        "violence": {"filtered": True, "severity": "medium"},
    }
    message = (
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
        "Please modify your prompt and retry. To learn more about our content filtering policies please read "
        "our documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
    )
    error = {
        "message": message,
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": categories},
    }
    return JSONResponse({"error": error}, status_code=400)


def rate_limited(api_version: str, seconds: int, operation: str = "ChatCompletions_Create") -> JSONResponse:
    message = (
        f"Requests to the {operation} Operation under Azure OpenAI API version {api_version} have "
        "exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after "
        f"{seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further "
        "increase the default rate limit."
    )
    headers = {"retry-after": str(seconds), "retry-after-ms": str(seconds * 1000)}  # §7.2
    return JSONResponse({"error": {"code": "429", "message": message}}, status_code=429, headers=headers)


def server_error(status: int) -> JSONResponse:
    if status == 503:
        error = {
            "code": "ServiceUnavailable",
            "message": "The service is temporarily unable to process your request. Please try again later.",
        }
    else:
        error = {
            "code": "InternalServerError",
            "message": "The server had an error while processing your request. Sorry about that!",
        }
    return JSONResponse({"error": error}, status_code=status)


def unknown_parameter(param: str) -> JSONResponse:
    # The Responses API refuses `stream_options` (braintrust-gateway.md §9, BerriAI/litellm#28553).
    return JSONResponse(
        {
            "error": {
                "message": f"Unknown parameter: '{param}'.",
                "type": "invalid_request_error",
                "param": param,
                "code": "unknown_parameter",
            }
        },
        status_code=400,
    )


def operation_not_supported(operation: str, model: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "code": "OperationNotSupported",
                "message": f"The {operation} operation does not "
                f"work with the specified model, {model}. Please choose different model and try again. You "
                "can learn more about which models can be used with each operation here: "
                "https://go.microsoft.com/fwlink/?linkid=2197993.",
            }
        },
        status_code=400,
    )


def api_not_supported() -> JSONResponse:
    # A Claude deployment called on an OpenAI route (braintrust-gateway.md §9; status and text inferred).
    return JSONResponse(
        {
            "error": {
                "code": "api_not_supported",
                "message": "The requested API is not supported for "
                "this deployment; call it through /anthropic/v1/messages.",
            }
        },
        status_code=404,
    )


def invalid_request(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}, status_code=400
    )


def bad_json(detail: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": {
                "message": f"We could not parse the JSON body of your request. ({detail})",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
        status_code=400,
    )
