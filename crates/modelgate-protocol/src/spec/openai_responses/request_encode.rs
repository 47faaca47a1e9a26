//! [`ChatRequest`] → an OpenAI Responses body ([`encode_request`]).

use serde_json::Value;

use crate::ir::{ChatRequest, GatewayError};
use crate::translate::{Target, ToolNames};

/// Encodes a canonical request for an `openai-responses` endpoint.
pub fn encode_request(
    _req: &ChatRequest,
    _target: &Target,
    _names: &mut ToolNames,
) -> Result<Value, GatewayError> {
    Err(GatewayError::internal(
        "the Responses request encoder is being written",
    ))
}
