//! Codex-shaped cases: what a Responses agent (Codex CLI) sends and
//! expects, through the Responses front door to every endpoint spec.
//! Codex asks with `store: false`, `tool_choice: auto`,
//! `parallel_tool_calls: false` and a `prompt_cache_key`; it declares
//! functions inside `namespace` tools, free-form `custom` tools
//! (`apply_patch`) and hosted tools (`web_search`), and keeps its
//! conversation itself, replaying output items (reasoning with
//! `encrypted_content`, function calls) with the tool outputs next turn.
//!
//! Translated (chat, anthropic, azure endpoints): namespaced functions
//! reach the endpoint renamed validly (`crm.lookup_customer` →
//! `crm_lookup_customer_<hash>`) and come back as a `function_call` with
//! `namespace`; a custom tool is a function of one string parameter
//! `input` and comes back as a `custom_tool_call` with the raw text;
//! hosted tools are left out and named in `x-modelgate-dropped-tools`,
//! and forcing one is a 400; state held upstream (`previous_response_id`,
//! `conversation`, `background`) is a 400. The `openai-responses` cells
//! check that the same requests pass through unchanged.

use serde_json::{Value, json};

use super::cases::{call, done};
use super::cases_gemini::{call_id, check_gemini_loop};
use super::cases_reasoning::{REASONING, SIGNATURE, signature_seen};
use super::checks::{check_tool_name, text_of};
use super::client::{self, Ask, Choice, Outcome, Seen};
use super::upstream::{Answer, Block, Layout, Script, Tokens};
use super::{Cell, Front, Run, Spec, Wire, serve};

/// The header naming the hosted tools the gateway left out.
const DROPPED: &str = "x-modelgate-dropped-tools";
/// The tool result every loop sends back.
const RESULT: &str = r#"{"temp_c":21}"#;

/// A Codex request with these tools (Responses `tools`, verbatim).
fn codex_ask(tools: Value) -> Ask {
    Ask {
        raw_tools: Some(tools),
        choice: Some(Choice::Auto),
        parallel: Some(false),
        extra: vec![
            ("store", false.into()),
            ("prompt_cache_key", "matrix-session".into()),
        ],
        ..Ask::default()
    }
}

/// `get_weather` as a flat Responses function tool.
fn weather_tool() -> Value {
    json!({"type": "function", "name": "get_weather", "description": client::description("get_weather"),
           "parameters": client::schema("get_weather")})
}

/// The client's first output item of a type.
fn item<'a>(seen: &'a Seen, kind: &str) -> &'a Value {
    seen.items
        .iter()
        .find(|i| i["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} item in {:?}", seen.items))
}

/// The (name, parameters) of the tools a translated request declared.
/// Gemini's upper-case type names are read back in JSON Schema's case
/// (their exact form is checked by `checks_gemini`).
fn sent_tools(cell: Cell, body: &Value) -> Vec<(String, Value)> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| match cell.spec.wire() {
            Wire::Gemini => t["functionDeclarations"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            _ => vec![t.clone()],
        })
        .map(|t| {
            let (n, p) = match cell.spec.wire() {
                Wire::Chat => (&t["function"]["name"], &t["function"]["parameters"]),
                Wire::Messages => (&t["name"], &t["input_schema"]),
                Wire::Responses | Wire::Gemini => (&t["name"], &t["parameters"]),
            };
            let mut p = p.clone();
            if cell.spec.wire() == Wire::Gemini {
                lower_types(&mut p);
            }
            (n.as_str().unwrap_or_default().to_owned(), p)
        })
        .collect()
}

/// Every `type` name of a schema in lower case.
fn lower_types(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(t) if k == "type" => *t = t.to_lowercase(),
                    _ => lower_types(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(lower_types),
        _ => {}
    }
}

/// The next turn: the user's message, the items the client got, the
/// result of call `call_id`.
fn next_turn(run: &Run, seen: &Seen, call_id: &str) -> Value {
    let mut input = Ask::messages(Front::Responses);
    input.extend(seen.items.iter().cloned());
    input.push(json!({"type": "function_call_output", "call_id": call_id, "output": RESULT}));
    run.ask.body_with(Front::Responses, run.cell.stream, input)
}

