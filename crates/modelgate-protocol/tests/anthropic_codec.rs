//! Anthropic Messages codecs: fixture cases under `tests/fixtures/anthropic/`
//! plus the rules that read better as code (errors, renaming, streams split
//! every way, round trips, the tap).

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use modelgate_protocol::framing::sse::{SseDecoder, SseEvent};
use modelgate_protocol::ir::{
    BlockStart, ChatRequest, ChatResponse, Content, Delta, ErrorKind, GatewayError, StopKind,
    StopReason, StreamEvent, Usage,
};
use modelgate_protocol::spec::anthropic::{request, response, stream_decode, stream_encode, tap};
use modelgate_protocol::translate::{Context, Target, ToolNames, sanitize_tool_id};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ---------- fixture plumbing ----------

fn cases(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anthropic")
        .join(kind);
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no fixtures in {}", dir.display());
    cases
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `over` written onto `base`, objects merged key by key.
fn deep_merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                deep_merge(b.entry(k).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

/// A canonical value from a fixture that only lists what differs from the default.
fn canonical<T: Default + Serialize + DeserializeOwned>(path: &Path) -> T {
    let mut value = serde_json::to_value(T::default()).unwrap();
    deep_merge(&mut value, read_json(path));
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ctx() -> Context {
    Context {
        client_model: "client-model".into(),
        ..Context::default()
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

// ---------- stream events as JSON (fixtures) ----------

fn event_json(event: &StreamEvent) -> Value {
    let tagged = |tag: &str, v: Value| {
        let mut v = v;
        v["type"] = tag.into();
        v
    };
    match event {
        StreamEvent::MessageStart { id, model, usage } => {
            json!({"type": "message_start", "id": id, "model": model, "usage": usage})
        }
        StreamEvent::BlockStart { index, block } => match block {
            BlockStart::Text => json!({"type": "block_start", "index": index, "block": "text"}),
            BlockStart::Reasoning => {
                json!({"type": "block_start", "index": index, "block": "reasoning"})
            }
            BlockStart::ToolCall { id, name } => json!({"type": "block_start", "index": index,
                "block": "tool_call", "id": id, "name": name}),
            BlockStart::RedactedReasoning { data, signed_by } => with_signer(
                json!({"type": "block_start", "index": index,
                "block": "redacted_reasoning", "data": data}),
                signed_by,
            ),
        },
        StreamEvent::Delta { index, delta } => {
            let (key, text, signed_by) = match delta {
                Delta::Text(t) => ("text", t, &None),
                Delta::ToolArgs(t) => ("tool_args", t, &None),
                Delta::Reasoning(t) => ("reasoning", t, &None),
                Delta::Signature {
                    signature,
                    signed_by,
                } => ("signature", signature, signed_by),
            };
            with_signer(
                json!({"type": "delta", "index": index, key: text}),
                signed_by,
            )
        }
        StreamEvent::BlockStop { index } => json!({"type": "block_stop", "index": index}),
        StreamEvent::Stop(stop) => tagged("stop", serde_json::to_value(stop).unwrap()),
        StreamEvent::Usage(usage) => tagged("usage", serde_json::to_value(usage).unwrap()),
        StreamEvent::MessageStop => json!({"type": "message_stop"}),
        StreamEvent::Error(e) => json!({"type": "error", "kind": format!("{:?}", e.kind),
            "status": e.status, "message": e.message, "code": e.code}),
        StreamEvent::KeepAlive => json!({"type": "keep_alive"}),
    }
}

/// Adds `"signed_by"` to an event's JSON when the event names a signer.
fn with_signer(mut v: Value, signed_by: &Option<String>) -> Value {
    if let Some(by) = signed_by {
        v["signed_by"] = by.as_str().into();
    }
    v
}

fn event_from_json(v: &Value) -> StreamEvent {
    let signed_by = v["signed_by"].as_str().map(str::to_owned);
    let index = || v["index"].as_u64().unwrap() as usize;
    let s = |k: &str| v[k].as_str().unwrap().to_owned();
    match v["type"].as_str().unwrap() {
        "message_start" => StreamEvent::MessageStart {
            id: s("id"),
            model: s("model"),
            usage: serde_json::from_value(v["usage"].clone()).unwrap(),
        },
        "block_start" => StreamEvent::BlockStart {
            index: index(),
            block: match v["block"].as_str().unwrap() {
                "text" => BlockStart::Text,
                "reasoning" => BlockStart::Reasoning,
                "tool_call" => BlockStart::ToolCall {
                    id: s("id"),
                    name: s("name"),
                },
                _ => BlockStart::RedactedReasoning {
                    data: s("data"),
                    signed_by: signed_by.clone(),
                },
            },
        },
        "delta" => {
            let obj = v.as_object().unwrap();
            let (key, text) = obj
                .iter()
                .find(|(k, _)| !matches!(k.as_str(), "type" | "index" | "signed_by"))
                .unwrap();
            let text = text.as_str().unwrap().to_owned();
            let delta = match key.as_str() {
                "text" => Delta::Text(text),
                "tool_args" => Delta::ToolArgs(text),
                "reasoning" => Delta::Reasoning(text),
                _ => Delta::Signature {
                    signature: text,
                    signed_by,
                },
            };
            StreamEvent::Delta {
                index: index(),
                delta,
            }
        }
        "block_stop" => StreamEvent::BlockStop { index: index() },
        "stop" => StreamEvent::Stop(serde_json::from_value(v.clone()).unwrap()),
        "usage" => StreamEvent::Usage(serde_json::from_value(v.clone()).unwrap()),
        "message_stop" => StreamEvent::MessageStop,
        "keep_alive" => StreamEvent::KeepAlive,
        "error" => {
            let kind = match v["kind"].as_str().unwrap() {
                "RateLimited" => ErrorKind::RateLimited,
                "Overloaded" => ErrorKind::Overloaded,
                _ => ErrorKind::Upstream,
            };
            StreamEvent::Error(GatewayError::new(kind, s("message")))
        }
        other => panic!("unknown fixture event {other}"),
    }
}

fn sse_events(bytes: &[u8], chunk: usize) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        decoder.push(piece, &mut out);
    }
    decoder.finish(&mut out);
    out
}

fn decode_stream(bytes: &[u8], chunk: usize, ctx: &Context) -> Vec<StreamEvent> {
    let mut decoder = stream_decode::StreamDecoder::new(ctx);
    let mut out = Vec::new();
    for event in sse_events(bytes, chunk) {
        decoder.feed(&event, &mut out);
    }
    decoder.finish(&mut out);
    out
}

fn encode_stream(events: &[StreamEvent], ctx: &Context) -> Vec<u8> {
    let mut encoder = stream_encode::StreamEncoder::new(ctx);
    let mut out = Vec::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    out
}

/// An Anthropic stream as (event name, data); every data's `type` must be its name.
fn sse_json(bytes: &[u8]) -> Vec<(String, Value)> {
    sse_events(bytes, bytes.len())
        .into_iter()
        .map(|e| {
            let name = e.event.expect("every event is named");
            let data: Value = serde_json::from_str(&e.data).unwrap();
            assert_eq!(data["type"], name.as_str(), "data type of {}", e.data);
            (name, data)
        })
        .collect()
}

// ---------- fixture-driven cases ----------

#[test]
fn decode_request_fixtures() {
    for case in cases("decode_request") {
        let body = read(&case.join("request.json"));
        let got = request::decode_request(body.as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let want: ChatRequest = canonical(&case.join("canonical.json"));
        assert_eq!(got, want, "{}", case.display());
    }
}

#[test]
fn encode_request_fixtures() {
    for case in cases("encode_request") {
        let req: ChatRequest = canonical(&case.join("canonical.json"));
        let target = match fs::read_to_string(case.join("target.json")) {
            Ok(t) => {
                let t: Value = serde_json::from_str(&t).unwrap();
                let mut target = Target::new(t["model"].as_str().unwrap());
                target.default_max_tokens = t["default_max_tokens"].as_u64().unwrap();
                target
            }
            Err(_) => Target::new("claude-target"),
        };
        let mut names = ToolNames::default();
        let mut got = request::encode_request(&req, &target, &mut names)
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let want = read_json(&case.join("expected.json"));
        // Renamed tools and sanitized ids are spelled out below, not in the fixture.
        let text = got.to_string();
        let renamed = names.to_target("github.create_issue", 128);
        let sanitized = sanitize_tool_id("functions.create_issue:0");
        got = serde_json::from_str(
            &text
                .replace(&renamed, "RENAMED")
                .replace(&sanitized, "SANITIZED"),
        )
        .unwrap();
        assert_eq!(got, want, "{}\n{}", case.display(), pretty(&got));
        assert!(
            !text.contains("\"content\":[]"),
            "{}: a message with no content",
            case.display()
        );
    }
}

#[test]
fn decode_response_fixtures() {
    for case in cases("decode_response") {
        let body = read(&case.join("response.json"));
        let got = response::decode_response(body.as_bytes(), &ctx()).unwrap();
        let want: ChatResponse = canonical(&case.join("canonical.json"));
        assert_eq!(got, want, "{}", case.display());
    }
}

#[test]
fn encode_response_fixtures() {
    for case in cases("encode_response") {
        let resp: ChatResponse = canonical(&case.join("canonical.json"));
        let got = response::encode_response(&resp, &ctx()).to_string();
        let got: Value =
            serde_json::from_str(&got.replace(&sanitize_tool_id("functions.f:0"), "SANITIZED"))
                .unwrap();
        assert_eq!(
            got,
            read_json(&case.join("expected.json")),
            "{}\n{}",
            case.display(),
            pretty(&got)
        );
    }
}

#[test]
fn stream_decode_fixtures() {
    for case in cases("stream_decode") {
        let bytes = read(&case.join("stream.sse"));
        let got: Vec<Value> = decode_stream(bytes.as_bytes(), bytes.len(), &ctx())
            .iter()
            .map(event_json)
            .collect();
        let mut want = read_json(&case.join("events.json"));
        // An error message may be given by its beginning only.
        for (w, g) in want.as_array_mut().unwrap().iter_mut().zip(&got) {
            if let Some(prefix) = w.as_object_mut().unwrap().remove("message_starts_with") {
                let message = g["message"].as_str().unwrap();
                assert!(message.starts_with(prefix.as_str().unwrap()), "{message}");
                w["message"] = message.into();
            }
        }
        assert_eq!(
            Value::Array(got.clone()),
            want,
            "{}\n{}",
            case.display(),
            pretty(&Value::Array(got))
        );
    }
}

#[test]
fn stream_encode_fixtures() {
    for case in cases("stream_encode") {
        let events: Vec<StreamEvent> = read_json(&case.join("events.json"))
            .as_array()
            .unwrap()
            .iter()
            .map(event_from_json)
            .collect();
        let got = sse_json(&encode_stream(&events, &ctx()));
        let want = sse_json(read(&case.join("expected.sse")).as_bytes());
        assert_eq!(got, want, "{}", case.display());
    }
}

// ---------- requests ----------

#[test]
fn decode_request_errors_name_the_field() {
    let cases: &[(&str, &str, &str)] = &[
        (r#"{"max_tokens":1,"messages":[]}"#, "model", "required"),
        (r#"{"model":"m","messages":[]}"#, "max_tokens", "required"),
        (r#"{"model":"m","max_tokens":1}"#, "messages", "required"),
        (
            r#"{"model":"m","max_tokens":"1","messages":[]}"#,
            "max_tokens",
            "integer",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"document","source":{"type":"text","data":"x"}}]}]}"#,
            "messages.0.content.0.type",
            "cannot be translated",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}"#,
            "messages.0.content.0.source.type",
            "cannot be translated",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"search_result"}]}]}]}"#,
            "messages.0.content.0.content.0.type",
            "cannot be translated",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_use","id":"t","name":"n","input":{}}]}]}"#,
            "messages.0.content.0.type",
            "only allowed in assistant",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[{"role":"bot","content":"x"}]}"#,
            "messages.0.role",
            "unknown role",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[{"role":"user"}]}"#,
            "messages.0.content",
            "required",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[],"tools":[{"type":"web_search_20250305","name":"web_search"}]}"#,
            "tools.0.type",
            "cannot be sent to a non-Anthropic endpoint",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[],"tools":[{"type":"bash_20250124","name":"bash"}]}"#,
            "tools.0.type",
            "bash_20250124",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[],"tool_choice":{"type":"tool"}}"#,
            "tool_choice.name",
            "required",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[],"thinking":{"type":"enabled"}}"#,
            "thinking.budget_tokens",
            "required",
        ),
        (
            r#"{"model":"m","max_tokens":1,"messages":[],"system":[{"type":"image"}]}"#,
            "system.0.type",
            "text",
        ),
        (r#"[1]"#, "", "JSON object"),
        (r#"{"#, "", "not valid JSON"),
    ];
    for (body, param, needle) in cases {
        let err = request::decode_request(body.as_bytes()).expect_err(body);
        assert_eq!(
            (err.kind, err.status),
            (ErrorKind::InvalidRequest, 400),
            "{body}"
        );
        assert_eq!(err.param.as_deref().unwrap_or(""), *param, "{body}");
        assert!(err.message.contains(needle), "{body}: {}", err.message);
        if !param.is_empty() {
            assert!(
                err.message.starts_with(param),
                "the message names the field: {}",
                err.message
            );
        }
    }
}

