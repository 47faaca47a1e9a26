"""The official `anthropic` Python SDK, unmodified, as a client of the
gateway's Anthropic front door (`/v1/messages`, `/v1/messages/count_tokens`,
`/v1/models`).

Most tests run twice, against both kinds of endpoint (see conftest.py):

* `claude/claude-fake`: the `claude` endpoint, of spec `anthropic`: the
  request is passed through (only `model` mapped to `fake-model`);
* `fake/fake-model`: the `fake` endpoint, of spec `openai-chat-completions`:
  the request is translated to a chat completion and the answer back.

Behind both is `fake-upstream` (crates/modelgate-testkit/src/bin/
fake_upstream.rs): it echoes the last message as `echo: <text>` (word by
word when streamed), calls the first tool with `{"city":"Paris"}` when given
tools, puts a thinking block signed `sig-fake` first when `thinking` is
enabled (Anthropic side only), and answers HTTP NNN for a model `error-NNN`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import anthropic
import pytest

from conftest import ANTHROPIC_UPSTREAM_KEY, UPSTREAM_KEY

PASSTHROUGH = "claude/claude-fake"
TRANSLATED = "fake/fake-model"


@dataclass(frozen=True)
class Expect:
    """What the fake answers through one endpoint."""

    # `model` of the answer: a passed-through answer is relayed as the
    # upstream wrote it (the mapped id); a translated one names the model
    # the client asked for.
    model: str
    # (input, output) tokens of a text answer and of a tool call.
    text_usage: tuple[int, int]
    tool_usage: tuple[int, int]
    # Output tokens of a streamed text answer of `n` pieces.
    stream_output: object


EXPECT = {
    # The fake's /v1/messages: usage 10/5 always.
    PASSTHROUGH: Expect("fake-model", (10, 5), (10, 5), lambda n: 5),
    # The fake's /v1/chat/completions: 10/5 for text, 20/8 for a tool call,
    # one completion token per streamed piece.
    TRANSLATED: Expect(TRANSLATED, (10, 5), (20, 8), lambda n: n),
}

BOTH = pytest.mark.parametrize(
    "model",
    [pytest.param(PASSTHROUGH, id="passthrough"), pytest.param(TRANSLATED, id="translated")],
)

MAX_TOKENS = 256
HELLO = [{"role": "user", "content": "hello"}]
HELLO_WORLD = [{"role": "user", "content": "hello world"}]

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
# A second tool, so "the first tool" is a real choice for the fake.
TIME_TOOL = {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
# A name valid for Anthropic... but not for OpenAI (no dots): the gateway
# must rename it for the OpenAI endpoint and map it back.
DOTTED_TOOL = {
    "name": "weather.get",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}

THINKING = {"type": "enabled", "budget_tokens": 1024}

# A 1x1 transparent PNG.
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _assert_no_key_leak(text: str) -> None:
    assert UPSTREAM_KEY not in text
    assert ANTHROPIC_UPSTREAM_KEY not in text


# --- non-streamed ---------------------------------------------------------


@BOTH
def test_create_text(anthropic_client: anthropic.Anthropic, model: str) -> None:
    message = anthropic_client.messages.create(
        model=model, max_tokens=MAX_TOKENS, messages=HELLO
    )
    expect = EXPECT[model]

    assert message.type == "message"
    assert message.role == "assistant"
    assert message.id, "the message has no id"
    assert message.model == expect.model
    assert len(message.content) == 1
    block = message.content[0]
    assert block.type == "text"
    assert block.text == "echo: hello"
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    assert (message.usage.input_tokens, message.usage.output_tokens) == expect.text_usage


@pytest.mark.parametrize(
    "model,endpoint_model",
    [
        # A bare id: `claude-fake` is only in `claude`'s model_map,
        # `fake-model` only in `fake`'s defaults, `gpt-4o` in `fake`'s map.
        ("claude-fake", "fake-model"),
        ("fake-model", "fake-model"),
        ("gpt-4o", "gpt-4o"),
    ],
)
def test_create_bare_model_id(
    anthropic_client: anthropic.Anthropic, model: str, endpoint_model: str
) -> None:
    message = anthropic_client.messages.create(
        model=model, max_tokens=MAX_TOKENS, messages=HELLO
    )
    assert message.content[0].text == "echo: hello"
    assert message.stop_reason == "end_turn"
    # Passed through (claude-fake): the upstream's id; translated: the
    # client's id.
    assert message.model == endpoint_model


def test_raw_response_is_json(anthropic_client: anthropic.Anthropic) -> None:
    raw = anthropic_client.messages.with_raw_response.create(
        model=TRANSLATED, max_tokens=MAX_TOKENS, messages=HELLO
    )
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    body = json.loads(raw.http_response.text)
    assert body["type"] == "message"
    assert raw.parse().content[0].text == "echo: hello"


@BOTH
@pytest.mark.parametrize(
    "system",
    [
        pytest.param("You are terse.", id="string"),
        pytest.param(
            [
                {"type": "text", "text": "You are terse."},
                {"type": "text", "text": "Answer in English."},
            ],
            id="blocks",
        ),
    ],
)
def test_system_prompt(anthropic_client: anthropic.Anthropic, model: str, system) -> None:
    message = anthropic_client.messages.create(
        model=model, max_tokens=MAX_TOKENS, system=system, messages=HELLO
    )
    # The fake echoes the last message: the system prompt must not become it.
    assert message.content[0].text == "echo: hello"
    assert message.stop_reason == "end_turn"


@BOTH
def test_multi_turn_and_content_blocks(anthropic_client: anthropic.Anthropic, model: str) -> None:
    message = anthropic_client.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": [{"type": "text", "text": "echo: first"}]},
            {"role": "user", "content": [{"type": "text", "text": "blocks work"}]},
        ],
        stop_sequences=["never-said"],
        metadata={"user_id": "user-1"},
        # Not parameters of this SDK version, but of the API.
        extra_body={"temperature": 0.5, "top_p": 0.9, "top_k": 40},
    )
    assert message.content[0].text == "echo: blocks work"


# --- streamed -------------------------------------------------------------


@BOTH
def test_stream_text(anthropic_client: anthropic.Anthropic, model: str) -> None:
    with anthropic_client.messages.stream(
        model=model, max_tokens=MAX_TOKENS, messages=HELLO_WORLD
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    expect = EXPECT[model]

    assert "".join(pieces) == "echo: hello world"
    assert len(pieces) > 1, "the text was not streamed in pieces"
    assert final.model == expect.model
    assert len(final.content) == 1
    assert final.content[0].type == "text"
    assert final.content[0].text == "echo: hello world"
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens == 10
    assert final.usage.output_tokens == expect.stream_output(len(pieces))


@BOTH
def test_stream_events_are_well_formed(anthropic_client: anthropic.Anthropic, model: str) -> None:
    # The raw event stream (no helper): the order Anthropic documents.
    with anthropic_client.messages.with_streaming_response.create(
        model=model, max_tokens=MAX_TOKENS, messages=HELLO_WORLD, stream=True
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = list(response.parse())

    types = [e.type for e in events]
    assert types[0] == "message_start"
    assert types[-1] == "message_stop"
    assert types[-2] == "message_delta"
    assert types.count("message_start") == 1
    assert types.count("message_delta") == 1
    body = types[1:-2]
    assert body[0] == "content_block_start"
    assert body[-1] == "content_block_stop"
    assert set(body[1:-1]) == {"content_block_delta"}
    assert {e.index for e in events if hasattr(e, "index")} == {0}
    assert events[0].message.role == "assistant"
    assert events[0].message.content == []
    assert events[0].message.model == EXPECT[model].model
    assert events[-2].delta.stop_reason == "end_turn"
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")
    assert text == "echo: hello world"


def test_stream_bare_model(anthropic_client: anthropic.Anthropic) -> None:
    with anthropic_client.messages.stream(
        model="claude-fake", max_tokens=MAX_TOKENS, messages=HELLO_WORLD
    ) as stream:
        text = stream.get_final_text()
    assert text == "echo: hello world"


@pytest.mark.parametrize(
    "model,endpoint",
    [
        pytest.param("claude-slow/fake-model", "claude-slow", id="passthrough"),
        pytest.param("slow/fake-model", "slow", id="translated"),
    ],
)
def test_mid_stream_failure_raises_error_event(
    anthropic_client: anthropic.Anthropic, model: str, endpoint: str
) -> None:
    # The slow fake pauses longer than the endpoint's idle timeout after its
    # first event: the gateway has already answered 200 and must end the
    # stream with an Anthropic `event: error`, which the SDK raises.
    received = []
    with pytest.raises(anthropic.APIStatusError) as info:
        stream = anthropic_client.messages.create(
            model=model, max_tokens=MAX_TOKENS, messages=HELLO_WORLD, stream=True
        )
        for event in stream:
            received.append(event)
    exc = info.value
    assert received, "the events sent before the pause should arrive first"
    assert received[0].type == "message_start"
    assert "message_stop" not in [e.type for e in received]
    error = _anthropic_error(exc)
    assert f"`{endpoint}`" in error["message"], error["message"]
    assert "idle timeout" in error["message"], error["message"]
    _assert_no_key_leak(str(exc))


@BOTH
@pytest.mark.parametrize(
    "source",
    [
        pytest.param({"type": "base64", "media_type": "image/png", "data": PNG_B64}, id="base64"),
        pytest.param({"type": "url", "url": "https://example.com/cat.png"}, id="url"),
    ],
)
def test_image_blocks_are_accepted(
    anthropic_client: anthropic.Anthropic, model: str, source: dict
) -> None:
    message = anthropic_client.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        messages=[
            {
                "role": "user",
                "content": [{"type": "image", "source": source}, {"type": "text", "text": "describe"}],
            }
        ],
    )
    assert message.content[0].text == "echo: describe"


def test_untranslatable_block_is_a_400(anthropic_client: anthropic.Anthropic) -> None:
    # A PDF document has no chat-completions equivalent: the gateway refuses
    # it for an OpenAI endpoint, in Anthropic's format...
    document = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0xLjQK"},
    }
    messages = [{"role": "user", "content": [document, {"type": "text", "text": "summarize"}]}]
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.messages.create(model=TRANSLATED, max_tokens=MAX_TOKENS, messages=messages)
    error = _anthropic_error(info.value)
    assert error["type"] == "invalid_request_error"
    assert "cannot be translated" in error["message"], error["message"]
    # ... and passes it through to an Anthropic one.
    message = anthropic_client.messages.create(model=PASSTHROUGH, max_tokens=MAX_TOKENS, messages=messages)
    assert message.content[0].text == "echo: summarize"


@BOTH
def test_beta_messages(anthropic_client: anthropic.Anthropic, model: str) -> None:
    # `client.beta.messages` (what agents such as Claude Code use): the same
    # path with an `anthropic-beta` header.
    message = anthropic_client.beta.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        messages=HELLO,
        betas=["interleaved-thinking-2025-05-14"],
    )
    assert message.content[0].text == "echo: hello"
    with anthropic_client.beta.messages.stream(
        model=model,
        max_tokens=MAX_TOKENS,
        messages=HELLO_WORLD,
        betas=["interleaved-thinking-2025-05-14"],
    ) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "echo: hello world"
    assert final.stop_reason == "end_turn"


# --- tool calls -----------------------------------------------------------


@BOTH
def test_tool_call_round_trip(anthropic_client: anthropic.Anthropic, model: str) -> None:
    messages: list = [{"role": "user", "content": "weather in Paris?"}]
    first = anthropic_client.messages.create(
        model=model, max_tokens=MAX_TOKENS, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )

    assert first.stop_reason == "tool_use"
    tool_uses = [b for b in first.content if b.type == "tool_use"]
    assert len(tool_uses) == 1
    call = tool_uses[0]
    assert call.name == "get_weather"
    assert call.input == {"city": "Paris"}
    assert call.id, "the tool_use has no id"
    assert (first.usage.input_tokens, first.usage.output_tokens) == EXPECT[model].tool_usage

    # Send the call back with its result, as an application would.
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]})
    messages.append(
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 21 degrees"}
            ],
        }
    )
    second = anthropic_client.messages.create(
        model=model, max_tokens=MAX_TOKENS, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )
    assert second.stop_reason == "end_turn"
    assert [b.type for b in second.content] == ["text"]
    assert second.content[0].text == "echo: sunny, 21 degrees"


@BOTH
def test_tool_result_as_blocks(anthropic_client: anthropic.Anthropic, model: str) -> None:
    first = anthropic_client.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
    )
    call = next(b for b in first.content if b.type == "tool_use")
    second = anthropic_client.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": call.id,
                        "content": [{"type": "text", "text": "rain"}],
                    }
                ],
            },
        ],
    )
    assert second.content[0].text == "echo: rain"


def test_parallel_tool_results_become_tool_messages(anthropic_client: anthropic.Anthropic) -> None:
    # Towards OpenAI, a user turn with two tool_result blocks becomes two
    # `tool` messages, in order; the fake echoes the last one.
    message = anthropic_client.messages.create(
        model=TRANSLATED,
        max_tokens=MAX_TOKENS,
        tools=[WEATHER_TOOL, TIME_TOOL],
        messages=[
            {"role": "user", "content": "weather and time?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "first result"},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": "second result"},
                ],
            },
        ],
    )
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "echo: second result"


@BOTH
def test_tool_choice_none_answers_with_text(anthropic_client: anthropic.Anthropic, model: str) -> None:
    message = anthropic_client.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        messages=HELLO,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "none"},
    )
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "echo: hello"
    assert message.stop_reason == "end_turn"


@BOTH
@pytest.mark.parametrize(
    "tool_choice",
    [{"type": "auto"}, {"type": "any"}, {"type": "tool", "name": "get_weather"}],
    ids=["auto", "any", "tool"],
)
def test_tool_choice_calls_the_tool(
    anthropic_client: anthropic.Anthropic, model: str, tool_choice: dict
) -> None:
    message = anthropic_client.messages.create(
        model=model,
        max_tokens=MAX_TOKENS,
        messages=[{"role": "user", "content": "weather?"}],
        tools=[WEATHER_TOOL],
        tool_choice=tool_choice,
    )
    assert message.stop_reason == "tool_use"
    call = next(b for b in message.content if b.type == "tool_use")
    assert call.name == "get_weather"


@BOTH
def test_stream_tool_call_round_trip(anthropic_client: anthropic.Anthropic, model: str) -> None:
    messages: list = [{"role": "user", "content": "weather in Paris?"}]
    json_events = []
    with anthropic_client.messages.stream(
        model=model, max_tokens=MAX_TOKENS, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    ) as stream:
        for event in stream:
            if event.type == "input_json":
                json_events.append(event.partial_json)
        first = stream.get_final_message()

    assert first.stop_reason == "tool_use"
    tool_uses = [b for b in first.content if b.type == "tool_use"]
    assert len(tool_uses) == 1
    call = tool_uses[0]
    assert call.name == "get_weather"
    assert call.input == {"city": "Paris"}
    assert json.loads("".join(json_events)) == {"city": "Paris"}
    assert len(json_events) == 2, "the arguments should arrive in the fake's two pieces"
    assert first.usage.output_tokens == EXPECT[model].tool_usage[1]

    messages.append({"role": "assistant", "content": first.content})
    messages.append(
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 21 degrees"}
            ],
        }
    )
    with anthropic_client.messages.stream(
        model=model, max_tokens=MAX_TOKENS, messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    ) as stream:
        text = "".join(stream.text_stream)
        second = stream.get_final_message()
    assert text == "echo: sunny, 21 degrees"
    assert second.stop_reason == "end_turn"


@BOTH
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_dotted_tool_name_comes_back_unchanged(
    anthropic_client: anthropic.Anthropic, model: str, stream: bool
) -> None:
    # `weather.get` is not a valid OpenAI function name: towards `fake` the
    # gateway renames it for the request and must map it back in the answer
    # (and again in the history of the next turn).
    messages: list = [{"role": "user", "content": "weather?"}]
    if stream:
        with anthropic_client.messages.stream(
            model=model, max_tokens=MAX_TOKENS, messages=messages, tools=[DOTTED_TOOL]
        ) as s:
            first = s.get_final_message()
    else:
        first = anthropic_client.messages.create(
            model=model, max_tokens=MAX_TOKENS, messages=messages, tools=[DOTTED_TOOL]
        )
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "weather.get"
    assert call.input == {"city": "Paris"}
    assert first.stop_reason == "tool_use"

    messages.append({"role": "assistant", "content": first.content})
    messages.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "cloudy"}],
        }
    )
    second = anthropic_client.messages.create(
        model=model, max_tokens=MAX_TOKENS, messages=messages, tools=[DOTTED_TOOL]
    )
    assert second.content[0].text == "echo: cloudy"


# --- thinking -------------------------------------------------------------


def _assert_thinking_answer(message, text: str) -> None:
    assert [b.type for b in message.content] == ["thinking", "text"]
    thinking = message.content[0]
    assert thinking.thinking == "Let me think."
    assert thinking.signature == "sig-fake"
    assert message.content[1].text == text
    assert message.stop_reason == "end_turn"


def test_thinking_non_stream(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model=PASSTHROUGH, max_tokens=2048, thinking=THINKING, messages=HELLO
    )
    _assert_thinking_answer(message, "echo: hello")


def test_thinking_stream(anthropic_client: anthropic.Anthropic) -> None:
    thinking_pieces = []
    signatures = []
    with anthropic_client.messages.stream(
        model=PASSTHROUGH, max_tokens=2048, thinking=THINKING, messages=HELLO_WORLD
    ) as stream:
        for event in stream:
            if event.type == "thinking":
                thinking_pieces.append(event.thinking)
            elif event.type == "signature":
                signatures.append(event.signature)
        message = stream.get_final_message()
    assert "".join(thinking_pieces) == "Let me think."
    assert signatures == ["sig-fake"]
    _assert_thinking_answer(message, "echo: hello world")


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_thinking_replayed_in_next_turn(anthropic_client: anthropic.Anthropic, stream: bool) -> None:
    messages: list = [{"role": "user", "content": "hello"}]
    first = anthropic_client.messages.create(
        model=PASSTHROUGH, max_tokens=2048, thinking=THINKING, messages=messages
    )
    _assert_thinking_answer(first, "echo: hello")
    messages.append({"role": "assistant", "content": first.content})
    messages.append({"role": "user", "content": "again"})
    if stream:
        with anthropic_client.messages.stream(
            model=PASSTHROUGH, max_tokens=2048, thinking=THINKING, messages=messages
        ) as s:
            second = s.get_final_message()
    else:
        second = anthropic_client.messages.create(
            model=PASSTHROUGH, max_tokens=2048, thinking=THINKING, messages=messages
        )
    _assert_thinking_answer(second, "echo: again")


def test_thinking_with_tools_round_trip(anthropic_client: anthropic.Anthropic) -> None:
    # With thinking and tools, Anthropic wants the assistant turn (thinking
    # block first, signed) replayed as it came.
    messages: list = [{"role": "user", "content": "weather?"}]
    first = anthropic_client.messages.create(
        model=PASSTHROUGH, max_tokens=2048, thinking=THINKING, messages=messages, tools=[WEATHER_TOOL]
    )
    assert [b.type for b in first.content] == ["thinking", "tool_use"]
    assert first.content[0].signature == "sig-fake"
    assert first.stop_reason == "tool_use"
    messages.append({"role": "assistant", "content": first.content})
    messages.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": first.content[1].id, "content": "hot"}],
        }
    )
    second = anthropic_client.messages.create(
        model=PASSTHROUGH, max_tokens=2048, thinking=THINKING, messages=messages, tools=[WEATHER_TOOL]
    )
    _assert_thinking_answer(second, "echo: hot")


def test_thinking_request_to_openai_endpoint(anthropic_client: anthropic.Anthropic) -> None:
    # Towards an OpenAI endpoint `thinking` becomes a reasoning effort; the
    # fake's chat completions do not reason, so the answer is plain text. The
    # signed thinking of an earlier turn is not sent there (signatures are
    # replayed only to Anthropic endpoints), and the request must still work.
    message = anthropic_client.messages.create(
        model=TRANSLATED,
        max_tokens=2048,
        thinking=THINKING,
        messages=[
            {"role": "user", "content": "hello"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Let me think.", "signature": "sig-fake"},
                    {"type": "text", "text": "echo: hello"},
                ],
            },
            {"role": "user", "content": "again"},
        ],
    )
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "echo: again"


# --- errors ---------------------------------------------------------------

# (upstream status, status the client gets, SDK class, Anthropic error type).
# A 401/403 is the endpoint's keys failing, not the caller's: a 502
# (`upstream_keys_exhausted`), so the SDK does not raise AuthenticationError.
ERRORS = [
    (400, 400, anthropic.BadRequestError, "invalid_request_error"),
    (401, 502, anthropic.InternalServerError, "api_error"),
    (403, 502, anthropic.InternalServerError, "api_error"),
    (404, 404, anthropic.NotFoundError, "not_found_error"),
    (500, 500, anthropic.InternalServerError, "api_error"),
]
OVERLOADED_CLASS = getattr(anthropic, "OverloadedError", anthropic.InternalServerError)


def _anthropic_error(exc: anthropic.APIStatusError) -> dict:
    """The body of an Anthropic error: `{"type": "error", "error": {"type",
    "message"}}`."""
    body = exc.body
    assert isinstance(body, dict), f"error body is not JSON: {body!r}"
    assert body.get("type") == "error", body
    error = body.get("error")
    assert isinstance(error, dict), body
    assert isinstance(error.get("type"), str) and error["type"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    assert "choices" not in body and "param" not in body, body
    return error


def _raise_with(client: anthropic.Anthropic, model: str, stream: bool) -> None:
    if stream:
        with client.messages.stream(model=model, max_tokens=MAX_TOKENS, messages=HELLO) as s:
            s.until_done()
    else:
        client.messages.create(model=model, max_tokens=MAX_TOKENS, messages=HELLO)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize(
    "endpoint", ["claude", "fake"], ids=["passthrough", "translated"]
)
@pytest.mark.parametrize("status,answered,exc_class,kind", ERRORS, ids=[str(e[0]) for e in ERRORS])
def test_upstream_error_maps_to_sdk_exception(
    anthropic_client: anthropic.Anthropic,
    status: int,
    answered: int,
    exc_class: type,
    kind: str,
    endpoint: str,
    stream: bool,
) -> None:
    # `ENDPOINT/error-NNN`: the fake receives `error-NNN` and answers NNN.
    with pytest.raises(exc_class) as info:
        _raise_with(anthropic_client, f"{endpoint}/error-{status}", stream)
    exc = info.value
    assert exc.status_code == answered
    error = _anthropic_error(exc)
    assert error["type"] == kind
    assert f"fake error {status}" in error["message"], error["message"]
    _assert_no_key_leak(str(exc))
    _assert_no_key_leak(exc.response.text)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_overloaded_529(anthropic_client: anthropic.Anthropic, stream: bool) -> None:
    # Anthropic's own 529 reaches an Anthropic client unchanged.
    with pytest.raises(OVERLOADED_CLASS) as info:
        _raise_with(anthropic_client, "claude/error-529", stream)
    exc = info.value
    assert isinstance(exc, anthropic.InternalServerError)
    assert exc.status_code == 529
    error = _anthropic_error(exc)
    assert error["type"] == "overloaded_error"
    assert "fake error 529" in error["message"]


def test_rate_limit_passthrough(anthropic_client: anthropic.Anthropic) -> None:
    # On its own endpoint: see `claude-limited` in conftest.py.
    with pytest.raises(anthropic.RateLimitError) as info:
        anthropic_client.messages.create(
            model="claude-limited/error-429", max_tokens=MAX_TOKENS, messages=HELLO
        )
    exc = info.value
    assert exc.status_code == 429
    error = _anthropic_error(exc)
    assert error["type"] == "rate_limit_error"
    assert "fake error 429" in error["message"], error["message"]
    _assert_no_key_leak(exc.response.text)


def test_rate_limit_translated(anthropic_client: anthropic.Anthropic) -> None:
    # On its own endpoint: see `limited-ant` in conftest.py.
    with pytest.raises(anthropic.RateLimitError) as info:
        anthropic_client.messages.create(
            model="limited-ant/error-429", max_tokens=MAX_TOKENS, messages=HELLO
        )
    exc = info.value
    assert exc.status_code == 429
    error = _anthropic_error(exc)
    assert error["type"] == "rate_limit_error"
    assert "fake error 429" in error["message"], error["message"]
    _assert_no_key_leak(exc.response.text)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_unknown_model(anthropic_client: anthropic.Anthropic, stream: bool) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        _raise_with(anthropic_client, "nope-model", stream)
    exc = info.value
    assert exc.status_code == 404
    error = _anthropic_error(exc)
    assert error["type"] == "not_found_error"
    assert "nope-model" in error["message"], error["message"]


def test_unknown_endpoint_prefix(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        anthropic_client.messages.create(
            model="nope-endpoint/some-model", max_tokens=MAX_TOKENS, messages=HELLO
        )
    error = _anthropic_error(info.value)
    assert error["type"] == "not_found_error"


def test_invalid_request_is_anthropic_error(anthropic_client: anthropic.Anthropic) -> None:
    # `messages` must be a list: the gateway rejects it itself, in
    # Anthropic's format, before any upstream is involved.
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.messages.create(
            model=TRANSLATED,
            max_tokens=MAX_TOKENS,
            messages=HELLO,
            extra_body={"messages": "not a list"},
        )
    error = _anthropic_error(info.value)
    assert error["type"] == "invalid_request_error"


# --- count_tokens ---------------------------------------------------------


def test_count_tokens_is_estimated_for_openai_endpoint(anthropic_client: anthropic.Anthropic) -> None:
    raw = anthropic_client.messages.with_raw_response.count_tokens(
        model=TRANSLATED, messages=HELLO
    )
    assert raw.status_code == 200
    assert raw.headers.get("x-modelgate-estimate") == "true"
    short = raw.parse()
    assert short.input_tokens > 0
    assert (short.model_extra or {}).get("estimated") is True

    long_text = "the quick brown fox jumps over the lazy dog " * 50
    long = anthropic_client.messages.count_tokens(
        model=TRANSLATED,
        system="You are terse.",
        messages=[{"role": "user", "content": long_text}],
        tools=[WEATHER_TOOL],
    )
    # About four characters per token.
    assert long.input_tokens > short.input_tokens
    assert len(long_text) // 8 <= long.input_tokens <= len(long_text), long.input_tokens


def test_count_tokens_unknown_model(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        anthropic_client.messages.count_tokens(model="nope-model", messages=HELLO)
    error = _anthropic_error(info.value)
    assert error["type"] == "not_found_error"


# --- models ---------------------------------------------------------------


def test_models_list(anthropic_client: anthropic.Anthropic) -> None:
    raw = anthropic_client.models.with_raw_response.list()
    body = json.loads(raw.http_response.text)
    # Anthropic's shape, not OpenAI's.
    assert "object" not in body, body
    assert isinstance(body.get("data"), list), body
    assert body.get("has_more") is False, body

    models = list(anthropic_client.models.list())
    ids = [m.id for m in models]
    assert PASSTHROUGH in ids
    assert TRANSLATED in ids
    assert all(m.type == "model" for m in models)
    assert all(m.display_name for m in models)
    assert body["first_id"] == ids[0]
    assert body["last_id"] == ids[-1]


# `claude` has `claude-fake` both in `models.default` and as a public id of
# its `model_map`: the gateway lists it twice (also in OpenAI's shape, see
# test_openai_sdk.py::test_models_list_has_no_duplicates).
def test_models_list_has_no_duplicates(anthropic_client: anthropic.Anthropic) -> None:
    ids = [m.id for m in anthropic_client.models.list()]
    assert len(ids) == len(set(ids)), f"duplicate ids: {ids}"


def test_listed_models_are_usable(anthropic_client: anthropic.Anthropic) -> None:
    ids = [m.id for m in anthropic_client.models.list()]
    assert ids
    for model_id in ids:
        message = anthropic_client.messages.create(
            model=model_id, max_tokens=MAX_TOKENS, messages=HELLO
        )
        assert message.content[0].text == "echo: hello", model_id


def test_models_list_pages(anthropic_client: anthropic.Anthropic) -> None:
    # Whether or not the gateway honours `limit`, the SDK's auto-pagination
    # must end and give every model.
    everything = [m.id for m in anthropic_client.models.list()]
    paged = [m.id for m in anthropic_client.models.list(limit=1)]
    assert sorted(set(paged)) == sorted(set(everything))
    first_page = anthropic_client.models.list(limit=1)
    if first_page.has_more:
        assert len(first_page.data) == 1


def test_models_retrieve(anthropic_client: anthropic.Anthropic) -> None:
    model = anthropic_client.models.retrieve(PASSTHROUGH)
    assert model.id == PASSTHROUGH
    assert model.type == "model"


def test_models_retrieve_unknown(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        anthropic_client.models.retrieve("nope-model")
    assert info.value.status_code == 404


# --- async client ---------------------------------------------------------


@BOTH
def test_async_client_streams(async_anthropic_factory, model: str) -> None:
    async def run():
        async with async_anthropic_factory() as client:
            async with client.messages.stream(
                model=model, max_tokens=MAX_TOKENS, messages=HELLO_WORLD
            ) as stream:
                pieces = [p async for p in stream.text_stream]
                final = await stream.get_final_message()
            raw_events = []
            events = await client.messages.create(
                model=model, max_tokens=MAX_TOKENS, messages=HELLO, stream=True
            )
            async for event in events:
                raw_events.append(event)
            message = await client.messages.create(
                model=model, max_tokens=MAX_TOKENS, messages=HELLO
            )
            return pieces, final, raw_events, message

    pieces, final, raw_events, message = asyncio.run(run())
    assert "".join(pieces) == "echo: hello world"
    assert len(pieces) > 1
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == EXPECT[model].stream_output(len(pieces))
    assert raw_events[0].type == "message_start"
    assert raw_events[-1].type == "message_stop"
    assert "".join(
        e.delta.text for e in raw_events if e.type == "content_block_delta"
    ) == "echo: hello"
    assert message.content[0].text == "echo: hello"


def test_async_client_error(async_anthropic_factory) -> None:
    async def run() -> anthropic.APIStatusError:
        async with async_anthropic_factory() as client:
            try:
                await client.messages.create(
                    model="fake/error-400", max_tokens=MAX_TOKENS, messages=HELLO
                )
            except anthropic.APIStatusError as exc:
                return exc
        raise AssertionError("no error raised")

    exc = asyncio.run(run())
    assert isinstance(exc, anthropic.BadRequestError)
    assert exc.status_code == 400
    assert _anthropic_error(exc)["type"] == "invalid_request_error"


# --- how the client sends its key -----------------------------------------


class _HeaderRecorder:
    """An HTTP client (the SDK's own kind) that records the auth headers of
    each request, to check what the SDK really sent."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str | None]] = []

    def hook(self, request) -> None:
        self.seen.append(
            {
                "authorization": request.headers.get("authorization"),
                "x-api-key": request.headers.get("x-api-key"),
            }
        )

    def http_client(self) -> anthropic.DefaultHttpxClient:
        return anthropic.DefaultHttpxClient(event_hooks={"request": [self.hook]})


def _secured_client(url: str, recorder: _HeaderRecorder, **auth) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=url, max_retries=0, http_client=recorder.http_client(), **auth
    )


