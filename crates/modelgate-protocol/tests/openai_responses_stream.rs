//! OpenAI Responses streams: the encoder (canonical events → a Responses
//! client's SSE), the decoder (an endpoint's SSE → canonical events), and
//! the two together.
//!
//! The encoder's output is checked as a Responses client reads it: event
//! names and `type`s agree, sequence numbers count from 0, every item's
//! events are contiguous with dense output indexes, the items reassembled
//! from the deltas equal the finished items, and the terminal `response`
//! equals `encode_response` of the same answer (what a non-streamed call
//! returns).

use std::collections::BTreeMap;

use modelgate_protocol::framing::sse::{SseDecoder, SseEvent};
use modelgate_protocol::ir::{
    BlockStart, ChatResponse, ClientTool, Content, Delta, ErrorKind, GatewayError, StopKind,
    StopReason, StreamEvent, Usage,
};
use modelgate_protocol::spec::openai_responses::response::encode_response;
use modelgate_protocol::spec::openai_responses::stream_decode::StreamDecoder;
use modelgate_protocol::spec::openai_responses::stream_encode::StreamEncoder;
use modelgate_protocol::spec::openai_responses::wire::{wrap_redacted, wrap_signature};
use modelgate_protocol::translate::{Context, ToolNames};
use serde_json::{Value, json};

// ---------------------------------------------------------------- helpers

/// A context whose client declared `crm.lookup` in a namespace and
/// `apply_patch` as a custom tool.
fn ctx() -> Context {
    let mut client_tools = BTreeMap::new();
    client_tools.insert(
        "crm.lookup".to_owned(),
        ClientTool {
            namespace: Some("crm".into()),
            name: "lookup".into(),
            custom: false,
        },
    );
    client_tools.insert(
        "apply_patch".to_owned(),
        ClientTool {
            namespace: None,
            name: "apply_patch".into(),
            custom: true,
        },
    );
    Context {
        client_model: "client-model".into(),
        created: 1_700_000_000,
        client_tools,
        ..Context::default()
    }
}

fn start(id: &str) -> StreamEvent {
    StreamEvent::MessageStart {
        id: id.into(),
        model: "upstream-model".into(),
        usage: None,
    }
}

fn open(index: usize, block: BlockStart) -> StreamEvent {
    StreamEvent::BlockStart { index, block }
}

fn tool(index: usize, id: &str, name: &str) -> StreamEvent {
    open(
        index,
        BlockStart::ToolCall {
            id: id.into(),
            name: name.into(),
        },
    )
}

fn text(index: usize, t: &str) -> StreamEvent {
    StreamEvent::Delta {
        index,
        delta: Delta::Text(t.into()),
    }
}

fn args(index: usize, a: &str) -> StreamEvent {
    StreamEvent::Delta {
        index,
        delta: Delta::ToolArgs(a.into()),
    }
}

fn thinking(index: usize, t: &str) -> StreamEvent {
    StreamEvent::Delta {
        index,
        delta: Delta::Reasoning(t.into()),
    }
}

fn signature(index: usize, s: &str) -> StreamEvent {
    StreamEvent::Delta {
        index,
        delta: Delta::Signature {
            signature: s.into(),
            signed_by: Some("anthropic".into()),
        },
    }
}

fn stop(index: usize) -> StreamEvent {
    StreamEvent::BlockStop { index }
}

fn usage() -> Usage {
    Usage {
        input: 30,
        cache_read: 20,
        cache_write: 0,
        output: 12,
        reasoning: 4,
    }
}

fn encode(events: &[StreamEvent], ctx: &Context) -> Vec<u8> {
    let mut encoder = StreamEncoder::new(ctx);
    let mut out = Vec::new();
    for event in events {
        encoder.encode(event, &mut out);
    }
    out
}

fn sse_events(bytes: &[u8], chunk: usize) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        decoder.push(piece, &mut events);
    }
    events
}

/// The events of an encoded stream as `(type, data)`, checking that each
/// `event:` name is the data's `type`.
fn parse(bytes: &[u8]) -> Vec<(String, Value)> {
    sse_events(bytes, bytes.len())
        .into_iter()
        .map(|e| {
            let data: Value = serde_json::from_str(&e.data).expect("data is JSON");
            let kind = data["type"].as_str().expect("a type").to_owned();
            assert_eq!(e.event.as_deref(), Some(kind.as_str()), "{data}");
            (kind, data)
        })
        .collect()
}

fn types(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(k, _)| k.as_str()).collect()
}

