"""The official `openai` Python SDK, unmodified, as a client of the gateway.

Behind the gateway is `fake-upstream` (crates/modelgate-testkit/src/bin/
fake_upstream.rs): it echoes the last message as `echo: <text>` (word by word
when streamed), calls the first tool with `{"city":"Paris"}` when given tools,
and answers HTTP NNN for a model named `error-NNN`.
"""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from conftest import UPSTREAM_KEY

HELLO = [{"role": "user", "content": "hello"}]
HELLO_WORLD = [{"role": "user", "content": "hello world"}]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
# A second tool, so "the first tool" is a real choice for the fake.
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {}},
    },
}


# --- non-streamed ---------------------------------------------------------


@pytest.mark.parametrize("model", ["fake/fake-model", "fake-model", "gpt-4o"])
def test_non_stream_completion(client: openai.OpenAI, model: str) -> None:
    completion = client.chat.completions.create(model=model, messages=HELLO)

    assert completion.object == "chat.completion"
    # The upstream's answer is relayed: its id is the mapped upstream model.
    assert completion.model == "fake-model"
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == "echo: hello"
    assert choice.finish_reason == "stop"
    assert choice.message.tool_calls is None
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 10
    assert completion.usage.completion_tokens == 5
    assert completion.usage.total_tokens == 15


def test_non_stream_raw_response_is_json(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="fake/fake-model", messages=HELLO
    )
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.parse().choices[0].message.content == "echo: hello"


def test_content_parts_are_accepted(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="fake/fake-model",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "parts work"}]},
        ],
    )
    assert completion.choices[0].message.content == "echo: parts work"


# --- streamed -------------------------------------------------------------


def test_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="fake/fake-model",
        messages=HELLO_WORLD,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert chunks, "no chunk arrived"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    pieces = [
        c.choices[0].delta.content
        for c in chunks
        if c.choices and c.choices[0].delta.content
    ]
    assert "".join(pieces) == "echo: hello world"
    assert len(pieces) > 1, "the text was not streamed in pieces"

    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1, f"expected one usage chunk, got {len(usage_chunks)}"
    usage_chunk = usage_chunks[0]
    assert usage_chunk is chunks[-1], "the usage chunk must be the last one"
    assert usage_chunk.choices == []
    assert usage_chunk.usage.prompt_tokens == 10
    assert usage_chunk.usage.completion_tokens == len(pieces)
    assert usage_chunk.usage.total_tokens == 10 + len(pieces)

    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]


def test_stream_without_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=HELLO_WORLD, stream=True
    )
    chunks = list(stream)

    assert chunks
    assert [c for c in chunks if c.usage is not None] == []
    assert all(len(c.choices) == 1 for c in chunks), "a chunk without choices arrived"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "echo: hello world"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert {c.model for c in chunks} == {"fake-model"}


def test_stream_response_is_event_stream(client: openai.OpenAI) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="fake/fake-model", messages=HELLO, stream=True
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(
            c.choices[0].delta.content or "" for c in response.parse() if c.choices
        )
    assert text == "echo: hello"