/// A function of a namespace: the endpoint gets it renamed validly, the
/// model calls it by that name, the client gets a `function_call` with the
/// `namespace` and the function's own name.
pub async fn codex_namespace_tool(cell: Cell) {
    let params = json!({"type": "object", "properties": {"email": {"type": "string"}},
                        "required": ["email"]});
    let ask = codex_ask(json!([{"type": "namespace", "name": "crm",
        "description": "Customer records",
        "tools": [{"type": "function", "name": "lookup_customer",
                   "description": "Find a customer by email", "parameters": params}]}]));
    let answer = Answer::new(
        vec![Block::tool(
            "01",
            "crm.lookup_customer",
            &[r#"{"email":"#, r#""ada@example.com"}"#],
        )],
        "tool_use",
        Tokens::new(30, 10),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![call(
            cell.spec,
            "01",
            "lookup_customer",
            json!({"email": "ada@example.com"}),
        )],
        ..done("", "tool_use", (30, 0, 10))
    });
    let fc = item(&run.seen, "function_call");
    assert_eq!(
        (&fc["namespace"], &fc["name"]),
        (&json!("crm"), &json!("lookup_customer")),
        "{cell}: the call names its namespace and the function's own name: {fc}"
    );
    assert_eq!(run.seen.header(DROPPED), None, "{cell}: nothing dropped");
    if !cell.passthrough() {
        let tools = sent_tools(cell, &run.sent());
        assert_eq!(tools.len(), 1, "{cell}: {tools:?}");
        check_tool_name(cell, "crm.lookup_customer", &tools[0].0.clone().into());
        assert_eq!(tools[0].1, params, "{cell}: the function's parameters");
    }
    run.expect_recorded((30, 0, 10)).await;
}

/// Codex's `apply_patch`, a custom tool with a grammar.
const PATCH: &str = "*** Begin Patch\n*** Add File: hello.txt\n+Hello\n*** End Patch";
/// [`PATCH`] as the canonical arguments `{"input": …}`, in two pieces.
const PATCH_ARGS: [&str; 2] = [
    r#"{"input":"*** Begin Patch\n*** Add"#,
    r#" File: hello.txt\n+Hello\n*** End Patch"}"#,
];

/// A custom tool: the endpoint gets a function of one string parameter
/// `input`; the client gets a `custom_tool_call` with the raw text.
pub async fn codex_custom_tool(cell: Cell) {
    let ask = codex_ask(json!([{"type": "custom", "name": "apply_patch",
        "description": "Apply a patch to the files",
        "format": {"type": "grammar", "syntax": "lark", "definition": "start: /(.|\\n)+/"}}]));
    let answer = Answer::new(
        vec![Block::tool("01", "apply_patch", &PATCH_ARGS)],
        "tool_use",
        Tokens::new(25, 15),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![call(cell.spec, "01", "apply_patch", PATCH.into())],
        ..done("", "tool_use", (25, 0, 15))
    });
    let ctc = item(&run.seen, "custom_tool_call");
    assert_eq!(
        (&ctc["name"], &ctc["input"]),
        (&json!("apply_patch"), &json!(PATCH)),
        "{cell}: {ctc}"
    );
    if !cell.passthrough() {
        let tools = sent_tools(cell, &run.sent());
        assert_eq!(tools.len(), 1, "{cell}: {tools:?}");
        assert_eq!(tools[0].0, "apply_patch", "{cell}");
        let schema = &tools[0].1;
        let properties: Vec<&String> = schema["properties"]
            .as_object()
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        assert!(
            schema["type"] == "object"
                && properties == ["input"]
                && schema["properties"]["input"]["type"] == "string"
                && schema["required"] == json!(["input"]),
            "{cell}: a custom tool is a function of one string `input`: {schema}"
        );
    }
    run.expect_recorded((25, 0, 15)).await;
}

