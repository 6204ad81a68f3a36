"""Azure OpenAI classic and v1 routes and Foundry's /anthropic route (reference §2, §3, §5.3): route checks,
then auth, then the deployment, then faults, then a deterministic answer in the route's wire format."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from skygate_emulator import anthropic_wire, openai_wire
from skygate_emulator import azure_errors as errors
from skygate_emulator.access import Family, authorize
from skygate_emulator.context import EmulatorContext
from skygate_emulator.faults import failure_for, paced
from skygate_emulator.generate import CONTENT_FILTER_TRIGGER, reply_to
from skygate_emulator.state import Deployment, Resource
from skygate_emulator.validation import problem_in

__all__ = ["dataplane_routes"]

_ACTION = "Microsoft.CognitiveServices/accounts/OpenAI/deployments/{op}/action"
_OPERATIONS = {"chat/completions": "chat/completions", "embeddings": "embeddings"}


def _ctx(request: Request) -> EmulatorContext:
    ctx: EmulatorContext = request.app.state.ctx
    return ctx


def _headers(request: Request) -> dict[str, str]:
    """§8: the request ids and region headers of a real response."""
    apim = str(uuid.uuid4())
    return {
        "apim-request-id": apim,
        "x-request-id": str(uuid.uuid4()),
        "x-ms-client-request-id": request.headers.get("x-ms-client-request-id", apim),
        "x-ms-region": "Emulator Central",
        "azureml-model-session": "emulator-0001",
        "x-ratelimit-remaining-requests": "99",
        "x-ratelimit-remaining-tokens": "99000",
    }


def _with_headers(response: Response, request: Request) -> Response:
    response.headers.update(_headers(request))
    return response


async def _json_body(request: Request) -> dict[str, Any] | Response:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        return errors.bad_json(str(exc))
    return body if isinstance(body, dict) else errors.bad_json("the body must be a JSON object")


def _stream(request: Request, deployment: Deployment, chunks: Iterator[bytes]) -> Response:
    headers = _headers(request) | {"cache-control": "no-cache, must-revalidate", "x-accel-buffering": "no"}
    gauge = _ctx(request).streams
    return StreamingResponse(paced(deployment, chunks, gauge), media_type="text/event-stream", headers=headers)


async def _openai_answer(
    request: Request, deployment: Deployment, operation: str, body: dict[str, Any], api_version: str, family: Family
) -> Response:
    if deployment.format == "anthropic":
        return errors.api_not_supported()
    if operation == "embeddings":
        if deployment.kind != "embeddings":
            return errors.operation_not_supported("embeddings", deployment.model)
        return JSONResponse(openai_wire.embeddings_body(body, deployment.model))
    if deployment.kind == "embeddings" or (deployment.kind == "responses" and operation != "responses"):
        # Responses-only models (the codex and pro families) refuse chat completions.
        return errors.operation_not_supported("chatCompletion", deployment.model)
    if operation == "responses":
        if "stream_options" in body:
            return errors.unknown_parameter("stream_options")
        turn = openai_wire.responses_turn(body)
        reply = reply_to(turn, deployment.name)
        if body.get("stream"):
            return _stream(request, deployment, openai_wire.responses_stream(body, turn, reply, deployment.model))
        return JSONResponse(openai_wire.responses_body(body, turn, reply, deployment.model))
    turn = openai_wire.chat_turn(body)
    reply = reply_to(turn, deployment.name)
    if body.get("stream"):
        # include_usage exists from 2024-09-01-preview and on v1 (§6.2); older versions ignore it.
        supported = family == "v1" or api_version >= "2024-09-01"
        include_usage = supported and bool((body.get("stream_options") or {}).get("include_usage"))
        return _stream(request, deployment, openai_wire.chat_stream(turn, reply, deployment.model, include_usage))
    return JSONResponse(openai_wire.chat_body(turn, reply, deployment.model))


async def _serve_openai(request: Request, family: Family, operation: str, deployment_name: str | None) -> Response:
    ctx = _ctx(request)
    api_version = request.query_params.get("api-version", "v1")
    resource = ctx.state.resource_for_host(request.headers.get("host", ""))
    if resource is None:
        return errors.resource_not_found()
    op = _OPERATIONS.get(operation, "chat/completions")
    # The route template, as PermissionDenied names it; Responses is not deployment-scoped (§2.1).
    if family == "v1":
        template = f"POST /openai/v1/{operation}"
    elif operation == "responses":
        template = "POST /openai/responses"
    else:
        template = f"POST /openai/deployments/{{deployment-id}}/{operation}"
    denied = authorize(ctx, resource, request, family, _ACTION.format(op=op), template)
    if denied is not None:
        return denied
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    name = deployment_name or str(body.get("model", ""))
    deployment = resource.deployment(name)
    if deployment is None:
        return errors.deployment_not_found(v1=family == "v1")
    problem = problem_in(operation, body, deployment.model)
    if problem is not None:
        return errors.invalid_request(problem)
    failure = _failure(deployment, body, api_version, operation)
    if failure is not None:
        return failure
    await _latency(deployment)
    return await _openai_answer(request, deployment, operation, body, api_version, family)


_OPERATION_NAMES = {
    "chat/completions": "ChatCompletions_Create",
    "responses": "Responses_Create",
    "embeddings": "Embeddings_Create",
    "messages": "Messages_Create",
}


def _failure(deployment: Deployment, body: dict[str, Any], api_version: str, operation: str) -> Response | None:
    if CONTENT_FILTER_TRIGGER in json.dumps(body):
        return errors.content_filter()
    return failure_for(deployment, api_version, _OPERATION_NAMES[operation])


async def _latency(deployment: Deployment) -> None:
    if deployment.faults.latency_ms:
        await asyncio.sleep(deployment.faults.latency_ms / 1000)


async def classic_deployment(request: Request) -> Response:
    operation = request.path_params["operation"]
    if not request.query_params.get("api-version") or operation not in _OPERATIONS:
        return _with_headers(errors.resource_not_found(), request)
    response = await _serve_openai(request, "classic", operation, request.path_params["deployment"])
    return _with_headers(response, request)


async def classic_responses(request: Request) -> Response:
    if not request.query_params.get("api-version"):
        return _with_headers(errors.resource_not_found(), request)
    return _with_headers(await _serve_openai(request, "classic", "responses", None), request)


async def v1_post(request: Request) -> Response:
    operation = request.path_params["operation"]
    if operation not in ("chat/completions", "responses", "embeddings"):
        return _with_headers(errors.resource_not_found(), request)
    return _with_headers(await _serve_openai(request, "v1", operation, None), request)


async def v1_models(request: Request) -> Response:
    ctx = _ctx(request)
    resource = ctx.state.resource_for_host(request.headers.get("host", ""))
    if resource is None:
        return errors.resource_not_found()
    denied = authorize(ctx, resource, request, "v1", _ACTION.format(op="chat/completions"), "GET /openai/v1/models")
    if denied is not None:
        return _with_headers(denied, request)
    data = [
        {"id": d.name, "object": "model", "created": int(time.time()), "owned_by": "system"}
        for d in resource.deployments
    ]
    return _with_headers(JSONResponse({"object": "list", "data": data}), request)


def _anthropic_error(status: int, kind: str, message: str) -> JSONResponse:
    code, body = anthropic_wire.anthropic_error(status, kind, message)
    return JSONResponse(body, status_code=code)


async def _serve_messages(request: Request, ctx: EmulatorContext, resource: Resource) -> Response:
    denied = authorize(
        ctx, resource, request, "anthropic", _ACTION.format(op="chat/completions"), "POST /anthropic/v1/messages"
    )
    if denied is not None:
        return denied  # the auth 401 has Azure's shape, not Anthropic's (§5.3)
    body = await _json_body(request)
    if isinstance(body, Response):
        return _anthropic_error(400, "invalid_request_error", "the request body is not valid JSON")
    deployment = resource.deployment(str(body.get("model", "")))
    if deployment is None or deployment.format != "anthropic":
        return _anthropic_error(404, "not_found_error", f"model: {body.get('model')}")
    problem = problem_in("messages", body, deployment.model)
    if problem is not None:
        return _anthropic_error(400, "invalid_request_error", problem)
    failure = _failure(deployment, body, "2023-06-01", "messages")
    if failure is not None:
        return failure
    await _latency(deployment)
    turn = anthropic_wire.messages_turn(body)
    reply = reply_to(turn, deployment.name)
    if body.get("stream"):
        return _stream(request, deployment, anthropic_wire.messages_stream(turn, reply, deployment.model))
    return JSONResponse(anthropic_wire.messages_body(turn, reply, deployment.model))


async def anthropic_messages(request: Request) -> Response:
    ctx = _ctx(request)
    resource = ctx.state.resource_for_host(request.headers.get("host", ""))
    if resource is None:
        return errors.resource_not_found()
    return _with_headers(await _serve_messages(request, ctx, resource), request)


def dataplane_routes() -> list[Route]:
    return [
        Route("/openai/deployments/{deployment}/{operation:path}", classic_deployment, methods=["POST"]),
        Route("/openai/responses", classic_responses, methods=["POST"]),
        Route("/openai/v1/models", v1_models, methods=["GET"]),
        Route("/openai/v1/{operation:path}", v1_post, methods=["POST"]),
        Route("/anthropic/v1/messages", anthropic_messages, methods=["POST"]),
    ]
