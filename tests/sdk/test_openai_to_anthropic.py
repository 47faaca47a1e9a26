"""The official `openai` Python SDK, unmodified, through the gateway's
OpenAI front door to an ANTHROPIC endpoint: `claude` in conftest.py, of
spec `anthropic`, whose public model `claude-fake` is `fake-model` upstream.
Every request is translated to Anthropic Messages and every answer (and
stream, event by event) back to a chat completion.

Behind it is `fake-upstream`'s `/v1/messages` (crates/modelgate-testkit/src/
bin/fake_upstream.rs): `echo: <last message text>` (word by word when
streamed) with usage 10 in / 5 out, a `tool_use` of the first tool with
`{"city":"Paris"}` when given tools, a thinking block ("Let me think.",
signed `sig-fake`) first when `thinking` is enabled, and an Anthropic error
of status NNN for a model `error-NNN` (529 is `overloaded_error`).
"""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from conftest import ANTHROPIC_UPSTREAM_KEY, UPSTREAM_KEY

MODEL = "claude/claude-fake"
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
TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}
# Dots are not valid in an Anthropic tool name: the gateway must rename the
# tool for the request and map the name back in the answer.
DOTTED_TOOL = {
    "type": "function",
    "function": {
        "name": "weather.get",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


# A 1x1 transparent PNG.
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _extra(obj, name: str):
    """A field the SDK's types do not declare (pydantic keeps it as extra)."""
    extra = getattr(obj, "model_extra", None) or {}
    return extra.get(name, getattr(obj, name, None))


# --- non-streamed ---------------------------------------------------------


@pytest.mark.parametrize("model", [MODEL, "claude-fake"])
def test_non_stream_completion(client: openai.OpenAI, model: str) -> None:
    completion = client.chat.completions.create(model=model, messages=HELLO)

    assert completion.object == "chat.completion"
    # A translated answer names the model the client asked for.
    assert completion.model == model
    assert completion.id
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert choice.message.content == "echo: hello"
    assert choice.finish_reason == "stop"
    assert choice.message.tool_calls is None
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 10
    assert completion.usage.completion_tokens == 5
    assert completion.usage.total_tokens == 15


def test_system_and_developer_messages(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "echo: first"},
            {"role": "developer", "content": "still brief"},
            {"role": "user", "content": [{"type": "text", "text": "parts work"}]},
        ],
        temperature=0.2,
        top_p=0.9,
        stop=["never-said"],
        max_tokens=100,
        user="user-1",
    )
    assert completion.choices[0].message.content == "echo: parts work"
    assert completion.choices[0].finish_reason == "stop"


# --- streamed -------------------------------------------------------------


def test_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=HELLO_WORLD,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert chunks, "no chunk arrived"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert {c.model for c in chunks} == {MODEL}
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
    assert usage_chunk.usage.completion_tokens == 5
    assert usage_chunk.usage.total_tokens == 15

    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]


def test_stream_without_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=HELLO_WORLD, stream=True)
    chunks = list(stream)

    assert chunks
    assert [c for c in chunks if c.usage is not None] == []
    assert all(len(c.choices) == 1 for c in chunks), "a chunk without choices arrived"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "echo: hello world"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[0].choices[0].delta.role == "assistant"


def test_stream_response_is_event_stream(client: openai.OpenAI) -> None:
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=HELLO, stream=True
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(c.choices[0].delta.content or "" for c in response.parse() if c.choices)
    assert text == "echo: hello"


def test_stream_helper_text(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL, messages=HELLO_WORLD, stream_options={"include_usage": True}
    ) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta" and e.delta]
        final = stream.get_final_completion()
    assert "".join(deltas) == "echo: hello world"
    assert final.choices[0].message.content == "echo: hello world"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (10, 5)


