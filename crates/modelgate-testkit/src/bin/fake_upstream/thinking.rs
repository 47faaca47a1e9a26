//! The checks Anthropic makes of replayed thinking, in the fake's
//! `/v1/messages`: a gateway that loses or mangles a thinking block on the
//! way back (e.g. from a Responses reasoning item's `encrypted_content`)
//! gets the 400 the real API would give.
//!
//! * A `thinking` block whose `signature` is not the fake's `sig-fake` →
//!   `Invalid signature in thinking block`.
//! * With `thinking` enabled, a last assistant message that calls a tool
//!   but does not start with a thinking block → `Expected thinking or
//!   redacted_thinking` (Anthropic needs the thinking of a tool loop's
//!   turn replayed).

use serde_json::Value;

/// The signature the fake gives its thinking blocks.
pub const SIGNATURE: &str = "sig-fake";

/// Why Anthropic would refuse the request's thinking, if it would.
pub fn refusal(request: &Value) -> Option<String> {
    let messages = request["messages"].as_array()?;
    for (m, message) in messages.iter().enumerate() {
        let Some(blocks) = message["content"].as_array() else {
            continue;
        };
        for (b, block) in blocks.iter().enumerate() {
            if block["type"] == "thinking" && block["signature"] != SIGNATURE {
                return Some(format!(
                    "messages.{m}.content.{b}: Invalid `signature` in `thinking` block"
                ));
            }
        }
    }
    if request["thinking"]["type"] != "enabled" {
        return None;
    }
    let (m, last) = messages
        .iter()
        .enumerate()
        .rev()
        .find(|(_, message)| message["role"] == "assistant")?;
    let blocks = last["content"].as_array()?;
    let calls_tool = blocks.iter().any(|b| b["type"] == "tool_use");
    let first = blocks
        .first()
        .and_then(|b| b["type"].as_str())
        .unwrap_or("");
    if calls_tool && first != "thinking" && first != "redacted_thinking" {
        return Some(format!(
            "messages.{m}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{first}`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks)."
        ));
    }
    None
}
