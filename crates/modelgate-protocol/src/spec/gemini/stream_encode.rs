//! Canonical [`StreamEvent`]s → a Gemini client's SSE stream of
//! `GenerateContentResponse` chunks ([`StreamEncoder`]).
//!
//! * Every chunk is `data: {"candidates":[{"content":{"role":"model",
//!   "parts":[…]},"index":0}],"modelVersion","responseId"}\n\n`, the model
//!   being the one the client asked for and the id the source's.
//! * Text deltas are `{text}` parts and reasoning deltas `{text, thought:
//!   true}` parts, written at once.
//! * Signatures follow the rules of non-streamed answers (`response.rs`):
//!   a google signature of a reasoning block that had text, and any
//!   signature of another family (wrapped with `sealed`), is written as a
//!   `{"text":"","thought":true,"thoughtSignature"}` part closing that
//!   thought; a google signature of a reasoning block without text waits
//!   and is put on the next part written (alone, `{"text":"",
//!   "thoughtSignature"}`, when none follows). Redacted reasoning is a
//!   thought part with its wrapped data as signature.
//! * A tool call is buffered until its block stops, then written as one
//!   `functionCall` part (`args` the arguments parsed as an object).
//!   Calls not stopped by the end of the message are written then.
//! * `Stop` and `Usage` are remembered; `MessageStop` writes the last chunk
//!   with `finishReason` (`STOP` when no `Stop` came) and `usageMetadata`
//!   (omitted when no usage came), and whatever parts still wait.
//! * `Error` writes `data: {"error": {"code", "message", "status"}}`;
//!   nothing is written after it or after `MessageStop`. `KeepAlive` is an
//!   SSE comment.
//!
//! A client that concatenates the parts of all chunks, merging a text part
//! into the previous one of the same kind (text, or thought) unless the
//! previous is a thought that already carries its signature or the new one
//! is a text that carries one (a thought's signature ends it; a text's
//! starts it), gets the parts `encode_response` gives for the same answer.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::SIGNED_BY_GOOGLE;
use super::wire::{arguments_object, native_finish_reason, status_name, usage_json};
use crate::ir::{
    BlockStart, Delta, GatewayError, StopKind, StopReason, StreamEvent, Usage, sealed,
};
use crate::translate::Context;

#[derive(Debug)]
enum Block {
    Text,
    /// Whether reasoning text was written in it.
    Reasoning(bool),
    Tool {
        id: String,
        name: String,
        args: String,
    },
}

/// Writes stream events as a Gemini stream.
#[derive(Debug)]
pub struct StreamEncoder {
    client_model: String,
    id: String,
    ended: bool,
    blocks: BTreeMap<usize, Block>,
    /// A google signature waiting for the next part.
    pending: Option<String>,
    stop: Option<StopReason>,
    usage: Option<Usage>,
    called_tool: bool,
}

impl StreamEncoder {
    pub fn new(ctx: &Context) -> Self {
        Self {
            client_model: ctx.client_model.clone(),
            id: String::new(),
            ended: false,
            blocks: BTreeMap::new(),
            pending: None,
            stop: None,
            usage: None,
            called_tool: false,
        }
    }

