"""The official `openai` SDK, unmodified, to Azure OpenAI endpoints through
the gateway: `az` (a dated api-version, classic deployment URLs, the
Responses API translated to chat) and `az-v1` (the v1 API, Responses
passed through), both on the fake Azure resource of `fake-upstream --azure`.
"""

from __future__ import annotations

import openai
import pytest

from conftest import AZURE_KEY

# The fake resource's content-filter triggers (`modelgate_testkit::azure`).
PROMPT_TRIGGER = "trigger-prompt-filter"
ANSWER_TRIGGER = "trigger-answer-filter"

CLASSIC = "az/gpt-4o-azure"
V1 = "az-v1/gpt-4o-mini"

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


def _no_key(text: str) -> None:
    assert AZURE_KEY not in text


@pytest.mark.parametrize("model", [CLASSIC, V1], ids=["classic", "v1"])
def test_chat_completion(client: openai.OpenAI, model: str) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hello azure"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "echo: hello azure"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert raw.headers["x-modelgate-endpoint"] == model.split("/")[0]
    _no_key(raw.http_response.text)


@pytest.mark.parametrize("model", [CLASSIC, V1], ids=["classic", "v1"])
def test_chat_completion_stream(client: openai.OpenAI, model: str) -> None:
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "stream me"}],
        stream=True,
    )
    text = ""
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert text == "echo: stream me"
    assert finish == "stop"


def test_chat_tool_call(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=CLASSIC,
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=[WEATHER_TOOL],
    )
    call = completion.choices[0].message.tool_calls[0]
    assert completion.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    answer = client.chat.completions.create(
        model=CLASSIC,
        messages=[
            {"role": "user", "content": "weather in Paris?"},
            completion.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert answer.choices[0].message.content == "echo: sunny"


@pytest.mark.parametrize("model", [CLASSIC, V1], ids=["classic", "v1"])
def test_a_filtered_prompt_is_a_bad_request_naming_the_filter(
    client: openai.OpenAI, model: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": f"say {PROMPT_TRIGGER}"}]
        )
    body = caught.value.body
    assert body["code"] == "content_filter", body
    assert "content filter" in body["message"].lower(), body
    _no_key(str(body))


def test_a_withheld_answer_ends_with_content_filter(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=CLASSIC, messages=[{"role": "user", "content": f"say {ANSWER_TRIGGER}"}]
    )
    assert completion.choices[0].finish_reason == "content_filter"


def test_a_missing_deployment_says_the_model_must_be_a_deployment(
    client: openai.OpenAI,
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(
            model="az/no-such-deployment",
            messages=[{"role": "user", "content": "hi"}],
        )
    message = caught.value.body["message"]
    assert "no-such-deployment" in message and "deployment" in message, message


@pytest.mark.parametrize("model", [CLASSIC, V1], ids=["translated", "passthrough"])
def test_responses_create_and_stream(client: openai.OpenAI, model: str) -> None:
    response = client.responses.create(model=model, input="hi there", store=False)
    assert response.status == "completed"
    assert response.output_text == "echo: hi there"
    assert response.usage is not None and response.usage.input_tokens > 0

    with client.responses.stream(model=model, input="hi there") as stream:
        deltas = "".join(
            event.delta for event in stream if event.type == "response.output_text.delta"
        )
        final = stream.get_final_response()
    assert deltas == "echo: hi there"
    assert final.output_text == "echo: hi there"


def test_responses_function_tool_round_trip_to_a_classic_deployment(
    client: openai.OpenAI,
) -> None:
    tool = {"type": "function", **WEATHER_TOOL["function"]}
    first = client.responses.create(model=CLASSIC, input="weather in Paris?", tools=[tool])
    calls = [item for item in first.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather"]
    second = client.responses.create(
        model=CLASSIC,
        input=[
            {"role": "user", "content": "weather in Paris?"},
            *[c.model_dump(exclude_none=True) for c in calls],
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny"},
        ],
        tools=[tool],
    )
    assert second.output_text == "echo: sunny"


def test_responses_content_filters(client: openai.OpenAI) -> None:
    withheld = client.responses.create(model=CLASSIC, input=f"say {ANSWER_TRIGGER}")
    assert withheld.status == "incomplete"
    assert withheld.incomplete_details.reason == "content_filter"
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=CLASSIC, input=f"say {PROMPT_TRIGGER}")
    assert caught.value.body["code"] == "content_filter"
