//! OpenAI Chat Completions codecs, driven by the fixtures in
//! `tests/fixtures/openai_chat/<kind>/<case>/`:
//!
//! * `decode_request/`: `request.json` → `canonical.json` (serde of `ChatRequest`);
//! * `encode_request/`: `canonical.json` + `target.json` → `expected.json`;
//! * `decode_response/`: `response.json` (+ `tools.json`) → `canonical.json`;
//! * `encode_response/`: `canonical.json` → `expected.json`;
//! * `stream_decode/`: `stream.sse` (+ `tools.json`) → `events.txt` (one
//!   `Debug` line per event, `finish()` included).
//!
//! `tools.json` lists the client's tool names; they are renamed for OpenAI
//! as `encode_request` would, to build the context that maps them back.
//! Run with `BLESS=1` to rewrite the expected files (then review the diff).

use std::fs;
use std::path::{Path, PathBuf};

use modelgate_protocol::framing::sse::{SseDecoder, SseEvent};
use modelgate_protocol::ir::{
    BlockStart, ChatRequest, ChatResponse, Content, Delta, ErrorKind, GatewayError, Reasoning,
    StopKind, StopReason, StreamEvent, ToolChoice, Usage,
};
use modelgate_protocol::spec::openai_chat::request::{decode_request, encode_request};
use modelgate_protocol::spec::openai_chat::response::{
    decode_response, encode_response, finish_reason, stop_reason,
};
use modelgate_protocol::spec::openai_chat::stream_decode::StreamDecoder;
use modelgate_protocol::spec::openai_chat::stream_encode::StreamEncoder;
use modelgate_protocol::translate::{Context, ReasoningFormat, ReasoningKey, Target, ToolNames};
use serde_json::{Value, json};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/openai_chat")
        .join(kind);
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
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

fn bless() -> bool {
    std::env::var_os("BLESS").is_some()
}

/// Compares `actual` with the file (or writes it when blessing).
fn check_json(path: &Path, actual: &Value) {
    if bless() {
        let text = serde_json::to_string_pretty(actual).expect("json");
        fs::write(path, text + "\n").expect("write");
        return;
    }
    assert_eq!(actual, &read_json(path), "{}", path.display());
}

fn check_text(path: &Path, actual: &str) {
    if bless() {
        fs::write(path, actual).expect("write");
        return;
    }
    assert_eq!(actual, read(path), "{}", path.display());
}

/// The context for a case: the tools of `tools.json` renamed as for OpenAI.
fn context(case: &Path) -> Context {
    let mut names = ToolNames::default();
    let tools = case.join("tools.json");
    if tools.exists() {
        for name in read_json(&tools).as_array().expect("tools.json: an array") {
            names.to_target(name.as_str().expect("a tool name"), 64);
        }
    }
    Context {
        client_model: "client-model".into(),
        include_usage: false,
        created: 1_700_000_000,
        tool_names: names,
        ..Context::default()
    }
}

fn target(case: &Path) -> Target {
    let path = case.join("target.json");
    let mut t = Target::new("upstream-model");
    if path.exists() {
        let v = read_json(&path);
        t.reasoning_format = match v["reasoning_format"].as_str() {
            Some("object") => ReasoningFormat::ReasoningObject,
            Some("disabled") => ReasoningFormat::Disabled,
            _ => ReasoningFormat::ReasoningEffort,
        };
        if v["reasoning_key"] == "reasoning" {
            t.reasoning_key = ReasoningKey::Reasoning;
        }
    }
    t
}

#[test]
fn decode_request_fixtures() {
    for case in fixtures("decode_request") {
        let body = fs::read(case.join("request.json")).expect("request.json");
        let req = decode_request(&body).unwrap_or_else(|e| panic!("{}: {e:?}", case.display()));
        check_json(
            &case.join("canonical.json"),
            &serde_json::to_value(&req).expect("json"),
        );
    }
}

#[test]
fn encode_request_fixtures() {
    for case in fixtures("encode_request") {
        let req: ChatRequest = serde_json::from_value(read_json(&case.join("canonical.json")))
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let mut names = ToolNames::default();
        let body = encode_request(&req, &target(&case), &mut names)
            .unwrap_or_else(|e| panic!("{}: {e:?}", case.display()));
        check_json(&case.join("expected.json"), &body);
    }
}

