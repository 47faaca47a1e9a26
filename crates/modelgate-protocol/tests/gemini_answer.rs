//! Gemini answers: non-streamed decode/encode, the stream decoder and
//! encoder, the tap, and Gemini streams translated for other clients.

use modelgate_protocol::codec::Format;
use modelgate_protocol::framing::sse::{SseDecoder, SseEvent};
use modelgate_protocol::ir::{
    BlockStart, ChatResponse, Content, Delta, ErrorKind, GatewayError, StopKind, StopReason,
    StreamEvent, Usage,
};
use modelgate_protocol::spec::gemini::response::{decode_response, encode_response};
use modelgate_protocol::spec::gemini::stream_decode::StreamDecoder;
use modelgate_protocol::spec::gemini::stream_encode::StreamEncoder;
use modelgate_protocol::spec::gemini::tap::{GeminiStreamTap, usage_of_body};
use modelgate_protocol::translate::{Context, ToolNames};
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

fn ctx() -> Context {
    Context {
        client_model: "my-gemini".into(),
        ..Context::default()
    }
}

fn google(text: &str, sig: &str) -> Content {
    Content::Reasoning {
        text: text.into(),
        signature: Some(sig.into()),
        signed_by: Some("google".into()),
    }
}

fn thought(text: &str) -> Content {
    Content::Reasoning {
        text: text.into(),
        signature: None,
        signed_by: None,
    }
}

fn call(id: &str, name: &str, arguments: &str) -> Content {
    Content::ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

fn decode(body: Value) -> ChatResponse {
    decode_response(body.to_string().as_bytes(), &ctx()).expect("decodes")
}

fn decode_err(body: &[u8]) -> GatewayError {
    decode_response(body, &ctx()).expect_err("is an error")
}

fn answer(parts: Value, finish: &str) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp1",
    })
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

fn decode_stream_with(bytes: &[u8], chunk: usize, ctx: &Context) -> Vec<StreamEvent> {
    let mut decoder = StreamDecoder::new(ctx);
    let mut out = Vec::new();
    for event in sse_events(bytes, chunk) {
        decoder.feed(&event, &mut out);
    }
    decoder.finish(&mut out);
    out
}

fn decode_stream(bytes: &[u8], chunk: usize) -> Vec<StreamEvent> {
    decode_stream_with(bytes, chunk, &ctx())
}

fn sse(chunks: &[Value]) -> Vec<u8> {
    chunks
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect::<String>()
        .into_bytes()
}

fn encode_stream(events: &[StreamEvent]) -> Vec<u8> {
    let mut encoder = StreamEncoder::new(&ctx());
    let mut out = Vec::new();
    for e in events {
        encoder.encode(e, &mut out);
    }
    out
}

/// The data of every event of a stream, as JSON.
fn chunks_of(bytes: &[u8]) -> Vec<Value> {
    sse_events(bytes, bytes.len())
        .iter()
        .map(|e| serde_json::from_str(&e.data).expect("every chunk is JSON"))
        .collect()
}

/// The parts of all chunks merged as the stream encoder's docs say a
/// client merges them.
fn merged_parts(chunks: &[Value]) -> Vec<Value> {
    let mut parts: Vec<Value> = Vec::new();
    for chunk in chunks {
        let Some(new) = chunk["candidates"][0]["content"]["parts"].as_array() else {
            continue;
        };
        for part in new {
            if let Some(last) = parts.last_mut()
                && let (Some(a), Some(b)) = (last["text"].as_str(), part["text"].as_str())
            {
                let a_thought = last["thought"] == json!(true);
                let b_thought = part["thought"] == json!(true);
                let a_sig = last.get("thoughtSignature").is_some();
                let b_sig = part.get("thoughtSignature").is_some();
                let merges = a_thought == b_thought && if a_thought { !a_sig } else { !b_sig };
                if merges {
                    let text = format!("{a}{b}");
                    last["text"] = json!(text);
                    if let Some(sig) = part.get("thoughtSignature") {
                        last["thoughtSignature"] = sig.clone();
                    }
                    continue;
                }
            }
            parts.push(part.clone());
        }
    }
    parts
}

// ---------------------------------------------------------------- decode

#[test]
fn decodes_a_text_answer() {
    let body = json!({
        "candidates": [{
            "content": {"role": "model", "parts": [{"text": "Hello"}, {"text": ", world."}]},
            "finishReason": "STOP",
            "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]
        }],
        "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 4, "totalTokenCount": 11},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "abc123"
    });
    let resp = decode(body);
    assert_eq!(
        resp,
        ChatResponse {
            id: "abc123".into(),
            model: "gemini-2.5-flash".into(),
            content: vec![Content::text("Hello"), Content::text(", world.")],
            stop: StopReason::new(StopKind::EndTurn, Some("STOP")),
            usage: Usage {
                input: 7,
                output: 4,
                ..Usage::default()
            },
        }
    );
}