/// Checks what every Responses client relies on and returns the items
/// reassembled from the deltas (each checked against its finished item).
fn check_stream(events: &[(String, Value)]) -> Vec<Value> {
    for (n, (_, data)) in events.iter().enumerate() {
        assert_eq!(data["sequence_number"], json!(n), "sequence of {data}");
    }
    assert_eq!(
        types(events)[..2],
        ["response.created", "response.in_progress"]
    );
    let response_id = events[0].1["response"]["id"].clone();
    let mut items: Vec<Value> = Vec::new();
    // The item being written: its index and id; items are contiguous.
    let mut current: Option<(usize, String)> = None;
    for (kind, data) in &events[2..] {
        if kind.starts_with("response.") && data.get("response").is_some() {
            assert_eq!(data["response"]["id"], response_id, "one response id");
            assert!(current.is_none(), "{kind} while an item is open");
            continue;
        }
        if kind == "error" {
            continue;
        }
        let index = data["output_index"].as_u64().expect("output_index") as usize;
        if kind == "response.output_item.added" {
            assert!(current.is_none(), "an item added while another is open");
            assert_eq!(index, items.len(), "output indexes are dense");
            let item = data["item"].clone();
            current = Some((index, item["id"].as_str().expect("item id").to_owned()));
            items.push(item);
            continue;
        }
        let (open, id) = current.clone().expect("an event outside an item");
        assert_eq!(index, open, "{kind} of another item than the open one");
        let item = &mut items[index];
        if kind == "response.output_item.done" {
            assert_eq!(data["item"]["id"].as_str(), Some(id.as_str()));
            let done = &data["item"];
            // What the deltas built equals what the item says it is.
            for field in ["content", "summary", "arguments", "input"] {
                assert_eq!(item.get(field), done.get(field), "{field} of {done}");
            }
            *item = done.clone();
            current = None;
            continue;
        }
        assert_eq!(
            data["item_id"].as_str(),
            Some(id.as_str()),
            "{kind} item_id"
        );
        let at = |field: &str| data[field].as_u64().expect(field) as usize;
        let delta = data["delta"].as_str().unwrap_or_default();
        match kind.as_str() {
            "response.content_part.added" => {
                let content = item["content"].as_array_mut().expect("content");
                assert_eq!(at("content_index"), content.len());
                content.push(data["part"].clone());
            }
            "response.output_text.delta" => {
                append(&mut item["content"][at("content_index")]["text"], delta);
            }
            "response.refusal.delta" => {
                append(&mut item["content"][at("content_index")]["refusal"], delta);
            }
            "response.output_text.done" => {
                assert_eq!(item["content"][at("content_index")]["text"], data["text"]);
            }
            "response.refusal.done" => {
                let part = &item["content"][at("content_index")];
                assert_eq!(part["refusal"], data["refusal"]);
            }
            "response.content_part.done" => {
                assert_eq!(item["content"][at("content_index")], data["part"]);
            }
            "response.reasoning_summary_part.added" => {
                let summary = item["summary"].as_array_mut().expect("summary");
                assert_eq!(at("summary_index"), summary.len());
                summary.push(data["part"].clone());
            }
            "response.reasoning_summary_text.delta" => {
                append(&mut item["summary"][at("summary_index")]["text"], delta);
            }
            "response.reasoning_summary_text.done" => {
                assert_eq!(item["summary"][at("summary_index")]["text"], data["text"]);
            }
            "response.reasoning_summary_part.done" => {
                assert_eq!(item["summary"][at("summary_index")], data["part"]);
            }
            "response.function_call_arguments.delta" => {
                append(&mut item["arguments"], delta);
            }
            "response.function_call_arguments.done" => {
                assert_eq!(item["arguments"], data["arguments"]);
            }
            "response.custom_tool_call_input.delta" => {
                append(&mut item["input"], delta);
            }
            "response.custom_tool_call_input.done" => {
                assert_eq!(item["input"], data["input"]);
            }
            other => panic!("unexpected event {other}"),
        }
    }
    assert!(current.is_none(), "an item was never finished");
    items
}

/// Appends a delta to a string field, as a client assembling the stream does.
fn append(field: &mut Value, delta: &str) {
    let so_far = field.as_str().expect("a string field to append to");
    *field = json!(format!("{so_far}{delta}"));
}

/// The terminal event's `response`, checked against the reassembled items.
fn terminal(events: &[(String, Value)]) -> Value {
    let items = check_stream(events);
    let (_, last) = events.last().expect("events");
    let response = last["response"].clone();
    assert_eq!(response["output"], json!(items), "reassembled items");
    response
}

fn answer(id: &str, content: Vec<Content>, stop: StopKind) -> ChatResponse {
    ChatResponse {
        id: id.into(),
        model: "upstream-model".into(),
        content,
        stop: StopReason::new(stop, None),
        usage: usage(),
    }
}

// ---------------------------------------------------------------- encoder

#[test]
fn encoder_text_stream() {
    let ctx = ctx();
    let events = parse(&encode(
        &[
            start("abc"),
            open(0, BlockStart::Text),
            text(0, "Hel"),
            text(0, "lo"),
            stop(0),
            StreamEvent::Stop(StopReason::new(StopKind::EndTurn, Some("end_turn"))),
            StreamEvent::Usage(usage()),
            StreamEvent::MessageStop,
        ],
        &ctx,
    ));
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let created = &events[0].1["response"];
    assert_eq!(created["id"], "resp_abc");
    assert_eq!(created["status"], "in_progress");
    assert_eq!(created["output"], json!([]));
    assert_eq!(created["model"], "client-model");
    assert_eq!(events[2].1["item"]["id"], "msg_abc_0");
    assert_eq!(events[2].1["item"]["status"], "in_progress");
    assert_eq!(events[4].1["delta"], "Hel");
    assert_eq!(events[4].1["logprobs"], json!([]));
    assert_eq!(events[6].1["text"], "Hello");
    let response = terminal(&events);
    let expected = answer("abc", vec![Content::text("Hello")], StopKind::EndTurn);
    assert_eq!(response, encode_response(&expected, &ctx));
    assert_eq!(response["usage"]["input_tokens"], 50);
}

