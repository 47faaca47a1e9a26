//! The fake's Anthropic Messages answers.

use std::ops::Range;

use modelgate_testkit::anthropic;
use serde_json::{Value, json};

use super::Spec;
use super::upstream::{Answer, Block, Tail, Tokens, stream_error_message, tool_id, upstream_name};

fn usage(t: Tokens) -> Value {
    anthropic::usage_with_cache(t.input, t.cache_read, t.cache_write, t.output)
}

/// The tool names of a Messages request.
fn names(req: &Value) -> Vec<&str> {
    req["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect()
}

/// A non-streamed message.
pub fn message(answer: &Answer, model: &str, req: &Value) -> Value {
    let names = names(req);
    let content: Vec<Value> = answer
        .blocks
        .iter()
        .map(|block| match block {
            Block::Reasoning { pieces, signature } => {
                json!({"type": "thinking", "thinking": pieces.concat(), "signature": signature})
            }
            Block::Text(pieces) => json!({"type": "text", "text": pieces.concat()}),
            Block::Tool { id, name, pieces } => {
                let input: Value = serde_json::from_str(&pieces.concat()).unwrap();
                json!({"type": "tool_use", "id": tool_id(Spec::Anthropic, id),
                       "name": upstream_name(&names, name), "input": input})
            }
        })
        .collect();
    anthropic::message(model, content.into(), answer.stop, usage(answer.tokens))
}

/// The events, and the range of those that belong to content blocks.
pub fn stream(answer: &Answer, model: &str, req: &Value) -> (Vec<String>, Range<usize>) {
    let names = names(req);
    let mut start_usage = usage(answer.tokens);
    start_usage["output_tokens"] = 1.into();
    let mut events = vec![anthropic::message_start_with_usage(model, start_usage)];
    let first_block = events.len();
    for (i, block) in answer.blocks.iter().enumerate() {
        match block {
            Block::Reasoning { pieces, signature } => {
                events.push(anthropic::thinking_block_start(i));
                for piece in pieces {
                    events.push(anthropic::thinking_delta(i, piece));
                }
                events.push(anthropic::signature_delta(i, signature));
            }
            Block::Text(pieces) => {
                events.push(anthropic::text_block_start(i));
                for piece in pieces {
                    events.push(anthropic::text_delta(i, piece));
                }
            }
            Block::Tool { id, name, pieces } => {
                let name = upstream_name(&names, name);
                events.push(anthropic::tool_block_start(
                    i,
                    &tool_id(Spec::Anthropic, id),
                    &name,
                ));
                for piece in pieces {
                    events.push(anthropic::json_delta(i, piece));
                }
            }
        }
        if answer.tail == Tail::Complete || i + 1 < answer.blocks.len() {
            events.push(anthropic::block_stop(i));
        }
    }
    let blocks = first_block..events.len();
    match answer.tail {
        Tail::Complete => {
            events.push(anthropic::message_delta(answer.stop, answer.tokens.output));
            events.push(anthropic::message_stop());
        }
        Tail::ErrorEvent => events.push(anthropic::error_event(
            "overloaded_error",
            stream_error_message(Spec::Anthropic),
        )),
        Tail::Cut => {}
    }
    (events, blocks)
}
