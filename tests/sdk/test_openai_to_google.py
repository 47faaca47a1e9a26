"""The official `openai` Python SDK, unmodified, through the gateway's
OpenAI front door to a Gemini API endpoint: `gem` in conftest.py, of spec
`google`, whose public model `gemini-fake` is `fake-model` upstream. Every
request is translated to `generateContent` (the model and streaming in the
URL, the key in `x-goog-api-key`) and every answer back to a chat completion.
"""

from __future__ import annotations

import json

import openai
import pytest

from conftest import GOOGLE_UPSTREAM_KEY

MODEL = "gem/gemini-fake"
HELLO = [{"role": "user", "content": "hello world"}]
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


def test_chat(client):
    completion = client.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.choices[0].message.content == "echo: hello world"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == MODEL
    assert completion.usage.prompt_tokens == 10


def test_stream(client):
    stream = client.chat.completions.create(
        model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: hello world"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 10


def test_tool_call_round_trip(client):
    first = client.chat.completions.create(model=MODEL, messages=HELLO, tools=[WEATHER_TOOL])
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    call = message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    second = client.chat.completions.create(
        model=MODEL,
        tools=[WEATHER_TOOL],
        messages=[
            *HELLO,
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": '{"sky": "clear"}'},
        ],
    )
    assert "clear" in second.choices[0].message.content


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("gem/error-400", openai.BadRequestError),
        ("gem/error-404", openai.NotFoundError),
    ],
)
def test_errors(client, model, error):
    with pytest.raises(error) as raised:
        client.chat.completions.create(model=model, messages=HELLO)
    assert GOOGLE_UPSTREAM_KEY not in str(raised.value)
