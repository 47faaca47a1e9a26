//! Decoding: Codex-shaped requests and agent-loop histories.

use super::*;

const LARK: &str = "start: begin_patch hunk+ end_patch\nbegin_patch: \"*** Begin Patch\" LF";

/// A request as Codex sends it (trimmed texts, real shape).
fn codex_body() -> Value {
    json!({
        "model": "gpt-5-codex",
        "instructions": "You are Codex, a coding agent.",
        "input": [
            {"type": "message", "role": "developer",
             "content": [{"type": "input_text", "text": "<permissions instructions>sandboxed</permissions instructions>"}]},
            {"type": "message", "role": "user",
             "content": [{"type": "input_text", "text": "<environment_context>cwd: /repo</environment_context>"}]},
            {"type": "message", "role": "user",
             "content": [{"type": "input_text", "text": "Fix the failing test."}]}
        ],
        "tools": [
            {"type": "function", "name": "shell", "description": "Runs a shell command.", "strict": false,
             "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}},
                            "required": ["command"], "additionalProperties": false}},
            {"type": "namespace", "name": "mcp__github__", "description": "GitHub tools.",
             "tools": [
                {"type": "function", "name": "create_issue", "description": "Opens an issue.",
                 "strict": false, "parameters": {"type": "object", "properties": {"title": {"type": "string"}}}},
                {"type": "function", "name": "list_issues", "parameters": null, "strict": null}
             ]},
            {"type": "custom", "name": "apply_patch", "description": "Edits files.",
             "format": {"type": "grammar", "syntax": "lark", "definition": LARK}},
            {"type": "web_search"},
            {"type": "image_generation", "output_format": "png"},
            {"type": "web_search", "search_context_size": "low"}
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": false,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "store": false,
        "stream": true,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "019a5b0c-thread",
        "client_metadata": {"originator": "codex_cli_rs"},
        "text": {"verbosity": "low"}
    })
}

#[test]
fn a_codex_request_decodes_to_the_exact_canonical_request() {
    let req = decode(codex_body());
    let input_schema = |description: &str| {
        json!({
            "type": "object",
            "properties": {"input": {"type": "string", "description": description}},
            "required": ["input"],
            "additionalProperties": false,
        })
    };
    let client_tools = BTreeMap::from([
        (
            "apply_patch".to_owned(),
            ClientTool {
                namespace: None,
                name: "apply_patch".into(),
                custom: true,
            },
        ),
        (
            "mcp__github__.create_issue".to_owned(),
            ClientTool {
                namespace: Some("mcp__github__".into()),
                name: "create_issue".into(),
                custom: false,
            },
        ),
        (
            "mcp__github__.list_issues".to_owned(),
            ClientTool {
                namespace: Some("mcp__github__".into()),
                name: "list_issues".into(),
                custom: false,
            },
        ),
    ]);
    let expected = ChatRequest {
        model: "gpt-5-codex".into(),
        system: vec![
            text("You are Codex, a coding agent."),
            text("<permissions instructions>sandboxed</permissions instructions>"),
        ],
        messages: vec![msg(
            Role::User,
            vec![
                text("<environment_context>cwd: /repo</environment_context>"),
                text("Fix the failing test."),
            ],
        )],
        tools: vec![
            Tool {
                name: "shell".into(),
                description: Some("Runs a shell command.".into()),
                parameters: json!({"type": "object",
                    "properties": {"command": {"type": "array", "items": {"type": "string"}}},
                    "required": ["command"], "additionalProperties": false}),
                strict: Some(false),
            },
            Tool {
                name: "mcp__github__.create_issue".into(),
                description: Some("Opens an issue.".into()),
                parameters: json!({"type": "object", "properties": {"title": {"type": "string"}}}),
                strict: Some(false),
            },
            Tool {
                name: "mcp__github__.list_issues".into(),
                description: None,
                parameters: json!({"type": "object", "properties": {}}),
                strict: None,
            },
            Tool {
                name: "apply_patch".into(),
                description: Some(format!(
                    "Edits files.\n\nThe `input` must be written in the language of this Lark grammar:\n{LARK}"
                )),
                parameters: input_schema(
                    "The tool's input, written in the language given in the tool's description.",
                ),
                strict: None,
            },
        ],
        tool_choice: Some(ToolChoice::Auto),
        parallel_tool_calls: Some(false),
        reasoning: Some(Reasoning {
            effort: Some("medium".into()),
            ..Default::default()
        }),
        stream: true,
        client_tools,
        dropped_tools: vec!["web_search".into(), "image_generation".into()],
        ..ChatRequest::default()
    };
    assert_eq!(req, expected);
}

