//! Google error envelopes: `{"error": {"code", "message", "status"}}`.

use crate::ir::GatewayError;

/// Serializes an error as the Gemini API would send it.
pub fn encode_error(err: &GatewayError) -> Vec<u8> {
    let body = serde_json::json!({"error": {"code": err.status, "message": err.message, "status": "INTERNAL"}});
    body.to_string().into_bytes()
}