#[test]
fn decode_request_tool_choices_and_thinking_modes() {
    let decode = |extra: &str| {
        let body = format!(r#"{{"model":"m","max_tokens":1,"messages":[],{extra}}}"#);
        request::decode_request(body.as_bytes()).unwrap()
    };
    use modelgate_protocol::ir::ToolChoice;
    assert_eq!(
        decode(r#""tool_choice":{"type":"any"}"#).tool_choice,
        Some(ToolChoice::Required)
    );
    assert_eq!(
        decode(r#""tool_choice":{"type":"none"}"#).tool_choice,
        Some(ToolChoice::None)
    );
    let auto = decode(r#""tool_choice":{"type":"auto","disable_parallel_tool_use":false}"#);
    assert_eq!(
        (auto.tool_choice, auto.parallel_tool_calls),
        (Some(ToolChoice::Auto), None)
    );
    let adaptive = decode(r#""thinking":{"type":"adaptive"}"#)
        .reasoning
        .unwrap();
    assert_eq!(
        (adaptive.effort.as_deref(), adaptive.budget_tokens),
        (Some("medium"), None)
    );
    let effort_only = decode(r#""output_config":{"effort":"low"}"#)
        .reasoning
        .unwrap();
    assert_eq!(effort_only.effort.as_deref(), Some("low"));
    let budget = decode(
        r#""thinking":{"type":"enabled","budget_tokens":3000},"output_config":{"effort":"max"}"#,
    );
    let budget = budget.reasoning.unwrap();
    assert_eq!(
        (budget.budget_tokens, budget.effort.as_deref()),
        (Some(3000), Some("max"))
    );
}

#[test]
fn encode_request_rejects_images_anthropic_cannot_read() {
    let req: ChatRequest = serde_json::from_value({
        let mut v = serde_json::to_value(ChatRequest::default()).unwrap();
        v["messages"] = json!([{"role": "user", "content": [
            {"type": "image", "source": {"kind": "base64", "media_type": "image/bmp", "data": "Qk0="}}]}]);
        v
    })
    .unwrap();
    let err =
        request::encode_request(&req, &Target::new("c"), &mut ToolNames::default()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert!(err.message.contains("image/bmp"), "{}", err.message);
}

#[test]
fn renamed_tools_map_back_in_responses_and_streams() {
    let body = br#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],
        "tools":[{"name":"github.create_issue","input_schema":{"type":"object"}}],
        "tool_choice":{"type":"tool","name":"github.create_issue"}}"#;
    let req = request::decode_request(body).unwrap();
    let mut names = ToolNames::default();
    let sent = request::encode_request(&req, &Target::new("c"), &mut names).unwrap();
    let renamed = sent["tools"][0]["name"].as_str().unwrap().to_owned();
    assert!(renamed.starts_with("github_create_issue_"), "{renamed}");
    assert_eq!(sent["tool_choice"]["name"], renamed.as_str());
    let ctx = Context {
        tool_names: names,
        ..ctx()
    };
    let reply = json!({"type": "message", "id": "msg_1", "model": "c", "stop_reason": "tool_use",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": renamed, "input": {}}]});
    let resp = response::decode_response(reply.to_string().as_bytes(), &ctx).unwrap();
    assert!(
        matches!(&resp.content[0], modelgate_protocol::ir::Content::ToolCall { name, .. } if name == "github.create_issue")
    );
    let start = format!(
        "event: content_block_start\ndata: {}\n\n",
        json!({"type": "content_block_start", "index": 0,
               "content_block": {"type": "tool_use", "id": "toolu_1", "name": renamed, "input": {}}})
    );
    let events = decode_stream(start.as_bytes(), 64, &ctx);
    assert_eq!(
        events[0],
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::ToolCall {
                id: "toolu_1".into(),
                name: "github.create_issue".into()
            }
        }
    );
}

#[test]
fn anthropic_request_survives_decode_then_encode() {
    let body = read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/anthropic/decode_request/spec_example/request.json"),
    );
    let mut original: Value = serde_json::from_str(&body).unwrap();
    // The one change: a tool result of one text is sent as a string.
    original["messages"][2]["content"][0]["content"] = "{\"temp_c\":21}".into();
    let req = request::decode_request(body.as_bytes()).unwrap();
    let mut target = Target::new("claude-sonnet-4-5");
    target.default_max_tokens = 1;
    let sent = request::encode_request(&req, &target, &mut ToolNames::default()).unwrap();
    assert_eq!(
        sent["messages"], original["messages"],
        "messages come back as the client sent them"
    );
    assert_eq!(sent["system"], original["system"]);
    assert_eq!(sent["thinking"], original["thinking"]);
    assert_eq!(sent["max_tokens"], 2048);
    assert!(
        sent.get("temperature").is_none(),
        "thinking drops temperature"
    );
}

// ---------- responses ----------

#[test]
fn stop_reasons_both_ways() {
    let table = [
        ("end_turn", StopKind::EndTurn),
        ("stop_sequence", StopKind::StopSequence),
        ("max_tokens", StopKind::MaxTokens),
        ("tool_use", StopKind::ToolUse),
        ("refusal", StopKind::ContentFilter),
        ("pause_turn", StopKind::PauseTurn),
        (
            "model_context_window_exceeded",
            StopKind::ContextWindowExceeded,
        ),
    ];
    for (native, kind) in table {
        let stop = response::stop_reason(native);
        assert_eq!((stop.kind, stop.native.as_deref()), (kind, Some(native)));
        assert_eq!(response::native_stop_reason(&stop), native);
    }
    let other = response::stop_reason("something_new");
    assert_eq!(
        (other.kind, other.native.as_deref()),
        (StopKind::Other, Some("something_new"))
    );
    assert_eq!(response::native_stop_reason(&other), "end_turn");
}

#[test]
fn decode_response_rejects_what_is_not_a_message() {
    let openai = br#"{"id":"chatcmpl-1","object":"chat.completion","choices":[]}"#;
    let err = response::decode_response(openai, &ctx()).unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Upstream, 502));
    assert!(
        err.message.contains("not an Anthropic message"),
        "{}",
        err.message
    );
    let err = response::decode_response(b"<html>", &ctx()).unwrap_err();
    assert_eq!(err.status, 502);
    let overloaded =
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let err = response::decode_response(overloaded, &ctx()).unwrap_err();
    assert_eq!(
        (err.kind, err.status, err.message.as_str()),
        (ErrorKind::Overloaded, 529, "Overloaded")
    );
}

#[test]
fn usage_json_has_anthropic_names() {
    let u = Usage {
        input: 1,
        cache_read: 2,
        cache_write: 3,
        output: 4,
        reasoning: 5,
    };
    assert_eq!(
        response::usage_json(&u),
        json!({"input_tokens": 1, "cache_read_input_tokens": 2, "cache_creation_input_tokens": 3, "output_tokens": 4})
    );
}

// ---------- streams ----------

fn transcript() -> String {
    read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/anthropic/stream_decode/full_transcript/stream.sse"),
    )
}

#[test]
fn stream_decoder_is_independent_of_chunking() {
    let bytes = transcript();
    let whole = decode_stream(bytes.as_bytes(), bytes.len(), &ctx());
    assert_eq!(whole.last(), Some(&StreamEvent::MessageStop));
    for size in 1..bytes.len() {
        assert_eq!(
            decode_stream(bytes.as_bytes(), size, &ctx()),
            whole,
            "split every {size} bytes"
        );
    }
    let crlf = bytes.replace('\n', "\r\n");
    for size in [1, 2, 3, 5, 64] {
        assert_eq!(
            decode_stream(crlf.as_bytes(), size, &ctx()),
            whole,
            "CRLF, split every {size}"
        );
    }
}

#[test]
fn stream_round_trips_through_the_encoder() {
    let bytes = transcript();
    let ctx = Context {
        client_model: "claude-sonnet-4-5-20250929".into(),
        ..Context::default()
    };
    let events = decode_stream(bytes.as_bytes(), 17, &ctx);
    let encoded = encode_stream(&events, &ctx);
    assert_eq!(decode_stream(&encoded, 9, &ctx), events);
    // The tool arguments reassemble into the JSON the model meant.
    let args: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta {
                index: 2,
                delta: Delta::ToolArgs(a),
            } => Some(a.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "Paris", "unit": "celsius"})
    );
}

#[test]
fn encoder_writes_nothing_after_an_error_and_closes_blocks_on_stop() {
    let mut encoder = stream_encode::StreamEncoder::new(&ctx());
    let mut out = Vec::new();
    encoder.encode(
        &StreamEvent::Error(GatewayError::new(ErrorKind::Timeout, "slow")),
        &mut out,
    );
    encoder.encode(&StreamEvent::MessageStop, &mut out);
    let events = sse_json(&out);
    assert_eq!(events.len(), 1, "an early error is the only event");
    assert_eq!(events[0].1["error"]["type"], "timeout_error");

    let events = [
        StreamEvent::MessageStart {
            id: "x".into(),
            model: "y".into(),
            usage: None,
        },
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Text,
        },
        StreamEvent::Stop(StopReason::new(StopKind::MaxTokens, Some("length"))),
        StreamEvent::MessageStop,
    ];
    let names: Vec<String> = sse_json(&encode_stream(&events, &ctx()))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
}

