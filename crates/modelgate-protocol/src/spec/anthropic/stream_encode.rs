//! [`StreamEvent`]s → SSE for an Anthropic client ([`StreamEncoder`]).
//!
//! * Each event is written as `event: NAME\ndata: JSON\n\n`.
//! * The output is a valid Anthropic stream whatever the order of the
//!   source's events: at most one block is open at a time, each block is
//!   written contiguously (`content_block_start`, all its deltas,
//!   `content_block_stop`), and blocks are numbered densely in the order
//!   they are written. A source may keep several blocks open at once (an
//!   OpenAI stream interleaves the argument pieces of parallel tool calls):
//!   they are reordered by [`ContiguousBlocks`] (see `contiguous.rs` for
//!   the rules). `MessageStop` writes every block still waiting; so does
//!   `Error` before its event.
//! * Tool-call ids are kept when Anthropic-valid, else sanitized, as in
//!   non-streamed responses.
//! * A `message_start` is written before the first other event when the
//!   source sent none (id `msg_modelgate`).
//! * `Stop` and `Usage` are remembered; `MessageStop` closes the open block
//!   (and writes the waiting ones), then writes `message_delta` (stop
//!   reason — `tool_use` when no `Stop` came but a tool was called, else
//!   `end_turn` — and the last usage) and `message_stop`. `Error` writes
//!   `event: error`. Nothing is written after either.

use serde::Serialize;
use serde_json::json;

use super::error::encode_error_event;
use super::response::{native_stop_reason, usage_json};
use super::wire::message_id;
use crate::contiguous::{BlockWriter, ContiguousBlocks};
use crate::ir::{
    BlockStart, Delta, SIGNED_BY_ANTHROPIC, StopKind, StopReason, StreamEvent, Usage, sealed,
};
use crate::translate::{Context, sanitize_tool_id};

#[derive(Serialize)]
#[serde(tag = "type")]
enum WireDeltaOut<'a> {
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
}

#[derive(Serialize)]
struct DeltaOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    index: usize,
    delta: WireDeltaOut<'a>,
}

#[derive(Serialize)]
struct IndexOut {
    #[serde(rename = "type")]
    kind: &'static str,
    index: usize,
}

/// Writes blocks as Anthropic content blocks, numbered densely in the
/// order they are written.
#[derive(Debug, Default)]
struct Blocks {
    /// The client index of the next block.
    next: usize,
    /// The client index of the open block.
    open: Option<usize>,
}

impl BlockWriter for Blocks {
    fn start(&mut self, block: &BlockStart, out: &mut Vec<u8>) {
        let client = self.next;
        self.next += 1;
        self.open = Some(client);
        let content_block = match block {
            BlockStart::Text => json!({"type": "text", "text": ""}),
            BlockStart::ToolCall { id, name } => {
                json!({"type": "tool_use", "id": sanitize_tool_id(id), "name": name, "input": {}})
            }
            BlockStart::Reasoning => json!({"type": "thinking", "thinking": "", "signature": ""}),
            BlockStart::RedactedReasoning { data, signed_by } => {
                let data = sealed::wrap_redacted(SIGNED_BY_ANTHROPIC, signed_by.as_deref(), data);
                json!({"type": "redacted_thinking", "data": data})
            }
        };
        let data =
            json!({"type": "content_block_start", "index": client, "content_block": content_block});
        write(out, "content_block_start", &data);
    }

    fn piece(&mut self, delta: &Delta, out: &mut Vec<u8>) {
        if let Some(client) = self.open {
            write_delta(out, client, delta);
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        if let Some(client) = self.open.take() {
            let data = IndexOut {
                kind: "content_block_stop",
                index: client,
            };
            write(out, data.kind, &data);
        }
    }
}

/// Writes [`StreamEvent`]s as an Anthropic Messages stream.
#[derive(Debug)]
pub struct StreamEncoder {
    client_model: String,
    started: bool,
    ended: bool,
    order: ContiguousBlocks,
    blocks: Blocks,
    called_tool: bool,
    start_usage: Option<Usage>,
    usage: Option<Usage>,
    stop: Option<StopReason>,
}

impl StreamEncoder {
    pub fn new(ctx: &Context) -> Self {
        Self {
            client_model: ctx.client_model.clone(),
            started: false,
            ended: false,
            order: ContiguousBlocks::default(),
            blocks: Blocks::default(),
            called_tool: false,
            start_usage: None,
            usage: None,
            stop: None,
        }
    }

