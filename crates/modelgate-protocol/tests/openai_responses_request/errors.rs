//! Decoding errors: a 400 naming the field, saying what to do.

use super::*;

/// Asserts a 400 naming `param`, whose message starts with it and contains `says`.
#[track_caller]
fn assert_bad(body: Value, param: &str, says: &str) {
    let err = decode_err(body);
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err:?}");
    assert_eq!(err.status, 400);
    assert_eq!(err.param.as_deref(), Some(param), "{err:?}");
    assert!(
        err.message.starts_with(param),
        "message does not start with `{param}`: {}",
        err.message
    );
    assert!(
        err.message.contains(says),
        "message lacks `{says}`: {}",
        err.message
    );
}

fn with_input(items: Value) -> Value {
    json!({"model": "m", "input": items})
}

#[test]
fn stateful_fields_are_refused_with_what_to_do() {
    let err = decode_err(json!({"model": "m", "input": "x", "previous_response_id": "resp_1"}));
    assert_eq!(err.param.as_deref(), Some("previous_response_id"));
    assert_eq!(
        err.message,
        "previous_response_id: modelgate does not store responses, so `previous_response_id` only \
         works when the model's endpoint is an `openai-responses` endpoint: send the whole \
         conversation in `input` (with `store: false`)."
    );
    assert_bad(
        json!({"model": "m", "input": "x", "conversation": {"id": "conv_1"}}),
        "conversation",
        "modelgate does not store responses",
    );
    assert_bad(
        json!({"model": "m", "input": "x", "background": true}),
        "background",
        "`openai-responses` endpoint",
    );
    assert_bad(
        json!({"model": "m", "input": "x", "prompt": {"id": "pmpt_1"}}),
        "prompt",
        "OpenAI's storage",
    );
    assert_bad(
        with_input(json!([{"type": "item_reference", "id": "msg_1"}])),
        "input.0",
        "send the item itself",
    );
    assert_bad(
        with_input(json!([{"type": "compaction", "encrypted_content": "gAAA"}])),
        "input.0",
        "only an `openai-responses` endpoint can read",
    );
}

#[test]
fn malformed_input_names_the_field() {
    assert_bad(json!({"input": "x"}), "model", "name the model");
    assert_bad(json!({"model": "m"}), "input", "is required");
    assert_bad(
        json!({"model": "m", "input": 3}),
        "input",
        "string or an array",
    );
    assert_bad(with_input(json!(["hi"])), "input.0", "must be an object");
    assert_bad(
        with_input(json!([{"content": "hi"}])),
        "input.0.type",
        "is required",
    );
    assert_bad(
        with_input(json!([{"role": "tool", "content": "hi"}])),
        "input.0.role",
        "unknown role `tool`",
    );
    assert_bad(
        with_input(json!([{"type": "message", "content": "hi"}])),
        "input.0.role",
        "is required",
    );
    assert_bad(
        with_input(json!([{"role": "user", "content": 5}])),
        "input.0.content",
        "string or an array",
    );
    assert_bad(
        with_input(json!([{"role": "user", "content": [
            {"type": "input_text", "text": "see"},
            {"type": "input_file", "file_id": "file_1"}]}])),
        "input.0.content.1",
        "use a model on an `openai-responses` endpoint",
    );
    assert_bad(
        with_input(json!([{"role": "user", "content": [
            {"type": "input_image", "file_id": "file_1", "detail": "auto"}]}])),
        "input.0.content.0",
        "upload-free images only",
    );
    assert_bad(
        with_input(
            json!([{"role": "user", "content": [{"type": "input_image", "detail": "auto"}]}]),
        ),
        "input.0.content.0.image_url",
        "https URL or a data: URL",
    );
    assert_bad(
        with_input(json!([{"role": "user", "content": [{"type": "output_text", "text": "x"}]}])),
        "input.0.content.0",
        "not allowed in a user message",
    );
    assert_bad(
        with_input(
            json!([{"role": "system", "content": [{"type": "input_image", "image_url": "https://x/a.png"}]}]),
        ),
        "input.0.content.0",
        "not allowed in a system message",
    );
    assert_bad(
        with_input(json!([{"role": "user", "content": [{"type": "input_text"}]}])),
        "input.0.content.0.text",
        "is required",
    );
    assert_bad(
        with_input(json!([{"role": "user", "content": "x"},
            {"type": "function_call", "name": "f", "arguments": "{}"}])),
        "input.1.call_id",
        "is required",
    );
    assert_bad(
        with_input(json!([{"type": "function_call", "call_id": "c", "arguments": "{}"}])),
        "input.0.name",
        "is required",
    );
    assert_bad(
        with_input(json!([{"type": "function_call_output", "output": "x"}])),
        "input.0.call_id",
        "is required",
    );
    assert_bad(
        with_input(json!([{"type": "function_call_output", "call_id": "c", "output": 7}])),
        "input.0.output",
        "string or an array",
    );
    assert_bad(
        with_input(json!([{"type": "custom_tool_call", "call_id": "c", "name": "n", "input": {}}])),
        "input.0.input",
        "must be a string",
    );
    assert_bad(
        with_input(json!([{"type": "telepathy_call", "id": "t"}])),
        "input.0.type",
        "item type `telepathy_call` cannot be translated",
    );
    let err = decode_err(json!([1]));
    assert_eq!((err.status, err.param), (400, None));
    let err = decode_request(b"{nope").expect_err("not JSON");
    assert!(err.message.contains("not valid JSON"), "{}", err.message);
}