#[test]
fn decode_response_fixtures() {
    for case in fixtures("decode_response") {
        let body = fs::read(case.join("response.json")).expect("response.json");
        let resp = decode_response(&body, &context(&case))
            .unwrap_or_else(|e| panic!("{}: {e:?}", case.display()));
        check_json(
            &case.join("canonical.json"),
            &serde_json::to_value(&resp).expect("json"),
        );
    }
}

#[test]
fn encode_response_fixtures() {
    for case in fixtures("encode_response") {
        let resp: ChatResponse = serde_json::from_value(read_json(&case.join("canonical.json")))
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        check_json(
            &case.join("expected.json"),
            &encode_response(&resp, &context(&case)),
        );
    }
}

/// SSE bytes → stream events, the bytes pushed `piece` at a time.
fn decode_stream(bytes: &[u8], ctx: &Context, piece: usize) -> Vec<StreamEvent> {
    let mut sse = SseDecoder::new();
    let mut decoder = StreamDecoder::new(ctx);
    let (mut frames, mut events) = (Vec::<SseEvent>::new(), Vec::new());
    for chunk in bytes.chunks(piece.max(1)) {
        sse.push(chunk, &mut frames);
        for frame in frames.drain(..) {
            decoder.feed(&frame, &mut events);
        }
    }
    sse.finish(&mut frames);
    for frame in frames.drain(..) {
        decoder.feed(&frame, &mut events);
    }
    decoder.finish(&mut events);
    events
}

fn debug_lines(events: &[StreamEvent]) -> String {
    events.iter().map(|e| format!("{e:?}\n")).collect()
}

#[test]
fn stream_decode_fixtures() {
    for case in fixtures("stream_decode") {
        let bytes = fs::read(case.join("stream.sse")).expect("stream.sse");
        let events = decode_stream(&bytes, &context(&case), bytes.len());
        check_text(&case.join("events.txt"), &debug_lines(&events));
    }
}

#[test]
fn stream_decode_is_independent_of_how_bytes_are_split() {
    for case in fixtures("stream_decode") {
        let bytes = fs::read(case.join("stream.sse")).expect("stream.sse");
        let ctx = context(&case);
        let whole = decode_stream(&bytes, &ctx, bytes.len());
        assert!(whole.len() > 2, "{}", case.display());
        for piece in 1..bytes.len() {
            assert_eq!(
                decode_stream(&bytes, &ctx, piece),
                whole,
                "{} split every {piece} bytes",
                case.display()
            );
        }
    }
}

// ---------------------------------------------------------------- requests

fn decode_err(body: &str) -> GatewayError {
    match decode_request(body.as_bytes()) {
        Ok(req) => panic!("{body} decoded: {req:?}"),
        Err(e) => e,
    }
}

