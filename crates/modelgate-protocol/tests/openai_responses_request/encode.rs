//! Encoding a canonical request for an `openai-responses` endpoint.

use super::*;

fn full_canonical() -> ChatRequest {
    ChatRequest {
        model: "client-model".into(),
        system: vec![text("Be terse."), text(""), text("Use tools.")],
        messages: vec![
            msg(
                Role::User,
                vec![
                    text("What is in the picture?"),
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
                    reasoning("Look first.", Some("gAAAAsig"), Some(SIGNED_BY_RESPONSES)),
                    reasoning("Anthropic thought.", Some("EqQB"), Some("anthropic")),
                    redacted("Ej8K", "anthropic"),
                    reasoning("plain thought", None, None),
                    text("Let me "),
                    text("check."),
                    call("call_1", "github.create_issue", ""),
                    call("call_2", "get_weather", r#"{"city":"Paris"}"#),
                ],
            ),
            msg(
                Role::Tool,
                vec![
                    result("call_1", vec![text("created"), text("#7")]),
                    Content::ToolResult {
                        id: "call_2".into(),
                        content: vec![Content::Image {
                            source: ImageSource::Base64 {
                                media_type: "image/png".into(),
                                data: "iVBOR".into(),
                            },
                            detail: Some("high".into()),
                        }],
                        is_error: true,
                    },
                ],
            ),
            msg(
                Role::Assistant,
                vec![
                    redacted("gAAAAred", SIGNED_BY_RESPONSES),
                    Content::Refusal {
                        text: "I won't.".into(),
                    },
                ],
            ),
            msg(
                Role::User,
                vec![
                    Content::ToolResult {
                        id: "call_3".into(),
                        content: vec![text("boom")],
                        is_error: true,
                    },
                    text("Try again."),
                ],
            ),
        ],
        tools: vec![
            Tool {
                name: "github.create_issue".into(),
                description: Some("Opens an issue.".into()),
                parameters: json!({"type": "object", "properties": {}}),
                strict: None,
            },
            Tool {
                name: "get_weather".into(),
                description: None,
                parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
                strict: Some(true),
            },
        ],
        tool_choice: Some(ToolChoice::Tool {
            name: "github.create_issue".into(),
        }),
        parallel_tool_calls: Some(false),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "answer".into(),
            schema: json!({"type": "object"}),
            strict: Some(true),
        }),
        max_tokens: Some(1024),
        temperature: Some(0.2),
        top_p: Some(1.0),
        top_k: Some(40),
        stop: vec!["END".into()],
        seed: Some(7),
        frequency_penalty: Some(0.5),
        presence_penalty: Some(0.5),
        reasoning: Some(Reasoning {
            budget_tokens: Some(24576),
            ..Default::default()
        }),
        stream: true,
        include_usage: true,
        user: Some("user-1".into()),
        extra: serde_json::from_value(json!({"service_tier": "flex"})).expect("map"),
        ..ChatRequest::default()
    }
}

#[test]
fn encodes_a_full_conversation_for_a_responses_endpoint() {
    let mut names = ToolNames::default();
    let body =
        encode_request(&full_canonical(), &Target::new("gpt-5"), &mut names).expect("encodes");
    let renamed = ToolNames::default().to_target("github.create_issue", 64);
    assert!(renamed.starts_with("github_create_issue_"), "{renamed}");
    let expected = json!({
        "model": "gpt-5",
        "instructions": "Be terse.\n\nUse tools.",
        "input": [
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "What is in the picture?"},
                {"type": "input_image", "image_url": "https://x/cat.jpg", "detail": "auto"}]},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Look first."}],
             "encrypted_content": "gAAAAsig"},
            {"type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": "Let me check."}]},
            {"type": "function_call", "call_id": "call_1", "name": renamed, "arguments": "{}"},
            {"type": "function_call", "call_id": "call_2", "name": "get_weather",
             "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "created\n\n#7"},
            {"type": "function_call_output", "call_id": "call_2", "output": [
                {"type": "input_text", "text": "Error"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "high"}]},
            {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAred"},
            {"type": "message", "role": "assistant", "content": [
                {"type": "refusal", "refusal": "I won't."}]},
            {"type": "function_call_output", "call_id": "call_3", "output": "Error: boom"},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "Try again."}]}
        ],
        "tools": [
            {"type": "function", "name": renamed, "description": "Opens an issue.",
             "parameters": {"type": "object", "properties": {}}, "strict": false},
            {"type": "function", "name": "get_weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": true}
        ],
        "tool_choice": {"type": "function", "name": renamed},
        "parallel_tool_calls": false,
        "text": {"format": {"type": "json_schema", "name": "answer",
                            "schema": {"type": "object"}, "strict": true}},
        "reasoning": {"effort": "high", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "max_output_tokens": 1024,
        "temperature": 0.2,
        "top_p": 1.0,
        "stream": true,
        "store": false,
        "user": "user-1"
    });
    assert_eq!(body, expected);
    assert_eq!(names.to_client(&renamed), "github.create_issue");
}