#[test]
fn custom_tools_without_grammar_and_the_string_input() {
    let req = decode(json!({
        "model": "m",
        "input": "hello",
        "tools": [{"type": "custom", "name": "note"}],
        "tool_choice": {"type": "custom", "name": "note"},
        "user": null,
        "safety_identifier": "user-42",
        "max_output_tokens": 300,
        "temperature": 0.5,
        "top_p": 0.9,
        "text": {"format": {"type": "json_schema", "name": "answer", "strict": true,
                            "schema": {"type": "object"}}},
        "reasoning": {"effort": "none"},
        "background": false,
        "previous_response_id": null,
        "conversation": null,
        "prompt": null,
        "metadata": {"k": "v"},
        "service_tier": "flex",
        "truncation": "auto",
        "top_logprobs": 2,
        "stream_options": {"include_obfuscation": false},
        "vendor_knob": 1
    }));
    assert_eq!(req.messages, vec![msg(Role::User, vec![text("hello")])]);
    assert_eq!(req.tools[0].description, None);
    assert_eq!(
        req.tools[0].parameters["properties"]["input"]["description"],
        "The tool's input: free-form text."
    );
    assert_eq!(
        req.tool_choice,
        Some(ToolChoice::Tool {
            name: "note".into()
        })
    );
    assert_eq!(req.user.as_deref(), Some("user-42"));
    assert_eq!(req.max_tokens, Some(300));
    assert_eq!((req.temperature, req.top_p), (Some(0.5), Some(0.9)));
    assert_eq!(
        req.response_format,
        Some(ResponseFormat::JsonSchema {
            name: "answer".into(),
            schema: json!({"type": "object"}),
            strict: Some(true),
        })
    );
    assert!(req.reasoning.as_ref().is_some_and(|r| r.disabled));
    // Only the unknown field is kept; OpenAI's own knobs are dropped.
    assert_eq!(
        Value::Object(req.extra.clone()),
        json!({"vendor_knob": 1}),
        "{:?}",
        req.extra
    );
}

#[test]
fn null_is_absent_everywhere() {
    let req = decode(json!({
        "model": "m", "input": [{"role": "user", "content": "hi", "type": null}],
        "instructions": null, "tools": null, "tool_choice": null, "parallel_tool_calls": null,
        "text": null, "reasoning": null, "max_output_tokens": null, "temperature": null,
        "top_p": null, "stream": null, "user": null, "safety_identifier": null,
        "store": null, "include": null, "background": null
    }));
    let plain = decode(json!({"model": "m", "input": [{"role": "user", "content": "hi"}]}));
    assert_eq!(req, plain);
    assert!(req.extra.is_empty());
}

#[test]
fn a_forced_bare_name_finds_its_namespaced_tool() {
    let req = decode(json!({
        "model": "m", "input": "x",
        "tools": [{"type": "namespace", "name": "ns", "description": "",
                   "tools": [{"type": "function", "name": "go"},
                             {"type": "custom", "name": "write"}]}],
        "tool_choice": {"type": "function", "name": "go"}
    }));
    assert_eq!(
        req.tool_choice,
        Some(ToolChoice::Tool {
            name: "ns.go".into()
        })
    );
    assert_eq!(
        req.client_tools.get("ns.write"),
        Some(&ClientTool {
            namespace: Some("ns".into()),
            name: "write".into(),
            custom: true
        })
    );
    let allowed = decode(json!({
        "model": "m", "input": "x",
        "tools": [{"type": "function", "name": "a"}, {"type": "function", "name": "b"},
                  {"type": "namespace", "name": "ns", "tools": [{"type": "function", "name": "c"}]}],
        "tool_choice": {"type": "allowed_tools", "mode": "required",
                        "tools": [{"type": "function", "name": "a"}, {"type": "function", "name": "c"},
                                  {"type": "web_search"}]}
    }));
    assert_eq!(allowed.tool_choice, Some(ToolChoice::Required));
    assert_eq!(
        allowed
            .tools
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["a", "ns.c"],
        "only the allowed tools are offered"
    );
}

