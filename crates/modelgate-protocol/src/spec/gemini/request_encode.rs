//! [`ChatRequest`] → a Gemini `generateContent` body ([`encode_request`]).

use serde_json::Value;

use crate::ir::{ChatRequest, GatewayError};
use crate::translate::{Target, ToolNames};

/// Encodes a canonical request for a Gemini endpoint (the model goes in
/// the URL, not the body).
pub fn encode_request(
    _req: &ChatRequest,
    _target: &Target,
    _names: &mut ToolNames,
) -> Result<Value, GatewayError> {
    Err(GatewayError::internal(
        "the Gemini request encoder is being written",
    ))
}