// ---------- tap ----------

fn tap_over(bytes: &[u8], chunk: usize) -> tap::StreamSummary {
    let mut t = tap::MessagesStreamTap::new();
    for piece in bytes.chunks(chunk) {
        t.observe(piece);
    }
    t.finish()
}

#[test]
fn tap_reads_usage_stop_reason_and_message_stop() {
    let bytes = transcript();
    for chunk in [1, 7, 4096] {
        let s = tap_over(bytes.as_bytes(), chunk);
        assert!(s.done);
        assert_eq!(s.finish_reason.as_deref(), Some("tool_use"));
        assert_eq!(
            s.usage,
            Some(Usage {
                input: 120,
                cache_read: 1000,
                cache_write: 20,
                output: 145,
                reasoning: 0
            })
        );
        assert_eq!(s.error, None);
    }
    // Partial usage in message_delta keeps message_start's input; data-only events work too.
    let data_only = read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/anthropic/stream_decode/data_only/stream.sse"),
    );
    let s = tap_over(data_only.as_bytes(), 5);
    assert_eq!(s.usage.map(|u| (u.input, u.output)), Some((7, 1)));
    assert_eq!(
        (s.finish_reason.as_deref(), s.done),
        (Some("max_tokens"), true)
    );
}

#[test]
fn tap_reads_errors_and_truncation() {
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anthropic/stream_decode");
    let s = tap_over(
        read(&fixtures.join("error_mid_stream/stream.sse")).as_bytes(),
        3,
    );
    assert_eq!((s.error.as_deref(), s.done), (Some("Overloaded"), false));
    let s = tap_over(read(&fixtures.join("truncated/stream.sse")).as_bytes(), 11);
    assert_eq!((s.error, s.done, s.finish_reason), (None, false, None));
    assert_eq!(s.usage.map(|u| u.input), Some(3));
    // What the encoder writes, the tap reads.
    let encoded = encode_stream(&decode_stream(transcript().as_bytes(), 100, &ctx()), &ctx());
    let mut t = tap::MessagesStreamTap::new();
    t.observe(&encoded);
    assert_eq!(t.summary().finish_reason.as_deref(), Some("tool_use"));
    assert!(t.summary().done);
}

