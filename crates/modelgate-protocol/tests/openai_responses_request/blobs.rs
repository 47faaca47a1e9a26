//! Reasoning blobs go only where they were made.

use super::*;

/// Whether `needle` appears anywhere in the body.
fn mentions(body: &Value, needle: &str) -> bool {
    body.to_string().contains(needle)
}

#[test]
fn responses_reasoning_is_replayed_to_anthropic_only_when_anthropic_signed_it() {
    let req = decode(json!({
        "model": "claude-sonnet",
        "reasoning": {"effort": "high"},
        "input": [
            {"role": "user", "content": "Weather in Paris?"},
            {"type": "reasoning", "id": "rs_0", "summary": [{"type": "summary_text", "text": "Old OpenAI thought."}],
             "encrypted_content": "gAAAAABopenai-blob"},
            {"type": "function_call", "call_id": "call_0", "name": "get_weather", "arguments": "{\"city\":\"Lyon\"}"},
            {"type": "function_call_output", "call_id": "call_0", "output": "18C"},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Call the weather tool."}],
             "encrypted_content": wrap_signature("anthropic", "EqQBCkYIBxsig")},
            {"type": "reasoning", "id": "rs_2", "summary": [],
             "encrypted_content": wrap_redacted("anthropic", "EmwKAhgBredacted")},
            {"type": "function_call", "call_id": "toolu_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call_output", "call_id": "toolu_1", "output": "21C"}
        ],
        "tools": [{"type": "function", "name": "get_weather", "strict": true,
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    }));
    let body = anthropic::request::encode_request(
        &req,
        &Target::new("claude-sonnet-4-5"),
        &mut ToolNames::default(),
    )
    .expect("anthropic");
    let messages = body["messages"].as_array().expect("messages");
    // The OpenAI turn keeps only its tool call; the Anthropic turn replays
    // its thinking, signature intact, before the call.
    assert_eq!(
        messages[1]["content"],
        json!([{"type": "tool_use", "id": "call_0", "name": "get_weather", "input": {"city": "Lyon"}}])
    );
    assert_eq!(
        messages[3]["content"],
        json!([
            {"type": "thinking", "thinking": "Call the weather tool.", "signature": "EqQBCkYIBxsig"},
            {"type": "redacted_thinking", "data": "EmwKAhgBredacted"},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
        ])
    );
    assert!(!mentions(&body, "gAAAAABopenai-blob"), "{body}");
    assert!(!mentions(&body, "Old OpenAI thought."), "{body}");
    assert!(!mentions(&body, "mg1:"), "{body}");
    assert_eq!(body["thinking"]["type"], "enabled");
}

fn foreign_reasoning() -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![
            msg(Role::User, vec![text("hi")]),
            msg(
                Role::Assistant,
                vec![
                    reasoning(
                        "openai summary",
                        Some("gAAAAsigblob"),
                        Some(SIGNED_BY_RESPONSES),
                    ),
                    redacted("gAAAAredblob", SIGNED_BY_RESPONSES),
                    reasoning("claude thought", Some("EqQBanthropic"), Some("anthropic")),
                    redacted("EmwKanthropic", "anthropic"),
                    Content::RedactedReasoning {
                        data: "unsignedblob".into(),
                        signed_by: None,
                    },
                    reasoning("plain thought", None, None),
                    text("Hello."),
                ],
            ),
            msg(Role::User, vec![text("again")]),
        ],
        ..ChatRequest::default()
    }
}

#[test]
fn anthropic_never_receives_a_blob_it_did_not_sign() {
    let body = anthropic::request::encode_request(
        &foreign_reasoning(),
        &Target::new("claude"),
        &mut ToolNames::default(),
    )
    .expect("anthropic");
    assert_eq!(
        body["messages"][1]["content"],
        json!([
            {"type": "thinking", "thinking": "claude thought", "signature": "EqQBanthropic"},
            {"type": "redacted_thinking", "data": "EmwKanthropic"},
            {"type": "text", "text": "Hello."}
        ])
    );
    for blob in ["gAAAAsigblob", "gAAAAredblob", "unsignedblob"] {
        assert!(!mentions(&body, blob), "{blob} in {body}");
    }
}

#[test]
fn openai_chat_sends_reasoning_text_but_never_a_blob() {
    let body = openai_chat::request::encode_request(
        &foreign_reasoning(),
        &Target::new("gpt-4o"),
        &mut ToolNames::default(),
    )
    .expect("chat");
    assert_eq!(
        body["messages"][1],
        json!({"role": "assistant", "content": "Hello.", "reasoning_content": "plain thought"})
    );
    for blob in [
        "gAAAAsigblob",
        "gAAAAredblob",
        "EqQBanthropic",
        "EmwKanthropic",
        "unsignedblob",
    ] {
        assert!(!mentions(&body, blob), "{blob} in {body}");
    }
}

#[test]
fn a_responses_endpoint_never_receives_another_producers_blob() {
    let body = encode_request(
        &foreign_reasoning(),
        &Target::new("gpt-5"),
        &mut ToolNames::default(),
    )
    .expect("responses");
    assert_eq!(
        body["input"],
        json!([
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "openai summary"}],
             "encrypted_content": "gAAAAsigblob"},
            {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAredblob"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello."}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "again"}]}
        ])
    );
    for blob in ["EqQBanthropic", "EmwKanthropic", "unsignedblob"] {
        assert!(!mentions(&body, blob), "{blob} in {body}");
    }
}