def test_mid_stream_failure_raises_api_error(client: openai.OpenAI) -> None:
    # `slow` pauses longer than its idle timeout after the first chunk: the
    # gateway has already sent 200 and ends the stream with an error event,
    # which the SDK raises as APIError after yielding what came before it.
    stream = client.chat.completions.create(
        model="slow/fake-model", messages=HELLO_WORLD, stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            received.append(chunk)
    exc = info.value
    assert not isinstance(exc, openai.APIStatusError), "the error came before the stream"
    assert len(received) == 1, "the chunk sent before the pause should arrive first"
    assert received[0].choices[0].delta.role == "assistant"
    assert isinstance(exc.body, dict), exc.body
    assert "`slow`" in exc.message, exc.message
    assert "idle timeout" in exc.message, exc.message
    assert exc.code == "upstream_timeout"


# --- tool calls -----------------------------------------------------------


def test_tool_call_round_trip(client: openai.OpenAI) -> None:
    messages: list = [{"role": "user", "content": "weather in Paris?"}]
    first = client.chat.completions.create(
        model="fake/fake-model", messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )

    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.id == "call_fake_1"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert first.usage is not None
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (20, 8)

    # Send the call back with its result, as an application would.
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append(
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 degrees"}
    )
    second = client.chat.completions.create(
        model="fake/fake-model", messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "echo: sunny, 21 degrees"
    assert second.choices[0].message.tool_calls is None


def test_tool_choice_none_answers_with_text(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="fake/fake-model", messages=HELLO, tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert completion.choices[0].message.content == "echo: hello"
    assert completion.choices[0].message.tool_calls is None


def test_streamed_tool_call(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="fake/fake-model",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    calls: dict[int, dict] = {}
    argument_pieces = 0
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": None, "name": None, "arguments": ""})
            if delta.id:
                call["id"] = delta.id
            if delta.function is not None:
                if delta.function.name:
                    call["name"] = delta.function.name
                if delta.function.arguments:
                    call["arguments"] += delta.function.arguments
                    argument_pieces += 1

    assert list(calls) == [0]
    assert calls[0]["id"] == "call_fake_1"
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}
    assert argument_pieces == 2, "the arguments should arrive in the fake's two pieces"
    assert finish == "tool_calls"


# --- the SDK's streaming helper ------------------------------------------


def test_stream_helper_text(client: openai.OpenAI) -> None:
    deltas = []
    done = []
    with client.chat.completions.stream(
        model="fake/fake-model",
        messages=HELLO_WORLD,
        stream_options={"include_usage": True},
    ) as stream:
        for event in stream:
            if event.type == "content.delta" and event.delta:
                deltas.append(event.delta)
            elif event.type == "content.done":
                done.append(event.content)
        final = stream.get_final_completion()

    assert "".join(deltas) == "echo: hello world"
    assert done == ["echo: hello world"]
    assert final.choices[0].message.content == "echo: hello world"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None
    assert final.usage.prompt_tokens == 10
    assert final.usage.completion_tokens == len(deltas)


def test_stream_helper_tool_call(client: openai.OpenAI) -> None:
    done = []
    with client.chat.completions.stream(
        model="fake/fake-model",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
    ) as stream:
        for event in stream:
            if event.type == "tool_calls.function.arguments.done":
                done.append((event.name, event.arguments))
        final = stream.get_final_completion()

    assert len(done) == 1
    assert done[0][0] == "get_weather"
    assert json.loads(done[0][1]) == {"city": "Paris"}
    message = final.choices[0].message
    assert final.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None and len(message.tool_calls) == 1
    assert message.tool_calls[0].id == "call_fake_1"
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Paris"}


# --- errors ---------------------------------------------------------------

# (upstream status, status the client gets, SDK class, OpenAI error type).
# A 401/403 is the endpoint's keys failing, not the caller's: a 502
# (`upstream_keys_exhausted`), so the SDK does not raise AuthenticationError.
ERRORS = [
    (400, 400, openai.BadRequestError, "invalid_request_error"),
    (401, 502, openai.InternalServerError, "server_error"),
    (403, 502, openai.InternalServerError, "server_error"),
    (500, 500, openai.InternalServerError, None),
]


def _error_body(exc: openai.APIStatusError) -> dict:
    assert isinstance(exc.body, dict), f"error body is not an OpenAI error object: {exc.body!r}"
    assert set(exc.body) >= {"message", "type", "param", "code"}, exc.body
    return exc.body


def _assert_no_key_leak(exc: openai.APIStatusError) -> None:
    assert UPSTREAM_KEY not in str(exc)
    assert UPSTREAM_KEY not in exc.response.text


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize(
    "status,answered,exc_class,kind", ERRORS, ids=[str(e[0]) for e in ERRORS]
)
def test_upstream_error_maps_to_sdk_exception(
    client: openai.OpenAI,
    status: int,
    answered: int,
    exc_class: type,
    kind: str | None,
    stream: bool,
) -> None:
    with pytest.raises(exc_class) as info:
        result = client.chat.completions.create(
            model=f"fake/error-{status}", messages=HELLO, stream=stream
        )
        if stream:
            list(result)
    exc = info.value
    assert exc.status_code == answered
    body = _error_body(exc)
    assert "`fake`" in body["message"], body["message"]
    assert f"fake error {status}" in body["message"], body["message"]
    if kind is not None:
        assert exc.type == kind
    _assert_no_key_leak(exc)


def test_upstream_status_error_keeps_upstream_code(client: openai.OpenAI) -> None:
    for status, exc_class in [(400, openai.BadRequestError), (500, openai.InternalServerError)]:
        with pytest.raises(exc_class) as info:
            client.chat.completions.create(model=f"fake/error-{status}", messages=HELLO)
        assert info.value.code == f"fake_{status}"


def test_upstream_rate_limit(client: openai.OpenAI) -> None:
    # On its own endpoint: see the `limited` endpoint in conftest.py.
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="limited/error-429", messages=HELLO)
    exc = info.value
    assert exc.status_code == 429
    body = _error_body(exc)
    assert "`limited`" in body["message"], body["message"]
    assert "fake error 429" in body["message"], body["message"]
    assert exc.type == "rate_limit_error"
    assert UPSTREAM_KEY not in str(exc)


def test_unknown_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="nope-model", messages=HELLO)
    exc = info.value
    assert exc.status_code == 404
    body = _error_body(exc)
    assert exc.code == "model_not_found"
    assert body["code"] == "model_not_found"
    assert "nope-model" in body["message"]
    assert body["param"] == "model"
    # It points at what exists: an endpoint, or the nearest model id.
    assert "fake" in body["message"], body["message"]


def test_unknown_model_of_known_endpoint_is_upstream_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="fake/error-404", messages=HELLO)
    assert info.value.status_code == 404
    assert "`fake`" in _error_body(info.value)["message"]