#[test]
fn encoder_sanitizes_tool_ids_like_responses_do() {
    let start = StreamEvent::BlockStart {
        index: 0,
        block: BlockStart::ToolCall {
            id: "functions.f:0".into(),
            name: "f".into(),
        },
    };
    let events = sse_json(&encode_stream(&[start], &ctx()));
    let id = &events[1].1["content_block"]["id"];
    assert_eq!(id, sanitize_tool_id("functions.f:0").as_str());
    assert_ne!(id, "functions.f:0");
}

// ---------- review fixes ----------

/// A canonical request from the fields that differ from the default.
fn canonical_request(fields: Value) -> ChatRequest {
    let mut v = serde_json::to_value(ChatRequest::default()).unwrap();
    deep_merge(&mut v, fields);
    serde_json::from_value(v).unwrap()
}

/// (max_tokens, budget_tokens) sent for a client's max_tokens and budget.
fn sent_thinking(max_tokens: Option<u64>, budget: u64) -> (u64, u64) {
    let req = canonical_request(json!({
        "model": "m",
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Q"}]}],
        "reasoning": {"effort": null, "budget_tokens": budget, "disabled": false},
    }));
    let sent = request::encode_request(&req, &Target::new("c"), &mut ToolNames::default()).unwrap();
    assert_eq!(sent["thinking"]["type"], "enabled", "{sent}");
    (
        sent["max_tokens"].as_u64().unwrap(),
        sent["thinking"]["budget_tokens"].as_u64().unwrap(),
    )
}