def test_mid_stream_failure_raises_api_error(client: openai.OpenAI) -> None:
    # `claude-slow` pauses longer than its idle timeout after its first
    # event: the gateway has already sent 200 and ends the stream with an
    # OpenAI error event, which the SDK raises as APIError.
    stream = client.chat.completions.create(
        model="claude-slow/fake-model", messages=HELLO_WORLD, stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as info:
        for chunk in stream:
            received.append(chunk)
    exc = info.value
    assert not isinstance(exc, openai.APIStatusError), "the error came before the stream"
    assert all(not (c.choices and c.choices[0].finish_reason) for c in received)
    assert isinstance(exc.body, dict), exc.body
    assert "`claude-slow`" in exc.message, exc.message
    assert "idle timeout" in exc.message, exc.message
    assert exc.code == "upstream_timeout"


@pytest.mark.parametrize(
    "url",
    [f"data:image/png;base64,{PNG_B64}", "https://example.com/cat.png"],
    ids=["data-url", "https"],
)
def test_image_parts_are_accepted(client: openai.OpenAI, url: str) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "describe"},
                    {"type": "image_url", "image_url": {"url": url}},
                ],
            }
        ],
    )
    assert completion.choices[0].message.content == "echo: describe"


def test_unsupported_image_type_is_a_400(client: openai.OpenAI) -> None:
    # Anthropic takes jpeg, png, gif and webp only.
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=MODEL,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "describe"},
                        {"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}},
                    ],
                }
            ],
        )
    assert info.value.status_code == 400
    body = _error_body(info.value)
    assert "image/bmp" in body["message"] or "bmp" in body["message"], body["message"]


# --- tool calls -----------------------------------------------------------


def test_tool_call_round_trip(client: openai.OpenAI) -> None:
    messages: list = [{"role": "user", "content": "weather in Paris?"}]
    first = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )

    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert not choice.message.content
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function"
    assert call.id, "the tool call has no id"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 degrees"})
    second = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content == "echo: sunny, 21 degrees"
    assert second.choices[0].message.tool_calls is None


def test_tool_call_ids_of_other_providers_are_accepted(client: openai.OpenAI) -> None:
    # A history written elsewhere: an id with characters Anthropic refuses
    # (it allows [a-zA-Z0-9_-]); the gateway sanitizes it the same way in
    # the call and in the result, so they still match.
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call:abc/123.x",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call:abc/123.x", "content": "foggy"},
    ]
    completion = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    assert completion.choices[0].message.content == "echo: foggy"


def test_parallel_tool_results_become_one_user_turn(client: openai.OpenAI) -> None:
    # Two `tool` messages in a row are one user turn with two tool_result
    # blocks for Anthropic (which refuses two user turns in a row); the fake
    # answers with the first tool_result of the last turn.
    messages = [
        {"role": "user", "content": "weather and time?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "first result"},
        {"role": "tool", "tool_call_id": "call_2", "content": "second result"},
    ]
    completion = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )
    assert completion.choices[0].message.content == "echo: first result"


def test_consecutive_user_messages_are_merged(client: openai.OpenAI) -> None:
    # Anthropic wants alternating turns: two user messages become one turn
    # (the fake echoes the text of all its blocks, joined by spaces).
    completion = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "first"}, {"role": "user", "content": "second"}],
    )
    text = completion.choices[0].message.content
    assert text.startswith("echo: first"), text
    assert text.endswith("second"), text


@pytest.mark.parametrize(
    "tool_choice",
    ["required", {"type": "function", "function": {"name": "get_weather"}}, "auto"],
    ids=["required", "named", "auto"],
)
def test_tool_choice_calls_the_tool(client: openai.OpenAI, tool_choice) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=HELLO, tools=[WEATHER_TOOL], tool_choice=tool_choice
    )
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.choices[0].message.tool_calls[0].function.name == "get_weather"


def test_tool_choice_none_answers_with_text(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=HELLO, tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert completion.choices[0].message.content == "echo: hello"
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].finish_reason == "stop"


def test_streamed_tool_call(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
        stream=True,
        stream_options={"include_usage": True},
    )
    calls: dict[int, dict] = {}
    argument_pieces = 0
    finishes = []
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        if choice.finish_reason:
            finishes.append(choice.finish_reason)
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": None, "name": None, "arguments": ""})
            if delta.id:
                assert call["id"] is None, "the id came twice"
                call["id"] = delta.id
            if delta.function is not None:
                if delta.function.name:
                    assert call["name"] is None, "the name came twice"
                    call["name"] = delta.function.name
                if delta.function.arguments:
                    call["arguments"] += delta.function.arguments
                    argument_pieces += 1

    assert list(calls) == [0]
    assert calls[0]["id"]
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}
    assert argument_pieces == 2, "the arguments should arrive in the fake's two pieces"
    assert finishes == ["tool_calls"]
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (10, 5)