#[test]
fn encodes_the_minimal_request_and_each_reasoning_setting() {
    let minimal = ChatRequest {
        model: "c".into(),
        messages: vec![msg(Role::User, vec![text("hi")])],
        ..ChatRequest::default()
    };
    let encode = |req: &ChatRequest| {
        encode_request(req, &Target::new("gpt-5-mini"), &mut ToolNames::default()).expect("encodes")
    };
    assert_eq!(
        encode(&minimal),
        json!({
            "model": "gpt-5-mini",
            "input": [{"type": "message", "role": "user",
                       "content": [{"type": "input_text", "text": "hi"}]}],
            "store": false
        })
    );
    let with = |reasoning: Reasoning| {
        let body = encode(&ChatRequest {
            reasoning: Some(reasoning),
            ..minimal.clone()
        });
        (body.get("reasoning").cloned(), body.get("include").cloned())
    };
    let include = Some(json!(["reasoning.encrypted_content"]));
    assert_eq!(
        with(Reasoning {
            effort: Some("low".into()),
            ..Default::default()
        }),
        (
            Some(json!({"effort": "low", "summary": "auto"})),
            include.clone()
        )
    );
    assert_eq!(
        with(Reasoning::default()),
        (Some(json!({"summary": "auto"})), include)
    );
    assert_eq!(
        with(Reasoning {
            disabled: true,
            ..Default::default()
        }),
        (None, None)
    );
    for (format, wire) in [
        (ResponseFormat::Text, json!({"type": "text"})),
        (ResponseFormat::JsonObject, json!({"type": "json_object"})),
    ] {
        let body = encode(&ChatRequest {
            response_format: Some(format),
            ..minimal.clone()
        });
        assert_eq!(body["text"], json!({"format": wire}));
    }
    let tool = Tool {
        name: "f".into(),
        description: None,
        parameters: json!({"type": "object", "properties": {}}),
        strict: None,
    };
    for (choice, wire) in [
        (ToolChoice::Auto, json!("auto")),
        (ToolChoice::None, json!("none")),
        (ToolChoice::Required, json!("required")),
    ] {
        let body = encode(&ChatRequest {
            tool_choice: Some(choice.clone()),
            parallel_tool_calls: Some(true),
            tools: vec![tool.clone()],
            ..minimal.clone()
        });
        assert_eq!(body["tool_choice"], wire);
        assert_eq!(body["parallel_tool_calls"], true);
        // Without tools OpenAI rejects both: they are not sent.
        let body = encode(&ChatRequest {
            tool_choice: Some(choice),
            parallel_tool_calls: Some(true),
            ..minimal.clone()
        });
        assert!(body.get("tool_choice").is_none(), "{body}");
        assert!(body.get("parallel_tool_calls").is_none(), "{body}");
    }
    // A `max_tokens: 1` probe is raised to OpenAI's minimum.
    let body = encode(&ChatRequest {
        max_tokens: Some(1),
        ..minimal.clone()
    });
    assert_eq!(body["max_output_tokens"], 16);
}

#[test]
fn namespaced_tool_names_round_trip_through_every_encoder() {
    let req = decode(json!({
        "model": "m",
        "input": [
            {"role": "user", "content": "go"},
            {"type": "function_call", "call_id": "c1", "namespace": "mcp__fs__", "name": "read", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "ok"}
        ],
        "tools": [{"type": "namespace", "name": "mcp__fs__", "description": "Files.",
                   "tools": [{"type": "function", "name": "read"}]}],
        "tool_choice": {"type": "function", "name": "read"}
    }));
    let canonical = "mcp__fs__.read";
    assert_eq!(req.tools[0].name, canonical);

    let mut names = ToolNames::default();
    let body = encode_request(&req, &Target::new("gpt-5"), &mut names).expect("responses");
    let wire = body["tools"][0]["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    assert!(
        wire.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "{wire}"
    );
    assert_eq!(body["input"][1]["name"], wire.as_str());
    assert_eq!(body["tool_choice"]["name"], wire.as_str());
    assert_eq!(names.to_client(&wire), canonical);

    let mut names = ToolNames::default();
    let body = anthropic::request::encode_request(&req, &Target::new("claude"), &mut names)
        .expect("anthropic");
    let wire = body["tools"][0]["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    assert_eq!(body["messages"][1]["content"][0]["name"], wire.as_str());
    assert_eq!(names.to_client(&wire), canonical);

    let mut names = ToolNames::default();
    let body = openai_chat::request::encode_request(&req, &Target::new("gpt-4o"), &mut names)
        .expect("chat");
    let wire = body["tools"][0]["function"]["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    assert_eq!(names.to_client(&wire), canonical);
}