/// A hosted tool (`web_search`) beside a function: an endpoint that
/// cannot run it never hears of it, and the client is told in
/// `x-modelgate-dropped-tools`.
pub async fn codex_hosted_tools_dropped(cell: Cell) {
    let ask = codex_ask(json!([weather_tool(), {"type": "web_search"}]));
    let answer = Answer::new(
        vec![Block::text(&["Sunny", "."])],
        "end_turn",
        Tokens::new(12, 4),
    );
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(done("Sunny.", "end_turn", (12, 0, 4)));
    if cell.passthrough() {
        assert_eq!(run.seen.header(DROPPED), None, "{cell}: nothing dropped");
        return;
    }
    let sent = run.sent();
    let tools = sent_tools(cell, &sent);
    assert_eq!(
        tools,
        [("get_weather".to_owned(), client::schema("get_weather"))],
        "{cell}: only the function reaches the endpoint"
    );
    assert!(
        !sent.to_string().contains("web_search"),
        "{cell}: the hosted tool is not named upstream: {sent}"
    );
    assert_eq!(run.seen.header(DROPPED), Some("web_search"), "{cell}");
}

/// Forcing a hosted tool the endpoint cannot run: a 400 in the Responses
/// error shape, before the endpoint is called. Both ways of forcing one:
/// a hosted-tool choice, and `allowed_tools` that leaves only it.
pub async fn codex_hosted_tool_forced(cell: Cell) {
    let answer = Answer::new(vec![Block::text(&["Ok."])], "end_turn", Tokens::new(5, 2));
    let (upstream, gw) = serve(cell, vec![Script::Answer(answer)]).await;
    let forced = [
        (
            json!([weather_tool(), {"type": "web_search_preview"}]),
            json!({"type": "web_search_preview"}),
        ),
        (
            json!([weather_tool(), {"type": "web_search"}]),
            json!({"type": "allowed_tools", "mode": "required", "tools": [{"type": "web_search"}]}),
        ),
    ];
    for (i, (tools, choice)) in forced.into_iter().enumerate() {
        let ask = Ask {
            raw_choice: Some(choice),
            ..codex_ask(tools)
        };
        let body = ask.body(Front::Responses, cell.stream);
        let seen = client::call(&gw, cell, &body).await;
        let choice = &body["tool_choice"];
        if cell.passthrough() {
            assert_eq!(seen.status, 200, "{cell}: {choice}: {}", seen.body_text());
            assert_eq!(upstream.hits(), i + 1, "{cell}: forwarded");
            continue;
        }
        let error = seen.error.clone().unwrap_or_default();
        assert!(
            seen.status == 400 && error.kind == "invalid_request_error",
            "{cell}: tool_choice {choice} forces a hosted tool: a 400, not {}",
            seen.body_text()
        );
        assert!(
            error.message.contains("web_search"),
            "{cell}: the message names the tool: {}",
            error.message
        );
        assert_eq!(seen.violations, Vec::<String>::new(), "{cell}");
        assert_eq!(upstream.hits(), 0, "{cell}: the endpoint is not called");
    }
}

