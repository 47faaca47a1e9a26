//! The cases: what the client asks, what the endpoint answers (in its own
//! format), and what the client must end up with (in its own format) —
//! one expectation for every cell of a case.

use serde_json::{Value, json};

use super::client::{self, Ask, Choice, Outcome};
use super::upstream::{
    Answer, Block, Failure, Layout, Script, Tail, Tokens, stream_error_message, tool_id,
};
use super::{Cell, Front, Run, Spec};

/// The thinking the reasoning case streams, and its signature.
const REASONING: &str = "The user wants the weather.";
const SIGNATURE: &str = "EqQBCkYIBxgCKkBmatrixSignature0123456789abcdef==";

/// A complete answer.
fn done(text: &str, stop: &str, usage: (u64, u64, u64)) -> Outcome {
    Outcome {
        text: text.to_owned(),
        stop: Some(stop.to_owned()),
        usage: Some(usage),
        terminated_properly: true,
        ..Outcome::default()
    }
}

/// A tool call as the client must see it: the endpoint's id, the client's name.
fn call(spec: Spec, id: &str, name: &str, args: Value) -> (String, String, Value) {
    (tool_id(spec, id), name.to_owned(), args)
}

pub async fn text(cell: Cell) {
    let ask = Ask {
        sampling: true,
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["Hello", ",", " world"])],
        "end_turn",
        Tokens::new(10, 5),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(done("Hello, world", "end_turn", (10, 0, 5)));
    run.expect_recorded((10, 0, 5)).await;
}

/// A forced or free choice answered with one call of `get_weather`.
async fn one_call(cell: Cell, choice: Choice, args: &'static str) {
    let ask = Ask {
        tools: vec!["get_weather", "get_time"],
        choice: Some(choice),
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::tool("01", "get_weather", &[args])],
        "tool_use",
        Tokens::new(20, 8),
    );
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let args: Value = serde_json::from_str(args).unwrap();
    run.expect(Outcome {
        tool_calls: vec![call(cell.spec, "01", "get_weather", args)],
        ..done("", "tool_use", (20, 0, 8))
    });
    run.expect_recorded((20, 0, 8)).await;
}

pub async fn tool_choice_auto(cell: Cell) {
    one_call(cell, Choice::Auto, r#"{"city":"Paris"}"#).await;
}

pub async fn tool_choice_required(cell: Cell) {
    one_call(cell, Choice::Required, r#"{"city":"Lyon"}"#).await;
}

pub async fn tool_choice_named(cell: Cell) {
    one_call(cell, Choice::Named("get_weather"), r#"{"city":"Nice"}"#).await;
}

/// `none`: the model answers in text. The OpenAI client does not ask for
/// usage in its stream, so it gets none (the gateway still asks an
/// OpenAI endpoint for it when translating).
pub async fn tool_choice_none(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather", "get_time"],
        choice: Some(Choice::None),
        include_usage: false,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["No tools ", "needed."])],
        "end_turn",
        Tokens::new(12, 6),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let usage = (cell.front == Front::Anthropic || !cell.stream).then_some((12, 0, 6));
    run.expect(Outcome {
        usage,
        ..done("No tools needed.", "end_turn", (0, 0, 0))
    });
    // Recorded even when the client did not ask for usage.
    run.expect_recorded((12, 0, 6)).await;
}

/// Text then two tool calls in one answer; the request says
/// `parallel_tool_calls: false` / `disable_parallel_tool_use: true`. The
/// second tool's name (`clock.now`) is invalid for both specs: renamed
/// on the way in, named back on the way out.
pub async fn parallel_tool_calls(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather", "clock.now"],
        parallel: Some(false),
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![
            Block::text(&["Checking ", "both."]),
            Block::tool("01", "get_weather", &[r#"{"city":"#, r#""Paris"}"#]),
            Block::tool("02", "clock.now", &[r#"{"tz":"Europe/Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(30, 12),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![
            call(cell.spec, "01", "get_weather", json!({"city": "Paris"})),
            call(cell.spec, "02", "clock.now", json!({"tz": "Europe/Paris"})),
        ],
        ..done("Checking both.", "tool_use", (30, 0, 12))
    });
    run.expect_recorded((30, 0, 12)).await;
}

/// Arguments in three pieces, and every upstream event cut in two writes.
pub async fn args_split(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather"],
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::tool(
            "01",
            "get_weather",
            &[r#"{"ci"#, r#"ty":"Par"#, r#"is"}"#],
        )],
        "tool_use",
        Tokens::new(20, 9),
    )
    .layout(Layout::SplitEvents);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![call(
            cell.spec,
            "01",
            "get_weather",
            json!({"city": "Paris"}),
        )],
        ..done("", "tool_use", (20, 0, 9))
    });
    run.expect_recorded((20, 0, 9)).await;
}

