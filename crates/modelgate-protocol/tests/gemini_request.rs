//! Gemini requests: a Gemini client's `generateContent` body → canonical,
//! canonical → a body for a Gemini endpoint, and the schema sanitizer.
//!
//! * `decode`: google-genai-shaped requests → exact canonical requests,
//!   call ids made up and matched;
//! * `errors`: every refusal names its field;
//! * `encode`: canonical → Gemini bodies (golden JSON), signatures on the
//!   right part, a round trip;
//! * `schema`: real agent tool schemas come out in Gemini's subset.

#[path = "gemini_request/decode.rs"]
mod decode;
#[path = "gemini_request/encode.rs"]
mod encode;
#[path = "gemini_request/errors.rs"]
mod errors;
#[path = "gemini_request/schema.rs"]
mod schema;

use modelgate_protocol::ir::{ChatRequest, Content, GatewayError, Message, Role};
use modelgate_protocol::spec::gemini::request::{decode_request, encode_request};
use modelgate_protocol::translate::{Target, ToolNames};
use serde_json::Value;

fn decode(body: &Value) -> ChatRequest {
    decode_request(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{body}: {e:?}"))
}

fn decode_err(body: &Value) -> GatewayError {
    match decode_request(body.to_string().as_bytes()) {
        Ok(req) => panic!("{body} decoded: {req:?}"),
        Err(e) => e,
    }
}

fn encode(req: &ChatRequest) -> Value {
    encode_request(
        req,
        &Target::new("gemini-2.5-flash"),
        &mut ToolNames::default(),
    )
    .unwrap_or_else(|e| panic!("{req:?}: {e:?}"))
}

fn text(t: &str) -> Content {
    Content::text(t)
}

fn msg(role: Role, content: Vec<Content>) -> Message {
    Message { role, content }
}

fn call(id: &str, name: &str, arguments: &str) -> Content {
    Content::ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

fn result(id: &str, output: &str) -> Content {
    Content::ToolResult {
        id: id.into(),
        content: vec![text(output)],
        is_error: false,
    }
}

fn reasoning(text: &str, signature: Option<&str>, signed_by: Option<&str>) -> Content {
    Content::Reasoning {
        text: text.into(),
        signature: signature.map(Into::into),
        signed_by: signed_by.map(Into::into),
    }
}
