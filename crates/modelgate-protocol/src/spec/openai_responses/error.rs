//! Responses error envelopes: the same `{"error": {"message", "type",
//! "param", "code"}}` as Chat Completions for a whole answer; in a stream,
//! an `error` event (see `stream_encode.rs`).

pub use crate::spec::openai_chat::error::{decode_upstream_error, encode_error, error_type};

use crate::ir::GatewayError;

/// An error after a Responses stream began: an `error` event numbered
/// `sequence_number` (the one after the last event the client got).
pub fn encode_error_event(err: &GatewayError, sequence_number: u64) -> Vec<u8> {
    let data = serde_json::json!({
        "type": "error",
        "code": err.code.as_deref().unwrap_or(error_type(err.kind)),
        "message": err.message,
        "param": err.param,
        "sequence_number": sequence_number,
    });
    format!("event: error\ndata: {data}\n\n").into_bytes()
}