#[test]
fn allowed_tools_that_leave_nothing_to_call_are_a_400() {
    for (listed, says) in [
        (json!([{"type": "web_search"}]), "hosted (`web_search`)"),
        (
            json!([{"type": "function", "name": "nope"}]),
            "none of them is among `tools`",
        ),
    ] {
        let body = json!({
            "model": "m", "input": "x",
            "tools": [{"type": "function", "name": "a"}, {"type": "web_search"}],
            "tool_choice": {"type": "allowed_tools", "mode": "required", "tools": listed}
        });
        let err = decode_err(body);
        assert_eq!(err.status, 400);
        assert_eq!(err.param.as_deref(), Some("tool_choice.tools"));
        assert!(err.message.contains(says), "{}", err.message);
    }
    let auto = decode(json!({
        "model": "m", "input": "x",
        "tools": [{"type": "function", "name": "a"}],
        "tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "web_search"}]}
    }));
    assert!(
        auto.tools.is_empty(),
        "auto may leave no tool: the model answers in text"
    );
}

#[test]
fn the_agent_loop_history_decodes_in_order() {
    let sig = wrap_signature("anthropic", "EqQBCkYIBx");
    let red = wrap_redacted("anthropic", "Ej8KBg==");
    let req = decode(json!({
        "model": "m",
        "input": [
            {"role": "user", "content": "List the issues, then patch."},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Need the list."}],
             "encrypted_content": "gAAAAABnative"},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "namespace": "mcp__github__",
             "name": "list_issues", "arguments": "", "status": "completed"},
            {"type": "function_call_output", "call_id": "call_1", "output": "[#1, #2]"},
            {"type": "reasoning", "id": "rs_2",
             "summary": [{"type": "summary_text", "text": "Two issues."}, {"type": "summary_text", "text": "Patch now."}],
             "encrypted_content": sig},
            {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch",
             "input": "*** Begin Patch\n*** End Patch"},
            {"type": "custom_tool_call_output", "call_id": "call_2",
             "output": [{"type": "input_text", "text": "Done."},
                        {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "low"}]},
            {"type": "function_call_output", "call_id": "call_3", "output": [{"type": "input_text", "text": ""}]},
            {"type": "reasoning", "summary": [], "encrypted_content": red},
            {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "raw thought"}]},
            {"type": "reasoning", "summary": []},
            {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "x"}},
            {"type": "mcp_call", "id": "mcp_1", "name": "n", "arguments": "{}", "server_label": "s"},
            {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
             "content": [{"type": "output_text", "text": "Patched.", "annotations": []},
                         {"type": "refusal", "refusal": "Not the secrets."}]},
            {"role": "user", "content": [{"type": "input_text", "text": "Thanks"}]}
        ]
    }));
    let expected = vec![
        msg(Role::User, vec![text("List the issues, then patch.")]),
        msg(
            Role::Assistant,
            vec![
                redacted("gAAAAABnative", SIGNED_BY_RESPONSES),
                call("call_1", "mcp__github__.list_issues", "{}"),
            ],
        ),
        msg(Role::Tool, vec![result("call_1", vec![text("[#1, #2]")])]),
        msg(
            Role::Assistant,
            vec![
                reasoning(
                    "Two issues.\n\nPatch now.",
                    Some("EqQBCkYIBx"),
                    Some("anthropic"),
                ),
                call(
                    "call_2",
                    "apply_patch",
                    r#"{"input":"*** Begin Patch\n*** End Patch"}"#,
                ),
            ],
        ),
        msg(
            Role::Tool,
            vec![
                result(
                    "call_2",
                    vec![
                        text("Done."),
                        Content::Image {
                            source: ImageSource::Base64 {
                                media_type: "image/png".into(),
                                data: "iVBOR".into(),
                            },
                            detail: Some("low".into()),
                        },
                    ],
                ),
                result("call_3", vec![]),
            ],
        ),
        msg(
            Role::Assistant,
            vec![
                redacted("Ej8KBg==", "anthropic"),
                reasoning("raw thought", None, None),
                text("Patched."),
                Content::Refusal {
                    text: "Not the secrets.".into(),
                },
            ],
        ),
        msg(Role::User, vec![text("Thanks")]),
    ];
    assert_eq!(req.messages, expected);
    // The custom call's arguments are JSON with the input as a string.
    let Content::ToolCall { arguments, .. } = &req.messages[3].content[1] else {
        panic!("not a call")
    };
    let args: Value = serde_json::from_str(arguments).expect("json arguments");
    assert_eq!(args, json!({"input": "*** Begin Patch\n*** End Patch"}));
}
