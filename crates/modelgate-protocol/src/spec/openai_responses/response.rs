//! OpenAI Responses answers: an endpoint's response object →
//! [`ChatResponse`] ([`decode_response`]) and [`ChatResponse`] → what a
//! Responses client receives ([`encode_response`]).

use serde_json::{Value, json};

use crate::ir::{ChatResponse, GatewayError};
use crate::translate::Context;

/// Decodes a Responses `response` object.
pub fn decode_response(_body: &[u8], _ctx: &Context) -> Result<ChatResponse, GatewayError> {
    Err(GatewayError::internal(
        "the Responses response decoder is being written",
    ))
}

/// Encodes a canonical answer as a Responses `response` object.
pub fn encode_response(_resp: &ChatResponse, _ctx: &Context) -> Value {
    json!({})
}