# --- models ---------------------------------------------------------------


def test_models_list(client: openai.OpenAI) -> None:
    models = list(client.models.list())
    ids = [m.id for m in models]
    assert "fake/fake-model" in ids
    assert "claude/claude-fake" in ids
    assert all(m.object == "model" for m in models)
    by_id = {m.id: m for m in models}
    assert by_id["fake/fake-model"].owned_by == "fake"
    assert by_id["claude/claude-fake"].owned_by == "claude"


# The `claude` endpoint (conftest.py) has `claude-fake` both in
# `models.default` and as a public id of its `model_map`.
def test_models_list_has_no_duplicates(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert len(ids) == len(set(ids)), f"duplicate ids: {ids}"


def test_listed_models_are_usable(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids
    for model_id in ids:
        completion = client.chat.completions.create(model=model_id, messages=HELLO)
        assert completion.choices[0].message.content == "echo: hello", model_id


def test_models_retrieve(client: openai.OpenAI) -> None:
    # The SDK percent-encodes the slash: GET /v1/models/fake%2Ffake-model.
    model = client.models.retrieve("fake/fake-model")
    assert model.id == "fake/fake-model"
    assert model.object == "model"
    assert model.owned_by == "fake"


def test_models_retrieve_unknown(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("nope-model")
    assert info.value.code == "model_not_found"


# --- async client ---------------------------------------------------------


def test_async_client_streams(async_client_factory) -> None:
    async def run() -> tuple[list, str]:
        async with async_client_factory() as client:
            stream = await client.chat.completions.create(
                model="fake/fake-model",
                messages=HELLO_WORLD,
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = [chunk async for chunk in stream]
            completion = await client.chat.completions.create(
                model="gpt-4o", messages=HELLO
            )
            return chunks, completion.choices[0].message.content

    chunks, non_stream_text = asyncio.run(run())
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "echo: hello world"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(pieces)
    assert non_stream_text == "echo: hello"


def test_async_client_error(async_client_factory) -> None:
    async def run() -> openai.APIStatusError:
        async with async_client_factory() as client:
            try:
                await client.chat.completions.create(model="fake/error-400", messages=HELLO)
            except openai.APIStatusError as exc:
                return exc
        raise AssertionError("no error raised")

    exc = asyncio.run(run())
    assert isinstance(exc, openai.BadRequestError)
    assert exc.status_code == 400
