"""The official openai and anthropic SDKs call models through the gateway, which calls the emulator over HTTPS."""

from __future__ import annotations

import anthropic
import openai

from tests.gateway.conftest import DataPlane


def oai(dp: DataPlane, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{dp.gateway.base_url}/v1", api_key=dp.invoke_key, max_retries=0,
                         default_headers=headers or None)  # fmt: skip


def claude(dp: DataPlane) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=dp.gateway.base_url, api_key=dp.invoke_key, max_retries=0)


def test_chat_completion(dp: DataPlane) -> None:
    raw = oai(dp).chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello gateway"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello from the Azure emulator (gpt-4o). You said: hello gateway"
    assert raw.headers["x-skygate-provider"] == "main"
    assert float(raw.headers["x-skygate-overhead-ms"]) >= 0
    [upstream] = dp.recorded()
    assert upstream.path == "/openai/v1/chat/completions"
    assert upstream.body["model"] == "gpt-4o"
    assert upstream.headers["api-key"].startswith("***")
    assert "authorization" not in upstream.headers


def test_chat_completion_stream(dp: DataPlane) -> None:
    stream = oai(dp).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "stream"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    assert chunks[0].choices == []  # Azure's annotation-only first chunk passes through untouched
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).endswith("You said: stream")
    assert chunks[-1].usage is not None


def test_responses(dp: DataPlane) -> None:
    response = oai(dp).responses.create(model="gpt-4o", input="responses please")
    assert response.output_text.endswith("You said: responses please")
    assert dp.recorded()[-1].path == "/openai/v1/responses"


def test_responses_stream_never_sends_stream_options(dp: DataPlane) -> None:
    with oai(dp).responses.stream(model="gpt-4o", input="stream it") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[-1] == "response.completed"
    assert final.output_text.endswith("You said: stream it")
    raw = openai.OpenAI(base_url=f"{dp.gateway.base_url}/v1", api_key=dp.invoke_key).responses.create(
        model="gpt-4o", input="x", stream=True, extra_body={"stream_options": {"include_usage": True}}
    )
    assert [e.type for e in raw][-1] == "response.completed"
    assert "stream_options" not in dp.recorded()[-1].body


def test_embeddings(dp: DataPlane) -> None:
    result = oai(dp).embeddings.create(model="text-embedding-3-small", input=["one", "two"])
    assert [len(d.embedding) for d in result.data] == [1536, 1536]


def test_models_lists_what_the_key_can_reach(dp: DataPlane) -> None:
    ids = {m.id for m in oai(dp).models.list()}
    assert {"gpt-4o", "o3", "text-embedding-3-small", "claude-sonnet-4-5", "ghost"} <= ids
    anthropic_ids = {m.id for m in claude(dp).models.list()}
    assert anthropic_ids == ids


def test_claude_messages(dp: DataPlane) -> None:
    message = claude(dp).messages.create(
        model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi Claude"}]
    )
    assert message.content[0].text.endswith("You said: hi Claude")  # type: ignore[union-attr]
    [upstream] = dp.recorded()
    assert upstream.path == "/anthropic/v1/messages"
    assert upstream.headers["x-api-key"].startswith("***")
    assert upstream.headers["api-key"].startswith("***")
    assert upstream.headers["anthropic-version"]


def test_claude_messages_stream(dp: DataPlane) -> None:
    with claude(dp).messages.stream(
        model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "stream"}]
    ) as stream:
        text = "".join(stream.text_stream)
    assert text.endswith("You said: stream")


def test_reasoning_models_get_max_completion_tokens(dp: DataPlane) -> None:
    oai(dp).chat.completions.create(model="o3", max_tokens=50, messages=[{"role": "user", "content": "think"}])
    body = dp.recorded()[-1].body
    assert body["max_completion_tokens"] == 50
    assert "max_tokens" not in body