#[test]
fn thinking_budget_is_bounded_and_never_overflows() {
    let max = u64::MAX;
    let cap = request::MAX_RAISED_TOKENS;
    assert_eq!(cap, 128_000);
    let cases = [
        // (client max_tokens, client budget) → (max_tokens, budget) sent
        ((Some(4096), 2048), (4096, 2048)), // room already: untouched
        ((Some(1000), 2048), (3048, 2048)), // raised by the budget
        ((Some(5000), 500), (5000, 1024)),  // the budget is at least 1024
        ((Some(0), 10), (1025, 1024)),      // max_tokens 0 still leaves room
        ((None, 8192), (12288, 8192)),      // the default 4096 + the budget
        ((Some(4096), max), (cap, cap - 1)), // a huge budget: capped, budget below it
        ((Some(100_000), 100_000), (cap, 100_000)),
        ((Some(200_000), 500_000), (200_000, 199_999)), // the client's own larger max_tokens
        ((Some(max), max), (max, max - 1)),             // no overflow
        ((Some(max), 2048), (max, 2048)),
    ];
    for ((max_tokens, budget), want) in cases {
        let got = sent_thinking(max_tokens, budget);
        assert_eq!(got, want, "max_tokens {max_tokens:?}, budget {budget}");
        assert!(got.1 >= 1024 && got.1 < got.0, "{got:?}");
    }
}

#[test]
fn encode_request_needs_a_user_or_assistant_message() {
    for body in [
        r#"{"model":"m","messages":[{"role":"system","content":"only a system prompt"}]}"#,
        r#"{"model":"m","messages":[{"role":"developer","content":"rules"},{"role":"user","content":""}]}"#,
    ] {
        let req = modelgate_protocol::spec::openai_chat::request::decode_request(body.as_bytes())
            .unwrap();
        let err = request::encode_request(&req, &Target::new("c"), &mut ToolNames::default())
            .expect_err(body);
        assert_eq!((err.kind, err.status), (ErrorKind::InvalidRequest, 400));
        assert_eq!(
            err.message,
            "the conversation has no user or assistant message; Anthropic needs at least one"
        );
        assert_eq!(err.param.as_deref(), Some("messages"));
    }
}

/// An Anthropic client's tool loop where the thinking it was shown came
/// from an OpenAI-compatible endpoint, so it carries `"signature": ""`.
const UNSIGNED_LOOP: &str = r#"{"model":"m","max_tokens":1000,
    "thinking":{"type":"enabled","budget_tokens":2048},
    "tools":[{"name":"f","input_schema":{"type":"object"}}],
    "messages":[
      {"role":"user","content":"Q"},
      {"role":"assistant","content":[
        {"type":"thinking","thinking":"I should call f.","signature":""},
        {"type":"tool_use","id":"call_1","name":"f","input":{"a":1}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"r"}]}]}"#;