#[test]
fn encoder_reasoning_then_text() {
    let ctx = ctx();
    let events = parse(&encode(
        &[
            start("r1"),
            open(0, BlockStart::Reasoning),
            thinking(0, "Let me "),
            thinking(0, "think."),
            signature(0, "SIG"),
            stop(0),
            open(
                1,
                BlockStart::RedactedReasoning {
                    data: "BLOB".into(),
                    signed_by: Some("anthropic".into()),
                },
            ),
            stop(1),
            open(2, BlockStart::Text),
            text(2, "Yes."),
            stop(2),
            StreamEvent::Usage(usage()),
            StreamEvent::MessageStop,
        ],
        &ctx,
    ));
    assert_eq!(
        types(&events)[2..11],
        [
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.output_item.done",
        ]
    );
    let added = &events[2].1["item"];
    assert_eq!(added["id"], "rs_r1_0");
    assert_eq!(added["summary"], json!([]));
    let done = &events[8].1["item"];
    assert_eq!(
        done["encrypted_content"],
        wrap_signature("anthropic", "SIG")
    );
    assert_eq!(
        events[10].1["item"]["encrypted_content"],
        wrap_redacted("anthropic", "BLOB")
    );
    assert_eq!(events[10].1["item"]["id"], "rs_r1_1");
    let response = terminal(&events);
    let expected = answer(
        "r1",
        vec![
            Content::Reasoning {
                text: "Let me think.".into(),
                signature: Some("SIG".into()),
                signed_by: Some("anthropic".into()),
            },
            Content::RedactedReasoning {
                data: "BLOB".into(),
                signed_by: Some("anthropic".into()),
            },
            Content::text("Yes."),
        ],
        StopKind::EndTurn,
    );
    assert_eq!(response, encode_response(&expected, &ctx));
    assert_eq!(response["output"][2]["id"], "msg_r1_2");
}

#[test]
fn encoder_serializes_interleaved_parallel_tool_calls() {
    let ctx = ctx();
    let events = parse(&encode(
        &[
            start("p"),
            open(0, BlockStart::Text),
            text(0, "Two calls."),
            tool(1, "call_a", "get_weather"),
            args(1, "{\"city\":"),
            tool(2, "call_b", "get_time"),
            args(2, "{\"tz\":"),
            args(1, "\"Paris\"}"),
            args(2, "\"CET\"}"),
            stop(0),
            stop(1),
            stop(2),
            StreamEvent::Stop(StopReason::new(StopKind::ToolUse, Some("tool_calls"))),
            StreamEvent::MessageStop,
        ],
        &ctx,
    ));
    let response = terminal(&events);
    let mut expected = answer(
        "p",
        vec![
            Content::text("Two calls."),
            Content::ToolCall {
                id: "call_a".into(),
                name: "get_weather".into(),
                arguments: "{\"city\":\"Paris\"}".into(),
            },
            Content::ToolCall {
                id: "call_b".into(),
                name: "get_time".into(),
                arguments: "{\"tz\":\"CET\"}".into(),
            },
        ],
        StopKind::ToolUse,
    );
    expected.usage = Usage::default();
    assert_eq!(response, encode_response(&expected, &ctx));
    let output = response["output"].as_array().expect("present");
    assert_eq!(output[1]["id"], "fc_p_1");
    assert_eq!(output[1]["call_id"], "call_a");
    assert_eq!(output[2]["arguments"], "{\"tz\":\"CET\"}");
    // The second call's arguments were buffered and written after the first.
    let deltas: Vec<(u64, &str)> = events
        .iter()
        .filter(|(k, _)| k == "response.function_call_arguments.delta")
        .map(|(_, d)| {
            (
                d["output_index"].as_u64().expect("present"),
                d["delta"].as_str().expect("present"),
            )
        })
        .collect();
    assert_eq!(
        deltas,
        [
            (1, "{\"city\":"),
            (1, "\"Paris\"}"),
            (2, "{\"tz\":"),
            (2, "\"CET\"}")
        ]
    );
}

