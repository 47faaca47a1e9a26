"""The official `openai` Python SDK's Responses API (`client.responses`),
unmodified, through the gateway's `POST /v1/responses` to an endpoint of
every spec in conftest.py:

* `chat` — `fake`, spec `openai-chat-completions`: translated both ways;
* `anthropic` — `claude`, spec `anthropic`: translated both ways;
* `responses` — `resp`, spec `openai-responses`: passed through.

Behind every endpoint is the same `fake-upstream` (crates/modelgate-testkit/
src/bin/fake_upstream.rs), which behaves alike in the three formats: it
echoes `echo: <last user text>` (or `echo: <tool output>` after a tool
result), word by word when streamed; calls the first function tool with
`{"city":"Paris"}` when given tools; answers HTTP NNN for a model
`error-NNN`. Reasoning differs by format: the Anthropic fake thinks "Let me
think." signed `sig-fake`, the Responses fake returns a reasoning item
summarised "thinking about it" with `encrypted_content` `enc-fake`, the
chat fake does not reason. Both reasoning fakes refuse, as the real APIs
do, a tool loop's replay whose reasoning is missing or altered: a
successful second turn proves the reasoning came back intact.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import urllib.error
import urllib.request

import anthropic
import openai
import pytest

from conftest import (
    ANTHROPIC_UPSTREAM_KEY,
    RESPONSES_LIMITED_KEYS,
    RESPONSES_UPSTREAM_KEY,
    UPSTREAM_KEY,
)

SECRETS = (UPSTREAM_KEY, ANTHROPIC_UPSTREAM_KEY, RESPONSES_UPSTREAM_KEY, *RESPONSES_LIMITED_KEYS)


@dataclass(frozen=True)
class Target:
    spec: str
    endpoint: str
    # The model the client asks for.
    model: str
    # Passed through untranslated (the answer then names the upstream's
    # model; a translated one names the model the client asked for).
    passthrough: bool
    # The endpoint for this spec's 429 test (see conftest.py).
    limited: str

    def answered_model(self) -> str:
        return "fake-model" if self.passthrough else self.model


CHAT = Target("chat", "fake", "fake/fake-model", False, "limited-resp-chat")
ANTHROPIC = Target("anthropic", "claude", "claude/claude-fake", False, "limited-resp-ant")
RESPONSES = Target("responses", "resp", "resp/fake-model", True, "limited-resp-resp")
TARGETS = [CHAT, ANTHROPIC, RESPONSES]
IDS = [t.spec for t in TARGETS]
REASONING_TARGETS = [ANTHROPIC, RESPONSES]

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
# A second tool, so "the first tool" is a real choice for the fake.
TIME_TOOL = {
    "type": "function",
    "name": "get_time",
    "parameters": {"type": "object", "properties": {}},
    "strict": False,
}
REASONING = {"effort": "low", "summary": "auto"}
ENCRYPTED = ["reasoning.encrypted_content"]
WEATHER_QUESTION = {"role": "user", "content": "weather in Paris?"}


def _replay(output: list) -> list[dict]:
    """Output items as the next request's input, as an application does."""
    return [item.model_dump(mode="json", exclude_none=True) for item in output]


def _items(response, kind: str) -> list:
    return [item for item in response.output if item.type == kind]


def _reasoning_text(item) -> str:
    """What a reasoning item says: its summary or its reasoning text."""
    parts = [s.text for s in item.summary] + [c.text for c in item.content or []]
    return " ".join(parts)


def _shape(output: list) -> list[tuple]:
    """The items' types and contents, without ids that may differ."""
    shape: list[tuple] = []
    for item in output:
        if item.type == "message":
            parts = [(p.type, getattr(p, "text", None) or getattr(p, "refusal", None)) for p in item.content]
            shape.append(("message", item.role, parts))
        elif item.type == "function_call":
            shape.append(("function_call", item.name, json.loads(item.arguments), item.call_id))
        elif item.type == "reasoning":
            shape.append(("reasoning", _reasoning_text(item), item.encrypted_content))
        else:
            shape.append((item.type,))
    return shape


def _assert_usage(response) -> None:
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def _assert_no_secrets(text: str, headers: Any = None) -> None:
    for secret in SECRETS:
        assert secret not in text
        for name, value in (headers or {}).items():
            assert secret not in value, name


