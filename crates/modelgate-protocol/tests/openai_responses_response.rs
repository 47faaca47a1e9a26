//! OpenAI Responses answers: canonical → a Responses client
//! (`encode_response`, golden JSON), a Responses endpoint's body →
//! canonical (`decode_response`), and the round trip between them.

use std::collections::BTreeMap;

use modelgate_protocol::ir::{
    ChatResponse, ClientTool, Content, ErrorKind, SIGNED_BY_ANTHROPIC, StopKind, StopReason, Usage,
};
use modelgate_protocol::spec::openai_responses::response::{
    FILTERED_REFUSAL, decode_response, encode_response, response_id, status_of, stop_reason,
};
use modelgate_protocol::spec::openai_responses::wire::SIGNED_BY_RESPONSES;
use modelgate_protocol::translate::{Context, ToolNames};
use serde_json::{Value, json};

fn ctx() -> Context {
    let mut client_tools = BTreeMap::new();
    client_tools.insert(
        "github.create_issue".to_owned(),
        ClientTool {
            namespace: Some("github".into()),
            name: "create_issue".into(),
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
        client_model: "gpt-5-codex".into(),
        created: 1_700_000_000,
        client_tools,
        ..Context::default()
    }
}

fn response(content: Vec<Content>, kind: StopKind) -> ChatResponse {
    ChatResponse {
        id: "msg_01XYZ".into(),
        model: "claude-sonnet-4-5".into(),
        content,
        stop: StopReason::new(kind, None),
        usage: Usage {
            input: 10,
            output: 5,
            ..Usage::default()
        },
    }
}

fn call(id: &str, name: &str, arguments: &str) -> Content {
    Content::ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

fn decode(body: &Value) -> ChatResponse {
    decode_response(body.to_string().as_bytes(), &ctx()).expect("decodes")
}

#[test]
fn ids_and_statuses() {
    assert_eq!(response_id("resp_abc"), "resp_abc");
    assert_eq!(response_id("msg_01"), "resp_msg_01");
    let status = |kind| status_of(&StopReason::new(kind, None));
    assert_eq!(status(StopKind::EndTurn), ("completed", None));
    assert_eq!(status(StopKind::ToolUse), ("completed", None));
    assert_eq!(
        status(StopKind::MaxTokens),
        ("incomplete", Some("max_output_tokens"))
    );
    assert_eq!(
        status(StopKind::ContextWindowExceeded),
        ("incomplete", Some("max_output_tokens"))
    );
    assert_eq!(
        status(StopKind::ContentFilter),
        ("incomplete", Some("content_filter"))
    );
}

#[test]
fn encodes_a_text_answer() {
    let resp = response(
        vec![Content::text("Hello"), Content::text(" world")],
        StopKind::EndTurn,
    );
    assert_eq!(
        encode_response(&resp, &ctx()),
        json!({
            "id": "resp_msg_01XYZ",
            "object": "response",
            "created_at": 1_700_000_000,
            "status": "completed",
            "error": null,
            "incomplete_details": null,
            "instructions": null,
            "max_output_tokens": null,
            "metadata": {},
            "model": "gpt-5-codex",
            "output": [{
                "type": "message",
                "id": "msg_msg_01XYZ_0",
                "role": "assistant",
                "status": "completed",
                "content": [text_part("Hello"), text_part(" world")],
            }],
            "parallel_tool_calls": true,
            "previous_response_id": null,
            "reasoning": {"effort": null, "summary": null},
            "store": false,
            "background": false,
            "temperature": null,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": null,
            "truncation": "disabled",
            "usage": {
                "input_tokens": 10,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": 5,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 15,
            },
        })
    );
}

#[test]
fn encodes_reasoning_in_the_gateway_envelope() {
    let resp = response(
        vec![
            Content::Reasoning {
                text: "Let me think.".into(),
                signature: Some("EqQBCkYIBx".into()),
                signed_by: Some(SIGNED_BY_ANTHROPIC.into()),
            },
            Content::RedactedReasoning {
                data: "EmwKAhgB".into(),
                signed_by: Some(SIGNED_BY_ANTHROPIC.into()),
            },
            Content::Reasoning {
                text: "unsigned".into(),
                signature: None,
                signed_by: None,
            },
            Content::Reasoning {
                text: String::new(),
                signature: Some("gAAAAB".into()),
                signed_by: Some(SIGNED_BY_RESPONSES.into()),
            },
            Content::text("Answer."),
            Content::Refusal {
                text: "But not that.".into(),
            },
        ],
        StopKind::EndTurn,
    );
    let out = encode_response(&resp, &ctx());
    assert_eq!(
        out["output"],
        json!([
            {"type": "reasoning", "id": "rs_msg_01XYZ_0",
             "summary": [{"type": "summary_text", "text": "Let me think."}],
             "encrypted_content": "mg1:sig:anthropic:EqQBCkYIBx"},
            {"type": "reasoning", "id": "rs_msg_01XYZ_1", "summary": [],
             "encrypted_content": "mg1:redacted:anthropic:EmwKAhgB"},
            {"type": "reasoning", "id": "rs_msg_01XYZ_2",
             "summary": [{"type": "summary_text", "text": "unsigned"}],
             "encrypted_content": null},
            {"type": "reasoning", "id": "rs_msg_01XYZ_3", "summary": [],
             "encrypted_content": "gAAAAB"},
            {"type": "message", "id": "msg_msg_01XYZ_4", "role": "assistant",
             "status": "completed",
             "content": [text_part("Answer."), {"type": "refusal", "refusal": "But not that."}]},
        ])
    );
}

#[test]
fn encodes_tool_calls_in_the_shape_the_client_declared() {
    let resp = response(
        vec![
            Content::text("Filing it."),
            call(
                "toolu_1",
                "github.create_issue",
                r#"{"title":"Crash on start"}"#,
            ),
            call(
                "toolu_2",
                "apply_patch",
                r#"{"input":"*** Begin Patch\n*** End Patch"}"#,
            ),
            call("toolu_3", "apply_patch", "raw patch text"),
            call("toolu_4", "get_weather", ""),
            Content::text("Done."),
        ],
        StopKind::ToolUse,
    );
    let out = encode_response(&resp, &ctx());
    assert_eq!(out["status"], "completed");
    assert_eq!(
        out["output"],
        json!([
            {"type": "message", "id": "msg_msg_01XYZ_0", "role": "assistant",
             "status": "completed", "content": [text_part("Filing it.")]},
            {"type": "function_call", "id": "fc_msg_01XYZ_1", "call_id": "toolu_1",
             "name": "create_issue", "namespace": "github",
             "arguments": r#"{"title":"Crash on start"}"#, "status": "completed"},
            {"type": "custom_tool_call", "id": "ctc_msg_01XYZ_2", "call_id": "toolu_2",
             "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch"},
            {"type": "custom_tool_call", "id": "ctc_msg_01XYZ_3", "call_id": "toolu_3",
             "name": "apply_patch", "input": "raw patch text"},
            {"type": "function_call", "id": "fc_msg_01XYZ_4", "call_id": "toolu_4",
             "name": "get_weather", "arguments": "{}", "status": "completed"},
            {"type": "message", "id": "msg_msg_01XYZ_5", "role": "assistant",
             "status": "completed", "content": [text_part("Done.")]},
        ])
    );
    assert!(
        out["output"][4].get("namespace").is_none(),
        "a plain function has no namespace key"
    );
}

#[test]
fn max_tokens_is_incomplete() {
    let resp = response(vec![Content::text("The answer is")], StopKind::MaxTokens);
    let out = encode_response(&resp, &ctx());
    assert_eq!(out["status"], "incomplete");
    assert_eq!(
        out["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(
        out["output"][0]["content"],
        json!([text_part("The answer is")])
    );
}

#[test]
fn a_content_filter_stop_is_never_a_silent_empty_answer() {
    let filtered = encode_response(&response(Vec::new(), StopKind::ContentFilter), &ctx());
    assert_eq!(filtered["status"], "incomplete");
    assert_eq!(
        filtered["incomplete_details"],
        json!({"reason": "content_filter"})
    );
    assert_eq!(
        filtered["output"],
        json!([{"type": "message", "id": "msg_msg_01XYZ_0", "role": "assistant",
                "status": "completed",
                "content": [{"type": "refusal", "refusal": FILTERED_REFUSAL}]}])
    );

    // Reasoning alone is no answer either: the refusal comes after it.
    let reasoning_only = response(
        vec![Content::Reasoning {
            text: "hmm".into(),
            signature: None,
            signed_by: None,
        }],
        StopKind::ContentFilter,
    );
    let out = encode_response(&reasoning_only, &ctx());
    assert_eq!(out["output"][1]["id"], "msg_msg_01XYZ_1");
    assert_eq!(out["output"][1]["content"][0]["refusal"], FILTERED_REFUSAL);

    // With text, the text is what the client gets.
    let partial = response(vec![Content::text("Part of it")], StopKind::ContentFilter);
    let out = encode_response(&partial, &ctx());
    assert_eq!(out["status"], "incomplete");
    assert_eq!(
        out["output"],
        json!([{"type": "message", "id": "msg_msg_01XYZ_0", "role": "assistant",
                "status": "completed", "content": [text_part("Part of it")]}])
    );
}

#[test]
fn usage_counts_cached_tokens_in_the_input() {
    let mut resp = response(vec![Content::text("ok")], StopKind::EndTurn);
    resp.usage = Usage {
        input: 40,
        cache_read: 50,
        cache_write: 10,
        output: 30,
        reasoning: 12,
    };
    assert_eq!(
        encode_response(&resp, &ctx())["usage"],
        json!({
            "input_tokens": 100,
            "input_tokens_details": {"cached_tokens": 50, "cache_write_tokens": 10},
            "output_tokens": 30,
            "output_tokens_details": {"reasoning_tokens": 12},
            "total_tokens": 130,
        })
    );
}

/// What OpenAI sends for a reasoning model's tool call.
fn openai_body() -> Value {
    json!({
        "id": "resp_68af4030592c81938ec0a5fbab4a3e9f",
        "object": "response",
        "created_at": 1_756_315_696,
        "status": "completed",
        "background": false,
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "max_output_tokens": null,
        "model": "gpt-5-2025-08-07",
        "output": [
            {"id": "rs_68af4030baa48193b0b43b4c2a176a1a", "type": "reasoning",
             "encrypted_content": "gAAAAABor0A0dI3_native_blob",
             "summary": [
                {"type": "summary_text", "text": "**Planning the call**"},
                {"type": "summary_text", "text": "Need the weather."}]},
            {"id": "rs_2", "type": "reasoning", "encrypted_content": "gAAAAABsecond", "summary": []},
            {"id": "ws_1", "type": "web_search_call", "status": "completed",
             "action": {"type": "search", "query": "paris weather"}},
            {"id": "msg_68af40337e58819392e4f5e5b4b4d9d1", "type": "message",
             "status": "completed", "role": "assistant",
             "content": [
                {"type": "output_text", "annotations": [], "logprobs": [], "text": "Checking."},
                {"type": "refusal", "refusal": "No secrets."}]},
            {"id": "fc_68af4034", "type": "function_call", "status": "completed",
             "arguments": "{\"title\":\"Bug\"}", "call_id": "call_Wz1", "name": "create_issue",
             "namespace": "github"},
            {"id": "ctc_1", "type": "custom_tool_call", "status": "completed",
             "call_id": "call_Wz2", "name": "apply_patch", "input": "*** Begin Patch"},
        ],
        "parallel_tool_calls": true,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": false,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": 1200,
            "input_tokens_details": {"cached_tokens": 1024},
            "output_tokens": 180,
            "output_tokens_details": {"reasoning_tokens": 128},
            "total_tokens": 1380
        },
        "user": null,
        "metadata": {}
    })
}

#[test]
fn decodes_an_openai_answer() {
    let resp = decode(&openai_body());
    assert_eq!(resp.id, "resp_68af4030592c81938ec0a5fbab4a3e9f");
    assert_eq!(resp.model, "gpt-5-2025-08-07");
    assert_eq!(
        resp.content,
        vec![
            Content::Reasoning {
                text: "**Planning the call**\n\nNeed the weather.".into(),
                signature: Some("gAAAAABor0A0dI3_native_blob".into()),
                signed_by: Some(SIGNED_BY_RESPONSES.into()),
            },
            Content::RedactedReasoning {
                data: "gAAAAABsecond".into(),
                signed_by: Some(SIGNED_BY_RESPONSES.into()),
            },
            Content::text("Checking."),
            Content::Refusal {
                text: "No secrets.".into()
            },
            call("call_Wz1", "github.create_issue", r#"{"title":"Bug"}"#),
            call("call_Wz2", "apply_patch", r#"{"input":"*** Begin Patch"}"#),
        ]
    );
    assert_eq!(
        resp.stop,
        StopReason::new(StopKind::ToolUse, Some("completed"))
    );
    assert_eq!(
        resp.usage,
        Usage {
            input: 176,
            cache_read: 1024,
            cache_write: 0,
            output: 180,
            reasoning: 128,
        }
    );
}

#[test]
fn decoded_tool_names_map_back_to_the_clients() {
    let mut names = ToolNames::default();
    let sent = names.to_target("my.tool", 64);
    let ctx = Context {
        tool_names: names,
        ..Context::default()
    };
    let body = json!({"object": "response", "status": "completed", "output": [
        {"type": "function_call", "call_id": "c1", "name": sent, "arguments": ""}]});
    let resp = decode_response(body.to_string().as_bytes(), &ctx).unwrap();
    assert_eq!(resp.content, vec![call("c1", "my.tool", "{}")]);
}

#[test]
fn decodes_reasoning_without_a_blob_as_unsigned() {
    let body = json!({"object": "response", "status": "completed", "output": [
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Hm."}]},
        {"type": "reasoning", "id": "rs_2", "summary": [], "encrypted_content": null},
        {"type": "message", "content": [{"type": "output_text", "text": "Hi"}]}]});
    let resp = decode(&body);
    let unsigned = |text: &str| Content::Reasoning {
        text: text.into(),
        signature: None,
        signed_by: None,
    };
    assert_eq!(
        resp.content,
        vec![unsigned("Hm."), unsigned(""), Content::text("Hi")]
    );
    assert_eq!(resp.stop.kind, StopKind::EndTurn);
    assert_eq!(resp.usage, Usage::default());
}

#[test]
fn decodes_incomplete_answers() {
    let incomplete = |reason: Value| {
        json!({"id": "resp_1", "object": "response", "status": "incomplete",
               "incomplete_details": reason,
               "output": [{"type": "message", "content": [{"type": "output_text", "text": "Part"}]}]})
    };
    let resp = decode(&incomplete(json!({"reason": "max_output_tokens"})));
    assert_eq!(
        resp.stop,
        StopReason::new(StopKind::MaxTokens, Some("incomplete"))
    );
    assert_eq!(resp.content, vec![Content::text("Part")]);
    let resp = decode(&incomplete(json!({"reason": "content_filter"})));
    assert_eq!(resp.stop.kind, StopKind::ContentFilter);
    let resp = decode(&incomplete(json!(null)));
    assert_eq!(resp.stop.kind, StopKind::Other);
}

#[test]
fn stop_reasons_for_the_stream_decoder() {
    let kind = |s, r, t| stop_reason(s, r, t).kind;
    assert_eq!(kind("completed", None, false), StopKind::EndTurn);
    assert_eq!(kind("completed", None, true), StopKind::ToolUse);
    assert_eq!(
        kind("incomplete", Some("max_output_tokens"), true),
        StopKind::MaxTokens
    );
    assert_eq!(
        kind("incomplete", Some("content_filter"), false),
        StopKind::ContentFilter
    );
    assert_eq!(
        stop_reason("completed", None, false).native.as_deref(),
        Some("completed")
    );
}

#[test]
fn a_failed_response_is_its_error() {
    let body = json!({"id": "resp_1", "object": "response", "status": "failed",
        "error": {"code": "server_error", "message": "The model had an internal error."},
        "output": [], "usage": null});
    let err = decode_response(body.to_string().as_bytes(), &ctx()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert_eq!(err.status, 502);
    assert_eq!(err.message, "The model had an internal error.");
    assert_eq!(err.code.as_deref(), Some("server_error"));

    let limited = json!({"object": "response", "status": "failed",
        "error": {"code": "rate_limit_exceeded", "message": "Slow down."}, "output": []});
    let err = decode_response(limited.to_string().as_bytes(), &ctx()).unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::RateLimited, 429));

    let image = json!({"object": "response", "status": "failed",
        "error": {"code": "invalid_image_url", "message": "Bad image."}, "output": []});
    let err = decode_response(image.to_string().as_bytes(), &ctx()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);

    let bare = json!({"object": "response", "status": "failed", "error": null, "output": []});
    let err = decode_response(bare.to_string().as_bytes(), &ctx()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert!(err.message.contains("failed"), "{}", err.message);
}

#[test]
fn an_error_envelope_is_its_error() {
    let body = br#"{"error":{"message":"The model `gpt-9` does not exist.","type":"invalid_request_error","param":"model","code":"model_not_found"}}"#;
    let err = decode_response(body, &ctx()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Upstream);
    assert_eq!(err.message, "The model `gpt-9` does not exist.");
    assert_eq!(err.code.as_deref(), Some("model_not_found"));
    assert_eq!(err.param.as_deref(), Some("model"));
    // An envelope whose other fields would not read as a response.
    let err = decode_response(br#"{"error":"overloaded","output":7}"#, &ctx()).unwrap_err();
    assert_eq!(err.message, "overloaded");
}

#[test]
fn garbage_is_a_502_that_says_what_it_looks_like() {
    let cases: [(&[u8], &str); 5] = [
        (b"<html>Bad Gateway</html>", "not JSON"),
        (
            br#"{"id":"c","object":"chat.completion","choices":[]}"#,
            "OpenAI chat completion",
        ),
        (
            br#"{"id":"m","type":"message","role":"assistant","content":[]}"#,
            "Anthropic Messages",
        ),
        (br#"{"output":{"message":{}}}"#, "Bedrock Converse"),
        (br#"{"hello":"world"}"#, "not an OpenAI Responses response"),
    ];
    for (body, says) in cases {
        let err = decode_response(body, &ctx()).unwrap_err();
        assert_eq!((err.kind, err.status), (ErrorKind::Upstream, 502));
        assert!(err.message.contains(says), "{says}: {}", err.message);
    }
    let malformed = br#"{"object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":7}]}]}"#;
    let err = decode_response(malformed, &ctx()).unwrap_err();
    assert!(err.message.contains("could not be read"), "{}", err.message);
    let background = br#"{"object":"response","status":"queued","output":[]}"#;
    let err = decode_response(background, &ctx()).unwrap_err();
    assert!(err.message.contains("queued"), "{}", err.message);
}

#[test]
fn decoding_what_was_encoded_gives_the_content_back() {
    let mut original = response(
        vec![
            Content::Reasoning {
                text: "Think.".into(),
                signature: Some("EqQBCkYIBx".into()),
                signed_by: Some(SIGNED_BY_ANTHROPIC.into()),
            },
            Content::RedactedReasoning {
                data: "EmwKAhgB".into(),
                signed_by: Some(SIGNED_BY_ANTHROPIC.into()),
            },
            Content::Reasoning {
                text: "Native.".into(),
                signature: Some("gAAAAB".into()),
                signed_by: Some(SIGNED_BY_RESPONSES.into()),
            },
            Content::text("Here"),
            Content::Refusal {
                text: "not that".into(),
            },
            call("call_1", "github.create_issue", r#"{"title":"x"}"#),
            call("call_2", "apply_patch", r#"{"input":"patch"}"#),
            call("call_3", "get_weather", r#"{"city":"Paris"}"#),
        ],
        StopKind::ToolUse,
    );
    original.usage = Usage {
        input: 40,
        cache_read: 50,
        cache_write: 10,
        output: 30,
        reasoning: 12,
    };
    let encoded = encode_response(&original, &ctx());
    let back = decode(&encoded);
    assert_eq!(back.id, "resp_msg_01XYZ");
    assert_eq!(back.content, original.content);
    assert_eq!(back.stop.kind, StopKind::ToolUse);
    assert_eq!(back.usage, original.usage);

    for kind in [StopKind::EndTurn, StopKind::MaxTokens] {
        let resp = response(vec![Content::text("x")], kind);
        let back = decode(&encode_response(&resp, &ctx()));
        assert_eq!((back.content, back.stop.kind), (resp.content, kind));
    }
}
