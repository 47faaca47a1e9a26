//! The Gemini fake checked against itself, without the gateway: its
//! stream, its chunks' parts merged (texts of one kind joined, a
//! signature ending a thought), is its non-streamed answer; calls carry
//! no id; only the last chunk has `finishReason` and the whole usage.

use serde_json::{Value, json};

use super::upstream::{Answer, Block, Layout, Tail, Tokens};
use super::upstream_gemini::{self, PROMPT_BLOCKED};

fn request() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
           "tools": [{"functionDeclarations": [{"name": "get_weather"}]}]})
}

fn script(layout: Layout) -> Answer {
    Answer::new(
        vec![
            Block::Reasoning {
                pieces: vec!["Think", "ing."],
                signature: "sig-0123",
            },
            Block::text(&["Hel", "lo."]),
            Block::tool("01", "get_weather", &[r#"{"city":"#, r#""Paris"}"#]),
            Block::tool("02", "get_weather", &[r#"{"city":"Lyon"}"#]),
        ],
        "tool_use",
        Tokens {
            input: 20,
            cache_read: 10,
            cache_write: 0,
            output: 9,
        },
    )
    .layout(layout)
}

fn chunks(events: &[String]) -> Vec<Value> {
    events
        .iter()
        .map(|e| {
            let data = e
                .strip_prefix("data: ")
                .and_then(|d| d.strip_suffix("\r\n\r\n"));
            serde_json::from_str(data.expect("one data line per event")).expect("JSON")
        })
        .collect()
}

/// The parts of a stream, merged.
fn merged(chunks: &[Value]) -> Vec<Value> {
    let mut parts: Vec<Value> = Vec::new();
    for part in chunks.iter().flat_map(|c| {
        c["candidates"][0]["content"]["parts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }) {
        let joins = parts.last().is_some_and(|last: &Value| {
            last.get("text").is_some()
                && part.get("text").is_some()
                && last["thought"] == part["thought"]
                && last.get("thoughtSignature").is_none()
        });
        match parts.last_mut() {
            Some(last) if joins => {
                let text = format!(
                    "{}{}",
                    last["text"].as_str().unwrap_or_default(),
                    part["text"].as_str().unwrap_or_default()
                );
                last["text"] = text.into();
                if let Some(signature) = part.get("thoughtSignature") {
                    last["thoughtSignature"] = signature.clone();
                }
            }
            _ => parts.push(part),
        }
    }
    parts
}

#[test]
fn the_gemini_fake_streams_its_answer() {
    for layout in [Layout::PerEvent, Layout::InterleavedTools] {
        let whole = upstream_gemini::response(&script(layout), &request());
        let expected_parts = json!([
            {"text": "Thinking.", "thought": true, "thoughtSignature": "sig-0123"},
            {"text": "Hello."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_weather", "args": {"city": "Lyon"}}}
        ]);
        assert_eq!(whole["candidates"][0]["content"]["parts"], expected_parts);
        assert_eq!(whole["candidates"][0]["finishReason"], "STOP");
        assert_eq!(
            whole["usageMetadata"],
            json!({"promptTokenCount": 30, "cachedContentTokenCount": 10,
                   "candidatesTokenCount": 9, "totalTokenCount": 39})
        );
        let chunks = chunks(&upstream_gemini::stream(&script(layout), &request()));
        assert_eq!(merged(&chunks), expected_parts.as_array().cloned().unwrap());
        let (last, rest) = chunks.split_last().expect("chunks");
        assert_eq!(last["usageMetadata"], whole["usageMetadata"]);
        assert_eq!(last["candidates"][0]["finishReason"], "STOP");
        assert!(
            rest.iter()
                .all(|c| c["candidates"][0].get("finishReason").is_none())
        );
        if layout == Layout::InterleavedTools {
            assert_eq!(chunks.len(), 1, "all parts in one chunk");
        }
    }
}

#[test]
fn the_gemini_fake_cuts_fails_and_blocks() {
    let cut = script(Layout::PerEvent).tail(Tail::Cut);
    let chunks = chunks(&upstream_gemini::stream(&cut, &request()));
    assert!(
        chunks
            .iter()
            .all(|c| c["candidates"][0].get("finishReason").is_none())
    );
    let failed = script(Layout::PerEvent).tail(Tail::ErrorEvent);
    let chunks = self::chunks(&upstream_gemini::stream(&failed, &request()));
    let last = chunks.last().expect("chunks");
    assert_eq!(
        (&last["error"]["code"], &last["error"]["status"]),
        (&json!(500), &json!("INTERNAL"))
    );
    let blocked = Answer::new(vec![], PROMPT_BLOCKED, Tokens::new(8, 0));
    let body = upstream_gemini::response(&blocked, &request());
    assert!(body.get("candidates").is_none());
    assert_eq!(body["promptFeedback"]["blockReason"], "SAFETY");
}
