//! Cases only a Gemini endpoint can tell (the `google` column): calls
//! without ids and their results mapped back by name, thought signatures
//! replayed to Gemini and to no other spec, and a real agent's tool
//! schema made acceptable to Gemini (its stops: `cases_gemini_stops`). The next turn of a conversation is written here for every
//! front door from what its client got ([`next_turn`]).

use serde_json::{Value, json};

use super::cases::done;
use super::cases_reasoning::{REASONING, SIGNATURE, signature_seen};
use super::checks_gemini::{declarations, unsupported_keys};
use super::client::{self, Ask, Outcome, Seen};
use super::upstream::{Answer, Block, Layout, Script, Tokens, tool_id};
use super::{Cell, Front, Run, Spec, Wire, serve};

/// The id of the `index`-th call the client got, as it must send it back:
/// the endpoint's (see [`tool_id`]), or for Gemini the one the gateway
/// made up.
pub fn call_id(cell: Cell, seen: &Seen, n: &str, index: usize) -> String {
    match cell.spec.wire() {
        Wire::Gemini => seen
            .tool_calls
            .get(index)
            .map(|c| c.0.clone())
            .unwrap_or_else(|| panic!("{cell}: no call #{index} in {}", seen.body_text())),
        _ => tool_id(cell.spec, n),
    }
}

/// The next request of the conversation: the user's message, the
/// assistant's turn as the client got it, the results `(call id, text)`.
pub fn next_turn(run: &Run, seen: &Seen, results: &[(String, &str)]) -> Value {
    let cell = run.cell;
    let replay = seen.replay.clone().unwrap_or_else(|| {
        panic!(
            "{cell}: the client has no assistant turn to send back: {}",
            seen.body_text()
        )
    });
    let messages = match cell.front {
        Front::OpenAi => {
            let mut messages = Ask::messages(Front::OpenAi);
            messages.push(replay);
            messages.extend(
                results
                    .iter()
                    .map(|(id, out)| json!({"role": "tool", "tool_call_id": id, "content": out})),
            );
            messages
        }
        Front::Anthropic => {
            let results: Vec<Value> = results
                .iter()
                .map(|(id, out)| json!({"type": "tool_result", "tool_use_id": id, "content": out}))
                .collect();
            vec![
                json!({"role": "user", "content": client::USER}),
                json!({"role": "assistant", "content": replay}),
                json!({"role": "user", "content": results}),
            ]
        }
        Front::Responses => {
            let mut input = Ask::messages(Front::Responses);
            input.extend(seen.items.iter().cloned());
            input.extend(results.iter().map(
                |(id, out)| json!({"type": "function_call_output", "call_id": id, "output": out}),
            ));
            input
        }
    };
    run.ask.body_with(cell.front, cell.stream, messages)
}

/// A Gemini endpoint's view of a tool loop: user, the model's turn (its
/// texts, then the `calls` (name, args) without made-up ids), the user's
/// `functionResponse`s, one per call in order, naming the call's function.
pub fn check_gemini_loop(
    cell: Cell,
    sent: &Value,
    text: Option<&str>,
    calls: &[(&str, Value)],
    results: &[Value],
) {
    let contents = sent["contents"].as_array().expect("contents");
    let roles: Vec<&Value> = contents.iter().map(|c| &c["role"]).collect();
    assert_eq!(roles, ["user", "model", "user"], "{cell}: {sent}");
    let parts = contents[1]["parts"].as_array().expect("parts");
    let said: String = parts
        .iter()
        .filter(|p| p["thought"] != true)
        .filter_map(|p| p["text"].as_str())
        .collect();
    assert_eq!(
        said,
        text.unwrap_or_default(),
        "{cell}: the model's text: {sent}"
    );
    let got: Vec<&Value> = parts.iter().filter_map(|p| p.get("functionCall")).collect();
    let expected: Vec<Value> = calls
        .iter()
        .map(|(name, args)| json!({"name": name, "args": args}))
        .collect();
    let got_calls: Vec<Value> = got
        .iter()
        .map(|c| json!({"name": c["name"], "args": c["args"]}))
        .collect();
    assert_eq!(
        got_calls, expected,
        "{cell}: the calls go back in order: {sent}"
    );
    let responses: Vec<&Value> = contents[2]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("functionResponse"))
        .collect();
    // Gemini pairs a response with its call by id when both carry one,
    // else by position: either way each call gets its own result once.
    let mut answered = vec![0; calls.len()];
    for (j, response) in responses.iter().enumerate() {
        let i = match response.get("id") {
            Some(id) => got.iter().position(|c| c.get("id") == Some(id)),
            None => Some(j).filter(|&j| got.get(j).is_some_and(|c| c.get("id").is_none())),
        };
        let i =
            i.unwrap_or_else(|| panic!("{cell}: functionResponse #{j} pairs with no call: {sent}"));
        assert_eq!(
            (&response["name"], &response["response"]),
            (&json!(calls[i].0), &results[i]),
            "{cell}: functionResponse #{j} answers call #{i}: it names that call's function and holds its result: {sent}"
        );
        answered[i] += 1;
    }
    assert!(
        answered.iter().all(|&n| n == 1),
        "{cell}: every call answered once ({answered:?}): {sent}"
    );
}