/// Reasoning kept by the client as an encrypted item and sent back with
/// the tool output: the Anthropic endpoint gets its signed thinking back
/// before the tool use; an OpenAI chat (Azure) endpoint never sees the
/// blob; a Responses endpoint gets its own blob unchanged; a Gemini
/// endpoint its signed thought.
pub async fn codex_reasoning_replay(cell: Cell) {
    let ask = Ask {
        reasoning: true,
        ..codex_ask(json!([weather_tool()]))
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
        vec![Block::text(&["21 °C in Paris."])],
        "end_turn",
        Tokens::new(60, 6),
    );
    let scripts = vec![Script::Answer(first), Script::Answer(second)];
    let run = Run::start_turns(cell, ask, scripts).await;
    let id = call_id(cell, &run.seen, "01", 0);
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
    let reasoning = item(&run.seen, "reasoning");
    assert_eq!(
        reasoning["encrypted_content"],
        signature_seen(cell),
        "{cell}: {reasoning}"
    );

    let body = next_turn(&run, &run.seen, &id);
    let seen = client::call(&run.gw, cell, &body).await;
    assert_eq!(
        seen.outcome(),
        done("21 °C in Paris.", "end_turn", (60, 0, 6)),
        "{cell}: {}",
        seen.body_text()
    );
    assert_eq!(run.upstream.hits(), 2, "{cell}");
    let sent = run.sent();
    match cell.spec.wire() {
        Wire::Messages => {
            let turns = sent["messages"].as_array().expect("messages");
            assert_eq!(turns.len(), 3, "{cell}: user, assistant, result: {sent}");
            assert_eq!(
                turns[1]["content"][0],
                json!({"type": "thinking", "thinking": REASONING, "signature": SIGNATURE}),
                "{cell}: the signed thinking goes back first, unwrapped\n--- sent back ---\n{body}\n--- endpoint got ---\n{sent}"
            );
            assert_eq!(
                turns[1]["content"][1],
                json!({"type": "tool_use", "id": id, "name": "get_weather",
                       "input": {"city": "Paris"}}),
                "{cell}: {sent}"
            );
            let result = &turns[2]["content"][0];
            assert!(
                result["type"] == "tool_result"
                    && result["tool_use_id"] == id.as_str()
                    && text_of(&result["content"]) == RESULT,
                "{cell}: {sent}"
            );
            assert_eq!(
                sent["thinking"],
                json!({"type": "enabled", "budget_tokens": 2048}),
                "{cell}: thinking stays on with signed history"
            );
        }
        Wire::Gemini => {
            check_gemini_loop(
                cell,
                &sent,
                None,
                &[("get_weather", json!({"city": "Paris"}))],
                &[serde_json::from_str(RESULT).unwrap()],
            );
            // The fake signed as Gemini: the signature goes back on its thought.
            let parts = &sent["contents"][1]["parts"];
            assert_eq!(
                parts[0],
                json!({"text": REASONING, "thought": true, "thoughtSignature": SIGNATURE}),
                "{cell}: Gemini's signed thought goes back first, unwrapped: {sent}"
            );
        }
        Wire::Chat => {
            let text = sent.to_string();
            assert!(
                !text.contains(SIGNATURE) && !text.contains("mg1:"),
                "{cell}: the blob never reaches an OpenAI chat endpoint: {sent}"
            );
            check_chat_loop(cell, &sent, &id, None);
        }
        Wire::Responses => {
            let replayed: Vec<&Value> = sent["input"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|i| i["type"] == "reasoning")
                .collect();
            assert!(
                replayed.len() == 1 && replayed[0]["encrypted_content"] == SIGNATURE,
                "{cell}: the endpoint's own blob goes back unchanged: {sent}"
            );
            let mut expected = body.clone();
            expected["model"] = sent["model"].clone();
            assert_eq!(sent, expected, "{cell}: passthrough");
        }
    }
}

/// A chat endpoint's view of the loop: system, user, the assistant's call
/// (with `text` if any), the tool result with the same id.
fn check_chat_loop(cell: Cell, sent: &Value, id: &str, text: Option<&str>) {
    let turns = sent["messages"].as_array().expect("messages");
    assert_eq!(
        turns.len(),
        4,
        "{cell}: system, user, assistant, tool: {sent}"
    );
    assert_eq!(turns[2]["role"], "assistant", "{cell}");
    if let Some(text) = text {
        assert_eq!(text_of(&turns[2]["content"]), text, "{cell}: {sent}");
    }
    let calls = &turns[2]["tool_calls"];
    assert!(
        calls.as_array().is_some_and(|c| c.len() == 1)
            && calls[0]["id"] == id
            && calls[0]["function"]["name"] == "get_weather",
        "{cell}: {sent}"
    );
    let args: Value =
        serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap_or("")).unwrap();
    assert_eq!(args, json!({"city": "Paris"}), "{cell}");
    assert_eq!(
        turns[3],
        json!({"role": "tool", "tool_call_id": id, "content": RESULT}),
        "{cell}"
    );
}

