use modelgate_protocol::ir::{
    ChatRequest, Content, ImageSource, Reasoning, ResponseFormat, Role, Tool, ToolChoice,
};
use modelgate_protocol::spec::gemini::request::{SKIP_SIGNATURE, encode_request};
use modelgate_protocol::translate::{Target, ToolNames};
use serde_json::{Value, json};

use super::{call, decode, encode, msg, reasoning, result, text};

fn tool(name: &str, parameters: Value) -> Tool {
    Tool {
        name: name.into(),
        description: Some(format!("The {name} tool")),
        parameters,
        strict: Some(true),
    }
}

#[test]
fn a_canonical_agent_turn_encodes_exactly() {
    let google = Some("google");
    let req = ChatRequest {
        model: "gpt-5".into(),
        system: vec![text("You are helpful."), text("")],
        messages: vec![
            msg(
                Role::User,
                vec![
                    text("Read the config"),
                    Content::Image {
                        source: ImageSource::Base64 {
                            media_type: "image/png".into(),
                            data: "iVBOR".into(),
                        },
                        detail: Some("high".into()),
                    },
                    Content::Image {
                        source: ImageSource::Url {
                            url: "https://x/cat.jpg".into(),
                        },
                        detail: None,
                    },
                ],
            ),
            msg(
                Role::Assistant,
                vec![
                    reasoning("Thinking about it", Some("sigT"), google),
                    reasoning("claude thoughts", Some("EqQB"), Some("anthropic")),
                    reasoning("plain thoughts", None, None),
                    Content::RedactedReasoning {
                        data: "gAAA".into(),
                        signed_by: Some("openai-responses".into()),
                    },
                    reasoning("", Some("sigF"), google),
                    call("call_read_file_0", "read_file", r#"{"path":"a.toml"}"#),
                    call("toolu_01", "mcp.fs.list", ""),
                ],
            ),
            msg(
                Role::Tool,
                vec![
                    result("call_read_file_0", r#"{"output":"x = 1"}"#),
                    Content::ToolResult {
                        id: "toolu_01".into(),
                        content: vec![text("permission denied")],
                        is_error: true,
                    },
                ],
            ),
            msg(Role::User, vec![text("and now?")]),
            msg(
                Role::Assistant,
                vec![text("Done."), reasoning("", Some("sigEnd"), google)],
            ),
            msg(Role::User, vec![text("thanks")]),
        ],
        tools: vec![
            tool(
                "read_file",
                json!({"type": "object", "properties": {"path": {"type": "string"}},
                       "required": ["path"], "additionalProperties": false}),
            ),
            tool("mcp.fs.list", json!({"type": "object"})),
        ],
        tool_choice: Some(ToolChoice::Tool {
            name: "mcp.fs.list".into(),
        }),
        parallel_tool_calls: Some(false),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "answer".into(),
            schema: json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "additionalProperties": false}),
            strict: Some(true),
        }),
        max_tokens: Some(1000),
        temperature: Some(0.5),
        top_p: Some(0.9),
        top_k: Some(20),
        stop: vec!["STOP".into()],
        seed: Some(3),
        frequency_penalty: Some(0.25),
        presence_penalty: Some(0.5),
        reasoning: Some(Reasoning {
            effort: Some("high".into()),
            ..Reasoning::default()
        }),
        stream: true,
        user: Some("u1".into()),
        extra: json!({"safetySettings": []})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..ChatRequest::default()
    };
    let mut names = ToolNames::default();
    let body = encode_request(&req, &Target::new("gemini-2.5-pro"), &mut names)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let list = names.to_target("mcp.fs.list", 64);
    assert!(list.starts_with("mcp_fs_list_"), "{list}");
    assert_eq!(names.to_client(&list), "mcp.fs.list");
    assert_eq!(
        body,
        json!({
            "systemInstruction": {"parts": [{"text": "You are helpful."}]},
            "contents": [
                {"role": "user", "parts": [
                    {"text": "Read the config"},
                    {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}},
                    {"fileData": {"fileUri": "https://x/cat.jpg", "mimeType": "image/jpeg"}}
                ]},
                {"role": "model", "parts": [
                    {"text": "Thinking about it", "thought": true, "thoughtSignature": "sigT"},
                    {"functionCall": {"name": "read_file", "args": {"path": "a.toml"}}, "thoughtSignature": "sigF"},
                    {"functionCall": {"name": list, "args": {}, "id": "toolu_01"}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "read_file", "response": {"output": "x = 1"}}},
                    {"functionResponse": {"name": list, "response": {"error": "permission denied"}, "id": "toolu_01"}},
                    {"text": "and now?"}
                ]},
                {"role": "model", "parts": [
                    {"text": "Done."},
                    {"text": "", "thoughtSignature": "sigEnd"}
                ]},
                {"role": "user", "parts": [{"text": "thanks"}]}
            ],
            "tools": [{"functionDeclarations": [
                {"name": "read_file", "description": "The read_file tool",
                 "parameters": {"type": "OBJECT", "properties": {"path": {"type": "STRING"}}, "required": ["path"]}},
                {"name": list, "description": "The mcp.fs.list tool"}
            ]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [list]}},
            "generationConfig": {
                "maxOutputTokens": 1000, "temperature": 0.5, "topP": 0.9, "topK": 20,
                "stopSequences": ["STOP"], "seed": 3, "presencePenalty": 0.5, "frequencyPenalty": 0.25,
                "responseMimeType": "application/json",
                "responseSchema": {"type": "OBJECT", "properties": {"ok": {"type": "BOOLEAN"}}},
                "thinkingConfig": {"thinkingBudget": 24576, "includeThoughts": true}
            }
        })
    );
}