def _error_body(exc: openai.APIStatusError) -> dict:
    assert isinstance(exc.body, dict), f"error body is not an OpenAI error object: {exc.body!r}"
    assert set(exc.body) >= {"message", "type", "param", "code"}, exc.body
    return exc.body


def _assert_no_key_leak(exc: openai.APIStatusError) -> None:
    assert all(secret not in str(exc) for secret in SECRETS)
    _assert_no_secrets(exc.response.text, exc.response.headers)


# --- plain text -------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_plain_text(client: openai.OpenAI, target: Target) -> None:
    response = client.responses.create(model=target.model, input="hello")

    assert response.object == "response"
    assert response.id
    assert response.status == "completed"
    assert response.model == target.answered_model()
    assert response.output_text == "echo: hello"
    assert [item.type for item in response.output] == ["message"]
    message = response.output[0]
    assert message.role == "assistant"
    assert [part.type for part in message.content] == ["output_text"]
    _assert_usage(response)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_raw_response_is_json_without_secrets(client: openai.OpenAI, target: Target) -> None:
    raw = client.responses.with_raw_response.create(model=target.model, input="hello")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/json")
    _assert_no_secrets(raw.text, raw.headers)
    assert raw.parse().output_text == "echo: hello"


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_input_items_and_instructions(client: openai.OpenAI, target: Target) -> None:
    response = client.responses.create(
        model=target.model,
        instructions="be brief",
        input=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "echo: first"},
            {"role": "developer", "content": "still brief"},
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "parts work"}],
            },
        ],
        temperature=0.2,
        max_output_tokens=100,
    )
    assert response.output_text == "echo: parts work"
    assert response.status == "completed"


def test_request_settings_reach_a_responses_endpoint(client: openai.OpenAI) -> None:
    # The Responses fake echoes the request's settings in its answer, which
    # the gateway passes through.
    response = client.responses.create(
        model=RESPONSES.model,
        instructions="be brief",
        input="hello",
        temperature=0.2,
        max_output_tokens=100,
        metadata={"trace": "t-1"},
    )
    assert response.output_text == "echo: hello"
    assert response.instructions == "be brief"
    assert response.temperature == 0.2
    assert response.max_output_tokens == 100
    assert response.metadata == {"trace": "t-1"}


