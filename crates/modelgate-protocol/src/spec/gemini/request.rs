//! Gemini requests: a client's body → [`ChatRequest`] ([`decode_request`]),
//! and [`ChatRequest`] → a body for a Gemini endpoint ([`encode_request`],
//! in the private `request_encode` module).

pub use super::request_encode::encode_request;
use crate::ir::{ChatRequest, GatewayError};

/// Decodes a Gemini `generateContent` body (the model comes from the path).
pub fn decode_request(_body: &[u8]) -> Result<ChatRequest, GatewayError> {
    Err(GatewayError::internal(
        "the Gemini request decoder is being written",
    ))
}