#[test]
fn a_tool_result_that_is_not_an_object_is_wrapped() {
    let req = ChatRequest {
        messages: vec![
            msg(Role::Assistant, vec![call("c1", "f", "{}")]),
            msg(
                Role::Tool,
                vec![Content::ToolResult {
                    id: "c1".into(),
                    content: vec![
                        text("line 1"),
                        Content::Image {
                            source: ImageSource::Url {
                                url: "gs://b/plot".into(),
                            },
                            detail: None,
                        },
                        text("[1, 2]"),
                    ],
                    is_error: false,
                }],
            ),
        ],
        ..ChatRequest::default()
    };
    assert_eq!(
        encode(&req)["contents"][1],
        json!({"role": "user", "parts": [
            {"functionResponse": {"name": "f", "response": {"content": "line 1\n[1, 2]"}, "id": "c1"}},
            {"fileData": {"fileUri": "gs://b/plot"}}
        ]})
    );
}

#[test]
fn no_tools_means_no_tools_field_nor_tool_config() {
    let req = ChatRequest {
        messages: vec![msg(Role::User, vec![text("hi")])],
        tool_choice: Some(ToolChoice::Required),
        ..ChatRequest::default()
    };
    let body = encode(&req);
    assert_eq!(
        body,
        json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    );
}

#[test]
fn reasoning_settings() {
    let config = |reasoning: Reasoning| {
        let req = ChatRequest {
            messages: vec![msg(Role::User, vec![text("hi")])],
            reasoning: Some(reasoning),
            response_format: Some(ResponseFormat::JsonObject),
            ..ChatRequest::default()
        };
        encode(&req)["generationConfig"].clone()
    };
    assert_eq!(
        config(Reasoning {
            disabled: true,
            ..Reasoning::default()
        }),
        json!({"responseMimeType": "application/json", "thinkingConfig": {"thinkingBudget": 0}})
    );
    assert_eq!(
        config(Reasoning {
            effort: Some("none".into()),
            ..Reasoning::default()
        })["thinkingConfig"],
        json!({"thinkingBudget": 0})
    );
    assert_eq!(
        config(Reasoning {
            budget_tokens: Some(3000),
            ..Reasoning::default()
        })["thinkingConfig"],
        json!({"thinkingBudget": 3000, "includeThoughts": true})
    );
    assert_eq!(
        config(Reasoning::default())["thinkingConfig"],
        json!({"includeThoughts": true})
    );
}

