//! Gemini answers: a `GenerateContentResponse` → [`ChatResponse`]
//! ([`decode_response`]) and [`ChatResponse`] → what a Gemini client
//! receives ([`encode_response`]).

use serde_json::{Value, json};

use crate::ir::{ChatResponse, GatewayError};
use crate::translate::Context;

/// Decodes a `GenerateContentResponse`.
pub fn decode_response(_body: &[u8], _ctx: &Context) -> Result<ChatResponse, GatewayError> {
    Err(GatewayError::internal(
        "the Gemini response decoder is being written",
    ))
}

/// Encodes a canonical answer as a `GenerateContentResponse`.
pub fn encode_response(_resp: &ChatResponse, _ctx: &Context) -> Value {
    json!({})
}
