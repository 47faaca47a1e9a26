//! Micro-benchmarks of the pure code on the request path:
//! `cargo bench -p modelgate-protocol`.

use divan::{Bencher, black_box};
use modelgate_protocol::body::JsonObject;
use modelgate_protocol::codec::Format;
use modelgate_protocol::framing::sse::SseDecoder;
use modelgate_protocol::translate::{Context, Target, ToolNames};
use serde_json::json;

fn main() {
    divan::main();
}

fn openai_request() -> Vec<u8> {
    json!({
        "model": "oai/gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
            {"role": "user", "content": "What is the weather in Paris and in Berlin today?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 21, \"sky\": \"clear\"}"},
            {"role": "user", "content": "And tomorrow?"}
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
        "temperature": 0.7, "max_tokens": 512, "stream": true, "stream_options": {"include_usage": true}
    })
    .to_string()
    .into_bytes()
}

fn anthropic_request() -> Vec<u8> {
    json!({
        "model": "ant/claude",
        "max_tokens": 512,
        "system": "You are a helpful assistant. Answer briefly.",
        "messages": [
            {"role": "user", "content": "What is the weather in Paris and in Berlin today?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "{\"temp_c\": 21}"}, {"type": "text", "text": "And tomorrow?"}]}
        ],
        "tools": [{"name": "get_weather", "description": "Current weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
        "stream": true
    })
    .to_string()
    .into_bytes()
}

#[divan::bench]
fn passthrough_edit_model(bencher: Bencher) {
    let body = openai_request();
    bencher.bench(|| {
        let mut obj = JsonObject::parse(black_box(&body)).expect("object");
        obj.set_str("model", "gpt-4o");
        obj.to_vec()
    });
}

#[divan::bench(args = [Format::OpenAiChat, Format::Anthropic])]
fn decode_request(bencher: Bencher, format: Format) {
    let body = match format {
        Format::OpenAiChat => openai_request(),
        Format::Anthropic => anthropic_request(),
        Format::OpenAiResponses | Format::Gemini => unreachable!("not among the arguments"),
    };
    bencher.bench(|| format.decode_request(black_box(&body)).expect("decodes"));
}

#[divan::bench(args = [Format::OpenAiChat, Format::Anthropic])]
fn translate_request_to(bencher: Bencher, target: Format) {
    let (source, body) = match target {
        Format::OpenAiChat => (Format::Anthropic, anthropic_request()),
        Format::Anthropic => (Format::OpenAiChat, openai_request()),
        Format::OpenAiResponses | Format::Gemini => unreachable!("not among the arguments"),
    };
    let target_settings = Target::new("model");
    bencher.bench(|| {
        let req = source.decode_request(black_box(&body)).expect("decodes");
        let mut names = ToolNames::default();
        let value = target
            .encode_request(&req, &target_settings, &mut names)
            .expect("encodes");
        serde_json::to_vec(&value).expect("serializes")
    });
}

fn openai_stream(bytes: usize) -> Vec<u8> {
    let mut out = String::new();
    let mut i = 0;
    while out.len() < bytes {
        out.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"token{i} \"}},\"finish_reason\":null}}]}}\n\n"
        ));
        i += 1;
    }
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

fn anthropic_stream(events: usize) -> Vec<u8> {
    let mut out = String::from(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n\
         event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    );
    for i in 0..events {
        out.push_str(&format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"token{i} \"}}}}\n\n"
        ));
    }
    out.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
                  event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":20}}\n\n\
                  event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    out.into_bytes()
}

/// SSE framing of a 1 MB stream fed in 4 KiB reads.
#[divan::bench]
fn sse_decode_1mb(bencher: Bencher) {
    let stream = openai_stream(1 << 20);
    bencher
        .counter(divan::counter::BytesCount::new(stream.len()))
        .bench(|| {
            let mut decoder = SseDecoder::new();
            let mut events = Vec::new();
            let mut n = 0;
            for chunk in black_box(&stream).chunks(4096) {
                decoder.push(chunk, &mut events);
                n += events.len();
                events.clear();
            }
            n
        });
}

/// Translating a stream, per upstream event: SSE → events → client SSE.
#[divan::bench(args = [Format::OpenAiChat, Format::Anthropic])]
fn transcode_stream_to(bencher: Bencher, front: Format) {
    const EVENTS: usize = 200;
    let (source, stream) = match front {
        Format::OpenAiChat => (Format::Anthropic, anthropic_stream(EVENTS)),
        Format::Anthropic => (Format::OpenAiChat, openai_stream(EVENTS * 120)),
        Format::OpenAiResponses | Format::Gemini => unreachable!("not among the arguments"),
    };
    let ctx = Context {
        client_model: "client-model".into(),
        include_usage: true,
        ..Context::default()
    };
    bencher
        .counter(divan::counter::ItemsCount::new(EVENTS))
        .bench(|| {
            let mut sse = SseDecoder::new();
            let mut decoder = source.stream_decoder(&ctx);
            let mut encoder = front.stream_encoder(&ctx);
            let (mut frames, mut events, mut out) = (Vec::new(), Vec::new(), Vec::new());
            sse.push(black_box(&stream), &mut frames);
            for frame in &frames {
                decoder.feed(frame, &mut events);
            }
            decoder.finish(&mut events);
            for event in &events {
                encoder.encode(event, &mut out);
            }
            out.len()
        });
}
