"""The official `google-genai` Python SDK, unmodified, against the gateway's
Gemini front door (`/v1beta/models/...` and, the same, `/v1/models/...`):
every test runs once per API version (`genai_client` in conftest.py).

Models reached:
* `gem/gemini-fake`: a `google` endpoint (passthrough; `fake-model` upstream);
* `fake/fake-model`: an OpenAI chat endpoint (translated both ways);
* `claude/claude-fake`: an Anthropic endpoint (translated both ways).

Behind them is `fake-upstream`: `echo: <last text>` (word by word when
streamed), a call of the first function with `{"city":"Paris"}` when given
tools and no function response yet, and an error of status NNN for a
model `error-NNN`.
"""

from __future__ import annotations

import pytest
from google.genai import errors, types

from conftest import GOOGLE_UPSTREAM_KEY, make_genai_client

MODELS = ["gem/gemini-fake", "fake/fake-model", "claude/claude-fake"]

WEATHER = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="The weather in a city.",
            parameters=types.Schema(
                type="OBJECT",
                properties={"city": types.Schema(type="STRING")},
                required=["city"],
            ),
        )
    ]
)


@pytest.mark.parametrize("model", MODELS)
def test_generate(genai_client, model):
    response = genai_client.models.generate_content(model=model, contents="hello world")
    assert response.text == "echo: hello world"
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata.prompt_token_count > 0


@pytest.mark.parametrize("model", MODELS)
def test_stream(genai_client, model):
    chunks = list(
        genai_client.models.generate_content_stream(model=model, contents="hello big world")
    )
    assert len(chunks) > 1, "streamed in pieces"
    assert "".join(c.text or "" for c in chunks) == "echo: hello big world"
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.prompt_token_count > 0


@pytest.mark.parametrize("model", MODELS)
def test_function_calling_round_trip(genai_client, model):
    config = types.GenerateContentConfig(
        tools=[WEATHER],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    question = types.Content(role="user", parts=[types.Part(text="weather in Paris?")])
    first = genai_client.models.generate_content(model=model, contents=[question], config=config)
    calls = first.function_calls
    assert calls and calls[0].name == "get_weather"
    assert calls[0].args == {"city": "Paris"}
    answer = types.Part.from_function_response(name="get_weather", response={"sky": "clear"})
    second = genai_client.models.generate_content(
        model=model,
        contents=[question, first.candidates[0].content, types.Content(role="user", parts=[answer])],
        config=config,
    )
    assert not second.function_calls
    assert "clear" in second.text


def test_streamed_function_call(genai_client):
    config = types.GenerateContentConfig(
        tools=[WEATHER],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    for model in MODELS:
        chunks = list(
            genai_client.models.generate_content_stream(
                model=model, contents="weather in Paris?", config=config
            )
        )
        calls = [call for c in chunks for call in (c.function_calls or [])]
        assert [(c.name, c.args) for c in calls] == [("get_weather", {"city": "Paris"})], model


@pytest.mark.parametrize(
    ("model", "code", "status"),
    [
        ("gem/error-400", 400, "INVALID_ARGUMENT"),
        ("fake/error-400", 400, "INVALID_ARGUMENT"),
        ("claude/error-404", 404, "NOT_FOUND"),
        ("no-such-endpoint/x", 404, "NOT_FOUND"),
    ],
)
def test_errors_are_googles(genai_client, model, code, status):
    with pytest.raises(errors.ClientError) as raised:
        genai_client.models.generate_content(model=model, contents="hi")
    assert raised.value.code == code
    assert raised.value.status == status
    assert GOOGLE_UPSTREAM_KEY not in str(raised.value)


def test_server_errors_are_googles(genai_client):
    with pytest.raises(errors.ServerError) as raised:
        genai_client.models.generate_content(model="fake/error-500", contents="hi")
    assert raised.value.code >= 500
    assert raised.value.status in {"INTERNAL", "UNAVAILABLE"}


def test_count_tokens(genai_client):
    counted = genai_client.models.count_tokens(model="gem/gemini-fake", contents="hello")
    assert counted.total_tokens == 7  # the fake's own count, passed through
    estimated = genai_client.models.count_tokens(model="fake/fake-model", contents="hello world")
    assert estimated.total_tokens > 0


def test_models_are_listed(genai_client):
    names = [m.name for m in genai_client.models.list()]
    assert "models/fake/fake-model" in names
    one = genai_client.models.get(model="fake/fake-model")
    assert one.name == "models/fake/fake-model"


def test_the_key_is_checked(secured_gateway):
    good = make_genai_client(secured_gateway.url, "v1beta", key=secured_gateway.key)
    assert good.models.generate_content(model="gem/gemini-fake", contents="hi").text == "echo: hi"
    bad = make_genai_client(secured_gateway.url, "v1beta", key="mg-not-a-key")
    with pytest.raises(errors.ClientError) as raised:
        bad.models.generate_content(model="gem/gemini-fake", contents="hi")
    assert raised.value.code == 401
    assert raised.value.status == "UNAUTHENTICATED"