/// The agent loop: text and a `function_call`; the client runs it and
/// sends the items back with a `function_call_output`; the final answer.
/// The call id is the same all the way.
pub async fn codex_agent_loop(cell: Cell) {
    let ask = codex_ask(json!([weather_tool()]));
    let first = Answer::new(
        vec![
            Block::text(&["Checking", "."]),
            Block::tool("01", "get_weather", &[r#"{"city":"#, r#""Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(20, 8),
    )
    .layout(Layout::PerEvent);
    let second = Answer::new(
        vec![Block::text(&["It is ", "21 °C."])],
        "end_turn",
        Tokens::new(50, 7),
    )
    .layout(Layout::PerEvent);
    let scripts = vec![Script::Answer(first), Script::Answer(second)];
    let run = Run::start_turns(cell, ask, scripts).await;
    let id = call_id(cell, &run.seen, "01", 0);
    run.expect(Outcome {
        tool_calls: vec![call(
            cell.spec,
            "01",
            "get_weather",
            json!({"city": "Paris"}),
        )],
        ..done("Checking.", "tool_use", (20, 0, 8))
    });
    let kinds: Vec<&Value> = run.seen.items.iter().map(|i| &i["type"]).collect();
    assert_eq!(kinds, ["message", "function_call"], "{cell}");

    let body = next_turn(&run, &run.seen, &id);
    let seen = client::call(&run.gw, cell, &body).await;
    assert_eq!(
        seen.outcome(),
        done("It is 21 °C.", "end_turn", (50, 0, 7)),
        "{cell}: {}",
        seen.body_text()
    );
    assert_eq!(run.upstream.hits(), 2, "{cell}");
    let sent = run.sent();
    match cell.spec.wire() {
        Wire::Chat => check_chat_loop(cell, &sent, &id, Some("Checking.")),
        Wire::Gemini => check_gemini_loop(
            cell,
            &sent,
            Some("Checking."),
            &[("get_weather", json!({"city": "Paris"}))],
            &[serde_json::from_str(RESULT).unwrap()],
        ),
        Wire::Messages => {
            let turns = sent["messages"].as_array().expect("messages");
            assert_eq!(turns.len(), 3, "{cell}: user, assistant, result: {sent}");
            assert_eq!(
                turns[1]["content"],
                json!([{"type": "text", "text": "Checking."},
                       {"type": "tool_use", "id": id, "name": "get_weather",
                        "input": {"city": "Paris"}}]),
                "{cell}: {sent}"
            );
            let result = &turns[2]["content"][0];
            assert!(
                result["type"] == "tool_result"
                    && result["tool_use_id"] == id.as_str()
                    && text_of(&result["content"]) == RESULT,
                "{cell}: {sent}"
            );
        }
        Wire::Responses => {
            let mut expected = body.clone();
            expected["model"] = sent["model"].clone();
            assert_eq!(sent, expected, "{cell}: passthrough");
        }
    }
    run.expect_recorded_turns(2, (70, 0, 15)).await;
}

/// State kept upstream (`previous_response_id`, `conversation`,
/// `background`): a 400 naming the field unless the endpoint speaks
/// Responses, which gets the request as it is.
pub async fn codex_stateless(cell: Cell) {
    let answer = Answer::new(vec![Block::text(&["Ok."])], "end_turn", Tokens::new(5, 2));
    let (upstream, gw) = serve(cell, vec![Script::Answer(answer)]).await;
    let stateful = [
        ("previous_response_id", json!("resp_earlier")),
        ("conversation", json!("conv_matrix")),
        ("background", json!(true)),
    ];
    for (i, (field, value)) in stateful.into_iter().enumerate() {
        let mut ask = codex_ask(json!([weather_tool()]));
        ask.extra.push((field, value));
        let body = ask.body(Front::Responses, cell.stream);
        let seen = client::call(&gw, cell, &body).await;
        if cell.spec == Spec::OpenAiResponses {
            assert_eq!(seen.status, 200, "{cell}: {field}: {}", seen.body_text());
            assert_eq!(upstream.hits(), i + 1, "{cell}: forwarded");
            let mut expected = body.clone();
            expected["model"] = upstream.last().json()["model"].clone();
            assert_eq!(upstream.last().json(), expected, "{cell}: {field} kept");
            continue;
        }
        let error = seen.error.clone().unwrap_or_default();
        assert!(
            seen.status == 400 && error.kind == "invalid_request_error",
            "{cell}: {field} is a 400: {}",
            seen.body_text()
        );
        assert!(
            error.message.contains(field),
            "{cell}: the message names `{field}`: {}",
            error.message
        );
        assert_eq!(seen.violations, Vec::<String>::new(), "{cell}");
        assert_eq!(upstream.hits(), 0, "{cell}: the endpoint is not called");
    }
}