def test_stream_helper_tool_call(client: openai.OpenAI) -> None:
    done = []
    with client.chat.completions.stream(
        model=MODEL, messages=[{"role": "user", "content": "weather?"}], tools=[WEATHER_TOOL]
    ) as stream:
        for event in stream:
            if event.type == "tool_calls.function.arguments.done":
                done.append((event.name, event.arguments))
        final = stream.get_final_completion()
    assert len(done) == 1
    assert done[0][0] == "get_weather"
    assert json.loads(done[0][1]) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_dotted_tool_name_comes_back_unchanged(client: openai.OpenAI, stream: bool) -> None:
    messages: list = [{"role": "user", "content": "weather?"}]
    if stream:
        with client.chat.completions.stream(
            model=MODEL, messages=messages, tools=[DOTTED_TOOL]
        ) as s:
            first = s.get_final_completion()
    else:
        first = client.chat.completions.create(model=MODEL, messages=messages, tools=[DOTTED_TOOL])
    message = first.choices[0].message
    assert message.tool_calls is not None and len(message.tool_calls) == 1
    call = message.tool_calls[0]
    assert call.function.name == "weather.get"
    assert json.loads(call.function.arguments) == {"city": "Paris"}

    messages.append(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        }
    )
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "cloudy"})
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[DOTTED_TOOL])
    assert second.choices[0].message.content == "echo: cloudy"


# --- reasoning ------------------------------------------------------------


def test_reasoning_effort_non_stream(client: openai.OpenAI) -> None:
    # `reasoning_effort` becomes Anthropic `thinking`; the thinking block of
    # the answer comes back as `reasoning_content` (+ signed
    # `reasoning_details`), fields the SDK's types do not declare.
    completion = client.chat.completions.create(
        model=MODEL, messages=HELLO, reasoning_effort="low"
    )
    message = completion.choices[0].message
    assert message.content == "echo: hello"
    assert _extra(message, "reasoning_content") == "Let me think."
    details = _extra(message, "reasoning_details")
    assert isinstance(details, list) and details, details
    assert details[0]["type"] == "reasoning.text"
    assert details[0]["signature"] == "sig-fake"
    assert completion.choices[0].finish_reason == "stop"


def test_reasoning_object(client: openai.OpenAI) -> None:
    # The OpenRouter-style `reasoning` object instead of `reasoning_effort`.
    completion = client.chat.completions.create(
        model=MODEL, messages=HELLO, extra_body={"reasoning": {"effort": "high"}}
    )
    assert _extra(completion.choices[0].message, "reasoning_content") == "Let me think."
    assert completion.choices[0].message.content == "echo: hello"


def test_no_reasoning_without_effort(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=HELLO)
    message = completion.choices[0].message
    assert _extra(message, "reasoning_content") is None
    assert _extra(message, "reasoning_details") is None


def test_reasoning_effort_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL, messages=HELLO_WORLD, reasoning_effort="low", stream=True
    )
    reasoning = []
    signatures = []
    content = []
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        if _extra(delta, "reasoning_content"):
            assert not content, "reasoning arrived after the answer"
            reasoning.append(_extra(delta, "reasoning_content"))
        for detail in _extra(delta, "reasoning_details") or []:
            if detail.get("signature"):
                signatures.append(detail["signature"])
        if delta.content:
            content.append(delta.content)
    assert "".join(reasoning) == "Let me think."
    assert signatures == ["sig-fake"]
    assert "".join(content) == "echo: hello world"


def test_reasoning_then_tool_call_stream(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL,
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
        reasoning_effort="low",
    ) as stream:
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None and len(choice.message.tool_calls) == 1
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {"city": "Paris"}
    assert _extra(choice.message, "reasoning_content") == "Let me think."


def test_reasoning_replayed_in_next_turn(client: openai.OpenAI) -> None:
    # An OpenRouter-style client sends the signed reasoning back with the
    # assistant message; towards Anthropic it becomes a thinking block again.
    first = client.chat.completions.create(model=MODEL, messages=HELLO, reasoning_effort="low")
    assistant = first.choices[0].message.model_dump(exclude_none=True)
    assert assistant.get("reasoning_details"), assistant
    second = client.chat.completions.create(
        model=MODEL,
        messages=[*HELLO, assistant, {"role": "user", "content": "again"}],
        reasoning_effort="low",
    )
    assert second.choices[0].message.content == "echo: again"
    assert _extra(second.choices[0].message, "reasoning_content") == "Let me think."


# --- errors ---------------------------------------------------------------