#[test]
fn an_empty_signature_is_no_signature() {
    use modelgate_protocol::ir::Content;
    use modelgate_protocol::spec::openai_chat;
    let req = request::decode_request(UNSIGNED_LOOP.as_bytes()).unwrap();
    assert_eq!(
        req.messages[1].content[0],
        Content::Reasoning {
            text: "I should call f.".into(),
            signature: None,
            signed_by: None
        }
    );
    // Replayed to an OpenAI-compatible endpoint as reasoning_content (DeepSeek needs it).
    let sent = openai_chat::request::encode_request(
        &req,
        &Target::new("deepseek-reasoner"),
        &mut ToolNames::default(),
    )
    .unwrap();
    let assistant = &sent["messages"][1];
    assert_eq!(assistant["role"], "assistant", "{sent}");
    assert_eq!(assistant["reasoning_content"], "I should call f.", "{sent}");
    assert!(assistant.get("reasoning_details").is_none(), "{sent}");
    // Never sent to Anthropic as thinking (and then thinking is off for the turn).
    let sent = request::encode_request(&req, &Target::new("c"), &mut ToolNames::default()).unwrap();
    assert_eq!(
        sent["messages"][1]["content"],
        json!([{"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}}]),
        "{sent}"
    );
    assert!(sent.get("thinking").is_none(), "{sent}");

    // A response's thinking with an empty signature is unsigned too …
    let reply = br#"{"type":"message","id":"msg_1","model":"c","stop_reason":"end_turn",
        "content":[{"type":"thinking","thinking":"t","signature":""},
                   {"type":"thinking","thinking":"u","signature":"sig"}]}"#;
    let resp = response::decode_response(reply, &ctx()).unwrap();
    assert_eq!(
        resp.content,
        [
            Content::Reasoning {
                text: "t".into(),
                signature: None,
                signed_by: None
            },
            Content::Reasoning {
                text: "u".into(),
                signature: Some("sig".into()),
                signed_by: Some("anthropic".into())
            }
        ]
    );
    // … and gives an OpenAI client no reasoning detail to send back.
    let shown = openai_chat::response::encode_response(&resp, &ctx());
    assert_eq!(
        shown["choices"][0]["message"]["reasoning_details"],
        json!([{"type": "reasoning.text", "text": "u", "signature": "sig", "format": "anthropic-claude-v1"}])
    );
    // … and in a stream no signature delta.
    let stream = concat!(
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,",
        "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,",
        "\"delta\":{\"type\":\"signature_delta\",\"signature\":\"\"}}\n\n",
    );
    let events = decode_stream(stream.as_bytes(), 64, &ctx());
    assert!(
        !events.iter().any(|e| matches!(
            e,
            StreamEvent::Delta {
                delta: Delta::Signature { .. },
                ..
            }
        )),
        "{events:?}"
    );
}

#[test]
fn huge_anthropic_usage_saturates_in_openai_answers() {
    use modelgate_protocol::spec::openai_chat;
    let max = u64::MAX;
    let reply = json!({"type": "message", "id": "msg_1", "model": "c", "stop_reason": "end_turn",
        "content": [{"type": "text", "text": "hi"}],
        "usage": {"input_tokens": max, "output_tokens": max,
                  "cache_creation_input_tokens": max, "cache_read_input_tokens": max}});
    let resp = response::decode_response(reply.to_string().as_bytes(), &ctx()).unwrap();
    assert_eq!(resp.usage.prompt_total(), max);
    let usage = &openai_chat::response::encode_response(&resp, &ctx())["usage"];
    assert_eq!(usage["prompt_tokens"], json!(max));
    assert_eq!(usage["total_tokens"], json!(max));
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], json!(max));
    // Back to Anthropic unchanged.
    assert_eq!(
        response::encode_response(&resp, &ctx())["usage"],
        reply["usage"]
    );
    // Through a stream, to an OpenAI client that asked for usage.
    let stream = format!(
        "event: message_start\ndata: {}\n\nevent: message_delta\ndata: {}\n\nevent: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n",
        json!({"type": "message_start", "message": {"id": "msg_1", "model": "c",
            "usage": {"input_tokens": max, "cache_read_input_tokens": max, "cache_creation_input_tokens": max, "output_tokens": 1}}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": max}}),
    );
    let events = decode_stream(stream.as_bytes(), 7, &ctx());
    let ctx = Context {
        include_usage: true,
        ..ctx()
    };
    let mut encoder = openai_chat::stream_encode::StreamEncoder::new(&ctx);
    let mut out = Vec::new();
    for e in &events {
        encoder.encode(e, &mut out);
    }
    let text = String::from_utf8(out).unwrap();
    let usage_chunk: Value = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|c| c["usage"].is_object())
        .unwrap();
    assert_eq!(usage_chunk["usage"]["prompt_tokens"], json!(max));
    assert_eq!(usage_chunk["usage"]["total_tokens"], json!(max));
}

#[test]
fn usage_of_a_messages_body() {
    let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"c",
        "content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn",
        "usage":{"input_tokens":12,"output_tokens":34,"cache_creation_input_tokens":5,
                 "cache_read_input_tokens":6,"server_tool_use":{"web_search_requests":1},
                 "service_tier":"standard"}}"#;
    assert_eq!(
        tap::usage_of_body(body),
        Some(Usage {
            input: 12,
            cache_read: 6,
            cache_write: 5,
            output: 34,
            reasoning: 0
        })
    );
    // Missing and null counts are zero.
    let u = tap::usage_of_body(br#"{"usage":{"input_tokens":3,"cache_read_input_tokens":null}}"#);
    assert_eq!(
        u.map(|u| (u.input, u.cache_read, u.output)),
        Some((3, 0, 0))
    );
    let max = u64::MAX;
    let huge = format!(r#"{{"usage":{{"input_tokens":{max},"output_tokens":{max}}}}}"#);
    assert_eq!(
        tap::usage_of_body(huge.as_bytes()).map(|u| u.input),
        Some(max)
    );
    for body in [
        &br#"{"type":"message","content":[]}"#[..],
        br#"{"usage":null}"#,
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        b"<html>",
    ] {
        assert_eq!(tap::usage_of_body(body), None);
    }
}

// ---------- interleaved blocks (M4) ----------

/// An OpenAI stream's bytes decoded by the OpenAI decoder.
fn decode_openai(bytes: &[u8]) -> Vec<StreamEvent> {
    let mut decoder =
        modelgate_protocol::spec::openai_chat::stream_decode::StreamDecoder::new(&ctx());
    let mut out = Vec::new();
    for event in sse_events(bytes, 13) {
        decoder.feed(&event, &mut out);
    }
    decoder.finish(&mut out);
    out
}

/// Checks that `events` form a valid Anthropic stream (every delta
/// between its block's start and stop, one block open at a time, no block
/// started twice, dense indices, message_start first, message_delta and
/// message_stop (or an error) last) and returns each block's type and
/// concatenated delta text, by index.
fn check_anthropic_stream(events: &[(String, Value)]) -> Vec<(String, String)> {
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut open: Option<usize> = None;
    assert_eq!(events[0].0, "message_start", "{events:?}");
    for (i, (name, data)) in events.iter().enumerate().skip(1) {
        let index = data["index"].as_u64().map(|n| n as usize);
        match name.as_str() {
            "content_block_start" => {
                assert_eq!(
                    open, None,
                    "event {i}: a block starts while another is open"
                );
                assert_eq!(index, Some(blocks.len()), "event {i}: indices are dense");
                let kind = data["content_block"]["type"].as_str().unwrap().to_owned();
                blocks.push((kind, String::new()));
                open = index;
            }
            "content_block_delta" => {
                assert_eq!(
                    index, open,
                    "event {i}: a delta for a block that is not open"
                );
                let d = &data["delta"];
                let piece = ["text", "partial_json", "thinking", "signature"]
                    .iter()
                    .find_map(|k| d[*k].as_str())
                    .unwrap();
                blocks[index.unwrap()].1.push_str(piece);
            }
            "content_block_stop" => {
                assert_eq!(
                    index, open,
                    "event {i}: a stop for a block that is not open"
                );
                open = None;
            }
            "message_delta" => assert_eq!(open, None, "event {i}: message_delta with a block open"),
            "message_stop" => assert_eq!(i, events.len() - 1, "message_stop is last"),
            "error" => assert_eq!(i, events.len() - 1, "an error is last"),
            "ping" => {}
            other => panic!("unexpected event {other}"),
        }
    }
    blocks
}

/// Each tool call's (id, arguments) as the decoder gave them.
fn decoded_tool_args(events: &[StreamEvent]) -> Vec<(String, String)> {
    let mut calls: Vec<(usize, String, String)> = Vec::new();
    for e in events {
        match e {
            StreamEvent::BlockStart {
                index,
                block: BlockStart::ToolCall { id, .. },
            } => calls.push((*index, id.clone(), String::new())),
            StreamEvent::Delta {
                index,
                delta: Delta::ToolArgs(a),
            } => {
                if let Some(call) = calls.iter_mut().find(|c| c.0 == *index) {
                    call.2.push_str(a);
                }
            }
            _ => {}
        }
    }
    calls.into_iter().map(|(_, id, args)| (id, args)).collect()
}

const INTERLEAVED: &str = concat!(
    "data: {\"id\":\"c1\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[",
    "{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[",
    "{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"{\\\"tz\\\":\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"\\\"CET\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
    "data: [DONE]\n\n",
);

#[test]
fn interleaved_tool_calls_become_a_valid_anthropic_stream() {
    let events = decode_openai(INTERLEAVED.as_bytes());
    let out = sse_json(&encode_stream(&events, &ctx()));
    let summary: Vec<String> = out
        .iter()
        .map(|(name, data)| match name.as_str() {
            "content_block_start" => format!(
                "start {} {}",
                data["index"],
                data["content_block"]["id"].as_str().unwrap_or("")
            ),
            "content_block_delta" => format!(
                "delta {} {}",
                data["index"],
                data["delta"]["partial_json"].as_str().unwrap_or("")
            ),
            "content_block_stop" => format!("stop {}", data["index"]),
            "message_delta" => format!("message_delta {}", data["delta"]["stop_reason"]),
            other => other.to_owned(),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "message_start",
            "start 0 call_a",
            r#"delta 0 {"city":"#,
            r#"delta 0 "Paris"}"#,
            "stop 0",
            "start 1 call_b",
            r#"delta 1 {"tz":"#,
            r#"delta 1 "CET"}"#,
            "stop 1",
            r#"message_delta "tool_use""#,
            "message_stop",
        ]
    );
    let blocks = check_anthropic_stream(&out);
    let args: Vec<Value> = blocks
        .iter()
        .map(|(_, a)| serde_json::from_str(a).unwrap())
        .collect();
    assert_eq!(args, [json!({"city": "Paris"}), json!({"tz": "CET"})]);
}

#[test]
fn waiting_blocks_keep_their_deltas_in_order() {
    let tool = |index, id: &str| StreamEvent::BlockStart {
        index,
        block: BlockStart::ToolCall {
            id: id.into(),
            name: "f".into(),
        },
    };
    let args = |index, a: &str| StreamEvent::Delta {
        index,
        delta: Delta::ToolArgs(a.into()),
    };
    // Three calls interleaved; the second stops before the first, the
    // third is still open when the first stops; text arrives for a block
    // never started while the first is open.
    let events = [
        tool(0, "a"),
        tool(1, "b"),
        args(1, "{\"b\":"),
        args(0, "{\"a\":"),
        tool(2, "c"),
        args(2, "{\"c\":"),
        args(1, "2}"),
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::Delta {
            index: 7,
            delta: Delta::Text("note".into()),
        },
        args(0, "1}"),
        StreamEvent::BlockStop { index: 0 },
        args(2, "3}"),
        StreamEvent::KeepAlive,
        StreamEvent::BlockStop { index: 7 },
        StreamEvent::MessageStop,
    ];
    let out = sse_json(&encode_stream(&events, &ctx()));
    let blocks = check_anthropic_stream(&out);
    assert_eq!(
        blocks,
        [
            ("tool_use".to_owned(), "{\"a\":1}".to_owned()),
            ("tool_use".to_owned(), "{\"b\":2}".to_owned()),
            ("tool_use".to_owned(), "{\"c\":3}".to_owned()),
            ("text".to_owned(), "note".to_owned()),
        ]
    );
    // The first call streams live; when it stops, the second (stopped
    // already) is written whole and the third left open, so its last piece
    // streams live too; the text waits for the end.
    let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start", // a
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start", // b, from the buffer
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start", // c: its buffered piece, then live
            "content_block_delta",
            "content_block_delta",
            "ping",
            "content_block_stop",
            "content_block_start", // the text
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(out[17].1["delta"]["stop_reason"], "tool_use");

    // An error delivers what waits before it.
    let events = [
        tool(0, "a"),
        tool(1, "b"),
        args(1, "{}"),
        StreamEvent::Error(GatewayError::new(ErrorKind::Upstream, "cut")),
    ];
    let out = sse_json(&encode_stream(&events, &ctx()));
    let blocks = check_anthropic_stream(&out);
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[1].1, "{}");
    assert_eq!(out.last().unwrap().0, "error");
}

/// Every OpenAI stream fixture, translated for an Anthropic client, is a
/// valid Anthropic stream that loses no tool argument.
#[test]
fn openai_fixtures_make_valid_anthropic_streams() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openai_chat/stream_decode");
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        let bytes = fs::read(case.join("stream.sse")).unwrap();
        let events = decode_openai(&bytes);
        let out = sse_json(&encode_stream(&events, &ctx()));
        let blocks = check_anthropic_stream(&out);
        let sent: Vec<(String, String)> = out
            .iter()
            .filter(|(n, d)| n == "content_block_start" && d["content_block"]["type"] == "tool_use")
            .map(|(_, d)| {
                let i = d["index"].as_u64().unwrap() as usize;
                (
                    d["content_block"]["id"].as_str().unwrap().to_owned(),
                    blocks[i].1.clone(),
                )
            })
            .collect();
        let decoded: Vec<(String, String)> = decoded_tool_args(&events)
            .into_iter()
            .map(|(id, args)| (sanitize_tool_id(&id), args))
            .collect();
        assert_eq!(sent, decoded, "{}", case.display());
    }
}

