use modelgate_protocol::ir::{
    ChatRequest, Content, ImageSource, Reasoning, ResponseFormat, Role, Tool, ToolChoice,
};
use serde_json::{Map, json};

use super::{call, decode, msg, reasoning, result, text};

#[test]
fn a_google_genai_request_decodes_exactly() {
    let body = json!({
        "systemInstruction": {"role": "system", "parts": [{"text": "You are a coding agent."}, {"text": "Be terse."}]},
        "contents": [
            {"role": "user", "parts": [
                {"text": "List the files"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}},
                {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x/cat.jpg"}}
            ]},
            {"role": "model", "parts": [
                {"text": "**Planning** the listing", "thought": true, "thoughtSignature": "sigA"},
                {"functionCall": {"name": "shell", "args": {"command": ["ls"]}}, "thoughtSignature": "sigB"},
                {"functionCall": {"name": "shell", "args": {"command": ["pwd"]}}},
                {"functionCall": {"name": "read", "args": {}}}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "shell", "response": {"output": "a.txt"}}},
                {"functionResponse": {"name": "read", "response": {"error": "denied"}}},
                {"functionResponse": {"name": "shell", "response": {"output": "/w"}}},
                {"text": "and?"}
            ]},
            {"role": "model", "parts": [{"text": "Two files."}, {"text": "", "thoughtSignature": "sigC"}]},
            {"role": "user", "parts": [{"text": "thanks"}]}
        ],
        "tools": [
            {"functionDeclarations": [
                {"name": "shell", "description": "Run a command", "parameters": {
                    "type": "OBJECT",
                    "properties": {"command": {"type": "ARRAY", "items": {"type": "STRING"}},
                                   "timeout": {"type": "INTEGER", "nullable": true}},
                    "required": ["command"]}},
                {"name": "read", "parametersJsonSchema": {"type": "object", "properties": {}, "additionalProperties": false}}
            ]},
            {"googleSearch": {}},
            {"codeExecution": {}}
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
        "generationConfig": {
            "temperature": 0.3, "topP": 0.9, "topK": 40, "maxOutputTokens": 2048,
            "stopSequences": ["END"], "seed": 7, "presencePenalty": 0.1, "frequencyPenalty": 0.2,
            "candidateCount": 1,
            "responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"answer": {"type": "STRING", "nullable": true}}},
            "thinkingConfig": {"thinkingBudget": 4096, "includeThoughts": true}
        },
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}],
        "cachedContent": "cachedContents/abc",
        "labels": {"team": "a"}
    });
    let mut extra = Map::new();
    extra.insert(
        "safetySettings".into(),
        json!([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]),
    );
    extra.insert("cachedContent".into(), json!("cachedContents/abc"));
    extra.insert("labels".into(), json!({"team": "a"}));
    let google = Some("google");
    let expected = ChatRequest {
        system: vec![text("You are a coding agent."), text("Be terse.")],
        messages: vec![
            msg(
                Role::User,
                vec![
                    text("List the files"),
                    Content::Image {
                        source: ImageSource::Base64 {
                            media_type: "image/png".into(),
                            data: "iVBOR".into(),
                        },
                        detail: None,
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
                    reasoning("**Planning** the listing", Some("sigA"), google),
                    reasoning("", Some("sigB"), google),
                    call("call_shell_0", "shell", r#"{"command":["ls"]}"#),
                    call("call_shell_1", "shell", r#"{"command":["pwd"]}"#),
                    call("call_read_2", "read", "{}"),
                ],
            ),
            msg(
                Role::Tool,
                vec![
                    result("call_shell_0", r#"{"output":"a.txt"}"#),
                    result("call_read_2", r#"{"error":"denied"}"#),
                    result("call_shell_1", r#"{"output":"/w"}"#),
                ],
            ),
            msg(Role::User, vec![text("and?")]),
            msg(
                Role::Assistant,
                vec![text("Two files."), reasoning("", Some("sigC"), google)],
            ),
            msg(Role::User, vec![text("thanks")]),
        ],
        tools: vec![
            Tool {
                name: "shell".into(),
                description: Some("Run a command".into()),
                parameters: json!({
                    "type": "object",
                    "properties": {"command": {"type": "array", "items": {"type": "string"}},
                                   "timeout": {"type": ["integer", "null"]}},
                    "required": ["command"]
                }),
                strict: None,
            },
            Tool {
                name: "read".into(),
                description: None,
                parameters: json!({"type": "object", "properties": {}, "additionalProperties": false}),
                strict: None,
            },
        ],
        tool_choice: Some(ToolChoice::Auto),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            schema: json!({"type": "object", "properties": {"answer": {"type": ["string", "null"]}}}),
            strict: None,
        }),
        max_tokens: Some(2048),
        temperature: Some(0.3),
        top_p: Some(0.9),
        top_k: Some(40),
        stop: vec!["END".into()],
        seed: Some(7),
        frequency_penalty: Some(0.2),
        presence_penalty: Some(0.1),
        reasoning: Some(Reasoning {
            budget_tokens: Some(4096),
            ..Reasoning::default()
        }),
        extra,
        dropped_tools: vec!["googleSearch".into(), "codeExecution".into()],
        ..ChatRequest::default()
    };
    assert_eq!(decode(&body), expected);
}

#[test]
fn given_ids_are_kept_and_responses_match_them() {
    let body = json!({"contents": [
        {"role": "model", "parts": [
            {"functionCall": {"id": "fc_1", "name": "f", "args": {"a": 1}}},
            {"functionCall": {"name": "f"}}
        ]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "f", "response": {"output": 2}}},
            {"functionResponse": {"id": "fc_1", "name": "f", "response": {"output": 1}}}
        ]}
    ]});
    let req = decode(&body);
    assert_eq!(
        req.messages,
        vec![
            msg(
                Role::Assistant,
                vec![call("fc_1", "f", r#"{"a":1}"#), call("call_f_1", "f", "{}")]
            ),
            // The id-less response answers the call that had no id,
            // not `fc_1`, which its own response names.
            msg(
                Role::Tool,
                vec![
                    result("call_f_1", r#"{"output":2}"#),
                    result("fc_1", r#"{"output":1}"#)
                ]
            ),
        ]
    );
}

#[test]
fn ids_count_calls_across_turns_and_match_by_name_and_order() {
    let body = json!({"contents": [
        {"role": "user", "parts": [{"text": "go"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "a"}}, {"functionCall": {"name": "b"}}]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "b", "response": {}}},
            {"functionResponse": {"name": "a", "response": {}}}
        ]},
        {"role": "model", "parts": [{"functionCall": {"name": "a"}}]},
        {"role": "function", "parts": [{"functionResponse": {"name": "a", "response": {"x": true}}}]}
    ]});
    let req = decode(&body);
    assert_eq!(
        req.messages[1],
        msg(
            Role::Assistant,
            vec![call("call_a_0", "a", "{}"), call("call_b_1", "b", "{}")]
        )
    );
    assert_eq!(
        req.messages[2],
        msg(
            Role::Tool,
            vec![result("call_b_1", "{}"), result("call_a_0", "{}")]
        )
    );
    assert_eq!(
        req.messages[3],
        msg(Role::Assistant, vec![call("call_a_2", "a", "{}")])
    );
    assert_eq!(
        req.messages[4],
        msg(Role::Tool, vec![result("call_a_2", r#"{"x":true}"#)])
    );
}

#[test]
fn thoughts_signatures_and_sealed_values() {
    let body = json!({"contents": [{"role": "model", "parts": [
        {"text": "unsigned thought", "thought": true},
        {"text": "", "thought": true},
        {"text": "answer", "thoughtSignature": "mg1:sig:anthropic:EqQB"},
        {"text": "more", "thought_signature": "mg1:redacted:openai-responses:gAAA"},
        {"text": ""}
    ]}]});
    assert_eq!(
        decode(&body).messages,
        vec![msg(
            Role::Assistant,
            vec![
                reasoning("unsigned thought", None, None),
                reasoning("", Some("EqQB"), Some("anthropic")),
                text("answer"),
                Content::RedactedReasoning {
                    data: "gAAA".into(),
                    signed_by: Some("openai-responses".into())
                },
                text("more"),
            ]
        )]
    );
}

#[test]
fn snake_case_fields_and_a_string_system_instruction() {
    let body = json!({
        "system_instruction": {"parts": [{"text": "sys"}]},
        "contents": [{"parts": [{"text": "hi"}, {"file_data": {"file_uri": "gs://b/x.PNG?alt=1"}}]}],
        "generation_config": {"max_output_tokens": 10, "thinking_config": {"thinking_level": "HIGH"}},
        "tool_config": {"function_calling_config": {"mode": "NONE"}},
        "tools": [{"function_declarations": [{"name": "f"}]}, {"url_context": {}}]
    });
    let req = decode(&body);
    assert_eq!(req.system, vec![text("sys")]);
    assert_eq!(
        req.messages[0].content[1],
        Content::Image {
            source: ImageSource::Url {
                url: "gs://b/x.PNG?alt=1".into()
            },
            detail: None
        }
    );
    assert_eq!(req.max_tokens, Some(10));
    assert_eq!(
        req.reasoning.and_then(|r| r.effort).as_deref(),
        Some("high")
    );
    assert_eq!(req.tool_choice, Some(ToolChoice::None));
    assert_eq!(
        req.tools[0].parameters,
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(req.dropped_tools, vec!["urlContext".to_owned()]);
    assert!(req.model.is_empty() && !req.stream);
}

#[test]
fn thinking_budgets_and_levels() {
    let reasoning = |config: serde_json::Value| {
        decode(&json!({"contents": [], "generationConfig": {"thinkingConfig": config}})).reasoning
    };
    assert_eq!(
        reasoning(json!({"thinkingBudget": 0})),
        Some(Reasoning {
            disabled: true,
            ..Reasoning::default()
        })
    );
    assert_eq!(
        reasoning(json!({"thinkingBudget": -1})),
        Some(Reasoning {
            effort: Some("medium".into()),
            ..Reasoning::default()
        })
    );
    assert_eq!(
        reasoning(json!({"thinkingLevel": "LOW"})),
        Some(Reasoning {
            effort: Some("low".into()),
            ..Reasoning::default()
        })
    );
    assert_eq!(
        reasoning(json!({"includeThoughts": true})),
        Some(Reasoning::default())
    );
}

#[test]
fn tool_config_modes_and_allowed_names() {
    let with = |config: serde_json::Value| {
        decode(&json!({
            "contents": [],
            "tools": [{"functionDeclarations": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}],
            "toolConfig": {"functionCallingConfig": config}
        }))
    };
    let req = with(json!({"mode": "ANY", "allowedFunctionNames": ["b"]}));
    assert_eq!(req.tool_choice, Some(ToolChoice::Tool { name: "b".into() }));
    assert_eq!(req.tools.len(), 1);
    let req = with(json!({"mode": "ANY", "allowedFunctionNames": ["a", "c"]}));
    assert_eq!(req.tool_choice, Some(ToolChoice::Required));
    let names: Vec<&str> = req.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    let req = with(json!({"mode": "ANY"}));
    assert_eq!(
        (req.tool_choice, req.tools.len()),
        (Some(ToolChoice::Required), 3)
    );
    assert_eq!(
        with(json!({"mode": "VALIDATED"})).tool_choice,
        Some(ToolChoice::Auto)
    );
    assert_eq!(with(json!({})).tool_choice, None);
}

#[test]
fn response_formats() {
    let format = |config: serde_json::Value| {
        decode(&json!({"contents": [], "generationConfig": config})).response_format
    };
    assert_eq!(
        format(json!({"responseMimeType": "application/json"})),
        Some(ResponseFormat::JsonObject)
    );
    assert_eq!(
        format(json!({"responseMimeType": "application/json",
                      "responseJsonSchema": {"type": "object", "additionalProperties": false}})),
        Some(ResponseFormat::JsonSchema {
            name: "response".into(),
            schema: json!({"type": "object", "additionalProperties": false}),
            strict: None
        })
    );
    assert_eq!(format(json!({"responseMimeType": "text/plain"})), None);
    // A schema without the JSON MIME type asks for nothing.
    assert_eq!(format(json!({"responseSchema": {"type": "STRING"}})), None);
}

#[test]
fn multimodal_function_responses_keep_their_images() {
    let body = json!({"contents": [
        {"role": "model", "parts": [{"functionCall": {"name": "screenshot"}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "screenshot",
            "response": {"output": "taken"},
            "parts": [{"inlineData": {"mimeType": "image/png", "data": "iVBOR"}}]}}]}
    ]});
    assert_eq!(
        decode(&body).messages[1],
        msg(
            Role::Tool,
            vec![Content::ToolResult {
                id: "call_screenshot_0".into(),
                content: vec![
                    text(r#"{"output":"taken"}"#),
                    Content::Image {
                        source: ImageSource::Base64 {
                            media_type: "image/png".into(),
                            data: "iVBOR".into()
                        },
                        detail: None
                    }
                ],
                is_error: false
            }]
        )
    );
}