/// Two tool calls after some text. OpenAI endpoint: both calls start, then
/// their argument pieces alternate (as OpenAI streams parallel calls);
/// Anthropic endpoint: the two tool blocks one after the other. The client
/// gets both calls whole and in order, in a valid stream of its format
/// (for an Anthropic client: each block contiguous, one open at a time).
pub async fn interleaved_tool_calls(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather", "get_time"],
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![
            Block::text(&["Checking ", "both."]),
            Block::tool("01", "get_weather", &[r#"{"ci"#, r#"ty":"Par"#, r#"is"}"#]),
            Block::tool("02", "get_time", &[r#"{"tz":"#, r#""Europe/Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(25, 14),
    )
    .layout(Layout::InterleavedTools);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![
            call(cell.spec, "01", "get_weather", json!({"city": "Paris"})),
            call(cell.spec, "02", "get_time", json!({"tz": "Europe/Paris"})),
        ],
        ..done("Checking both.", "tool_use", (25, 0, 14))
    });
    run.expect_recorded((25, 0, 14)).await;
}

/// OpenAI endpoint: one chunk whose delta has `content` and `tool_calls`;
/// Anthropic endpoint: the text block and the tool block in one write.
pub async fn text_and_tool_in_one_chunk(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather"],
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![
            Block::text(&["Let me check."]),
            Block::tool("01", "get_weather", &[r#"{"city":"Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(20, 11),
    )
    .layout(Layout::TextAndToolTogether);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![call(
            cell.spec,
            "01",
            "get_weather",
            json!({"city": "Paris"}),
        )],
        ..done("Let me check.", "tool_use", (20, 0, 11))
    });
    run.expect_recorded((20, 0, 11)).await;
}

/// Signed thinking, then a tool call. The OpenAI client asks
/// `reasoning_effort: low` (max_tokens 1000), the Anthropic client a
/// 2048-token budget; the client gets the thinking and its signature.
/// Then the client sends the turn back (see the two replay checks).
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
        signature: Some(SIGNATURE.to_owned()),
        tool_calls: vec![call(
            cell.spec,
            "01",
            "get_weather",
            json!({"city": "Paris"}),
        )],
        ..done("", "tool_use", (40, 0, 25))
    });
    run.expect_recorded((40, 0, 25)).await;
    match (cell.front, cell.spec) {
        (Front::OpenAi, Spec::Anthropic) => openai_client_replays_signed_reasoning(&run).await,
        (Front::Anthropic, Spec::OpenAiChat) => signatures_stay_with_anthropic(&run).await,
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

/// Anthropic client, OpenAI endpoint: the thinking block sent back with
/// its signature reaches the OpenAI endpoint without the signature; the
/// tool call and its result become OpenAI messages.
async fn signatures_stay_with_anthropic(run: &Run) {
    let cell = run.cell;
    let replay = run.seen.replay.clone().expect("content blocks");
    assert_eq!(replay[0]["signature"], SIGNATURE, "{cell}");
    let id = tool_id(Spec::OpenAiChat, "01");
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

/// Cache tokens. Anthropic endpoint: input 100, cache read 60, cache write
/// 20, output 30; OpenAI endpoint: prompt 180 of which 60 cached. Either
/// way the prompt is 180 tokens, 60 of them read from the cache.
pub async fn usage_with_cache(cell: Cell) {
    let tokens = match cell.spec {
        Spec::Anthropic => Tokens {
            input: 100,
            cache_read: 60,
            cache_write: 20,
            output: 30,
        },
        Spec::OpenAiChat => Tokens {
            input: 120,
            cache_read: 60,
            cache_write: 0,
            output: 30,
        },
    };
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(vec![Block::text(&["Cached answer."])], "end_turn", tokens);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(done("Cached answer.", "end_turn", (180, 60, 30)));

    let raw = run.seen.raw_usage.clone().expect("usage");
    let n = |k: &str| raw[k].as_u64().unwrap_or(0);
    match cell.front {
        Front::OpenAi => {
            assert_eq!(
                (
                    n("prompt_tokens"),
                    n("completion_tokens"),
                    n("total_tokens")
                ),
                (180, 30, 210),
                "{cell}: prompt_tokens counts cached tokens: {raw}"
            );
            assert_eq!(
                raw["prompt_tokens_details"]["cached_tokens"], 60,
                "{cell}: {raw}"
            );
        }
        Front::Anthropic => {
            let (input, write) = match cell.spec {
                Spec::Anthropic => (100, 20),
                Spec::OpenAiChat => (120, 0),
            };
            assert_eq!(
                (
                    n("input_tokens"),
                    n("cache_read_input_tokens"),
                    n("cache_creation_input_tokens"),
                    n("output_tokens")
                ),
                (input, 60, write, 30),
                "{cell}: input_tokens excludes the cache: {raw}"
            );
        }
    }

    run.expect_recorded((180, 60, 30)).await;
}

/// HTTP 429 with an error body in the endpoint's format: the client gets a
/// 429 in its own format, with the endpoint's message and a Retry-After.
pub async fn upstream_error(cell: Cell) {
    let message = match cell.spec {
        Spec::Anthropic => "Number of request tokens has exceeded your per-minute rate limit",
        Spec::OpenAiChat => "Rate limit reached for requests per min",
    };
    let failure = Failure {
        status: 429,
        message,
        anthropic_type: "rate_limit_error",
        openai_type: "requests",
        openai_code: Some("rate_limit_exceeded"),
        retry_after: Some("7"),
    };
    let run = Run::start(cell, Ask::default(), Script::Failure(failure)).await;
    run.expect(Outcome {
        error: Some((429, "rate_limit_error".to_owned())),
        ..Outcome::default()
    });
    let error = run.seen.error.clone().expect("an error");
    assert!(
        error.message.contains(message),
        "{cell}: the endpoint's message is passed on: {}",
        error.message
    );
    let after: u64 = run
        .seen
        .retry_after
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{cell}: a Retry-After header"));
    assert!((1..=7).contains(&after), "{cell}: Retry-After {after}");
    run.expect_recorded((0, 0, 0)).await;
}

/// Overloaded: Anthropic's 529 is a 503 for OpenAI clients and stays a
/// 529 `overloaded_error` for Anthropic clients; an OpenAI endpoint's 503
/// stays a 503 either way.
pub async fn upstream_overloaded(cell: Cell) {
    let failure = match cell.spec {
        Spec::Anthropic => Failure {
            status: 529,
            message: "Overloaded",
            anthropic_type: "overloaded_error",
            openai_type: "",
            openai_code: None,
            retry_after: None,
        },
        Spec::OpenAiChat => Failure {
            status: 503,
            message: "The engine is currently overloaded, please try again later",
            anthropic_type: "",
            openai_type: "server_error",
            openai_code: None,
            retry_after: None,
        },
    };
    let message = failure.message;
    let run = Run::start(cell, Ask::default(), Script::Failure(failure)).await;
    let expected = match (cell.front, cell.spec) {
        (Front::OpenAi, _) => (503, "server_error"),
        (Front::Anthropic, Spec::Anthropic) => (529, "overloaded_error"),
        (Front::Anthropic, Spec::OpenAiChat) => (503, "api_error"),
    };
    run.expect(Outcome {
        error: Some((expected.0, expected.1.to_owned())),
        ..Outcome::default()
    });
    let error = run.seen.error.clone().expect("an error");
    assert!(
        error.message.contains(message),
        "{cell}: the endpoint's message is passed on: {}",
        error.message
    );
}

/// What an Anthropic client's `message_start` said before a stream failed:
/// the endpoint's input count, or zeros when an OpenAI endpoint gives
/// usage only at the end. OpenAI clients get no usage chunk.
fn usage_before_failure(cell: Cell) -> Option<(u64, u64, u64)> {
    match (cell.front, cell.spec) {
        (Front::OpenAi, _) => None,
        (Front::Anthropic, Spec::Anthropic) => Some((10, 0, 1)),
        (Front::Anthropic, Spec::OpenAiChat) => Some((0, 0, 0)),
    }
}

/// Text, then an error event in the endpoint's format: the client gets the
/// text, then the error in its own format (`data: {"error":…}` /
/// `event: error`) as the last event.
pub async fn mid_stream_error(cell: Cell) {
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["Partial", " answer"])],
        "end_turn",
        Tokens::new(10, 5),
    )
    .layout(Layout::PerEvent)
    .tail(Tail::ErrorEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let kind = match (cell.front, cell.spec) {
        (Front::OpenAi, _) => "server_error",
        (Front::Anthropic, Spec::Anthropic) => "overloaded_error",
        (Front::Anthropic, Spec::OpenAiChat) => "api_error",
    };
    run.expect(Outcome {
        text: "Partial answer".to_owned(),
        usage: usage_before_failure(cell),
        error: Some((200, kind.to_owned())),
        ..Outcome::default()
    });
    let error = run.seen.error.clone().expect("an error");
    assert!(
        error.message.contains(stream_error_message(cell.spec)),
        "{cell}: the endpoint's message is passed on: {}",
        error.message
    );
}

/// The endpoint closes the stream after some text, without its terminator:
/// never a silent cut, the client gets an error event.
pub async fn stream_cut_short(cell: Cell) {
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["Partial"])],
        "end_turn",
        Tokens::new(10, 5),
    )
    .layout(Layout::PerEvent)
    .tail(Tail::Cut);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let kind = match cell.front {
        Front::OpenAi => "server_error",
        Front::Anthropic => "api_error",
    };
    run.expect(Outcome {
        text: "Partial".to_owned(),
        usage: usage_before_failure(cell),
        error: Some((200, kind.to_owned())),
        ..Outcome::default()
    });
    let error = run.seen.error.clone().expect("an error");
    assert!(
        error.message.contains("before"),
        "{cell}: the message says the stream ended early: {}",
        error.message
    );
    if cell.front == Front::OpenAi {
        assert_eq!(
            error.code.as_deref(),
            Some("stream_truncated"),
            "{cell}: {error:?}"
        );
    }
}
