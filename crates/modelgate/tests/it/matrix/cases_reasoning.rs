//! Reasoning: signed thinking from the endpoint reaches every client in
//! its format (a Responses client gets it as a `reasoning` item whose
//! `encrypted_content` wraps a foreign signature, see
//! `spec/openai_responses/wire.rs`), and goes back only where it can be
//! read.

use serde_json::{Value, json};

use super::cases::{call, done};
use super::client::{self, Ask, Outcome};
use super::upstream::{Answer, Block, Layout, Script, Tokens, tool_id};
use super::{Cell, Front, Run, Spec, Wire};

/// The thinking the reasoning cases stream, and its signature.
pub const REASONING: &str = "The user wants the weather.";
pub const SIGNATURE: &str = "EqQBCkYIBxgCKkBmatrixSignature0123456789abcdef==";

/// The signature (Responses: `encrypted_content`) a client sees for
/// [`SIGNATURE`]. The endpoints' fakes sign as Anthropic (chat endpoints
/// in OpenRouter's Anthropic `reasoning_details` format) or as OpenAI
/// Responses; an Anthropic or Responses client gets a foreign signature in
/// the gateway's envelope (`ir/sealed.rs`), its own family's as it is; a
/// chat client always as it is (`reasoning_details.format` names the
/// signer).
pub fn signature_seen(cell: Cell) -> String {
    let signer = match cell.spec.wire() {
        Wire::Responses => "openai-responses",
        Wire::Gemini => "google",
        Wire::Chat | Wire::Messages => "anthropic",
    };
    let own = match cell.front {
        Front::OpenAi => return SIGNATURE.to_owned(),
        Front::Anthropic => "anthropic",
        Front::Responses => "openai-responses",
    };
    if signer == own {
        SIGNATURE.to_owned()
    } else {
        format!("mg1:sig:{signer}:{SIGNATURE}")
    }
}

/// Signed thinking, then a tool call. The OpenAI client asks
/// `reasoning_effort: low` (max_tokens 1000), the Anthropic client a
/// 2048-token budget, the Responses client `reasoning.effort: low`; the
/// client gets the thinking and its signature. Then the client sends the
/// turn back (see the replay checks; a Responses client's replays are the
/// Codex cases').
pub async fn reasoning_with_signature(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather"],
        reasoning: true,
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![
            Block::Reasoning {
                pieces: vec!["The user wants", " the weather."],
                signature: SIGNATURE,
            },
            Block::tool("01", "get_weather", &[r#"{"city":"Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(40, 25),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        reasoning: REASONING.to_owned(),
        signature: Some(signature_seen(cell)),
        tool_calls: vec![call(
            cell.spec,
            "01",
            "get_weather",
            json!({"city": "Paris"}),
        )],
        ..done("", "tool_use", (40, 0, 25))
    });
    run.expect_recorded((40, 0, 25)).await;
    match (cell.front, cell.spec.wire()) {
        (Front::OpenAi, Wire::Messages) => openai_client_replays_signed_reasoning(&run).await,
        (Front::Anthropic, Wire::Chat) => signatures_stay_with_anthropic(&run).await,
        (Front::OpenAi | Front::Anthropic, Wire::Responses) => tool_loop_to_responses(&run).await,
        // Passthrough, and the Responses client (see `cases_codex`).
        _ => {}
    }
}

/// OpenAI client, Anthropic endpoint: the assistant message sent back as
/// an OpenRouter-style client keeps it (`reasoning_details` with the
/// signature, the tool call, then the tool result) reaches the endpoint
/// with the signed `thinking` block first, unmodified; the same turn with
/// only an unsigned `reasoning_content` sends no thinking at all.
async fn openai_client_replays_signed_reasoning(run: &Run) {
    let cell = run.cell;
    let replay = run.seen.replay.clone().expect("an assistant message");
    let id = tool_id(Spec::Anthropic, "01");
    let result = json!({"role": "tool", "tool_call_id": id, "content": "{\"temp_c\":21}"});
    let mut messages = Ask::messages(Front::OpenAi);
    messages.extend([replay.clone(), result.clone()]);
    let second = run.ask.body_with(Front::OpenAi, cell.stream, messages);
    let seen = client::call(&run.gw, cell, &second).await;
    assert_eq!(seen.status, 200, "{cell}: {}", seen.body_text());
    assert_eq!(run.upstream.hits(), 2, "{cell}");
    let sent = run.sent();
    let turns = sent["messages"].as_array().expect("messages");
    assert_eq!(
        turns.len(),
        3,
        "{cell}: user, assistant, tool result: {sent}"
    );
    assert_eq!(turns[1]["role"], "assistant", "{cell}");
    let thinking = &turns[1]["content"][0];
    assert_eq!(
        (&thinking["type"], &thinking["signature"]),
        (&json!("thinking"), &json!(SIGNATURE)),
        "{cell}: the signed thinking goes back first\n--- replayed message ---\n{replay}\n--- endpoint got ---\n{sent}"
    );
    // After a streamed answer the client holds the text in
    // `reasoning_content` and the signature in an empty-text detail.
    assert_eq!(
        thinking["thinking"], REASONING,
        "{cell}: the signed thinking goes back unmodified\n--- replayed message ---\n{replay}\n--- endpoint got ---\n{sent}"
    );
    assert_eq!(
        turns[1]["content"][1],
        json!({"type": "tool_use", "id": id, "name": "get_weather", "input": {"city": "Paris"}}),
        "{cell}: {sent}"
    );
    assert_eq!(turns[2]["role"], "user", "{cell}");
    assert_eq!(
        turns[2]["content"][0],
        json!({"type": "tool_result", "tool_use_id": id, "content": "{\"temp_c\":21}"}),
        "{cell}"
    );
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048}),
        "{cell}: thinking stays on with signed history"
    );

    // The same turn from a client that kept only the reasoning text.
    let mut unsigned = replay;
    unsigned
        .as_object_mut()
        .expect("a message")
        .remove("reasoning_details");
    unsigned["reasoning_content"] = REASONING.into();
    let mut messages = Ask::messages(Front::OpenAi);
    messages.extend([unsigned, result]);
    let third = run.ask.body_with(Front::OpenAi, cell.stream, messages);
    let seen = client::call(&run.gw, cell, &third).await;
    assert_eq!(seen.status, 200, "{cell}: {}", seen.body_text());
    assert_eq!(run.upstream.hits(), 3, "{cell}");
    let sent = run.sent();
    let assistant = &sent["messages"][1];
    assert_eq!(assistant["role"], "assistant", "{cell}");
    let kinds: Vec<&str> = assistant["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["tool_use"],
        "{cell}: unsigned reasoning is never sent to Anthropic: {sent}"
    );
    assert!(
        sent.get("thinking").is_none(),
        "{cell}: thinking off when the last tool-use turn has no signed thinking: {sent}"
    );
}

