//! OpenAI Responses requests: a Responses client's body → canonical
//! (translation to another format), canonical → a body for an
//! `openai-responses` endpoint, and the rule that reasoning blobs only go
//! back to the spec that produced them.
//!
//! * `decode`: Codex-shaped requests and agent-loop histories → exact
//!   canonical requests;
//! * `errors`: every refusal names its field and says what to do;
//! * `encode`: canonical → Responses bodies (golden JSON), tool renaming;
//! * `blobs`: reasoning signatures and blobs reach only their producer.

#[path = "openai_responses_request/blobs.rs"]
mod blobs;
#[path = "openai_responses_request/decode.rs"]
mod decode;
#[path = "openai_responses_request/encode.rs"]
mod encode;
#[path = "openai_responses_request/errors.rs"]
mod errors;

use std::collections::BTreeMap;

use modelgate_protocol::ir::{
    ChatRequest, ClientTool, Content, ErrorKind, GatewayError, ImageSource, Message, Reasoning,
    ResponseFormat, Role, Tool, ToolChoice,
};
use modelgate_protocol::spec::openai_responses::request::{decode_request, encode_request};
use modelgate_protocol::spec::openai_responses::wire::{
    SIGNED_BY_RESPONSES, wrap_redacted, wrap_signature,
};
use modelgate_protocol::spec::{anthropic, openai_chat};
use modelgate_protocol::translate::{Target, ToolNames};
use serde_json::{Value, json};

fn decode(body: Value) -> ChatRequest {
    decode_request(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{body}: {e:?}"))
}

fn decode_err(body: Value) -> GatewayError {
    match decode_request(body.to_string().as_bytes()) {
        Ok(req) => panic!("{body} decoded: {req:?}"),
        Err(e) => e,
    }
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

fn result(id: &str, content: Vec<Content>) -> Content {
    Content::ToolResult {
        id: id.into(),
        content,
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

fn redacted(data: &str, signed_by: &str) -> Content {
    Content::RedactedReasoning {
        data: data.into(),
        signed_by: Some(signed_by.into()),
    }
}