#[test]
fn decode_request_errors_are_400s_naming_the_field() {
    let user = r#"{"role":"user","content":"hi"}"#;
    let cases: Vec<(String, Option<&str>, &str)> = vec![
        ("not json".into(), None, "not valid JSON"),
        ("[]".into(), None, "must be a JSON object"),
        (format!(r#"{{"messages":[{user}]}}"#), Some("model"), "`model` is required"),
        (r#"{"model":"m"}"#.into(), Some("messages"), "`messages` is required"),
        (r#"{"model":"m","messages":[]}"#.into(), Some("messages"), "at least one"),
        (
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"input_audio","input_audio":{"data":"AA","format":"wav"}}]}]}"#.into(),
            Some("messages[0].content[1].type"),
            "`input_audio` cannot be translated to another format",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}]}"#.into(),
            Some("messages[0].content[0].type"),
            "`file` cannot be translated to another format",
        ),
        (
            format!(r#"{{"model":"m","messages":[{user}],"tools":[{{"type":"custom","custom":{{"name":"x"}}}}]}}"#),
            Some("tools[0].type"),
            "`custom` cannot be translated",
        ),
        (r#"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#.into(), Some("messages[0].role"), "Unknown role `wizard`"),
        (r#"{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}"#.into(), Some("messages[0].role"), "deprecated `function` role"),
        (format!(r#"{{"model":"m","messages":[{user},{{"role":"tool","content":"x"}}]}}"#), Some("messages[1].tool_call_id"), "`messages[1].tool_call_id` is required"),
        (format!(r#"{{"model":"m","messages":[{user}],"temperature":"hot"}}"#), Some("temperature"), "must be a number"),
        (format!(r#"{{"model":"m","messages":[{user}],"tool_choice":"sometimes"}}"#), Some("tool_choice"), "`tool_choice` must be"),
        (
            r#"{"model":"m","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#.into(),
            Some("messages[0].content[0].type"),
            "not allowed here",
        ),
        (
            format!(r#"{{"model":"m","messages":[{user},{{"role":"assistant","content":null,"tool_calls":[{{"type":"function","function":{{"name":"f","arguments":"{{}}"}}}}]}}]}}"#),
            Some("messages[1].tool_calls[0].id"),
            "is required",
        ),
    ];
    for (body, param, message) in cases {
        let err = decode_err(&body);
        assert_eq!(
            (err.kind, err.status),
            (ErrorKind::InvalidRequest, 400),
            "{body}"
        );
        assert_eq!(err.param.as_deref(), param, "{body}");
        assert!(err.message.contains(message), "{body}: {}", err.message);
    }
}

fn decode_with(extra: &str) -> ChatRequest {
    let body = format!(r#"{{"model":"m","messages":[{{"role":"user","content":"hi"}}]{extra}}}"#);
    decode_request(body.as_bytes()).unwrap_or_else(|e| panic!("{extra}: {e:?}"))
}

#[test]
fn decode_request_reads_every_tool_choice() {
    let cases = [
        (r#""auto""#, ToolChoice::Auto),
        (r#""required""#, ToolChoice::Required),
        (r#""none""#, ToolChoice::None),
        (
            r#"{"type":"allowed_tools","allowed_tools":{"mode":"required","tools":[]}}"#,
            ToolChoice::Auto,
        ),
        (
            r#"{"type":"function","function":{"name":"get_weather"}}"#,
            ToolChoice::Tool {
                name: "get_weather".into(),
            },
        ),
    ];
    for (json, expected) in cases {
        let req = decode_with(&format!(r#","tool_choice":{json}"#));
        assert_eq!(req.tool_choice, Some(expected), "{json}");
    }
    assert_eq!(decode_with(r#","tool_choice":null"#).tool_choice, None);
}

fn reasoning(effort: Option<&str>, budget: Option<u64>, disabled: bool) -> Option<Reasoning> {
    Some(Reasoning {
        effort: effort.map(str::to_owned),
        budget_tokens: budget,
        disabled,
    })
}

#[test]
fn decode_request_reads_reasoning_effort_and_object() {
    let cases = [
        (r#","reasoning_effort":"none""#, reasoning(None, None, true)),
        (
            r#","reasoning_effort":"low""#,
            reasoning(Some("low"), None, false),
        ),
        (
            r#","reasoning":{"effort":"high"}"#,
            reasoning(Some("high"), None, false),
        ),
        (
            r#","reasoning":{"max_tokens":3000}"#,
            reasoning(None, Some(3000), false),
        ),
        (
            r#","reasoning":{"enabled":false}"#,
            reasoning(None, None, true),
        ),
        (
            r#","reasoning":{"effort":"none"}"#,
            reasoning(None, None, true),
        ),
        (
            r#","reasoning_effort":"low","reasoning":{"max_tokens":500}"#,
            reasoning(Some("low"), Some(500), false),
        ),
        (
            r#","reasoning_effort":"high","reasoning":{"effort":"minimal"}"#,
            reasoning(Some("minimal"), None, false),
        ),
        ("", None),
    ];
    for (json, expected) in cases {
        assert_eq!(decode_with(json).reasoning, expected, "{json}");
    }
}

#[test]
fn decode_request_user_falls_back_to_safety_identifier() {
    assert_eq!(
        decode_with(r#","safety_identifier":"s""#).user.as_deref(),
        Some("s")
    );
    let both = decode_with(r#","safety_identifier":"s","user":"u""#);
    assert_eq!(both.user.as_deref(), Some("u"));
    assert_eq!(decode_with(r#","max_tokens":9"#).max_tokens, Some(9));
    assert!(!decode_with(r#","stream":true"#).include_usage);
}

fn encode_reasoning(r: Option<Reasoning>, format: ReasoningFormat) -> Value {
    let req = ChatRequest {
        reasoning: r,
        ..decode_with("")
    };
    let target = Target {
        reasoning_format: format,
        ..Target::new("up")
    };
    let body = encode_request(&req, &target, &mut ToolNames::default()).expect("encodes");
    json!({"reasoning_effort": body["reasoning_effort"], "reasoning": body["reasoning"]})
}

#[test]
fn encode_request_sends_reasoning_in_the_target_format() {
    use ReasoningFormat::{Disabled, ReasoningEffort, ReasoningObject};
    let cases = [
        (
            reasoning(Some("high"), None, false),
            ReasoningEffort,
            json!({"reasoning_effort": "high", "reasoning": null}),
        ),
        (
            reasoning(None, Some(3000), false),
            ReasoningEffort,
            json!({"reasoning_effort": "low", "reasoning": null}),
        ),
        (
            reasoning(None, None, true),
            ReasoningEffort,
            json!({"reasoning_effort": "none", "reasoning": null}),
        ),
        (
            reasoning(Some("high"), None, false),
            ReasoningObject,
            json!({"reasoning_effort": null, "reasoning": {"effort": "high"}}),
        ),
        (
            reasoning(None, Some(3000), false),
            ReasoningObject,
            json!({"reasoning_effort": null, "reasoning": {"max_tokens": 3000}}),
        ),
        (
            reasoning(None, None, true),
            ReasoningObject,
            json!({"reasoning_effort": null, "reasoning": {"enabled": false}}),
        ),
        (
            reasoning(None, None, false),
            ReasoningObject,
            json!({"reasoning_effort": null, "reasoning": {"enabled": true}}),
        ),
        (
            reasoning(Some("high"), None, false),
            Disabled,
            json!({"reasoning_effort": null, "reasoning": null}),
        ),
        (
            None,
            ReasoningEffort,
            json!({"reasoning_effort": null, "reasoning": null}),
        ),
    ];
    for (r, format, expected) in cases {
        assert_eq!(
            encode_reasoning(r.clone(), format),
            expected,
            "{r:?} {format:?}"
        );
    }
}

#[test]
fn encode_request_stream_always_asks_for_usage_and_drops_extra() {
    let req = decode_with(r#","stream":true,"stream_options":{"include_usage":false},"n":3"#);
    assert_eq!(req.extra.get("n"), Some(&json!(3)));
    let body =
        encode_request(&req, &Target::new("up"), &mut ToolNames::default()).expect("encodes");
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["model"], json!("up"));
    assert!(body.get("n").is_none());
    let plain = encode_request(
        &decode_with(""),
        &Target::new("up"),
        &mut ToolNames::default(),
    );
    let plain = plain.expect("encodes");
    assert!(plain.get("stream").is_none() && plain.get("stream_options").is_none());
}

#[test]
fn renamed_tool_names_map_back_in_responses() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/openai_chat/encode_request/full_conversation");
    let req: ChatRequest =
        serde_json::from_value(read_json(&case.join("canonical.json"))).expect("canonical");
    let mut names = ToolNames::default();
    let body = encode_request(&req, &Target::new("up"), &mut names).expect("encodes");
    let renamed = body["tools"][0]["function"]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    assert_ne!(renamed, "github.create_issue");
    assert!(
        renamed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    );
    assert_eq!(
        body["messages"][2]["tool_calls"][0]["function"]["name"],
        json!(renamed)
    );
    let ctx = Context {
        tool_names: names,
        ..Context::default()
    };
    let answer = json!({"id": "c", "model": "m", "choices": [{"index": 0, "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": renamed, "arguments": "{}"}}]}}]});
    let resp = decode_response(answer.to_string().as_bytes(), &ctx).expect("decodes");
    assert_eq!(
        resp.content,
        vec![Content::ToolCall {
            id: "call_9".into(),
            name: "github.create_issue".into(),
            arguments: "{}".into()
        }]
    );
}

// --------------------------------------------------------------- responses

#[test]
fn decode_response_rejects_what_is_not_a_chat_completion() {
    let ctx = Context::default();
    let err = decode_response(b"<html>502 Bad Gateway</html>", &ctx).expect_err("not json");
    assert_eq!((err.kind, err.status), (ErrorKind::Upstream, 502));
    assert!(
        err.message.contains("not an OpenAI chat completion"),
        "{}",
        err.message
    );

    let anthropic = br#"{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn"}"#;
    let err = decode_response(anthropic, &ctx).expect_err("anthropic");
    assert_eq!(err.status, 502);
    assert!(
        err.message.contains("not an OpenAI chat completion"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("Anthropic Messages"),
        "{}",
        err.message
    );

    let error = br#"{"error":{"message":"You exceeded your quota.","type":"insufficient_quota","code":"insufficient_quota"}}"#;
    let err = decode_response(error, &ctx).expect_err("error body");
    assert_eq!((err.kind, err.status), (ErrorKind::Upstream, 502));
    assert_eq!(err.message, "You exceeded your quota.");
    assert_eq!(err.code.as_deref(), Some("insufficient_quota"));
}

#[test]
fn finish_reasons_map_both_ways() {
    let cases = [
        ("stop", StopKind::EndTurn),
        ("length", StopKind::MaxTokens),
        ("tool_calls", StopKind::ToolUse),
        ("function_call", StopKind::ToolUse),
        ("content_filter", StopKind::ContentFilter),
        ("eos", StopKind::Other),
    ];
    for (native, kind) in cases {
        assert_eq!(stop_reason(native), StopReason::new(kind, Some(native)));
    }
    let cases = [
        (StopKind::EndTurn, "stop"),
        (StopKind::StopSequence, "stop"),
        (StopKind::PauseTurn, "stop"),
        (StopKind::Other, "stop"),
        (StopKind::MaxTokens, "length"),
        (StopKind::ContextWindowExceeded, "length"),
        (StopKind::ToolUse, "tool_calls"),
        (StopKind::ContentFilter, "content_filter"),
    ];
    for (kind, expected) in cases {
        assert_eq!(
            finish_reason(&StopReason::new(kind, Some("x"))),
            expected,
            "{kind:?}"
        );
    }
}

// ----------------------------------------------------------- stream encoder

/// The SSE an encoder wrote, one value per event: the chunk's JSON,
/// `"[DONE]"`, or the comment line.
fn sse_values(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).expect("utf-8");
    let mut pieces: Vec<&str> = text.split("\n\n").collect();
    assert_eq!(
        pieces.pop(),
        Some(""),
        "every event ends with a blank line: {text:?}"
    );
    pieces
        .into_iter()
        .map(|p| {
            assert!(!p.contains('\n'), "one line per event: {p:?}");
            match p.strip_prefix("data: ") {
                Some("[DONE]") => json!("[DONE]"),
                Some(data) => serde_json::from_str(data).unwrap_or_else(|e| panic!("{data}: {e}")),
                None => {
                    assert!(p.starts_with(": "), "{p:?}");
                    json!(p)
                }
            }
        })
        .collect()
}

fn encode_stream(events: &[StreamEvent], include_usage: bool) -> Vec<u8> {
    let ctx = Context {
        include_usage,
        ..context(Path::new("/nonexistent"))
    };
    let mut encoder = StreamEncoder::new(&ctx);
    let mut out = Vec::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    out
}

fn chunk(id: &str, delta: Value, finish: Option<&str>) -> Value {
    json!({"id": id, "object": "chat.completion.chunk", "created": 1_700_000_000u64, "model": "client-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn role(id: &str) -> Value {
    chunk(id, json!({"role": "assistant", "content": ""}), None)
}

fn start(id: &str) -> StreamEvent {
    StreamEvent::MessageStart {
        id: id.into(),
        model: "upstream".into(),
        usage: Some(Usage::default()),
    }
}

fn text(index: usize, t: &str) -> StreamEvent {
    StreamEvent::Delta {
        index,
        delta: Delta::Text(t.into()),
    }
}

fn text_events() -> Vec<StreamEvent> {
    vec![
        start("msg_1"),
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Text,
        },
        text(0, "Hi"),
        text(0, " there"),
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::Stop(StopReason::new(StopKind::EndTurn, Some("end_turn"))),
        StreamEvent::Usage(Usage {
            input: 1,
            output: 1,
            ..Usage::default()
        }),
        StreamEvent::Usage(Usage {
            input: 10,
            cache_read: 5,
            cache_write: 0,
            output: 3,
            reasoning: 1,
        }),
        StreamEvent::MessageStop,
    ]
}

#[test]
fn stream_encoder_writes_text_and_the_usage_chunk_when_asked() {
    let bytes = encode_stream(&text_events(), true);
    assert!(bytes.starts_with(b"data: {") && bytes.ends_with(b"data: [DONE]\n\n"));
    let usage = json!({"prompt_tokens": 15, "completion_tokens": 3, "total_tokens": 18,
        "prompt_tokens_details": {"cached_tokens": 5}, "completion_tokens_details": {"reasoning_tokens": 1}});
    let usage_chunk = json!({"id": "msg_1", "object": "chat.completion.chunk", "created": 1_700_000_000u64,
        "model": "client-model", "choices": [], "usage": usage});
    assert_eq!(
        sse_values(&bytes),
        vec![
            role("msg_1"),
            chunk("msg_1", json!({"content": "Hi"}), None),
            chunk("msg_1", json!({"content": " there"}), None),
            chunk("msg_1", json!({}), Some("stop")),
            usage_chunk,
            json!("[DONE]"),
        ]
    );
}

#[test]
fn stream_encoder_leaves_usage_out_unless_asked() {
    let values = sse_values(&encode_stream(&text_events(), false));
    assert_eq!(values.len(), 5);
    assert_eq!(values[3], chunk("msg_1", json!({}), Some("stop")));
    assert_eq!(values[4], json!("[DONE]"));
    assert!(values.iter().all(|v| v.get("usage").is_none()));
}

#[test]
fn stream_encoder_numbers_tool_calls_among_tool_calls() {
    let call = |index: usize, id: &str, name: &str| StreamEvent::BlockStart {
        index,
        block: BlockStart::ToolCall {
            id: id.into(),
            name: name.into(),
        },
    };
    let args = |index: usize, a: &str| StreamEvent::Delta {
        index,
        delta: Delta::ToolArgs(a.into()),
    };
    let events = vec![
        start("c1"),
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Text,
        },
        text(0, "Checking."),
        StreamEvent::BlockStop { index: 0 },
        call(1, "call_a", "github.create_issue"),
        call(2, "call_b", "get_weather"),
        args(2, "{\"city\":1}"),
        args(1, "{}"),
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::BlockStop { index: 2 },
        StreamEvent::Stop(StopReason::new(StopKind::ToolUse, None)),
        StreamEvent::MessageStop,
    ];
    let tool = |v: Value| json!({"tool_calls": [v]});
    assert_eq!(
        sse_values(&encode_stream(&events, false)),
        vec![
            role("c1"),
            chunk("c1", json!({"content": "Checking."}), None),
            chunk(
                "c1",
                tool(json!({"index": 0, "id": "call_a", "type": "function",
                "function": {"name": "github.create_issue", "arguments": ""}})),
                None
            ),
            chunk(
                "c1",
                tool(json!({"index": 1, "id": "call_b", "type": "function",
                "function": {"name": "get_weather", "arguments": ""}})),
                None
            ),
            chunk(
                "c1",
                tool(json!({"index": 1, "function": {"arguments": "{\"city\":1}"}})),
                None
            ),
            chunk(
                "c1",
                tool(json!({"index": 0, "function": {"arguments": "{}"}})),
                None
            ),
            chunk("c1", json!({}), Some("tool_calls")),
            json!("[DONE]"),
        ]
    );
}

#[test]
fn stream_encoder_writes_reasoning_signatures_and_redacted_reasoning() {
    let events = vec![
        start("r1"),
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Reasoning,
        },
        StreamEvent::Delta {
            index: 0,
            delta: Delta::Reasoning("Hmm.".into()),
        },
        StreamEvent::Delta {
            index: 0,
            delta: Delta::Signature {
                signature: "sig-1".into(),
                signed_by: Some("anthropic".into()),
            },
        },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::BlockStart {
            index: 1,
            block: BlockStart::RedactedReasoning {
                data: "R==".into(),
                signed_by: Some("openai-responses".into()),
            },
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::BlockStart {
            index: 2,
            block: BlockStart::Text,
        },
        text(2, "Yes"),
        StreamEvent::Stop(StopReason::new(StopKind::MaxTokens, Some("max_tokens"))),
        StreamEvent::MessageStop,
    ];
    assert_eq!(
        sse_values(&encode_stream(&events, false)),
        vec![
            role("r1"),
            chunk("r1", json!({"reasoning_content": "Hmm."}), None),
            chunk(
                "r1",
                json!({"reasoning_details": [{"type": "reasoning.text", "text": "", "signature": "sig-1",
                "format": "anthropic-claude-v1", "index": 0}]}),
                None
            ),
            chunk(
                "r1",
                json!({"reasoning_details": [{"type": "reasoning.encrypted", "data": "R==",
                "format": "openai-responses-v1", "index": 0}]}),
                None
            ),
            chunk("r1", json!({"content": "Yes"}), None),
            chunk("r1", json!({}), Some("length")),
            json!("[DONE]"),
        ]
    );
}

#[test]
fn stream_encoder_writes_nothing_after_an_error() {
    let err = GatewayError::new(ErrorKind::Upstream, "boom").with_code("overloaded");
    let events = vec![
        start("e1"),
        text(0, "Part"),
        StreamEvent::Error(err),
        text(0, "more"),
        StreamEvent::KeepAlive,
        StreamEvent::MessageStop,
    ];
    assert_eq!(
        sse_values(&encode_stream(&events, true)),
        vec![
            role("e1"),
            chunk("e1", json!({"content": "Part"}), None),
            json!({"error": {"message": "boom", "type": "server_error", "param": null, "code": "overloaded"}}),
        ]
    );
}

#[test]
fn stream_encoder_copes_without_message_start_or_stop() {
    let events = vec![
        StreamEvent::KeepAlive,
        text(0, "x"),
        StreamEvent::MessageStop,
    ];
    let bytes = encode_stream(&events, false);
    assert!(bytes.starts_with(b": keep-alive\n\n"));
    assert_eq!(
        sse_values(&bytes),
        vec![
            json!(": keep-alive"),
            role(""),
            chunk("", json!({"content": "x"}), None),
            chunk("", json!({}), Some("stop")),
            json!("[DONE]"),
        ]
    );
}

/// Events compared across a round trip: the model shown and the native
/// stop reason change, usage is only what the encoder was told.
fn comparable(events: Vec<StreamEvent>) -> Vec<StreamEvent> {
    events
        .into_iter()
        .filter(|e| !matches!(e, StreamEvent::Usage(_)))
        .map(|e| match e {
            StreamEvent::MessageStart { id, .. } => StreamEvent::MessageStart {
                id,
                model: String::new(),
                usage: None,
            },
            StreamEvent::Stop(stop) => StreamEvent::Stop(StopReason::new(stop.kind, None)),
            other => other,
        })
        .collect()
}

#[test]
fn decoded_streams_survive_encoding_and_decoding_again() {
    let mut checked = 0;
    for case in fixtures("stream_decode") {
        let bytes = fs::read(case.join("stream.sse")).expect("stream.sse");
        let events = decode_stream(&bytes, &context(&case), bytes.len());
        if events.last() != Some(&StreamEvent::MessageStop) {
            continue; // error and truncated streams end differently by design
        }
        let encoded = encode_stream(&events, true);
        let again = decode_stream(&encoded, &Context::default(), encoded.len());
        assert_eq!(comparable(again), comparable(events), "{}", case.display());
        checked += 1;
    }
    assert!(checked >= 6, "{checked}");
}

// ------------------------------------------------------ review fixes (L3, M1)

/// A canonical request from the fields that differ from the default.
fn canonical_request(fields: Value) -> ChatRequest {
    let mut v = serde_json::to_value(ChatRequest::default()).expect("json");
    for (k, f) in fields.as_object().expect("an object") {
        v[k.as_str()] = f.clone();
    }
    serde_json::from_value(v).expect("canonical")
}

#[test]
fn encode_request_drops_assistant_turns_left_empty_and_merges_the_run() {
    let req = canonical_request(json!({
        "model": "m",
        "system": [{"type": "text", "text": "Only a system prompt here."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "First"}]},
            {"role": "assistant", "content": [
                {"type": "reasoning", "text": "signed", "signature": "s", "signed_by": "anthropic"},
                {"type": "redacted_reasoning", "data": "xyz", "signed_by": "anthropic"}]},
            {"role": "user", "content": [{"type": "text", "text": "Second"},
                {"type": "image", "source": {"kind": "url", "url": "https://x/cat.png"}}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Answer"}]},
            {"role": "assistant", "content": [{"type": "reasoning", "text": "", "signature": "s", "signed_by": "anthropic"}]},
            {"role": "assistant", "content": [
                {"type": "tool_call", "id": "c1", "name": "f", "arguments": "{}"}]},
            {"role": "tool", "content": [{"type": "tool_result", "id": "c1", "content": [{"type": "text", "text": "r"}]}]}
        ],
    }));
    let body =
        encode_request(&req, &Target::new("up"), &mut ToolNames::default()).expect("encodes");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "Only a system prompt here."},
            {"role": "user", "content": [
                {"type": "text", "text": "First"},
                {"type": "text", "text": "Second"},
                {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]},
            {"role": "assistant", "content": "Answer", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "r"}
        ]),
        "{body}"
    );
    assert!(
        !body.to_string().contains(r#""content":"""#),
        "no empty assistant message: {body}"
    );

    // Unsigned reasoning alone is still worth sending (DeepSeek tool loops).
    let req = canonical_request(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Q"}]},
            {"role": "assistant", "content": [{"type": "reasoning", "text": "thinking aloud"}]},
            {"role": "user", "content": [{"type": "text", "text": "Go on"}]}
        ],
    }));
    let body =
        encode_request(&req, &Target::new("up"), &mut ToolNames::default()).expect("encodes");
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": "", "reasoning_content": "thinking aloud"})
    );
    // … unless reasoning is disabled for the target: then nothing is left.
    let target = Target {
        reasoning_format: ReasoningFormat::Disabled,
        ..Target::new("up")
    };
    let body = encode_request(&req, &target, &mut ToolNames::default()).expect("encodes");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [
            {"type": "text", "text": "Q"}, {"type": "text", "text": "Go on"}]}])
    );
}

#[test]
fn huge_usage_saturates_instead_of_overflowing() {
    let max = u64::MAX;
    let body = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": max, "completion_tokens": max, "total_tokens": max,
            "prompt_tokens_details": {"cached_tokens": max, "cache_write_tokens": max},
            "completion_tokens_details": {"reasoning_tokens": max}}
    });
    let ctx = context(Path::new("/nonexistent"));
    let resp = decode_response(body.to_string().as_bytes(), &ctx).expect("decodes");
    assert_eq!(
        resp.usage,
        Usage {
            input: 0,
            cache_read: max,
            cache_write: max,
            output: max,
            reasoning: max
        }
    );
    let usage = &encode_response(&resp, &ctx)["usage"];
    assert_eq!(
        (
            &usage["prompt_tokens"],
            &usage["completion_tokens"],
            &usage["total_tokens"]
        ),
        (&json!(max), &json!(max), &json!(max))
    );
    // The same numbers through a stream's usage chunk.
    let all_max = Usage {
        input: max,
        cache_read: max,
        cache_write: max,
        output: max,
        reasoning: max,
    };
    let events = [
        start("s"),
        StreamEvent::Usage(all_max),
        StreamEvent::MessageStop,
    ];
    let chunks = sse_values(&encode_stream(&events, true));
    let usage = chunks
        .iter()
        .find_map(|c| c.get("usage").filter(|u| u.is_object()))
        .expect("a usage chunk");
    assert_eq!(usage["prompt_tokens"], json!(max));
    assert_eq!(usage["total_tokens"], json!(max));
}
