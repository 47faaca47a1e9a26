use modelgate_protocol::ir::ErrorKind;
use serde_json::{Value, json};

use super::decode_err;

/// Decoding `body` fails with a 400 naming `param`, whose message starts
/// with it and mentions `says`.
fn refused(body: Value, param: &str, says: &str) {
    let err = decode_err(&body);
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{body}");
    assert_eq!(err.status, 400, "{body}");
    assert_eq!(err.param.as_deref(), Some(param), "{body}: {}", err.message);
    assert!(
        err.message.starts_with(param),
        "{body}: {} does not start with {param}",
        err.message
    );
    assert!(err.message.contains(says), "{body}: {}", err.message);
}

fn user(parts: Value) -> Value {
    json!({"contents": [{"role": "user", "parts": parts}]})
}

#[test]
fn bodies_that_are_not_requests() {
    for body in [&b"{"[..], b"[]", b"\"x\""] {
        let err = modelgate_protocol::spec::gemini::request::decode_request(body)
            .expect_err("not a request");
        assert_eq!(err.status, 400);
    }
    refused(json!({}), "contents", "required");
    refused(json!({"contents": {}}), "contents", "array");
    refused(json!({"contents": [1]}), "contents[0]", "object");
}

#[test]
fn contents_errors_name_the_part() {
    refused(
        json!({"contents": [{"role": "assistant", "parts": []}]}),
        "contents[0].role",
        "`assistant`",
    );
    refused(
        user(
            json!([{"text": "hi"}, {"inlineData": {"mimeType": "application/pdf", "data": "JVBER"}}]),
        ),
        "contents[0].parts[1].inlineData",
        "application/pdf",
    );
    refused(
        user(json!([{"inlineData": {"data": "x"}}])),
        "contents[0].parts[0].inlineData.mimeType",
        "required",
    );
    refused(
        user(json!([{"fileData": {"mimeType": "video/mp4", "fileUri": "gs://b/v.mp4"}}])),
        "contents[0].parts[0].fileData",
        "video/mp4",
    );
    refused(
        user(
            json!([{"fileData": {"fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc"}}]),
        ),
        "contents[0].parts[0].fileData",
        "only images",
    );
    refused(
        json!({"contents": [{"role": "model", "parts": [{"executableCode": {"language": "PYTHON", "code": "1"}}]}]}),
        "contents[0].parts[0]",
        "`executableCode`",
    );
    refused(
        user(json!([{"inlineData": {"mimeType": "image/png"}}])),
        "contents[0].parts[0].inlineData.data",
        "required",
    );
    refused(
        json!({"contents": [
            {"role": "model", "parts": [{"functionCall": {"name": "f"}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {},
                "parts": [{"inlineData": {"mimeType": "audio/wav", "data": "UklG"}}]}}]}
        ]}),
        "contents[1].parts[0].functionResponse.parts[0].inlineData",
        "audio/wav",
    );
    refused(
        user(json!([{"text": 3}])),
        "contents[0].parts[0].text",
        "string",
    );
}

#[test]
fn function_call_and_response_errors() {
    refused(
        user(json!([{"functionResponse": {"name": "f", "response": {}}}])),
        "contents[0].parts[0].functionResponse",
        "answers no earlier functionCall",
    );
    refused(
        json!({"contents": [
            {"role": "model", "parts": [{"functionCall": {"name": "f"}}]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "f", "response": {}}},
                {"functionResponse": {"name": "f", "response": {}}}
            ]}
        ]}),
        "contents[1].parts[1].functionResponse",
        "`f`",
    );
    refused(
        user(json!([{"functionCall": {"name": "f"}}])),
        "contents[0].parts[0]",
        "`model` contents",
    );
    refused(
        json!({"contents": [{"role": "model", "parts": [{"functionResponse": {"name": "f"}}]}]}),
        "contents[0].parts[0]",
        "`user` contents",
    );
    refused(
        json!({"contents": [{"role": "model", "parts": [{"functionCall": {"args": {}}}]}]}),
        "contents[0].parts[0].functionCall.name",
        "required",
    );
    refused(
        json!({"contents": [{"role": "model", "parts": [{"functionCall": {"name": "f", "args": [1]}}]}]}),
        "contents[0].parts[0].functionCall.args",
        "object",
    );
    refused(
        json!({"contents": [], "tools": [{"functionDeclarations": [{"description": "x"}]}]}),
        "tools[0].functionDeclarations[0].name",
        "required",
    );
    refused(
        json!({"contents": [], "systemInstruction": {"parts": [{"inlineData": {}}]}}),
        "systemInstruction.parts[0]",
        "text",
    );
}

#[test]
fn config_errors() {
    let tools = json!([{"functionDeclarations": [{"name": "a"}]}]);
    refused(
        json!({"contents": [], "tools": tools, "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["b"]}}}),
        "toolConfig.functionCallingConfig.allowedFunctionNames[0]",
        "`b`",
    );
    refused(
        json!({"contents": [], "tools": tools, "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}}),
        "toolConfig.functionCallingConfig.mode",
        "SOMETIMES",
    );
    refused(
        json!({"contents": [], "generationConfig": {"candidateCount": 2}}),
        "generationConfig.candidateCount",
        "only one candidate",
    );
    refused(
        json!({"contents": [], "generationConfig": {"responseMimeType": "text/x.enum"}}),
        "generationConfig.responseMimeType",
        "text/x.enum",
    );
    refused(
        json!({"contents": [], "generationConfig": {"thinkingConfig": {"thinkingBudget": -5}}}),
        "generationConfig.thinkingConfig.thinkingBudget",
        "-1",
    );
    refused(
        json!({"contents": [], "generationConfig": {"temperature": "hot"}}),
        "generationConfig.temperature",
        "number",
    );
    refused(
        json!({"contents": [], "generationConfig": {"maxOutputTokens": -1}}),
        "generationConfig.maxOutputTokens",
        "integer",
    );
    refused(
        json!({"contents": [], "generationConfig": {"stopSequences": ["a", 1]}}),
        "generationConfig.stopSequences[1]",
        "string",
    );
    refused(
        json!({"contents": [], "generationConfig": {"seed": 1.5}}),
        "generationConfig.seed",
        "integer",
    );
}