#[test]
fn encoder_namespace_and_custom_tools() {
    let ctx = ctx();
    let events = parse(&encode(
        &[
            start("t"),
            tool(0, "call_1", "crm.lookup"),
            args(0, "{\"id\":7}"),
            stop(0),
            tool(1, "call_2", "apply_patch"),
            args(1, "{\"input\":\"*** Begin"),
            args(1, " Patch\\n\"}"),
            stop(1),
            tool(2, "call_3", "ping"),
            stop(2),
            StreamEvent::MessageStop,
        ],
        &ctx,
    ));
    let added: Vec<&Value> = events
        .iter()
        .filter(|(k, _)| k == "response.output_item.added")
        .map(|(_, d)| &d["item"])
        .collect();
    assert_eq!(
        added[0],
        &json!({"type": "function_call", "id": "fc_t_0", "call_id": "call_1",
            "name": "lookup", "namespace": "crm", "arguments": "", "status": "in_progress"})
    );
    assert_eq!(
        added[1],
        &json!({"type": "custom_tool_call", "id": "ctc_t_1", "call_id": "call_2",
            "name": "apply_patch", "input": ""})
    );
    let custom: Vec<(&str, &Value)> = events
        .iter()
        .filter(|(k, _)| k.starts_with("response.custom_tool_call_input"))
        .map(|(k, d)| (k.as_str(), d))
        .collect();
    assert_eq!(custom.len(), 2, "one delta, then done");
    assert_eq!(custom[0].1["delta"], "*** Begin Patch\n");
    assert_eq!(custom[1].1["input"], "*** Begin Patch\n");
    assert!(
        !events
            .iter()
            .any(|(k, d)| k == "response.function_call_arguments.delta" && d["output_index"] == 1),
        "a custom tool's arguments are not streamed as JSON"
    );
    let response = terminal(&events);
    assert_eq!(response["output"][2]["arguments"], "{}", "no arguments");
    let mut expected = answer(
        "t",
        vec![
            Content::ToolCall {
                id: "call_1".into(),
                name: "crm.lookup".into(),
                arguments: "{\"id\":7}".into(),
            },
            Content::ToolCall {
                id: "call_2".into(),
                name: "apply_patch".into(),
                arguments: "{\"input\":\"*** Begin Patch\\n\"}".into(),
            },
            Content::ToolCall {
                id: "call_3".into(),
                name: "ping".into(),
                arguments: "{}".into(),
            },
        ],
        StopKind::ToolUse,
    );
    expected.usage = Usage::default();
    assert_eq!(response, encode_response(&expected, &ctx));
}