#[test]
fn thought_signatures_become_google_signed_reasoning_before_their_part() {
    let parts = json!([
        {"text": "**Planning** the call", "thought": true, "thoughtSignature": "SIG_A"},
        {"text": "more thinking", "thought": true},
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "SIG_B"},
        {"text": "Let me check.", "thoughtSignature": "SIG_C"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}},
        {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
        {"text": "", "thoughtSignature": "SIG_D"}
    ]);
    let resp = decode(answer(parts, "STOP"));
    assert_eq!(
        resp.content,
        vec![
            google("**Planning** the call", "SIG_A"),
            thought("more thinking"),
            google("", "SIG_B"),
            call("call_resp1_0", "get_weather", r#"{"city":"Paris"}"#),
            google("", "SIG_C"),
            Content::text("Let me check."),
            google("", "SIG_D"),
        ]
    );
    assert_eq!(resp.stop, StopReason::new(StopKind::ToolUse, Some("STOP")));
}

#[test]
fn function_calls_keep_given_ids_synthesize_missing_ones_and_map_names_back() {
    let mut names = ToolNames::default();
    let renamed = names.to_target("github.create_issue", 64);
    let ctx = Context {
        tool_names: names,
        ..ctx()
    };
    let parts = json!([
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
        {"functionCall": {"name": renamed, "args": {"title": "bug"}, "id": "fc_7"}},
        {"functionCall": {"name": "now"}}
    ]);
    let resp = decode_response(answer(parts.clone(), "STOP").to_string().as_bytes(), &ctx).unwrap();
    assert_eq!(
        resp.content,
        vec![
            call("call_resp1_0", "get_weather", r#"{"city":"Paris"}"#),
            call("fc_7", "github.create_issue", r#"{"title":"bug"}"#),
            call("call_resp1_2", "now", "{}"),
        ]
    );
    assert_eq!(resp.stop.kind, StopKind::ToolUse);
    // Without a response id the ids are still stable.
    let mut body = answer(parts, "STOP");
    body.as_object_mut().unwrap().remove("responseId");
    let again = decode_response(body.to_string().as_bytes(), &ctx).unwrap();
    assert!(matches!(&again.content[0], Content::ToolCall { id, .. } if id == "call_gemini_0"));
    assert_eq!(
        again,
        decode_response(body.to_string().as_bytes(), &ctx).unwrap()
    );
}

#[test]
fn every_finish_reason_maps() {
    let cases = [
        ("STOP", StopKind::EndTurn),
        ("MAX_TOKENS", StopKind::MaxTokens),
        ("SAFETY", StopKind::ContentFilter),
        ("RECITATION", StopKind::ContentFilter),
        ("BLOCKLIST", StopKind::ContentFilter),
        ("PROHIBITED_CONTENT", StopKind::ContentFilter),
        ("SPII", StopKind::ContentFilter),
        ("IMAGE_SAFETY", StopKind::ContentFilter),
        ("MALFORMED_FUNCTION_CALL", StopKind::Other),
        ("UNEXPECTED_TOOL_CALL", StopKind::Other),
        ("TOO_MANY_TOOL_CALLS", StopKind::Other),
        ("OTHER", StopKind::Other),
        ("LANGUAGE", StopKind::Other),
        ("FINISH_REASON_UNSPECIFIED", StopKind::Other),
        ("SOMETHING_NEW", StopKind::Other),
    ];
    for (native, kind) in cases {
        let resp = decode(answer(json!([{"text": "partial"}]), native));
        assert_eq!(resp.stop, StopReason::new(kind, Some(native)), "{native}");
        assert_eq!(resp.content, vec![Content::text("partial")], "{native}");
    }
    // No finish reason at all reads as STOP.
    let body = json!({"candidates": [{"content": {"parts": [{"text": "hi"}]}}]});
    assert_eq!(decode(body).stop, StopReason::new(StopKind::EndTurn, None));
    // No candidates and no block reason: not silent either.
    let resp = decode(json!({"candidates": [], "usageMetadata": {"promptTokenCount": 1}}));
    assert_eq!(resp.stop.kind, StopKind::Other);
    assert!(
        resp.content[0]
            .as_text()
            .is_some_and(|t| t.contains("no candidates"))
    );
}

#[test]
fn an_empty_filtered_or_failed_answer_says_why() {
    let body = json!({"candidates": [{"finishReason": "SAFETY", "index": 0}], "responseId": "r"});
    let resp = decode(body);
    assert_eq!(resp.stop.kind, StopKind::ContentFilter);
    let [Content::Refusal { text }] = resp.content.as_slice() else {
        panic!("{:?}", resp.content)
    };
    assert!(text.contains("SAFETY"), "{text}");

    let body = json!({"candidates": [{
        "content": {"parts": [{"text": "hmm", "thought": true}]},
        "finishReason": "MALFORMED_FUNCTION_CALL",
        "finishMessage": "Malformed function call: print(default_api.x(",
    }]});
    let resp = decode(body);
    assert_eq!(resp.stop.kind, StopKind::Other);
    assert_eq!(resp.content[0], thought("hmm"));
    let text = resp.content[1].as_text().expect("a text says why");
    assert!(text.contains("MALFORMED_FUNCTION_CALL") && text.contains("Malformed function call"));
}

#[test]
fn a_blocked_prompt_is_a_refusal_never_an_empty_answer() {
    let body = json!({
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT", "blockReasonMessage": "Blocked for policy."},
        "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
        "modelVersion": "gemini-2.5-pro",
        "responseId": "blk"
    });
    let resp = decode(body);
    assert_eq!(
        resp.stop,
        StopReason::new(StopKind::ContentFilter, Some("PROHIBITED_CONTENT"))
    );
    let [Content::Refusal { text }] = resp.content.as_slice() else {
        panic!("{:?}", resp.content)
    };
    assert!(text.contains("PROHIBITED_CONTENT") && text.contains("Blocked for policy."));
    assert_eq!(resp.usage.input, 12);
    assert_eq!(resp.id, "blk");
}

#[test]
fn usage_splits_cache_and_counts_thoughts_as_output() {
    let body = json!({
        "candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
        "usageMetadata": {
            "promptTokenCount": 1000, "cachedContentTokenCount": 800,
            "candidatesTokenCount": 20, "thoughtsTokenCount": 150,
            "toolUsePromptTokenCount": 5, "totalTokenCount": 1175
        }
    });
    let usage = decode(body.clone()).usage;
    assert_eq!(
        usage,
        Usage {
            input: 205,
            cache_read: 800,
            cache_write: 0,
            output: 170,
            reasoning: 150,
        }
    );
    assert_eq!(usage.total(), 1175, "the total agrees with Google's");
    assert_eq!(usage_of_body(body.to_string().as_bytes()), Some(usage));
    // Counts larger than the prompt saturate; nulls are 0.
    let odd = json!({"usageMetadata": {"promptTokenCount": 3, "cachedContentTokenCount": 9, "thoughtsTokenCount": null}});
    let u = usage_of_body(odd.to_string().as_bytes()).unwrap();
    assert_eq!((u.input, u.cache_read, u.output), (0, 9, 0));
    assert_eq!(usage_of_body(b"not json"), None);
    assert_eq!(usage_of_body(b"{\"candidates\":[]}"), None);
}

#[test]
fn error_envelopes_become_their_errors() {
    let one = br#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"#;
    let err = decode_err(one);
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(
        err.message,
        "Resource has been exhausted (e.g. check quota)."
    );
    assert_eq!(
        err.code, None,
        "Google's status is not another format's code"
    );

    let array =
        br#"[{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}]"#;
    let err = decode_err(array);
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(err.message, "API key not valid.");

    let cases = [
        ("PERMISSION_DENIED", 403, ErrorKind::PermissionDenied),
        ("NOT_FOUND", 404, ErrorKind::NotFound),
        ("UNAVAILABLE", 503, ErrorKind::Overloaded),
        ("DEADLINE_EXCEEDED", 504, ErrorKind::Timeout),
        ("INTERNAL", 500, ErrorKind::Upstream),
    ];
    for (status, code, kind) in cases {
        let body = json!({"error": {"code": code, "message": "m", "status": status}});
        assert_eq!(
            decode_err(body.to_string().as_bytes()).kind,
            kind,
            "{status}"
        );
    }
    // A status-less envelope falls back on the code.
    let err = decode_err(br#"{"error":{"code":404,"message":"no"}}"#);
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[test]
fn what_is_not_a_response_is_a_502_saying_what_it_looks_like() {
    for (body, hint) in [
        (&b"<html>502 Bad Gateway</html>"[..], "<html>"),
        (
            br#"{"choices":[{"message":{}}],"object":"chat.completion"}"#,
            "choices",
        ),
        (br#"[1,2]"#, "not a JSON object"),
        (br#""text""#, "not a JSON object"),
    ] {
        let err = decode_err(body);
        assert_eq!(err.status, 502, "{err}");
        assert_eq!(err.code.as_deref(), Some("unexpected_response"));
        assert!(err.message.contains(hint), "{} lacks {hint}", err.message);
    }
}

// ---------------------------------------------------------------- encode

fn rich_answer() -> ChatResponse {
    ChatResponse {
        id: "resp9".into(),
        model: "upstream-model".into(),
        content: vec![
            google("thinking hard", "SIG_A"),
            thought("unsigned thought"),
            Content::text("Checking."),
            google("", "SIG_B"),
            call("call_1", "get_weather", r#"{"city":"Paris"}"#),
            call("call_2", "now", ""),
        ],
        stop: StopReason::new(StopKind::ToolUse, None),
        usage: Usage {
            input: 100,
            cache_read: 50,
            cache_write: 0,
            output: 40,
            reasoning: 30,
        },
    }
}

#[test]
fn encodes_a_generate_content_response() {
    let body = encode_response(&rich_answer(), &ctx());
    assert_eq!(
        body,
        json!({
            "candidates": [{
                "content": {"role": "model", "parts": [
                    {"text": "thinking hard", "thought": true, "thoughtSignature": "SIG_A"},
                    {"text": "unsigned thought", "thought": true},
                    {"text": "Checking."},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}, "thoughtSignature": "SIG_B"},
                    {"functionCall": {"name": "now", "args": {}, "id": "call_2"}}
                ]},
                "finishReason": "STOP",
                "index": 0
            }],
            "usageMetadata": {
                "promptTokenCount": 150, "cachedContentTokenCount": 50,
                "candidatesTokenCount": 10, "thoughtsTokenCount": 30, "totalTokenCount": 190
            },
            "modelVersion": "my-gemini",
            "responseId": "resp9"
        })
    );
}

#[test]
fn foreign_signatures_and_refusals_are_carried_and_stops_map_back() {
    let resp = ChatResponse {
        content: vec![
            Content::Reasoning {
                text: "claude thinks".into(),
                signature: Some("EqQB".into()),
                signed_by: Some("anthropic".into()),
            },
            Content::RedactedReasoning {
                data: "gAAAA".into(),
                signed_by: Some("openai-responses".into()),
            },
            Content::Refusal {
                text: "I can't help with that.".into(),
            },
            google("", "SIG_END"),
        ],
        stop: StopReason::new(StopKind::ContentFilter, Some("refusal")),
        ..ChatResponse::default()
    };
    let body = encode_response(&resp, &ctx());
    assert_eq!(
        body["candidates"][0]["content"]["parts"],
        json!([
            {"text": "claude thinks", "thought": true, "thoughtSignature": "mg1:sig:anthropic:EqQB"},
            {"text": "", "thought": true, "thoughtSignature": "mg1:redacted:openai-responses:gAAAA"},
            {"text": "I can't help with that."},
            {"text": "", "thoughtSignature": "SIG_END"}
        ])
    );
    assert_eq!(body["candidates"][0]["finishReason"], "SAFETY");
    for (kind, native) in [
        (StopKind::EndTurn, "STOP"),
        (StopKind::ToolUse, "STOP"),
        (StopKind::StopSequence, "STOP"),
        (StopKind::MaxTokens, "MAX_TOKENS"),
        (StopKind::ContentFilter, "SAFETY"),
        (StopKind::Other, "OTHER"),
    ] {
        let resp = ChatResponse {
            stop: StopReason::new(kind, None),
            ..ChatResponse::default()
        };
        assert_eq!(
            encode_response(&resp, &ctx())["candidates"][0]["finishReason"],
            native
        );
    }
}

#[test]
fn google_content_round_trips() {
    let mut resp = rich_answer();
    resp.model = "my-gemini".into();
    // Canonical empty arguments are `{}`.
    resp.content[5] = call("call_2", "now", "{}");
    let body = encode_response(&resp, &ctx());
    let mut back = decode(body);
    // Native values are Gemini's after the trip.
    back.stop.native = None;
    assert_eq!(back, resp);
}

// ---------------------------------------------------------------- streams

/// A realistic Gemini stream: thoughts with a signature, text, two
/// parallel calls without ids (the first signed), usage on every chunk.
fn gemini_stream() -> Vec<u8> {
    let usage = |c: u64| json!({"promptTokenCount": 40, "candidatesTokenCount": c, "thoughtsTokenCount": 25, "totalTokenCount": 65 + c});
    sse(&[
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "**Planning** the", "thought": true}]}, "index": 0}], "usageMetadata": usage(0), "modelVersion": "gemini-2.5-flash", "responseId": "r42"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": " answer", "thought": true, "thoughtSignature": "SIG_T"}]}, "index": 0}], "usageMetadata": usage(0), "modelVersion": "gemini-2.5-flash", "responseId": "r42"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Checking the "}]}, "index": 0}], "usageMetadata": usage(3), "modelVersion": "gemini-2.5-flash", "responseId": "r42"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "weather ☀️"}]}, "index": 0}], "usageMetadata": usage(6), "modelVersion": "gemini-2.5-flash", "responseId": "r42"}),
        json!({"candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "SIG_C"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
        ]}, "finishReason": "STOP", "index": 0}], "usageMetadata": usage(20), "modelVersion": "gemini-2.5-flash", "responseId": "r42"}),
    ])
}