/// Anthropic client, OpenAI (or Azure) endpoint: the thinking block sent
/// back with its signature reaches the OpenAI endpoint without the
/// signature; the tool call and its result become OpenAI messages.
async fn signatures_stay_with_anthropic(run: &Run) {
    let cell = run.cell;
    let replay = run.seen.replay.clone().expect("content blocks");
    assert_eq!(replay[0]["signature"], SIGNATURE, "{cell}");
    let id = tool_id(cell.spec, "01");
    let messages = vec![
        json!({"role": "user", "content": client::USER}),
        json!({"role": "assistant", "content": replay}),
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": "{\"temp_c\":21}"}]}),
    ];
    let second = run.ask.body_with(Front::Anthropic, cell.stream, messages);
    let seen = client::call(&run.gw, cell, &second).await;
    assert_eq!(seen.status, 200, "{cell}: {}", seen.body_text());
    assert_eq!(run.upstream.hits(), 2, "{cell}");
    let sent = run.sent();
    assert!(
        !sent.to_string().contains(SIGNATURE),
        "{cell}: a signature goes only to the spec that made it: {sent}"
    );
    let turns = sent["messages"].as_array().expect("messages");
    assert_eq!(
        turns.len(),
        4,
        "{cell}: system, user, assistant, tool: {sent}"
    );
    let calls = &turns[2]["tool_calls"];
    assert_eq!(turns[2]["role"], "assistant", "{cell}");
    assert_eq!(calls[0]["id"], id.as_str(), "{cell}");
    assert_eq!(calls[0]["function"]["name"], "get_weather", "{cell}");
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap_or("")).unwrap();
    assert_eq!(args, json!({"city": "Paris"}), "{cell}");
    assert_eq!(
        turns[3],
        json!({"role": "tool", "tool_call_id": id, "content": "{\"temp_c\":21}"}),
        "{cell}"
    );
    assert_eq!(sent["reasoning_effort"], "low", "{cell}");
}

/// OpenAI or Anthropic client, Responses endpoint: the turn sent back (the
/// assistant's reasoning and call, then the result) reaches the endpoint as
/// its own reasoning blob, a `function_call` and a `function_call_output`
/// with the same `call_id`.
async fn tool_loop_to_responses(run: &Run) {
    let cell = run.cell;
    let replay = run.seen.replay.clone().expect("the assistant turn");
    let id = tool_id(cell.spec, "01");
    let second = match cell.front {
        Front::OpenAi => {
            let mut messages = Ask::messages(Front::OpenAi);
            messages.push(replay);
            messages
                .push(json!({"role": "tool", "tool_call_id": id, "content": "{\"temp_c\":21}"}));
            run.ask.body_with(Front::OpenAi, cell.stream, messages)
        }
        _ => {
            let messages = vec![
                json!({"role": "user", "content": client::USER}),
                json!({"role": "assistant", "content": replay}),
                json!({"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": id, "content": "{\"temp_c\":21}"}]}),
            ];
            run.ask.body_with(Front::Anthropic, cell.stream, messages)
        }
    };
    let seen = client::call(&run.gw, cell, &second).await;
    assert_eq!(seen.status, 200, "{cell}: {}", seen.body_text());
    assert_eq!(run.upstream.hits(), 2, "{cell}");
    let sent = run.sent();
    let input = sent["input"].as_array().cloned().unwrap_or_default();
    let of = |kind: &str| -> Vec<&Value> { input.iter().filter(|i| i["type"] == kind).collect() };
    let calls = of("function_call");
    assert!(
        calls.len() == 1 && calls[0]["call_id"] == id.as_str() && calls[0]["name"] == "get_weather",
        "{cell}: the call goes back as a function_call: {sent}"
    );
    let args: Value = serde_json::from_str(calls[0]["arguments"].as_str().unwrap_or("")).unwrap();
    assert_eq!(args, json!({"city": "Paris"}), "{cell}");
    let outputs = of("function_call_output");
    assert!(
        outputs.len() == 1
            && outputs[0]["call_id"] == id.as_str()
            && outputs[0]["output"] == "{\"temp_c\":21}",
        "{cell}: the result goes back as a function_call_output: {sent}"
    );
    let reasoning = of("reasoning");
    assert!(
        reasoning.len() == 1 && reasoning[0]["encrypted_content"] == SIGNATURE,
        "{cell}: the endpoint's reasoning goes back as its own blob, unwrapped\n--- replayed ---\n{second}\n--- endpoint got ---\n{sent}"
    );
}