# (upstream status, status the client gets, SDK class, OpenAI error type).
# A 401/403 is the endpoint's keys failing, not the caller's: a 502
# (`upstream_keys_exhausted`), so the SDK does not raise AuthenticationError.
ERRORS = [
    (400, 400, openai.BadRequestError, "invalid_request_error"),
    (401, 502, openai.InternalServerError, "server_error"),
    (403, 502, openai.InternalServerError, "server_error"),
    # OpenAI has no not-found type: its 404s are invalid requests.
    (404, 404, openai.NotFoundError, "invalid_request_error"),
    (500, 500, openai.InternalServerError, None),
]


def _error_body(exc: openai.APIStatusError) -> dict:
    assert isinstance(exc.body, dict), f"error body is not an OpenAI error object: {exc.body!r}"
    assert set(exc.body) >= {"message", "type", "param", "code"}, exc.body
    return exc.body


def _assert_no_key_leak(exc: openai.APIStatusError) -> None:
    for key in (UPSTREAM_KEY, ANTHROPIC_UPSTREAM_KEY):
        assert key not in str(exc)
        assert key not in exc.response.text


def _raise_with(client: openai.OpenAI, model: str, stream: bool) -> None:
    result = client.chat.completions.create(model=model, messages=HELLO, stream=stream)
    if stream:
        list(result)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("status,answered,exc_class,kind", ERRORS, ids=[str(e[0]) for e in ERRORS])
def test_upstream_error_maps_to_sdk_exception(
    client: openai.OpenAI,
    status: int,
    answered: int,
    exc_class: type,
    kind: str | None,
    stream: bool,
) -> None:
    with pytest.raises(exc_class) as info:
        _raise_with(client, f"claude/error-{status}", stream)
    exc = info.value
    assert exc.status_code == answered
    body = _error_body(exc)
    assert f"fake error {status}" in body["message"], body["message"]
    if kind is not None:
        assert exc.type == kind, body
    _assert_no_key_leak(exc)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_overloaded_529_becomes_503(client: openai.OpenAI, stream: bool) -> None:
    # OpenAI clients do not know 529: the gateway answers 503.
    with pytest.raises(openai.InternalServerError) as info:
        _raise_with(client, "claude/error-529", stream)
    exc = info.value
    assert exc.status_code == 503
    body = _error_body(exc)
    assert "fake error 529" in body["message"], body["message"]
    _assert_no_key_leak(exc)


def test_rate_limit(client: openai.OpenAI) -> None:
    # On its own endpoint: see `claude-limited-oai` in conftest.py.
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="claude-limited-oai/error-429", messages=HELLO)
    exc = info.value
    assert exc.status_code == 429
    body = _error_body(exc)
    assert "fake error 429" in body["message"], body["message"]
    assert exc.type == "rate_limit_error"
    _assert_no_key_leak(exc)


# --- models ---------------------------------------------------------------


def test_models_retrieve(client: openai.OpenAI) -> None:
    model = client.models.retrieve(MODEL)
    assert model.id == MODEL
    assert model.object == "model"
    assert model.owned_by == "claude"


# --- async client ---------------------------------------------------------


def test_async_client_streams(async_client_factory) -> None:
    async def run():
        async with async_client_factory() as client:
            stream = await client.chat.completions.create(
                model=MODEL,
                messages=HELLO_WORLD,
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = [chunk async for chunk in stream]
            completion = await client.chat.completions.create(model=MODEL, messages=HELLO)
            return chunks, completion

    chunks, completion = asyncio.run(run())
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "echo: hello world"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5
    assert completion.choices[0].message.content == "echo: hello"


# --- gateway keys ---------------------------------------------------------


def test_gateway_key_as_bearer(secured_gateway) -> None:
    with openai.OpenAI(
        base_url=f"{secured_gateway.url}/v1", api_key=secured_gateway.key, max_retries=0
    ) as client:
        completion = client.chat.completions.create(model=MODEL, messages=HELLO)
        assert completion.choices[0].message.content == "echo: hello"
    with openai.OpenAI(
        base_url=f"{secured_gateway.url}/v1", api_key="mg-not-a-real-key", max_retries=0
    ) as client:
        with pytest.raises(openai.AuthenticationError) as info:
            client.chat.completions.create(model=MODEL, messages=HELLO)
    assert info.value.status_code == 401
    _error_body(info.value)