    /// Appends the SSE bytes for `event` to `out`.
    pub fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        match event {
            StreamEvent::MessageStart { id, usage, .. } => {
                if !self.started {
                    self.message_start(id, *usage, out);
                }
            }
            StreamEvent::Error(err) => {
                if self.order.has_waiting() {
                    // What was received is delivered before the error.
                    self.order.flush(&mut self.blocks, out);
                }
                self.ended = true;
                out.extend_from_slice(&encode_error_event(err));
            }
            StreamEvent::KeepAlive => write(out, "ping", &json!({"type": "ping"})),
            other => {
                if !self.started {
                    self.message_start("modelgate", None, out);
                }
                self.encode_started(other, out);
            }
        }
    }

    fn encode_started(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        match event {
            StreamEvent::BlockStart { index, block } => {
                if matches!(block, BlockStart::ToolCall { .. }) {
                    self.called_tool = true;
                }
                self.order.start(&mut self.blocks, *index, block, out);
            }
            StreamEvent::Delta { index, delta } => {
                self.order.piece(&mut self.blocks, *index, delta, out);
            }
            StreamEvent::BlockStop { index } => self.order.stop(&mut self.blocks, *index, out),
            StreamEvent::Stop(stop) => self.stop = Some(stop.clone()),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::MessageStop => self.message_stop(out),
            StreamEvent::MessageStart { .. } | StreamEvent::Error(_) | StreamEvent::KeepAlive => {}
        }
    }

    fn message_start(&mut self, id: &str, usage: Option<Usage>, out: &mut Vec<u8>) {
        self.started = true;
        self.start_usage = usage;
        let data = json!({
            "type": "message_start",
            "message": {
                "id": message_id(id),
                "type": "message",
                "role": "assistant",
                "model": self.client_model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": usage_json(&usage.unwrap_or_default()),
            },
        });
        write(out, "message_start", &data);
    }

    fn message_stop(&mut self, out: &mut Vec<u8>) {
        self.order.flush(&mut self.blocks, out);
        let stop = self.stop.clone().unwrap_or_else(|| {
            let kind = if self.called_tool {
                StopKind::ToolUse
            } else {
                StopKind::EndTurn
            };
            StopReason::new(kind, None)
        });
        let usage = match self.usage.or(self.start_usage) {
            Some(u) => usage_json(&u),
            None => json!({"output_tokens": 0}),
        };
        let data = json!({
            "type": "message_delta",
            "delta": {
                "stop_reason": native_stop_reason(&stop),
                "stop_sequence": stop.stop_sequence,
            },
            "usage": usage,
        });
        write(out, "message_delta", &data);
        write(out, "message_stop", &json!({"type": "message_stop"}));
        self.ended = true;
    }
}

/// A `content_block_delta` for the client's block `client`.
fn write_delta(out: &mut Vec<u8>, client: usize, delta: &Delta) {
    let sealed;
    let delta = match delta {
        Delta::Text(text) => WireDeltaOut::Text { text },
        Delta::ToolArgs(partial_json) => WireDeltaOut::InputJson { partial_json },
        Delta::Reasoning(thinking) => WireDeltaOut::Thinking { thinking },
        Delta::Signature {
            signature,
            signed_by,
        } => {
            sealed = sealed::wrap_signature(SIGNED_BY_ANTHROPIC, signed_by.as_deref(), signature);
            WireDeltaOut::Signature { signature: &sealed }
        }
    };
    let data = DeltaOut {
        kind: "content_block_delta",
        index: client,
        delta,
    };
    write(out, data.kind, &data);
}

/// One `event: NAME\ndata: JSON\n\n`.
fn write<T: Serialize>(out: &mut Vec<u8>, name: &str, data: &T) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    if serde_json::to_writer(&mut *out, data).is_err() {
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b"\n\n");
}