#[test]
fn errors_a_gemini_endpoint_would_give() {
    let empty = ChatRequest {
        system: vec![text("only a system prompt")],
        messages: vec![msg(Role::User, vec![text("")])],
        ..ChatRequest::default()
    };
    let err = encode_request(&empty, &Target::new("g"), &mut ToolNames::default())
        .expect_err("no contents");
    assert_eq!((err.status, err.param.as_deref()), (400, Some("messages")));
    let orphan = ChatRequest {
        messages: vec![msg(Role::Tool, vec![result("nowhere", "x")])],
        ..ChatRequest::default()
    };
    let err = encode_request(&orphan, &Target::new("g"), &mut ToolNames::default())
        .expect_err("orphan result");
    assert_eq!(err.status, 400);
    assert!(err.message.contains("`nowhere`"), "{}", err.message);
}

#[test]
fn a_representative_request_round_trips() {
    let google = Some("google");
    let req = ChatRequest {
        system: vec![text("sys")],
        messages: vec![
            msg(Role::User, vec![text("weather in Paris and Rome?")]),
            msg(
                Role::Assistant,
                vec![
                    reasoning("let me look", Some("sig1"), google),
                    call("call_get_weather_0", "get_weather", r#"{"city":"Paris"}"#),
                    reasoning("", Some("sig2"), google),
                    call("fc_9", "get_weather", r#"{"city":"Rome"}"#),
                ],
            ),
            msg(
                Role::Tool,
                vec![
                    result("call_get_weather_0", r#"{"temp":21}"#),
                    result("fc_9", r#"{"temp":25}"#),
                ],
            ),
            msg(Role::User, vec![text("thanks")]),
            msg(
                Role::Assistant,
                vec![text("You're welcome."), reasoning("", Some("sig3"), google)],
            ),
            msg(Role::User, vec![text("bye")]),
        ],
        tools: vec![Tool {
            name: "get_weather".into(),
            description: Some("Current weather".into()),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"},
                               "unit": {"type": ["string", "null"], "enum": ["c", "f"]}},
                               "required": ["city"]}),
            strict: None,
        }],
        tool_choice: Some(ToolChoice::Required),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            schema: json!({"type": "object", "properties": {"summary": {"type": "string"}}}),
            strict: None,
        }),
        max_tokens: Some(512),
        temperature: Some(0.7),
        top_p: Some(0.95),
        top_k: Some(32),
        stop: vec!["END".into()],
        seed: Some(11),
        frequency_penalty: Some(0.5),
        presence_penalty: Some(0.25),
        reasoning: Some(Reasoning {
            budget_tokens: Some(4096),
            ..Reasoning::default()
        }),
        ..ChatRequest::default()
    };
    assert_eq!(decode(&encode(&req)), req);
}

#[test]
fn a_first_call_without_signature_gets_googles_placeholder() {
    let req = ChatRequest {
        messages: vec![
            msg(Role::User, vec![text("go")]),
            msg(
                Role::Assistant,
                vec![
                    reasoning("claude thinking", Some("EqQB"), Some("anthropic")),
                    text("Calling."),
                    call("toolu_1", "a", "{}"),
                    call("toolu_2", "b", "{}"),
                ],
            ),
        ],
        ..ChatRequest::default()
    };
    let body = encode(&req);
    assert_eq!(
        body["contents"][1]["parts"],
        json!([
            {"text": "Calling."},
            {"functionCall": {"name": "a", "args": {}, "id": "toolu_1"}, "thoughtSignature": SKIP_SIGNATURE},
            {"functionCall": {"name": "b", "args": {}, "id": "toolu_2"}}
        ])
    );
    // Read back, the placeholder is no reasoning.
    assert_eq!(
        decode(&body).messages[1],
        msg(
            Role::Assistant,
            vec![
                text("Calling."),
                call("toolu_1", "a", "{}"),
                call("toolu_2", "b", "{}")
            ]
        )
    );
}