/// Reasoning another family signed, shown to an Anthropic client, comes
/// back naming its producer: it is never replayed to Anthropic as if it
/// were Anthropic's, and still reaches the endpoint that made it.
#[test]
fn foreign_signatures_round_trip_through_an_anthropic_client_and_stay_with_their_producer() {
    let answer = ChatResponse {
        id: "msg_1".into(),
        content: vec![
            Content::Reasoning {
                text: "Plan.".into(),
                signature: Some("gAAAA".into()),
                signed_by: Some("openai-responses".into()),
            },
            Content::RedactedReasoning {
                data: "BLOB".into(),
                signed_by: Some("openai-responses".into()),
            },
            Content::Reasoning {
                text: "Mine.".into(),
                signature: Some("EqQB".into()),
                signed_by: Some("anthropic".into()),
            },
            Content::text("Done."),
        ],
        ..ChatResponse::default()
    };
    let shown = response::encode_response(&answer, &ctx());
    assert_eq!(
        shown["content"][0]["signature"],
        "mg1:sig:openai-responses:gAAAA"
    );
    assert_eq!(
        shown["content"][1]["data"],
        "mg1:redacted:openai-responses:BLOB"
    );
    assert_eq!(
        shown["content"][2]["signature"], "EqQB",
        "Anthropic's own stay as they are"
    );

    let next_turn = json!({
        "model": "m", "max_tokens": 100,
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": shown["content"]},
            {"role": "user", "content": "go on"}
        ]
    });
    let req = request::decode_request(next_turn.to_string().as_bytes()).unwrap();
    assert_eq!(&req.messages[1].content[..3], &answer.content[..3]);

    let to_anthropic =
        request::encode_request(&req, &Target::new("claude"), &mut ToolNames::default()).unwrap();
    let replayed = to_anthropic["messages"][1]["content"].as_array().unwrap();
    assert_eq!(
        replayed
            .iter()
            .filter(|b| b["type"] == "thinking" || b["type"] == "redacted_thinking")
            .cloned()
            .collect::<Vec<_>>(),
        [json!({"type": "thinking", "thinking": "Mine.", "signature": "EqQB"})],
        "only Anthropic's own signature is replayed to Anthropic"
    );
    let to_responses = modelgate_protocol::spec::openai_responses::request::encode_request(
        &req,
        &Target::new("gpt-5"),
        &mut ToolNames::default(),
    )
    .unwrap();
    let blobs: Vec<&Value> = to_responses["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "reasoning")
        .map(|i| &i["encrypted_content"])
        .collect();
    assert_eq!(
        blobs,
        [&json!("gAAAA"), &json!("BLOB")],
        "OpenAI's own blobs go back to OpenAI"
    );
}

#[test]
fn the_stream_encoder_wraps_foreign_signatures_too() {
    let events = vec![
        StreamEvent::MessageStart {
            id: "msg_1".into(),
            model: "m".into(),
            usage: None,
        },
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Reasoning,
        },
        StreamEvent::Delta {
            index: 0,
            delta: Delta::Signature {
                signature: "gAAAA".into(),
                signed_by: Some("openai-responses".into()),
            },
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::BlockStart {
            index: 1,
            block: BlockStart::RedactedReasoning {
                data: "BLOB".into(),
                signed_by: Some("anthropic".into()),
            },
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::MessageStop,
    ];
    let mut encoder = stream_encode::StreamEncoder::new(&ctx());
    let mut out = Vec::new();
    for event in &events {
        encoder.encode(event, &mut out);
    }
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(r#""signature":"mg1:sig:openai-responses:gAAAA""#),
        "{text}"
    );
    assert!(text.contains(r#""data":"BLOB""#), "{text}");
}