@pytest.mark.parametrize(
    "how", ["api_key", "auth_token", "x-api-key header"]
)
def test_gateway_key_accepted(secured_gateway, how: str) -> None:
    recorder = _HeaderRecorder()
    key = secured_gateway.key
    if how == "api_key":
        auth = {"api_key": key}
    elif how == "auth_token":
        auth = {"auth_token": key}
    else:
        auth = {"default_headers": {"x-api-key": key}}
    with _secured_client(secured_gateway.url, recorder, **auth) as client:
        message = client.messages.create(model=TRANSLATED, max_tokens=MAX_TOKENS, messages=HELLO)
        with client.messages.stream(
            model=PASSTHROUGH, max_tokens=MAX_TOKENS, messages=HELLO_WORLD
        ) as stream:
            text = stream.get_final_text()
        ids = [m.id for m in client.models.list()]
    assert message.content[0].text == "echo: hello"
    assert text == "echo: hello world"
    assert PASSTHROUGH in ids

    assert len(recorder.seen) == 3
    sent = recorder.seen[0]
    if how == "x-api-key header":
        assert sent == {"authorization": None, "x-api-key": key}, sent
    else:
        # Whichever the SDK uses for it, the key is in one of the two.
        assert f"Bearer {key}" == sent["authorization"] or sent["x-api-key"] == key, sent
    if how == "auth_token":
        assert sent["authorization"] == f"Bearer {key}", sent


@pytest.mark.parametrize("how", ["api_key", "auth_token", "x-api-key header"])
def test_wrong_gateway_key_is_rejected(secured_gateway, how: str) -> None:
    recorder = _HeaderRecorder()
    wrong = "mg-not-a-real-key"
    auth = {
        "api_key": {"api_key": wrong},
        "auth_token": {"auth_token": wrong},
        "x-api-key header": {"default_headers": {"x-api-key": wrong}},
    }[how]
    with _secured_client(secured_gateway.url, recorder, **auth) as client:
        with pytest.raises(anthropic.AuthenticationError) as info:
            client.messages.create(model=TRANSLATED, max_tokens=MAX_TOKENS, messages=HELLO)
    exc = info.value
    assert exc.status_code == 401
    error = _anthropic_error(exc)
    assert error["type"] == "authentication_error"