#[test]
fn malformed_settings_name_the_field() {
    let base = |extra: Value| {
        let mut body = json!({"model": "m", "input": "x"});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        body
    };
    assert_bad(
        base(json!({"tools": {}})),
        "tools",
        "array of tool definitions",
    );
    assert_bad(
        base(json!({"tools": [{"type": "function"}]})),
        "tools.0.name",
        "is required",
    );
    assert_bad(
        base(json!({"tools": [{"name": "f"}]})),
        "tools.0.type",
        "is required",
    );
    assert_bad(
        base(json!({"tools": [{"type": "function", "name": "f", "parameters": "{}"}]})),
        "tools.0.parameters",
        "JSON Schema object",
    );
    assert_bad(
        base(
            json!({"tools": [{"type": "namespace", "name": "ns", "description": "",
                               "tools": [{"type": "web_search"}]}]}),
        ),
        "tools.0.tools.0.type",
        "not `web_search`",
    );
    assert_bad(
        base(json!({"tools": [{"type": "namespace", "name": "ns", "description": ""}]})),
        "tools.0.tools",
        "is required",
    );
    assert_bad(
        base(json!({"tools": [{"type": "custom", "name": "c", "format": {"type": "json"}}]})),
        "tools.0.format.type",
        "\"text\" or \"grammar\"",
    );
    assert_bad(
        base(
            json!({"tools": [{"type": "custom", "name": "c", "format": {"type": "grammar", "syntax": "lark"}}]}),
        ),
        "tools.0.format.definition",
        "is required",
    );
    for hosted in [
        json!({"type": "web_search_preview"}),
        json!({"type": "file_search"}),
        json!({"type": "mcp", "server_label": "deepwiki"}),
    ] {
        let kind = hosted["type"].as_str().unwrap_or_default().to_owned();
        let err = decode_err(base(json!({"tool_choice": hosted})));
        assert_eq!(err.param.as_deref(), Some("tool_choice"));
        assert!(
            err.message.starts_with(&format!(
                "tool_choice forces the hosted tool `{kind}`, which this endpoint cannot run; "
            )),
            "{}",
            err.message
        );
    }
    assert_bad(
        base(json!({"tool_choice": "any"})),
        "tool_choice",
        "\"auto\"",
    );
    assert_bad(
        base(json!({"tool_choice": {"name": "f"}})),
        "tool_choice",
        "\"auto\"",
    );
    assert_bad(
        base(json!({"tool_choice": {"type": "function"}})),
        "tool_choice.name",
        "is required",
    );
    assert_bad(
        base(json!({"tool_choice": {"type": "allowed_tools", "mode": "none"}})),
        "tool_choice.mode",
        "\"required\"",
    );
    assert_bad(base(json!({"text": "json"})), "text", "must be an object");
    assert_bad(
        base(json!({"text": {"format": {"type": "xml"}}})),
        "text.format.type",
        "json_schema",
    );
    assert_bad(
        base(json!({"text": {"format": {"type": "json_schema", "name": "a"}}})),
        "text.format.schema",
        "is required",
    );
    assert_bad(
        base(json!({"reasoning": "high"})),
        "reasoning",
        "must be an object",
    );
    assert_bad(
        base(json!({"reasoning": {"effort": 3}})),
        "reasoning.effort",
        "must be a string",
    );
    assert_bad(
        base(json!({"max_output_tokens": -1})),
        "max_output_tokens",
        "non-negative integer",
    );
    assert_bad(
        base(json!({"temperature": "hot"})),
        "temperature",
        "a number",
    );
    assert_bad(base(json!({"stream": "yes"})), "stream", "true or false");
    assert_bad(base(json!({"model": 4})), "model", "must be a string");
}

#[test]
fn a_decoding_error_is_sent_in_openai_s_envelope_and_as_a_stream_event() {
    use modelgate_protocol::spec::openai_responses::error::{encode_error, encode_error_event};
    let err = decode_err(json!({"model": "m", "input": "x", "previous_response_id": "resp_1"}));
    let body: Value = serde_json::from_slice(&encode_error(&err)).expect("json");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "previous_response_id");
    assert_eq!(body["error"]["message"], err.message.as_str());
    let event = String::from_utf8(encode_error_event(&err, 7)).expect("utf-8");
    let data = event
        .strip_prefix("event: error\ndata: ")
        .and_then(|rest| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("not one SSE event: {event:?}"));
    let data: Value = serde_json::from_str(data).expect("json data");
    assert_eq!(data["type"], "error");
    assert_eq!(data["code"], "invalid_request_error");
    assert_eq!(data["param"], "previous_response_id");
    assert_eq!(data["sequence_number"], 7);
}