#[test]
fn encoder_max_tokens_is_incomplete() {
    let ctx = ctx();
    let events = parse(&encode(
        &[
            start("m"),
            open(0, BlockStart::Text),
            text(0, "Cut"),
            stop(0),
            StreamEvent::Stop(StopReason::new(StopKind::MaxTokens, Some("max_tokens"))),
            StreamEvent::Usage(usage()),
            StreamEvent::MessageStop,
        ],
        &ctx,
    ));
    assert_eq!(events.last().expect("present").0, "response.incomplete");
    let response = terminal(&events);
    assert_eq!(response["status"], "incomplete");
    assert_eq!(
        response["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    let expected = answer("m", vec![Content::text("Cut")], StopKind::MaxTokens);
    assert_eq!(response, encode_response(&expected, &ctx));
}

#[test]
fn encoder_content_filter_without_text_streams_the_refusal_item() {
    let ctx = ctx();
    let events = parse(&encode(
        &[
            start("f"),
            StreamEvent::Stop(StopReason::new(StopKind::ContentFilter, None)),
            StreamEvent::MessageStop,
        ],
        &ctx,
    ));
    assert!(types(&events).contains(&"response.refusal.delta"));
    let response = terminal(&events);
    let mut expected = answer("f", vec![], StopKind::ContentFilter);
    expected.usage = Usage::default();
    assert_eq!(response, encode_response(&expected, &ctx));
    assert_eq!(response["output"][0]["content"][0]["type"], "refusal");
}

#[test]
fn encoder_error_mid_stream_fails_the_response_and_ends() {
    let ctx = ctx();
    let err = GatewayError::new(ErrorKind::Upstream, "the upstream fell over")
        .with_code("stream_truncated");
    let events = parse(&encode(
        &[
            start("e"),
            open(0, BlockStart::Text),
            text(0, "Partial"),
            tool(1, "call_x", "get_weather"),
            args(1, "{\"ci"),
            StreamEvent::Error(err),
            // Nothing is written after the error.
            text(0, "more"),
            StreamEvent::MessageStop,
        ],
        &ctx,
    ));
    let kinds = types(&events);
    assert_eq!(kinds[kinds.len() - 2..], ["error", "response.failed"]);
    let error = &events[events.len() - 2].1;
    assert_eq!(error["code"], "stream_truncated");
    assert_eq!(error["message"], "the upstream fell over");
    assert_eq!(error["param"], Value::Null);
    let response = terminal(&events);
    assert_eq!(response["status"], "failed");
    assert_eq!(
        response["error"],
        json!({"code": "stream_truncated", "message": "the upstream fell over"})
    );
    // What was received is in the failed response, as items.
    assert_eq!(response["output"][0]["content"][0]["text"], "Partial");
    assert_eq!(response["output"][1]["arguments"], "{\"ci");
}

#[test]
fn encoder_error_before_anything_still_starts_the_response() {
    let ctx = ctx();
    let mut encoder = StreamEncoder::new(&ctx);
    let mut out = Vec::new();
    encoder.encode(&StreamEvent::KeepAlive, &mut out);
    assert_eq!(out, b": keep-alive\n\n");
    out.clear();
    let err = GatewayError::new(ErrorKind::RateLimited, "slow down");
    encoder.encode(&StreamEvent::Error(err), &mut out);
    let events = parse(&out);
    assert_eq!(
        types(&events),
        [
            "response.created",
            "response.in_progress",
            "error",
            "response.failed"
        ]
    );
    assert_eq!(events[2].1["code"], "rate_limit_exceeded");
    assert_eq!(events[0].1["response"]["id"], "resp_modelgate");
    terminal(&events);
}

#[test]
fn encoder_groups_consecutive_text_blocks_and_skips_empty_blocks() {
    let ctx = ctx();
    let events = parse(&encode(
        &[
            start("g"),
            open(0, BlockStart::Text),
            text(0, "one"),
            stop(0),
            // Empty blocks make no item and do not split the message.
            open(1, BlockStart::Reasoning),
            stop(1),
            open(2, BlockStart::Text),
            stop(2),
            open(3, BlockStart::Text),
            text(3, "two"),
            stop(3),
            StreamEvent::MessageStop,
        ],
        &ctx,
    ));
    let response = terminal(&events);
    let output = response["output"].as_array().expect("present");
    assert_eq!(output.len(), 1);
    assert_eq!(output[0]["content"].as_array().expect("present").len(), 2);
    let mut expected = answer(
        "g",
        vec![Content::text("one"), Content::text("two")],
        StopKind::EndTurn,
    );
    expected.usage = Usage::default();
    assert_eq!(response, encode_response(&expected, &ctx));
}

#[test]
fn encoder_start_usage_is_used_when_no_usage_event_came() {
    let ctx = ctx();
    let events = parse(&encode(
        &[
            StreamEvent::MessageStart {
                id: "u".into(),
                model: "m".into(),
                usage: Some(usage()),
            },
            text(0, "implicit text block"),
            StreamEvent::MessageStop,
        ],
        &ctx,
    ));
    let response = terminal(&events);
    assert_eq!(response["usage"]["input_tokens"], 50);
    assert_eq!(
        response["output"][0]["content"][0]["text"],
        "implicit text block"
    );
}

// ---------------------------------------------------------------- decoder

/// A realistic stream of OpenAI's: reasoning with two summary parts, a
/// hosted web search, text, a namespaced function call and a custom tool
/// call, then `response.completed` with usage.
fn openai_stream() -> String {
    let events = [
        json!({"type":"response.created","sequence_number":0,"response":{"id":"resp_9","object":"response","created_at":1,"status":"in_progress","model":"gpt-5","output":[],"usage":null}}),
        json!({"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_9","object":"response","status":"in_progress","model":"gpt-5","output":[]}}),
        json!({"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}}),
        json!({"type":"response.reasoning_summary_part.added","sequence_number":3,"item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}}),
        json!({"type":"response.reasoning_summary_text.delta","sequence_number":4,"item_id":"rs_1","output_index":0,"summary_index":0,"delta":"Plan"}),
        json!({"type":"response.reasoning_summary_text.done","sequence_number":5,"item_id":"rs_1","output_index":0,"summary_index":0,"text":"Plan"}),
        json!({"type":"response.reasoning_summary_part.done","sequence_number":6,"item_id":"rs_1","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":"Plan"}}),
        json!({"type":"response.reasoning_summary_part.added","sequence_number":7,"item_id":"rs_1","output_index":0,"summary_index":1,"part":{"type":"summary_text","text":""}}),
        json!({"type":"response.reasoning_summary_text.delta","sequence_number":8,"item_id":"rs_1","output_index":0,"summary_index":1,"delta":"Act"}),
        json!({"type":"response.output_item.done","sequence_number":9,"output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Plan"},{"type":"summary_text","text":"Act"}],"encrypted_content":"gAAAA_enc"}}),
        json!({"type":"response.output_item.added","sequence_number":10,"output_index":1,"item":{"type":"web_search_call","id":"ws_1","status":"in_progress"}}),
        json!({"type":"response.web_search_call.searching","sequence_number":11,"output_index":1,"item_id":"ws_1"}),
        json!({"type":"response.output_item.done","sequence_number":12,"output_index":1,"item":{"type":"web_search_call","id":"ws_1","status":"completed"}}),
        json!({"type":"response.output_item.added","sequence_number":13,"output_index":2,"item":{"type":"message","id":"msg_1","role":"assistant","status":"in_progress","content":[]}}),
        json!({"type":"response.content_part.added","sequence_number":14,"item_id":"msg_1","output_index":2,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}}),
        json!({"type":"response.output_text.delta","sequence_number":15,"item_id":"msg_1","output_index":2,"content_index":0,"delta":"Hi ","logprobs":[]}),
        json!({"type":"response.output_text.delta","sequence_number":16,"item_id":"msg_1","output_index":2,"content_index":0,"delta":"there","logprobs":[]}),
        json!({"type":"response.output_text.annotation.added","sequence_number":17,"item_id":"msg_1","output_index":2,"content_index":0,"annotation_index":0,"annotation":{}}),
        json!({"type":"response.output_text.done","sequence_number":18,"item_id":"msg_1","output_index":2,"content_index":0,"text":"Hi there","logprobs":[]}),
        json!({"type":"response.content_part.done","sequence_number":19,"item_id":"msg_1","output_index":2,"content_index":0,"part":{"type":"output_text","text":"Hi there","annotations":[]}}),
        json!({"type":"response.content_part.added","sequence_number":20,"item_id":"msg_1","output_index":2,"content_index":1,"part":{"type":"refusal","refusal":""}}),
        json!({"type":"response.refusal.delta","sequence_number":21,"item_id":"msg_1","output_index":2,"content_index":1,"delta":"No."}),
        json!({"type":"response.refusal.done","sequence_number":22,"item_id":"msg_1","output_index":2,"content_index":1,"refusal":"No."}),
        json!({"type":"response.content_part.done","sequence_number":23,"item_id":"msg_1","output_index":2,"content_index":1,"part":{"type":"refusal","refusal":"No."}}),
        json!({"type":"response.output_item.done","sequence_number":24,"output_index":2,"item":{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hi there","annotations":[]},{"type":"refusal","refusal":"No."}]}}),
        json!({"type":"response.output_item.added","sequence_number":25,"output_index":3,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"lookup","namespace":"crm","arguments":"","status":"in_progress"}}),
        json!({"type":"response.function_call_arguments.delta","sequence_number":26,"item_id":"fc_1","output_index":3,"delta":"{\"id\":"}),
        json!({"type":"response.function_call_arguments.delta","sequence_number":27,"item_id":"fc_1","output_index":3,"delta":"7}"}),
        json!({"type":"response.function_call_arguments.done","sequence_number":28,"item_id":"fc_1","output_index":3,"arguments":"{\"id\":7}"}),
        json!({"type":"response.output_item.done","sequence_number":29,"output_index":3,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"lookup","namespace":"crm","arguments":"{\"id\":7}","status":"completed"}}),
        json!({"type":"response.output_item.added","sequence_number":30,"output_index":4,"item":{"type":"custom_tool_call","id":"ctc_1","call_id":"call_2","name":"apply_patch","input":""}}),
        json!({"type":"response.custom_tool_call_input.delta","sequence_number":31,"item_id":"ctc_1","output_index":4,"delta":"*** Begin \"x\""}),
        json!({"type":"response.custom_tool_call_input.delta","sequence_number":32,"item_id":"ctc_1","output_index":4,"delta":"\n"}),
        json!({"type":"response.custom_tool_call_input.done","sequence_number":33,"item_id":"ctc_1","output_index":4,"input":"*** Begin \"x\"\n"}),
        json!({"type":"response.output_item.done","sequence_number":34,"output_index":4,"item":{"type":"custom_tool_call","id":"ctc_1","call_id":"call_2","name":"apply_patch","input":"*** Begin \"x\"\n"}}),
        json!({"type":"response.completed","sequence_number":35,"response":{"id":"resp_9","object":"response","status":"completed","model":"gpt-5","output":[],"incomplete_details":null,"usage":{"input_tokens":50,"input_tokens_details":{"cached_tokens":20},"output_tokens":12,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":62}}}),
    ];
    events
        .iter()
        .map(|e| {
            format!(
                "event: {}\ndata: {e}\n\n",
                e["type"].as_str().expect("a type")
            )
        })
        .collect()
}

fn decode(bytes: &[u8], chunk: usize, ctx: &Context) -> Vec<StreamEvent> {
    let mut decoder = StreamDecoder::new(ctx);
    let mut out = Vec::new();
    for event in sse_events(bytes, chunk) {
        decoder.feed(&event, &mut out);
    }
    decoder.finish(&mut out);
    out
}

fn expected_openai_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::MessageStart {
            id: "resp_9".into(),
            model: "gpt-5".into(),
            usage: None,
        },
        open(0, BlockStart::Reasoning),
        thinking(0, "Plan"),
        thinking(0, "\n\n"),
        thinking(0, "Act"),
        StreamEvent::Delta {
            index: 0,
            delta: Delta::Signature {
                signature: "gAAAA_enc".into(),
                signed_by: Some("openai-responses".into()),
            },
        },
        stop(0),
        open(1, BlockStart::Text),
        text(1, "Hi "),
        text(1, "there"),
        stop(1),
        open(2, BlockStart::Text),
        text(2, "No."),
        stop(2),
        tool(3, "call_1", "crm.lookup"),
        args(3, "{\"id\":"),
        args(3, "7}"),
        stop(3),
        tool(4, "call_2", "apply_patch"),
        args(4, &json!({"input": "*** Begin \"x\"\n"}).to_string()),
        stop(4),
        StreamEvent::Stop(StopReason::new(StopKind::ToolUse, Some("completed"))),
        StreamEvent::Usage(usage()),
        StreamEvent::MessageStop,
    ]
}

#[test]
fn decoder_reads_a_realistic_stream() {
    let stream = openai_stream();
    assert_eq!(
        decode(stream.as_bytes(), stream.len(), &ctx()),
        expected_openai_events()
    );
}

#[test]
fn decoder_is_independent_of_chunking() {
    let stream = openai_stream();
    let bytes = stream.as_bytes();
    let expected = expected_openai_events();
    for chunk in 1..=bytes.len() {
        assert_eq!(decode(bytes, chunk, &ctx()), expected, "chunk {chunk}");
    }
    // Every two-way split, through one SSE decoder.
    for at in 0..=bytes.len() {
        let mut sse = SseDecoder::new();
        let mut events = Vec::new();
        sse.push(&bytes[..at], &mut events);
        sse.push(&bytes[at..], &mut events);
        let mut decoder = StreamDecoder::new(&ctx());
        let mut out = Vec::new();
        for event in &events {
            decoder.feed(event, &mut out);
        }
        decoder.finish(&mut out);
        assert_eq!(out, expected, "split at {at}");
    }
}

#[test]
fn decoder_maps_renamed_tools_back() {
    let mut names = ToolNames::default();
    let renamed = names.to_target("my.tool", 64);
    let ctx = Context {
        tool_names: names,
        ..ctx()
    };
    let stream = [
        json!({"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","call_id":"c","name":renamed,"arguments":""}}),
        json!({"type":"response.output_item.done","output_index":0,"item":{"type":"function_call","call_id":"c","name":renamed,"arguments":"{}"}}),
        json!({"type":"response.completed","response":{"id":"resp_x","status":"completed","output":[]}}),
    ]
    .iter()
    .map(|e| format!("data: {e}\n\n"))
    .collect::<String>();
    let events = decode(stream.as_bytes(), 7, &ctx);
    assert_eq!(
        events,
        [
            StreamEvent::MessageStart {
                id: String::new(),
                model: String::new(),
                usage: None
            },
            tool(0, "c", "my.tool"),
            args(0, "{}"),
            stop(0),
            StreamEvent::Stop(StopReason::new(StopKind::ToolUse, Some("completed"))),
            StreamEvent::MessageStop,
        ]
    );
}

#[test]
fn decoder_reports_a_truncated_stream() {
    let stream = openai_stream();
    let cut = stream
        .find("event: response.content_part.added")
        .expect("present");
    let events = decode(&stream.as_bytes()[..cut], 64, &ctx());
    let Some(StreamEvent::Error(err)) = events.last() else {
        panic!("{events:?}");
    };
    assert_eq!(err.code.as_deref(), Some("stream_truncated"));
    assert!(!events.contains(&StreamEvent::MessageStop));
}

#[test]
fn decoder_reads_failed_responses_and_error_events() {
    let failed = concat!(
        "event: response.created\n",
        r#"data: {"type":"response.created","response":{"id":"resp_f","model":"gpt-5","status":"in_progress","output":[]}}"#,
        "\n\n",
        "event: response.output_item.added\n",
        r#"data: {"type":"response.output_item.added","output_index":0,"item":{"type":"message","content":[]}}"#,
        "\n\n",
        "event: response.output_text.delta\n",
        r#"data: {"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"Hi"}"#,
        "\n\n",
        "event: response.failed\n",
        r#"data: {"type":"response.failed","response":{"id":"resp_f","status":"failed","output":[],"error":{"code":"server_error","message":"The model crashed"}}}"#,
        "\n\n",
        "event: response.output_text.delta\n",
        r#"data: {"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":"late"}"#,
        "\n\n",
    );
    let events = decode(failed.as_bytes(), 5, &ctx());
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events[1], open(0, BlockStart::Text));
    assert_eq!(events[2], text(0, "Hi"));
    let StreamEvent::Error(err) = &events[3] else {
        panic!("{events:?}");
    };
    assert_eq!(err.message, "The model crashed");
    assert_eq!(err.code.as_deref(), Some("server_error"));

    let error = concat!(
        "event: error\n",
        r#"data: {"type":"error","code":"rate_limit_exceeded","message":"Slow down","param":null,"sequence_number":0}"#,
        "\n\n",
    );
    let events = decode(error.as_bytes(), 3, &ctx());
    let [StreamEvent::Error(err)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(err.message, "Slow down");
    assert_eq!(err.code.as_deref(), Some("rate_limit_exceeded"));
}

#[test]
fn decoder_rejects_malformed_known_events_and_ignores_unknown_ones() {
    let stream = concat!(
        "event: response.audio.delta\ndata: not json at all\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"output_index\":\"zero\"}\n\n",
    );
    let events = decode(stream.as_bytes(), 4, &ctx());
    let [StreamEvent::Error(err)] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert_eq!(err.code.as_deref(), Some("malformed_event"));
    assert!(err.message.contains("response.output_text.delta"));
}

#[test]
fn decoder_reads_items_given_only_whole() {
    // Some servers send items only at their end, or only in the final object.
    let stream = [
        json!({"type":"response.created","response":{"id":"resp_w","model":"m","output":[]}}),
        json!({"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","summary":[],"encrypted_content":"gAAAA_only"}}),
        json!({"type":"response.output_item.done","output_index":1,"item":{"type":"message","content":[{"type":"output_text","text":"whole"}]}}),
        json!({"type":"response.incomplete","response":{"id":"resp_w","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},
            "output":[{"type":"reasoning","summary":[]},{"type":"message","content":[{"type":"output_text","text":"whole"}]},
                      {"type":"function_call","call_id":"c9","name":"f","arguments":"{\"a\":1}"}]}}),
    ]
    .iter()
    .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().expect("a type")))
    .collect::<String>();
    let events = decode(stream.as_bytes(), 11, &ctx());
    assert_eq!(
        events,
        [
            StreamEvent::MessageStart {
                id: "resp_w".into(),
                model: "m".into(),
                usage: None
            },
            open(
                0,
                BlockStart::RedactedReasoning {
                    data: "gAAAA_only".into(),
                    signed_by: Some("openai-responses".into())
                }
            ),
            stop(0),
            open(1, BlockStart::Text),
            text(1, "whole"),
            stop(1),
            tool(2, "c9", "f"),
            args(2, "{\"a\":1}"),
            stop(2),
            StreamEvent::Stop(StopReason::new(StopKind::MaxTokens, Some("incomplete"))),
            StreamEvent::MessageStop,
        ]
    );
}