# --- function tools ---------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_function_tool_round_trip(client: openai.OpenAI, target: Target, stream: bool) -> None:
    def create(**kwargs):
        if not stream:
            return client.responses.create(**kwargs)
        with client.responses.stream(**kwargs) as events:
            return events.get_final_response()

    tools = [WEATHER_TOOL, TIME_TOOL]
    first = create(model=target.model, input=[WEATHER_QUESTION], tools=tools)

    assert first.status == "completed"
    assert first.output_text == ""
    assert [item.type for item in first.output] == ["function_call"]
    call = first.output[0]
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id
    _assert_usage(first)

    # The call and its result go back, as an application sends them.
    second = create(
        model=target.model,
        input=[
            WEATHER_QUESTION,
            *_replay(first.output),
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 degrees"},
        ],
        tools=tools,
    )
    assert second.status == "completed"
    assert second.output_text == "echo: sunny, 21 degrees"
    assert _items(second, "function_call") == []
    _assert_usage(second)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_tool_choice_none_answers_with_text(client: openai.OpenAI, target: Target) -> None:
    response = client.responses.create(
        model=target.model, input="hello", tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert response.output_text == "echo: hello"
    assert _items(response, "function_call") == []


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_tool_choice_required_calls_the_tool(client: openai.OpenAI, target: Target) -> None:
    response = client.responses.create(
        model=target.model, input="hello", tools=[WEATHER_TOOL], tool_choice="required"
    )
    calls = _items(response, "function_call")
    assert len(calls) == 1
    assert calls[0].name == "get_weather"


# --- reasoning --------------------------------------------------------------


def _assert_reasoning_item(target: Target, item) -> None:
    assert item.type == "reasoning"
    assert item.encrypted_content, "the reasoning cannot be replayed without encrypted_content"
    if target is ANTHROPIC:
        # Anthropic's thinking text comes back readable; its signature
        # rides in `encrypted_content`.
        assert "Let me think." in _reasoning_text(item)
    else:
        assert [s.text for s in item.summary] == ["thinking about it"]
        assert item.encrypted_content == "enc-fake"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_reasoning_tool_loop_round_trip(client: openai.OpenAI, target: Target, stream: bool) -> None:
    def create(**kwargs):
        kwargs.update(tools=[WEATHER_TOOL], reasoning=REASONING, include=ENCRYPTED, store=False)
        if not stream:
            return client.responses.create(**kwargs)
        with client.responses.stream(**kwargs) as events:
            return events.get_final_response()

    first = create(model=target.model, input=[WEATHER_QUESTION])
    if target is CHAT:
        # The chat fake does not reason: the request is answered all the same.
        assert [item.type for item in first.output] == ["function_call"]
    else:
        assert [item.type for item in first.output] == ["reasoning", "function_call"]
        _assert_reasoning_item(target, first.output[0])
    call = _items(first, "function_call")[0]
    assert json.loads(call.arguments) == {"city": "Paris"}

    # The reasoning item replayed with the call: the fake refuses the turn
    # unless it gets its thinking (Anthropic: a thinking block signed
    # `sig-fake` before the tool_use; Responses: `enc-fake`) back intact.
    second = create(
        model=target.model,
        input=[
            WEATHER_QUESTION,
            *_replay(first.output),
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )
    assert second.status == "completed"
    assert second.output_text == "echo: sunny"
    if target is not CHAT:
        assert [item.type for item in second.output] == ["reasoning", "message"]


@pytest.mark.parametrize("target", REASONING_TARGETS, ids=[t.spec for t in REASONING_TARGETS])
def test_reasoning_then_text_replayed_in_next_turn(client: openai.OpenAI, target: Target) -> None:
    kwargs = dict(model=target.model, reasoning=REASONING, include=ENCRYPTED, store=False)
    first = client.responses.create(input=[{"role": "user", "content": "hello"}], **kwargs)
    assert [item.type for item in first.output] == ["reasoning", "message"]
    _assert_reasoning_item(target, first.output[0])
    assert first.output_text == "echo: hello"
    second = client.responses.create(
        input=[{"role": "user", "content": "hello"}, *_replay(first.output), {"role": "user", "content": "again"}],
        **kwargs,
    )
    assert second.output_text == "echo: again"


def _damage(replayed: list[dict], damage: str, field: str) -> list[dict]:
    """The replayed items with their first (reasoning) item altered or left out."""
    damaged = json.loads(json.dumps(replayed))
    if damage == "altered":
        damaged[0][field] = "not-what-the-model-sent"
    else:
        del damaged[0]
    return damaged


@pytest.mark.parametrize("damage", ["altered", "dropped"])
def test_damaged_reasoning_replay_through_a_responses_endpoint(client: openai.OpenAI, damage: str) -> None:
    # Passed through untouched, so the upstream's refusal reaches the client.
    kwargs = dict(
        model=RESPONSES.model, tools=[WEATHER_TOOL], reasoning=REASONING, include=ENCRYPTED, store=False
    )
    first = client.responses.create(input=[WEATHER_QUESTION], **kwargs)
    replayed = _replay(first.output)
    assert replayed[0]["type"] == "reasoning"
    call = _items(first, "function_call")[0]
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(
            input=[
                WEATHER_QUESTION,
                *_damage(replayed, damage, "encrypted_content"),
                {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
            ],
            **kwargs,
        )
    assert info.value.status_code == 400
    _error_body(info.value)
    _assert_no_key_leak(info.value)


@pytest.mark.parametrize("damage", ["intact", "altered", "dropped"])
def test_the_fakes_check_replayed_reasoning(upstreams, damage: str) -> None:
    # The fakes themselves, without the gateway: they refuse a tool loop
    # whose reasoning does not come back as it left, which is what makes
    # the round trips through the gateway above prove something.
    result = {"type": "function_call_output", "output": "sunny"}
    with openai.OpenAI(base_url=f"{upstreams.url}/v1", api_key="sk-test", max_retries=0) as fake:
        kwargs = dict(
            model="fake-model", tools=[WEATHER_TOOL], reasoning=REASONING, include=ENCRYPTED, store=False
        )
        first = fake.responses.create(input=[WEATHER_QUESTION], **kwargs)
        replayed = _replay(first.output)
        result["call_id"] = replayed[-1]["call_id"]
        if damage != "intact":
            replayed = _damage(replayed, damage, "encrypted_content")
        try:
            second = fake.responses.create(input=[WEATHER_QUESTION, *replayed, result], **kwargs)
            responses_refusal = None
            assert second.output_text == "echo: sunny"
        except openai.BadRequestError as exc:
            responses_refusal = exc.message

    thinking = {"type": "enabled", "budget_tokens": 1024}
    question = {"role": "user", "content": "weather in Paris?"}
    tool = {"name": "get_weather", "input_schema": WEATHER_TOOL["parameters"]}
    with anthropic.Anthropic(base_url=upstreams.url, api_key="sk-test", max_retries=0) as fake:
        kwargs = dict(model="fake-model", max_tokens=2048, thinking=thinking, tools=[tool])
        first = fake.messages.create(messages=[question], **kwargs)
        blocks = [b.model_dump(exclude_none=True) for b in first.content]
        assert [b["type"] for b in blocks] == ["thinking", "tool_use"]
        tool_result = {"type": "tool_result", "tool_use_id": blocks[-1]["id"], "content": "sunny"}
        if damage != "intact":
            blocks = _damage(blocks, damage, "signature")
        messages = [question, {"role": "assistant", "content": blocks}, {"role": "user", "content": [tool_result]}]
        try:
            second = fake.messages.create(messages=messages, **kwargs)
            anthropic_refusal = None
            assert second.content[-1].text == "echo: sunny"
        except anthropic.BadRequestError as exc:
            anthropic_refusal = exc.message

    if damage == "intact":
        assert (responses_refusal, anthropic_refusal) == (None, None)
    elif damage == "altered":
        assert responses_refusal and "could not be verified" in responses_refusal
        assert anthropic_refusal and "Invalid `signature`" in anthropic_refusal
    else:
        assert responses_refusal and "without its required 'reasoning' item" in responses_refusal
        assert anthropic_refusal and "Expected `thinking`" in anthropic_refusal


def test_the_responses_fake_wants_a_key(upstreams) -> None:
    request = urllib.request.Request(
        f"{upstreams.url}/v1/responses",
        data=json.dumps({"model": "fake-model", "input": "hi"}).encode(),
        headers={"content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=30)
    assert info.value.code == 401
    assert json.loads(info.value.read())["error"]["code"] == "invalid_api_key"


def test_chat_endpoint_answers_reasoning_requests_without_reasoning(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model=CHAT.model, input="hello", reasoning=REASONING, include=ENCRYPTED
    )
    assert [item.type for item in response.output] == ["message"]
    assert response.output_text == "echo: hello"


# --- streaming --------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_stream_helper_text(client: openai.OpenAI, target: Target) -> None:
    with client.responses.stream(model=target.model, input="hello world") as stream:
        events = list(stream)
        final = stream.get_final_response()

    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"], types
    assert types[-1] == "response.completed", types
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].response.status == "in_progress"
    assert events[-1].response.id == events[0].response.id

    # The message's own events, in order (deltas collapsed).
    item_events = [t for t in types[2:-1] if t != "response.output_text.delta"]
    assert item_events == [
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ], types
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1, "the text was not streamed in pieces"
    assert "".join(e.delta for e in deltas) == "echo: hello world"
    assert deltas[-1].snapshot == "echo: hello world"
    done = [e for e in events if e.type == "response.output_text.done"]
    assert done[0].text == "echo: hello world"

    assert final.status == "completed"
    assert final.id == events[0].response.id
    assert final.model == target.answered_model()
    assert final.output_text == "echo: hello world"
    _assert_usage(final)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_raw_stream_events(client: openai.OpenAI, target: Target) -> None:
    # `create(stream=True)`: the raw events, without the helper's state.
    with client.responses.with_streaming_response.create(
        model=target.model, input="hello world", stream=True
    ) as raw:
        assert raw.status_code == 200
        assert raw.headers["content-type"].startswith("text/event-stream")
        _assert_no_secrets("", raw.headers)
        events = list(raw.parse())
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "echo: hello world"
    completed = [e for e in events if e.type == "response.completed"]
    assert len(completed) == 1 and completed[0] is events[-1]
    assert completed[0].response.output_text == "echo: hello world"
    _assert_usage(completed[0].response)
    for event in events:
        _assert_no_secrets(event.model_dump_json())


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_stream_helper_function_call(client: openai.OpenAI, target: Target) -> None:
    with client.responses.stream(model=target.model, input=[WEATHER_QUESTION], tools=[WEATHER_TOOL]) as stream:
        events = list(stream)
        final = stream.get_final_response()

    added = [e for e in events if e.type == "response.output_item.added"]
    assert [e.item.type for e in added] == ["function_call"]
    assert added[0].item.name == "get_weather"
    assert added[0].item.call_id
    deltas = [e for e in events if e.type == "response.function_call_arguments.delta"]
    assert deltas, "no arguments delta"
    assert json.loads(deltas[-1].snapshot) == {"city": "Paris"}
    done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert len(done) == 1
    assert json.loads(done[0].arguments) == {"city": "Paris"}
    assert [e.sequence_number for e in events] == list(range(len(events)))

    assert [item.type for item in final.output] == ["function_call"]
    assert final.output[0].call_id == added[0].item.call_id
    assert json.loads(final.output[0].arguments) == {"city": "Paris"}


@pytest.mark.parametrize("target", REASONING_TARGETS, ids=[t.spec for t in REASONING_TARGETS])
def test_stream_helper_reasoning(client: openai.OpenAI, target: Target) -> None:
    with client.responses.stream(
        model=target.model, input="hello", reasoning=REASONING, include=ENCRYPTED, store=False
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()

    # The thinking streams as summary or reasoning-text deltas, before the answer.
    kinds = ("response.reasoning_summary_text.delta", "response.reasoning_text.delta")
    thinking = "".join(e.delta for e in events if e.type in kinds)
    expected = "Let me think." if target is ANTHROPIC else "thinking about it"
    assert thinking == expected
    first_text = next(i for i, e in enumerate(events) if e.type == "response.output_text.delta")
    last_thinking = max(i for i, e in enumerate(events) if e.type in kinds)
    assert last_thinking < first_text, "the thinking arrived after the answer"
    assert [item.type for item in final.output] == ["reasoning", "message"]
    _assert_reasoning_item(target, final.output[0])
    assert final.output_text == "echo: hello"


CASES = {
    "text": dict(input="hello world"),
    "tool": dict(input=[WEATHER_QUESTION], tools=[WEATHER_TOOL, TIME_TOOL]),
    "reasoning": dict(
        input=[WEATHER_QUESTION], tools=[WEATHER_TOOL], reasoning=REASONING, include=ENCRYPTED, store=False
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_stream_accumulates_to_the_non_stream_answer(
    client: openai.OpenAI, target: Target, case: str
) -> None:
    kwargs = dict(model=target.model, **CASES[case])
    whole = client.responses.create(**kwargs)
    with client.responses.stream(**kwargs) as stream:
        streamed = stream.get_final_response()
    assert _shape(streamed.output) == _shape(whole.output)
    assert streamed.status == whole.status == "completed"
    assert streamed.model == whole.model
    assert streamed.output_text == whole.output_text
    _assert_usage(streamed)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_async_client_streams(async_client_factory, target: Target) -> None:
    async def run():
        async with async_client_factory() as client:
            async with client.responses.stream(model=target.model, input="hello world") as stream:
                deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
                final = await stream.get_final_response()
            whole = await client.responses.create(model=target.model, input="hello")
            return deltas, final, whole

    deltas, final, whole = asyncio.run(run())
    assert "".join(deltas) == "echo: hello world"
    assert final.output_text == "echo: hello world"
    assert whole.output_text == "echo: hello"


# --- errors -----------------------------------------------------------------

# (upstream status, status the client gets, SDK class). A 401/403 is the
# endpoint's keys failing, not the caller's: a 502, so the SDK does not
# raise AuthenticationError.
ERRORS = [
    (400, 400, openai.BadRequestError),
    (401, 502, openai.InternalServerError),
    (404, 404, openai.NotFoundError),
    (500, 500, openai.InternalServerError),
]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("status,answered,exc_class", ERRORS, ids=[str(e[0]) for e in ERRORS])
@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_upstream_error_maps_to_sdk_exception(
    client: openai.OpenAI, target: Target, status: int, answered: int, exc_class: type, stream: bool
) -> None:
    model = f"{target.endpoint}/error-{status}"
    with pytest.raises(exc_class) as info:
        if stream:
            with client.responses.stream(model=model, input="hello") as events:
                list(events)
        else:
            client.responses.create(model=model, input="hello")
    exc = info.value
    assert exc.status_code == answered
    body = _error_body(exc)
    assert f"fake error {status}" in body["message"], body["message"]
    _assert_no_key_leak(exc)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_rate_limit(client: openai.OpenAI, target: Target) -> None:
    # Each spec on its own endpoint: see `limited-resp-*` in conftest.py.
    with pytest.raises(openai.RateLimitError) as info:
        client.responses.create(model=f"{target.limited}/error-429", input="hello")
    exc = info.value
    assert exc.status_code == 429
    body = _error_body(exc)
    assert "fake error 429" in body["message"], body["message"]
    _assert_no_key_leak(exc)


def test_unknown_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.responses.create(model="nope-model", input="hello")
    assert info.value.code == "model_not_found"
    assert "nope-model" in _error_body(info.value)["message"]


@pytest.mark.parametrize("target", [CHAT, ANTHROPIC], ids=["chat", "anthropic"])
def test_previous_response_id_to_a_translated_endpoint_is_a_400(
    client: openai.OpenAI, target: Target
) -> None:
    # Only a Responses upstream holds conversation state; the gateway keeps
    # none, so it cannot resolve the id for another format.
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(
            model=target.model, input="again", previous_response_id="resp_earlier"
        )
    exc = info.value
    assert exc.status_code == 400
    assert "previous_response_id" in _error_body(exc)["message"]
    _assert_no_key_leak(exc)


def test_previous_response_id_passes_through(client: openai.OpenAI) -> None:
    first = client.responses.create(model=RESPONSES.model, input="hello")
    second = client.responses.create(
        model=RESPONSES.model, input="again", previous_response_id=first.id
    )
    # The fake echoes the id it received.
    assert second.previous_response_id == first.id
    assert second.output_text == "echo: again"
    assert second.id != first.id


# --- hosted tools -----------------------------------------------------------


def test_hosted_tool_to_a_chat_endpoint_is_dropped_and_named(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(
        model=CHAT.model, input="hello", tools=[{"type": "web_search"}]
    )
    assert raw.status_code == 200
    dropped = raw.headers.get("x-modelgate-dropped-tools")
    assert dropped is not None and "web_search" in dropped, dict(raw.headers)
    _assert_no_secrets(raw.text, raw.headers)
    assert raw.parse().output_text == "echo: hello"


def test_hosted_tool_beside_a_function_to_a_chat_endpoint(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(
        model=CHAT.model, input=[WEATHER_QUESTION], tools=[{"type": "web_search"}, WEATHER_TOOL]
    )
    assert "web_search" in raw.headers.get("x-modelgate-dropped-tools", "")
    calls = _items(raw.parse(), "function_call")
    assert [c.name for c in calls] == ["get_weather"]


def test_hosted_tool_to_a_responses_endpoint_is_kept(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(
        model=RESPONSES.model, input="hello", tools=[{"type": "web_search"}]
    )
    assert raw.status_code == 200
    assert "x-modelgate-dropped-tools" not in raw.headers
    response = raw.parse()
    # The fake echoes the tools it received.
    assert [t.type for t in response.tools] == ["web_search"]
    assert response.output_text == "echo: hello"


# --- gateway keys -----------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_gateway_key_as_bearer(secured_gateway, target: Target) -> None:
    with openai.OpenAI(
        base_url=f"{secured_gateway.url}/v1", api_key=secured_gateway.key, max_retries=0
    ) as client:
        response = client.responses.create(model=target.model, input="hello")
    assert response.output_text == "echo: hello"


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_wrong_gateway_key_is_an_authentication_error(secured_gateway, target: Target) -> None:
    with openai.OpenAI(
        base_url=f"{secured_gateway.url}/v1", api_key="mg-not-a-real-key", max_retries=0
    ) as client:
        with pytest.raises(openai.AuthenticationError) as info:
            client.responses.create(model=target.model, input="hello")
    assert info.value.status_code == 401
    _error_body(info.value)
    _assert_no_key_leak(info.value)