    /// Appends the SSE bytes for `event` to `out`.
    pub fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        match event {
            StreamEvent::MessageStart { id, .. } => {
                if self.id.is_empty() {
                    self.id.clone_from(id);
                }
            }
            StreamEvent::BlockStart { index, block } => self.block_start(*index, block, out),
            StreamEvent::Delta { index, delta } => self.delta(*index, delta, out),
            StreamEvent::BlockStop { index } => {
                if let Some(Block::Tool { .. }) = self.blocks.get(index)
                    && let Some(Block::Tool { id, name, args }) = self.blocks.remove(index)
                {
                    let part = function_call(&id, &name, &args);
                    self.write_parts(vec![part], out);
                }
            }
            StreamEvent::Stop(stop) => self.stop = Some(stop.clone()),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::MessageStop => self.message_stop(out),
            StreamEvent::Error(err) => {
                self.ended = true;
                write_data(out, &error_chunk(err));
            }
            StreamEvent::KeepAlive => out.extend_from_slice(b": keep-alive\n\n"),
        }
    }

    fn block_start(&mut self, index: usize, block: &BlockStart, out: &mut Vec<u8>) {
        let state = match block {
            BlockStart::Text => Block::Text,
            BlockStart::Reasoning => Block::Reasoning(false),
            BlockStart::ToolCall { id, name } => {
                self.called_tool = true;
                Block::Tool {
                    id: id.clone(),
                    name: name.clone(),
                    args: String::new(),
                }
            }
            BlockStart::RedactedReasoning { data, signed_by } => {
                let sig = sealed::wrap_redacted(SIGNED_BY_GOOGLE, signed_by.as_deref(), data);
                let part = json!({"text": "", "thought": true, "thoughtSignature": sig});
                self.write_parts(vec![part], out);
                return;
            }
        };
        self.blocks.entry(index).or_insert(state);
    }

    fn delta(&mut self, index: usize, delta: &Delta, out: &mut Vec<u8>) {
        match delta {
            Delta::Text(text) if !text.is_empty() => {
                self.write_parts(vec![json!({"text": text})], out);
            }
            Delta::Reasoning(text) if !text.is_empty() => {
                self.blocks.insert(index, Block::Reasoning(true));
                self.write_parts(vec![json!({"text": text, "thought": true})], out);
            }
            Delta::ToolArgs(piece) => {
                if let Some(Block::Tool { args, .. }) = self.blocks.get_mut(&index) {
                    args.push_str(piece);
                }
            }
            Delta::Signature {
                signature,
                signed_by,
            } => {
                let had_text = matches!(self.blocks.get(&index), Some(Block::Reasoning(true)));
                let google = signed_by.as_deref() == Some(SIGNED_BY_GOOGLE);
                if google && !had_text {
                    if let Some(earlier) = self.pending.replace(signature.clone()) {
                        let part = json!({"text": "", "thoughtSignature": earlier});
                        self.write_parts(vec![part], out);
                    }
                } else {
                    let sig =
                        sealed::wrap_signature(SIGNED_BY_GOOGLE, signed_by.as_deref(), signature);
                    let part = json!({"text": "", "thought": true, "thoughtSignature": sig});
                    self.write_parts(vec![part], out);
                }
            }
            Delta::Text(_) | Delta::Reasoning(_) => {}
        }
    }

    fn message_stop(&mut self, out: &mut Vec<u8>) {
        self.ended = true;
        let mut parts = Vec::new();
        for block in std::mem::take(&mut self.blocks).into_values() {
            if let Block::Tool { id, name, args } = block {
                parts.push(function_call(&id, &name, &args));
            }
        }
        self.attach_pending(&mut parts);
        let stop = self.stop.clone().unwrap_or_else(|| {
            let kind = if self.called_tool {
                StopKind::ToolUse
            } else {
                StopKind::EndTurn
            };
            StopReason::new(kind, None)
        });
        let mut candidate = json!({"finishReason": native_finish_reason(stop.kind), "index": 0});
        if !parts.is_empty() {
            candidate["content"] = json!({"role": "model", "parts": parts});
        }
        let mut chunk = self.chunk(candidate);
        if let Some(usage) = &self.usage {
            chunk["usageMetadata"] = usage_json(usage);
        }
        write_data(out, &chunk);
    }

    /// Puts the waiting signature on the first part, or alone when there
    /// are none.
    fn attach_pending(&mut self, parts: &mut Vec<Value>) {
        let Some(sig) = self.pending.take() else {
            return;
        };
        match parts.first_mut() {
            Some(first) if first.get("thoughtSignature").is_none() => {
                first["thoughtSignature"] = json!(sig);
            }
            _ => parts.insert(0, json!({"text": "", "thoughtSignature": sig})),
        }
    }

    fn write_parts(&mut self, mut parts: Vec<Value>, out: &mut Vec<u8>) {
        self.attach_pending(&mut parts);
        let candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
        let chunk = self.chunk(candidate);
        write_data(out, &chunk);
    }

    fn chunk(&self, candidate: Value) -> Value {
        json!({
            "candidates": [candidate],
            "modelVersion": self.client_model,
            "responseId": self.id,
        })
    }
}

fn function_call(id: &str, name: &str, args: &str) -> Value {
    json!({"functionCall": {"name": name, "args": arguments_object(args), "id": id}})
}

/// The error chunk of a Gemini stream.
fn error_chunk(err: &GatewayError) -> Value {
    json!({"error": {"code": err.status, "message": err.message, "status": status_name(err.kind)}})
}

fn write_data(out: &mut Vec<u8>, value: &Value) {
    out.extend_from_slice(b"data: ");
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"{}");
    }
    out.extend_from_slice(b"\n\n");
}