// ---------------------------------------------------------------- round trip

/// The answer a stream of canonical events carries.
fn accumulate(events: &[StreamEvent]) -> (Vec<Content>, Option<StopKind>, Option<Usage>) {
    let mut blocks: BTreeMap<usize, Content> = BTreeMap::new();
    let (mut stop, mut usage) = (None, None);
    for event in events {
        match event {
            StreamEvent::BlockStart { index, block } => {
                let content = match block {
                    BlockStart::Text => Content::text(""),
                    BlockStart::ToolCall { id, name } => Content::ToolCall {
                        id: id.clone(),
                        name: name.clone(),
                        arguments: String::new(),
                    },
                    BlockStart::Reasoning => Content::Reasoning {
                        text: String::new(),
                        signature: None,
                        signed_by: None,
                    },
                    BlockStart::RedactedReasoning { data, signed_by } => {
                        Content::RedactedReasoning {
                            data: data.clone(),
                            signed_by: signed_by.clone(),
                        }
                    }
                };
                blocks.insert(*index, content);
            }
            StreamEvent::Delta { index, delta } => match (blocks.get_mut(index), delta) {
                (Some(Content::Text { text, .. }), Delta::Text(t)) => text.push_str(t),
                (Some(Content::ToolCall { arguments, .. }), Delta::ToolArgs(a)) => {
                    arguments.push_str(a);
                }
                (Some(Content::Reasoning { text, .. }), Delta::Reasoning(t)) => text.push_str(t),
                (
                    Some(Content::Reasoning {
                        signature,
                        signed_by,
                        ..
                    }),
                    Delta::Signature {
                        signature: s,
                        signed_by: by,
                    },
                ) => {
                    *signature = Some(s.clone());
                    signed_by.clone_from(by);
                }
                other => panic!("a delta without its block: {other:?}"),
            },
            StreamEvent::Stop(s) => stop = Some(s.kind),
            StreamEvent::Usage(u) => usage = Some(*u),
            _ => {}
        }
    }
    (blocks.into_values().collect(), stop, usage)
}