/// Three calls in one chunk, none with an id, two of the same function:
/// the client gets three distinct ids; it sends the results back with
/// them, in reverse order, and Gemini gets one `functionResponse` per
/// call, each naming its call's function and paired with it (by id, or
/// else by position).
pub async fn gemini_parallel_calls(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather", "get_time"],
        include_usage: true,
        ..Ask::default()
    };
    let first = Answer::new(
        vec![
            Block::text(&["Checking."]),
            Block::tool("01", "get_weather", &[r#"{"city":"Paris"}"#]),
            Block::tool("02", "get_weather", &[r#"{"city":"Lyon"}"#]),
            Block::tool("03", "get_time", &[r#"{"tz":"Europe/Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(30, 15),
    )
    .layout(Layout::InterleavedTools);
    let second = Answer::new(
        vec![Block::text(&["Paris 21, ", "Lyon 18."])],
        "end_turn",
        Tokens::new(70, 9),
    )
    .layout(Layout::PerEvent);
    let scripts = vec![Script::Answer(first), Script::Answer(second)];
    let run = Run::start_turns(cell, ask, scripts).await;
    let paris = json!({"city": "Paris"});
    let lyon = json!({"city": "Lyon"});
    let tz = json!({"tz": "Europe/Paris"});
    run.expect(Outcome {
        tool_calls: vec![
            super::cases::call(cell.spec, "01", "get_weather", paris.clone()),
            super::cases::call(cell.spec, "02", "get_weather", lyon.clone()),
            super::cases::call(cell.spec, "03", "get_time", tz.clone()),
        ],
        ..done("Checking.", "tool_use", (30, 0, 15))
    });
    let outs = [
        r#"{"temp_c":21}"#,
        r#"{"temp_c":18}"#,
        r#"{"time":"12:00"}"#,
    ];
    let results: Vec<(String, &str)> = (0..3)
        .rev()
        .map(|i| (call_id(cell, &run.seen, "", i), outs[i]))
        .collect();
    let body = next_turn(&run, &run.seen, &results);
    let seen = client::call(&run.gw, cell, &body).await;
    assert_eq!(
        seen.outcome_for(cell, &Outcome::default()),
        done("Paris 21, Lyon 18.", "end_turn", (70, 0, 9)),
        "{cell}: {}",
        seen.body_text()
    );
    assert_eq!(run.upstream.hits(), 2, "{cell}");
    let results: Vec<Value> = outs
        .iter()
        .map(|o| serde_json::from_str(o).unwrap())
        .collect();
    check_gemini_loop(
        cell,
        &run.sent(),
        Some("Checking."),
        &[
            ("get_weather", paris),
            ("get_weather", lyon),
            ("get_time", tz),
        ],
        &results,
    );
    run.expect_recorded_turns(2, (100, 0, 24)).await;
}

/// A thought with Gemini's signature, then a call: the client keeps the
/// signature; sent back, it reaches Gemini on the model turn's thought
/// part, unchanged, before the call. The same history translated for an
/// OpenAI chat, Anthropic, Responses or Azure endpoint never carries it.
pub async fn gemini_thought_signature(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather"],
        reasoning: true,
        include_usage: true,
        ..Ask::default()
    };
    let first = Answer::new(
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
    let second = Answer::new(
        vec![Block::text(&["21 °C."])],
        "end_turn",
        Tokens::new(60, 6),
    );
    let scripts = vec![Script::Answer(first), Script::Answer(second.clone())];
    let run = Run::start_turns(cell, ask, scripts).await;
    let weather = json!({"city": "Paris"});
    run.expect(Outcome {
        reasoning: REASONING.to_owned(),
        signature: Some(signature_seen(cell)),
        tool_calls: vec![super::cases::call(
            cell.spec,
            "01",
            "get_weather",
            weather.clone(),
        )],
        ..done("", "tool_use", (40, 0, 25))
    });
    let id = call_id(cell, &run.seen, "01", 0);
    let result = r#"{"temp_c":21}"#;
    let body = next_turn(&run, &run.seen, &[(id, result)]);
    let seen = client::call(&run.gw, cell, &body).await;
    assert_eq!(seen.status, 200, "{cell}: {}", seen.body_text());
    let sent = run.sent();
    check_gemini_loop(
        cell,
        &sent,
        None,
        &[("get_weather", weather)],
        &[json!({"temp_c": 21})],
    );
    let parts = sent["contents"][1]["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let signed = parts
        .iter()
        .position(|p| p["thoughtSignature"] == SIGNATURE);
    let call = parts.iter().position(|p| p.get("functionCall").is_some());
    assert!(
        signed.is_some() && signed <= call,
        "{cell}: Gemini gets its signature back, unchanged, on the call or a part before it\n--- sent back ---\n{body}\n--- endpoint got ---\n{sent}"
    );
    if let Some(i) = signed.filter(|&i| parts[i]["thought"] == true) {
        assert_eq!(
            parts[i]["text"], REASONING,
            "{cell}: the thought kept: {sent}"
        );
    }
    assert!(
        !sent.to_string().contains("mg1:"),
        "{cell}: Gemini gets its signature unwrapped: {sent}"
    );

    // Translated only: a passthrough cell sends the client's body as it is.
    let others = [
        Spec::OpenAiChat,
        Spec::Anthropic,
        Spec::OpenAiResponses,
        Spec::Azure,
    ];
    for spec in others {
        let other = Cell { spec, ..cell };
        if other.passthrough() {
            continue;
        }
        let (upstream, gw) = serve(other, vec![Script::Answer(second.clone())]).await;
        let seen = client::call(&gw, other, &body).await;
        assert_eq!(seen.status, 200, "{other}: {}", seen.body_text());
        let got = upstream.last().json().to_string();
        assert!(
            !got.contains(SIGNATURE) && !got.contains("mg1:"),
            "{other}: Gemini's signature never reaches another spec: {got}"
        );
    }
}

/// A coding agent's edit tool, as agents generate them from their types:
/// `$schema`, `$defs` and `$ref`, `anyOf` with `null`, `additionalProperties`.
pub fn agent_schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "path": {"type": "string", "description": "File to edit"},
            "edits": {"type": "array", "items": {"$ref": "#/$defs/Edit"}},
            "dry_run": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": null}
        },
        "required": ["path", "edits"],
        "$defs": {
            "Edit": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "old_text": {"type": "string"},
                    "new_text": {"type": "string"}
                },
                "required": ["old_text", "new_text"]
            }
        }
    })
}

/// What Gemini must get for [`agent_schema`], written by hand: the
/// definition inlined, `null` a `nullable`, the rest dropped.
pub fn agent_parameters() -> Value {
    json!({
        "type": "OBJECT",
        "properties": {
            "path": {"type": "STRING", "description": "File to edit"},
            "edits": {"type": "ARRAY", "items": {
                "type": "OBJECT",
                "properties": {"old_text": {"type": "STRING"}, "new_text": {"type": "STRING"}},
                "required": ["old_text", "new_text"]
            }},
            "dry_run": {"type": "BOOLEAN", "nullable": true}
        },
        "required": ["path", "edits"]
    })
}

/// The agent's tool reaches Gemini sanitized, and the call Gemini makes
/// with it reaches the client.
pub async fn gemini_agent_schema(cell: Cell) {
    let (upstream, gw) = {
        let answer = Answer::new(
            vec![Block::tool(
                "01",
                "edit_file",
                &[r#"{"path":"a.rs","edits":[{"old_text":"x","new_text":"y"}]}"#],
            )],
            "tool_use",
            Tokens::new(50, 20),
        );
        serve(cell, vec![Script::Answer(answer)]).await
    };
    let mut body = Ask {
        include_usage: true,
        ..Ask::default()
    }
    .body(cell.front, cell.stream);
    let description = "Edit a file";
    body["tools"] = match cell.front {
        Front::OpenAi => json!([{"type": "function", "function": {"name": "edit_file",
            "description": description, "parameters": agent_schema(), "strict": true}}]),
        Front::Anthropic => json!([{"name": "edit_file", "description": description,
            "input_schema": agent_schema()}]),
        Front::Responses => json!([{"type": "function", "name": "edit_file",
            "description": description, "parameters": agent_schema(), "strict": true}]),
    };
    let seen = client::call(&gw, cell, &body).await;
    let sent = upstream.last().json();
    let declared = declarations(&sent);
    assert_eq!(declared.len(), 1, "{cell}: {sent}");
    assert!(
        unsupported_keys(&declared[0]).is_empty(),
        "{cell}: {:?} reached Gemini: {sent}",
        unsupported_keys(&declared[0])
    );
    assert_eq!(
        declared[0],
        json!({"name": "edit_file", "description": description, "parameters": agent_parameters()}),
        "{cell}: the schema made Gemini's"
    );
    let edits = json!({"path": "a.rs", "edits": [{"old_text": "x", "new_text": "y"}]});
    assert_eq!(
        seen.outcome_for(
            cell,
            &Outcome {
                tool_calls: vec![super::cases::call(
                    cell.spec,
                    "01",
                    "edit_file",
                    edits.clone()
                )],
                ..Outcome::default()
            }
        ),
        Outcome {
            tool_calls: vec![super::cases::call(cell.spec, "01", "edit_file", edits)],
            ..done("", "tool_use", (50, 0, 20))
        },
        "{cell}: {}",
        seen.body_text()
    );
}

/// Gemini 2.5 / 3 sign the function call itself (no thought shown): the
/// client keeps the signature; sent back, it is on that `functionCall`
/// part again, unchanged (not Google's skip placeholder).
pub async fn gemini_signed_call(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather"],
        reasoning: true,
        include_usage: true,
        ..Ask::default()
    };
    let first = Answer {
        call_signature: Some(SIGNATURE),
        ..Answer::new(
            vec![Block::tool("01", "get_weather", &[r#"{"city":"Paris"}"#])],
            "tool_use",
            Tokens::new(40, 25),
        )
    };
    let second = Answer::new(
        vec![Block::text(&["21 °C."])],
        "end_turn",
        Tokens::new(60, 6),
    );
    let run = Run::start_turns(
        cell,
        ask,
        vec![Script::Answer(first), Script::Answer(second)],
    )
    .await;
    let weather = json!({"city": "Paris"});
    run.expect(Outcome {
        signature: Some(signature_seen(cell)),
        tool_calls: vec![super::cases::call(
            cell.spec,
            "01",
            "get_weather",
            weather.clone(),
        )],
        ..done("", "tool_use", (40, 0, 25))
    });
    let id = call_id(cell, &run.seen, "01", 0);
    let body = next_turn(&run, &run.seen, &[(id, r#"{"temp_c":21}"#)]);
    let seen = client::call(&run.gw, cell, &body).await;
    assert_eq!(seen.status, 200, "{cell}: {}", seen.body_text());
    let sent = run.sent();
    check_gemini_loop(
        cell,
        &sent,
        None,
        &[("get_weather", weather)],
        &[json!({"temp_c": 21})],
    );
    let parts = sent["contents"][1]["parts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let call = parts.iter().find(|p| p.get("functionCall").is_some());
    assert_eq!(
        call.map(|c| &c["thoughtSignature"]),
        Some(&json!(SIGNATURE)),
        "{cell}: the call goes back with its own signature\n--- sent back ---\n{body}\n--- endpoint got ---\n{sent}"
    );
}