fn gsig(s: &str) -> Delta {
    Delta::Signature {
        signature: s.into(),
        signed_by: Some("google".into()),
    }
}

fn expected_stream_events() -> Vec<StreamEvent> {
    use StreamEvent::*;
    let sig = gsig;
    vec![
        MessageStart {
            id: "r42".into(),
            model: "gemini-2.5-flash".into(),
            usage: None,
        },
        BlockStart {
            index: 0,
            block: self::BlockStart::Reasoning,
        },
        Delta {
            index: 0,
            delta: self::Delta::Reasoning("**Planning** the".into()),
        },
        Delta {
            index: 0,
            delta: self::Delta::Reasoning(" answer".into()),
        },
        Delta {
            index: 0,
            delta: sig("SIG_T"),
        },
        BlockStop { index: 0 },
        BlockStart {
            index: 1,
            block: self::BlockStart::Text,
        },
        Delta {
            index: 1,
            delta: self::Delta::Text("Checking the ".into()),
        },
        Delta {
            index: 1,
            delta: self::Delta::Text("weather ☀️".into()),
        },
        BlockStop { index: 1 },
        BlockStart {
            index: 2,
            block: self::BlockStart::Reasoning,
        },
        Delta {
            index: 2,
            delta: sig("SIG_C"),
        },
        BlockStop { index: 2 },
        BlockStart {
            index: 3,
            block: self::BlockStart::ToolCall {
                id: "call_r42_0".into(),
                name: "get_weather".into(),
            },
        },
        Delta {
            index: 3,
            delta: self::Delta::ToolArgs(r#"{"city":"Paris"}"#.into()),
        },
        BlockStop { index: 3 },
        BlockStart {
            index: 4,
            block: self::BlockStart::ToolCall {
                id: "call_r42_1".into(),
                name: "get_weather".into(),
            },
        },
        Delta {
            index: 4,
            delta: self::Delta::ToolArgs(r#"{"city":"Rome"}"#.into()),
        },
        BlockStop { index: 4 },
        Stop(StopReason::new(StopKind::ToolUse, Some("STOP"))),
        Usage(self::Usage {
            input: 40,
            output: 45,
            reasoning: 25,
            ..self::Usage::default()
        }),
        MessageStop,
    ]
}

#[test]
fn stream_decoder_reads_a_gemini_stream_at_every_chunking() {
    let bytes = gemini_stream();
    let expected = expected_stream_events();
    for size in 1..=bytes.len() {
        assert_eq!(decode_stream(&bytes, size), expected, "split every {size}");
    }
    // LF framing too.
    let lf = String::from_utf8(bytes).unwrap().replace("\r\n", "\n");
    assert_eq!(decode_stream(lf.as_bytes(), 7), expected);
}

#[test]
fn streamed_and_whole_answers_decode_alike() {
    // The same answer as one body: the stream's blocks are its contents.
    let events = expected_stream_events();
    let whole = answer(
        json!([
            {"text": "**Planning** the answer", "thought": true, "thoughtSignature": "SIG_T"},
            {"text": "Checking the weather ☀️"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "SIG_C"},
            {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
        ]),
        "STOP",
    );
    let mut whole = decode(whole).content;
    for c in &mut whole {
        if let Content::ToolCall { id, .. } = c {
            *id = id.replace("resp1", "r42");
        }
    }
    assert_eq!(accumulate(&events), whole);
}

/// The contents a stream's blocks add up to.
fn accumulate(events: &[StreamEvent]) -> Vec<Content> {
    let mut blocks: Vec<(usize, Content)> = Vec::new();
    for e in events {
        match e {
            StreamEvent::BlockStart { index, block } => {
                let c = match block {
                    BlockStart::Text => Content::text(""),
                    BlockStart::Reasoning => thought(""),
                    BlockStart::ToolCall { id, name } => call(id, name, ""),
                    BlockStart::RedactedReasoning { data, signed_by } => {
                        Content::RedactedReasoning {
                            data: data.clone(),
                            signed_by: signed_by.clone(),
                        }
                    }
                };
                blocks.push((*index, c));
            }
            StreamEvent::Delta { index, delta } => {
                let Some((_, c)) = blocks.iter_mut().find(|b| b.0 == *index) else {
                    panic!("a delta for an unknown block")
                };
                match (c, delta) {
                    (Content::Text { text, .. }, Delta::Text(t)) => text.push_str(t),
                    (Content::Reasoning { text, .. }, Delta::Reasoning(t)) => text.push_str(t),
                    (
                        Content::Reasoning {
                            signature,
                            signed_by,
                            ..
                        },
                        Delta::Signature {
                            signature: s,
                            signed_by: by,
                        },
                    ) => {
                        *signature = Some(s.clone());
                        signed_by.clone_from(by);
                    }
                    (Content::ToolCall { arguments, .. }, Delta::ToolArgs(a)) => {
                        arguments.push_str(a)
                    }
                    (c, d) => panic!("{d:?} in {c:?}"),
                }
            }
            _ => {}
        }
    }
    blocks.into_iter().map(|b| b.1).collect()
}

#[test]
fn repeated_cumulative_text_is_not_doubled() {
    let chunk = |t: &str| json!({"candidates": [{"content": {"parts": [{"text": t}]}}]});
    let bytes = sse(&[
        chunk("The quick brown fox"),
        chunk("The quick brown fox jumps"),
        chunk("The quick brown fox jumps"),
        chunk(" over."),
        json!({"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}),
    ]);
    let events = decode_stream(&bytes, 64);
    let text = accumulate(&events);
    assert_eq!(
        text,
        vec![Content::text("The quick brown fox jumps over.hi")]
    );
    // Short texts are not checked: "a" then "a cat" are two increments.
    let bytes = sse(&[
        chunk("a"),
        json!({"candidates": [{"content": {"parts": [{"text": "a cat"}]}, "finishReason": "STOP"}]}),
    ]);
    assert_eq!(
        accumulate(&decode_stream(&bytes, 64)),
        vec![Content::text("aa cat")]
    );
}

#[test]
fn stream_ends_blocks_errors_and_truncation() {
    // A blocked prompt: a text block saying why, then ContentFilter.
    let bytes = sse(&[
        json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 8}, "responseId": "b"}),
    ]);
    let events = decode_stream(&bytes, 5);
    assert!(
        matches!(&accumulate(&events)[..], [Content::Text { text, .. }] if text.contains("SAFETY"))
    );
    assert!(events.contains(&StreamEvent::Stop(StopReason::new(
        StopKind::ContentFilter,
        Some("SAFETY")
    ))));
    assert_eq!(events.last(), Some(&StreamEvent::MessageStop));

    // A filtered candidate with nothing before it.
    let bytes = sse(&[json!({"candidates": [{"finishReason": "RECITATION"}]})]);
    let events = decode_stream(&bytes, 9);
    assert!(
        matches!(&accumulate(&events)[..], [Content::Text { text, .. }] if text.contains("RECITATION"))
    );

    // An error chunk ends the stream.
    let bytes = sse(&[
        json!({"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]}),
        json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}),
        json!({"candidates": [{"content": {"parts": [{"text": "lo"}]}, "finishReason": "STOP"}]}),
    ]);
    let events = decode_stream(&bytes, 11);
    let StreamEvent::Error(err) = events.last().unwrap() else {
        panic!("{events:?}")
    };
    assert_eq!(err.kind, ErrorKind::Overloaded);
    assert_eq!(err.message, "The model is overloaded.");
    assert_eq!(accumulate(&events), vec![Content::text("Hel")]);

    // No finish reason: truncated, with the usage seen so far.
    let bytes = sse(&[
        json!({"candidates": [{"content": {"parts": [{"text": "Hel"}]}}], "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1}}),
    ]);
    let events = decode_stream(&bytes, 4);
    let n = events.len();
    assert_eq!(events[n - 3], StreamEvent::BlockStop { index: 0 });
    assert!(matches!(events[n - 2], StreamEvent::Usage(u) if u.input == 3 && u.output == 1));
    assert!(
        matches!(&events[n - 1], StreamEvent::Error(e) if e.code.as_deref() == Some("stream_truncated"))
    );

    // JSON that is not a response is an error; data that is not JSON is ignored.
    let mut bytes = b"data: not json\n\n".to_vec();
    bytes.extend(sse(&[json!({"candidates": "nope"})]));
    let events = decode_stream(&bytes, 3);
    assert!(
        matches!(&events[..], [StreamEvent::Error(e)] if e.code.as_deref() == Some("malformed_event")),
        "{events:?}"
    );
}

#[test]
fn usage_after_the_finish_reason_is_sent_again_when_it_changes() {
    let bytes = sse(&[
        json!({"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "MAX_TOKENS"}], "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1}}),
        json!({"usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2}}),
    ]);
    let events = decode_stream(&bytes, 100);
    let usages: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Usage(u) => Some(u.output),
            _ => None,
        })
        .collect();
    assert_eq!(usages, vec![1, 2]);
    assert!(events.contains(&StreamEvent::Stop(StopReason::new(
        StopKind::MaxTokens,
        Some("MAX_TOKENS")
    ))));
}

// ---------------------------------------------------------------- stream encode

#[test]
fn stream_encoder_writes_gemini_chunks() {
    let out = encode_stream(&expected_stream_events());
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with("data: {"), "{text}");
    assert!(!text.contains("event:"));
    let chunks = chunks_of(&out);
    for c in &chunks {
        assert_eq!(c["modelVersion"], "my-gemini");
        assert_eq!(c["responseId"], "r42");
        assert_eq!(c["candidates"][0]["index"], 0);
    }
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 20);
    assert_eq!(last["usageMetadata"]["thoughtsTokenCount"], 25);
    for c in &chunks[..chunks.len() - 1] {
        assert!(c["candidates"][0].get("finishReason").is_none());
    }
    // The signature of a reasoning block without text goes on the call.
    assert!(chunks.iter().any(|c| c["candidates"][0]["content"]["parts"]
        == json!([{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_r42_0"}, "thoughtSignature": "SIG_C"}])));
    // A Gemini client decoding our stream sees the same events.
    let mut again = decode_stream(&out, 17);
    if let StreamEvent::MessageStart { model, .. } = &mut again[0] {
        *model = "gemini-2.5-flash".into();
    }
    assert_eq!(again, expected_stream_events());
}

#[test]
fn accumulated_stream_equals_the_non_streamed_encode() {
    let resp = ChatResponse {
        content: vec![
            google("thinking hard", "SIG_A"),
            Content::text("Checking."),
            google("", "SIG_B"),
            call("call_1", "get_weather", r#"{"city":"Paris"}"#),
            Content::Reasoning {
                text: "foreign".into(),
                signature: Some("EqQB".into()),
                signed_by: Some("anthropic".into()),
            },
            google("", "SIG_D"),
            Content::text("Done."),
            google("", "SIG_END"),
        ],
        ..rich_answer()
    };
    // The stream of that answer, text cut in pieces.
    let mut events = vec![StreamEvent::MessageStart {
        id: resp.id.clone(),
        model: "m".into(),
        usage: None,
    }];
    for (index, c) in resp.content.iter().enumerate() {
        let (block, deltas) = match c {
            Content::Text { text, .. } => (
                BlockStart::Text,
                vec![Delta::Text(text[..2].into()), Delta::Text(text[2..].into())],
            ),
            Content::Reasoning {
                text,
                signature,
                signed_by,
            } => {
                let mut d = vec![Delta::Reasoning(text.clone())];
                d.push(Delta::Signature {
                    signature: signature.clone().unwrap(),
                    signed_by: signed_by.clone(),
                });
                (BlockStart::Reasoning, d)
            }
            Content::ToolCall {
                id,
                name,
                arguments,
            } => (
                BlockStart::ToolCall {
                    id: id.clone(),
                    name: name.clone(),
                },
                vec![
                    Delta::ToolArgs(arguments[..5].into()),
                    Delta::ToolArgs(arguments[5..].into()),
                ],
            ),
            _ => unreachable!(),
        };
        events.push(StreamEvent::BlockStart { index, block });
        for delta in deltas {
            events.push(StreamEvent::Delta { index, delta });
        }
        events.push(StreamEvent::BlockStop { index });
    }
    events.push(StreamEvent::Stop(resp.stop.clone()));
    events.push(StreamEvent::Usage(resp.usage));
    events.push(StreamEvent::MessageStop);

    let chunks = chunks_of(&encode_stream(&events));
    let whole = encode_response(&resp, &ctx());
    let whole_parts = whole["candidates"][0]["content"]["parts"]
        .as_array()
        .unwrap();
    assert_eq!(
        merged_parts(&chunks),
        merged_parts(std::slice::from_ref(&whole))
    );
    assert_eq!(&merged_parts(&chunks), whole_parts);
    let last = chunks.last().unwrap();
    assert_eq!(last["usageMetadata"], whole["usageMetadata"]);
    assert_eq!(
        last["candidates"][0]["finishReason"],
        whole["candidates"][0]["finishReason"]
    );
}

#[test]
fn stream_encoder_errors_keepalives_and_unstopped_calls() {
    let events = [
        StreamEvent::KeepAlive,
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::Text,
        },
        StreamEvent::Delta {
            index: 0,
            delta: Delta::Text("Hi".into()),
        },
        StreamEvent::Error(GatewayError::new(ErrorKind::RateLimited, "slow down")),
        StreamEvent::Delta {
            index: 0,
            delta: Delta::Text("after".into()),
        },
        StreamEvent::MessageStop,
    ];
    let out = String::from_utf8(encode_stream(&events)).unwrap();
    assert!(out.starts_with(": keep-alive\n\n"), "{out}");
    let chunks = chunks_of(out.as_bytes());
    assert_eq!(chunks.len(), 2, "{out}");
    assert_eq!(
        chunks[1],
        json!({"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}})
    );

    // Interleaved calls, one never stopped: both are written, each whole.
    let events = [
        StreamEvent::BlockStart {
            index: 0,
            block: BlockStart::ToolCall {
                id: "a".into(),
                name: "f".into(),
            },
        },
        StreamEvent::BlockStart {
            index: 1,
            block: BlockStart::ToolCall {
                id: "b".into(),
                name: "g".into(),
            },
        },
        StreamEvent::Delta {
            index: 0,
            delta: Delta::ToolArgs("{\"x\":".into()),
        },
        StreamEvent::Delta {
            index: 1,
            delta: Delta::ToolArgs("{\"y\":2}".into()),
        },
        StreamEvent::Delta {
            index: 0,
            delta: Delta::ToolArgs("1}".into()),
        },
        StreamEvent::BlockStop { index: 1 },
        StreamEvent::MessageStop,
    ];
    let chunks = chunks_of(&encode_stream(&events));
    assert_eq!(
        merged_parts(&chunks),
        vec![
            json!({"functionCall": {"name": "g", "args": {"y": 2}, "id": "b"}}),
            json!({"functionCall": {"name": "f", "args": {"x": 1}, "id": "a"}}),
        ]
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(last.get("usageMetadata").is_none());
}

// ---------------------------------------------------------------- tap

#[test]
fn tap_reads_usage_finish_reason_and_errors() {
    let bytes = gemini_stream();
    for size in [1, 7, bytes.len()] {
        let mut tap = GeminiStreamTap::new();
        for piece in bytes.chunks(size) {
            tap.observe(piece);
        }
        let s = tap.finish();
        assert_eq!(s.finish_reason.as_deref(), Some("STOP"));
        assert!(s.done);
        assert_eq!(s.error, None);
        assert_eq!(
            s.usage,
            Some(Usage {
                input: 40,
                output: 45,
                reasoning: 25,
                ..Usage::default()
            })
        );
    }
    // Cut before the finish reason: not done.
    let cut = sse(&[
        json!({"candidates": [{"content": {"parts": [{"text": "x"}]}}], "usageMetadata": {"promptTokenCount": 2}}),
    ]);
    let mut tap = GeminiStreamTap::new();
    tap.observe(&cut);
    let s = tap.finish();
    assert!(!s.done);
    assert_eq!(s.usage.map(|u| u.input), Some(2));

    let err = sse(&[json!({"error": {"code": 500, "message": "boom", "status": "INTERNAL"}})]);
    let mut tap = GeminiStreamTap::new();
    tap.observe(&err);
    assert_eq!(tap.finish().error.as_deref(), Some("boom"));

    let blocked = sse(&[json!({"promptFeedback": {"blockReason": "OTHER"}})]);
    let mut tap = GeminiStreamTap::new();
    tap.observe(&blocked);
    let s = tap.finish();
    assert_eq!(s.finish_reason.as_deref(), Some("OTHER"));
    assert!(s.done);
}

// ---------------------------------------------------------------- translated

fn translate(format: Format) -> Vec<u8> {
    let ctx = ctx();
    let mut encoder = format.stream_encoder(&ctx);
    let mut out = Vec::new();
    for e in decode_stream(&gemini_stream(), 13) {
        encoder.encode(&e, &mut out);
    }
    out
}

#[test]
fn a_gemini_stream_reaches_anthropic_clients_as_well_formed_tool_calls() {
    let out = translate(Format::Anthropic);
    let events = sse_events(&out, out.len());
    let mut open: Option<u64> = None;
    let mut calls: Vec<(String, String, String)> = Vec::new();
    let names: Vec<&str> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    for e in &events {
        let data: Value = serde_json::from_str(&e.data).unwrap();
        match e.event.as_deref() {
            Some("content_block_start") => {
                assert_eq!(open, None, "one block at a time");
                open = data["index"].as_u64();
                let b = &data["content_block"];
                if b["type"] == "tool_use" {
                    calls.push((
                        b["id"].as_str().unwrap().into(),
                        b["name"].as_str().unwrap().into(),
                        String::new(),
                    ));
                }
            }
            Some("content_block_delta") => {
                assert_eq!(data["index"].as_u64(), open);
                if let Some(p) = data["delta"]["partial_json"].as_str() {
                    calls.last_mut().unwrap().2.push_str(p);
                }
            }
            Some("content_block_stop") => {
                assert_eq!(data["index"].as_u64(), open);
                open = None;
            }
            Some("message_delta") => {
                assert_eq!(data["delta"]["stop_reason"], "tool_use");
                assert_eq!(data["usage"]["output_tokens"], 45);
            }
            _ => {}
        }
    }
    assert_eq!(
        calls,
        vec![
            (
                "call_r42_0".into(),
                "get_weather".into(),
                r#"{"city":"Paris"}"#.into()
            ),
            (
                "call_r42_1".into(),
                "get_weather".into(),
                r#"{"city":"Rome"}"#.into()
            ),
        ]
    );
}

#[test]
fn a_gemini_stream_reaches_openai_chat_clients_as_well_formed_tool_calls() {
    let out = translate(Format::OpenAiChat);
    let events = sse_events(&out, out.len());
    assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
    let mut calls: Vec<(String, String, String)> = Vec::new();
    let mut finish = None;
    let mut text = String::new();
    for e in &events[..events.len() - 1] {
        let data: Value = serde_json::from_str(&e.data).unwrap();
        let Some(choice) = data["choices"].get(0) else {
            continue;
        };
        if let Some(t) = choice["delta"]["content"].as_str() {
            text.push_str(t);
        }
        for tc in choice["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let i = tc["index"].as_u64().unwrap() as usize;
            if i == calls.len() {
                calls.push((
                    tc["id"]
                        .as_str()
                        .expect("the first fragment has the id")
                        .into(),
                    tc["function"]["name"].as_str().unwrap().into(),
                    String::new(),
                ));
            }
            if let Some(a) = tc["function"]["arguments"].as_str() {
                calls[i].2.push_str(a);
            }
        }
        if let Some(f) = choice["finish_reason"].as_str() {
            finish = Some(f.to_owned());
        }
    }
    assert_eq!(text, "Checking the weather ☀️");
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert_eq!(
        calls,
        vec![
            (
                "call_r42_0".into(),
                "get_weather".into(),
                r#"{"city":"Paris"}"#.into()
            ),
            (
                "call_r42_1".into(),
                "get_weather".into(),
                r#"{"city":"Rome"}"#.into()
            ),
        ]
    );
}

#[test]
fn streamed_tool_names_map_back_and_ids_are_kept() {
    let mut names = ToolNames::default();
    let renamed = names.to_target("github.create_issue", 64);
    let ctx = Context {
        tool_names: names,
        ..ctx()
    };
    let bytes = sse(&[json!({"candidates": [{"content": {"parts": [
        {"functionCall": {"name": renamed, "args": {"t": 1}, "id": "fc_1"}}
    ]}, "finishReason": "STOP"}]})]);
    let events = decode_stream_with(&bytes, 10, &ctx);
    assert_eq!(
        accumulate(&events),
        vec![call("fc_1", "github.create_issue", r#"{"t":1}"#)]
    );
    assert!(events.contains(&StreamEvent::Stop(StopReason::new(
        StopKind::ToolUse,
        Some("STOP")
    ))));
}