#[test]
fn canonical_events_survive_encoder_then_decoder() {
    let ctx = ctx();
    let source = vec![
        start("rt"),
        open(0, BlockStart::Reasoning),
        thinking(0, "Think"),
        signature(0, "SIG"),
        stop(0),
        open(
            1,
            BlockStart::RedactedReasoning {
                data: "BLOB".into(),
                signed_by: Some("anthropic".into()),
            },
        ),
        stop(1),
        open(2, BlockStart::Text),
        text(2, "Calling."),
        tool(3, "call_1", "crm.lookup"),
        tool(4, "call_2", "apply_patch"),
        args(4, "{\"input\":\"patch \\\"body\\\"\"}"),
        args(3, "{\"id\":"),
        args(3, "7}"),
        text(2, " Now."),
        stop(2),
        stop(3),
        stop(4),
        StreamEvent::Stop(StopReason::new(StopKind::ToolUse, Some("tool_use"))),
        StreamEvent::Usage(usage()),
        StreamEvent::MessageStop,
    ];
    let bytes = encode(&source, &ctx);
    terminal(&parse(&bytes));
    // The client's context is the upstream's here: names need no mapping.
    let decoded = decode(&bytes, 13, &Context::default());
    assert_eq!(decoded.last(), Some(&StreamEvent::MessageStop));
    let (content, stop, usage_seen) = accumulate(&decoded);
    // The decoder reads the gateway's envelope back: the same signature
    // and redacted data.
    let (want, want_stop, want_usage) = accumulate(&source);
    assert_eq!(content, want);
    assert_eq!(stop, want_stop);
    assert_eq!(usage_seen, want_usage);
}
