//! Canonical [`StreamEvent`]s → a Responses client's typed SSE events
//! ([`StreamEncoder`]).
//!
//! * Every event is `event: TYPE\ndata: {"type":TYPE,"sequence_number":N,…}`
//!   with `N` counting from 0; `KeepAlive` is an SSE comment.
//! * `MessageStart` (or the first other event when none came; id
//!   `modelgate`) writes `response.created` then `response.in_progress`,
//!   whose `response` is what [`encode_response`] gives for an empty answer,
//!   with status `in_progress`, no usage.
//! * Output items are what [`encode_response`] makes of the blocks, built
//!   with the same helpers and ids (`wire::item_id`), so that a client that
//!   assembles the stream (the SDKs' stream helpers, Codex) ends with the
//!   object the terminal event carries:
//!   - consecutive text blocks are ONE `message` item, one `output_text`
//!     part per block: `response.output_item.added` (status
//!     `in_progress`, no content), then per part `response.content_part.added`,
//!     `response.output_text.delta`…, `response.output_text.done`,
//!     `response.content_part.done`; the item's `response.output_item.done`
//!     comes when a block of another kind starts or the answer ends;
//!   - reasoning is a `reasoning` item: its text is summary part 0
//!     (`response.reasoning_summary_part.added`,
//!     `response.reasoning_summary_text.delta`…, `.done`,
//!     `response.reasoning_summary_part.done`); its signature is the
//!     finished item's `encrypted_content`, wrapped as `encode_response`
//!     wraps it. Redacted reasoning is an item added and done at once;
//!   - a tool call is a `function_call` (with its `namespace` when the
//!     client declared it in one), its argument pieces
//!     `response.function_call_arguments.delta`, then `.done`; a custom
//!     tool's call is a `custom_tool_call`: its canonical arguments are the
//!     JSON `{"input": …}`, which cannot be cut into pieces of the raw input
//!     as they arrive, so they are buffered and the input is written when
//!     the block stops, as one `response.custom_tool_call_input.delta` and
//!     its `.done`.
//! * Blocks that carry nothing (a text or reasoning block without text or
//!   signature) make no item, and are left out of the final object too.
//! * The source may keep several blocks open at once (an OpenAI upstream
//!   interleaves parallel tool calls); a Responses item's events must be
//!   contiguous: [`ContiguousBlocks`] reorders them (as for Anthropic
//!   clients; see `contiguous.rs`). Output indexes are dense in the order
//!   items are written.
//! * `Stop` and `Usage` are remembered. `MessageStop` writes the blocks
//!   still waiting, ends the open items, then the terminal event:
//!   `response.completed` or `response.incomplete` (by the status), whose
//!   `response` is exactly [`encode_response`] of the answer accumulated
//!   from the stream (stop: the `Stop` received, else tool use when a tool
//!   was called, else end of turn; usage: the last `Usage`, else the one of
//!   `MessageStart`). An item only the final object has (the refusal given
//!   for a content-filter stop without text) is written before it.
//! * `Error` writes the blocks received so far as items, then an `error`
//!   event (`code`, `message`, `param`) and `response.failed` (the
//!   accumulated object with status `failed` and `error: {code,
//!   message}`), the last event. Why both: OpenAI's Python SDK raises on
//!   neither (it raises only for a top-level `error` field, which neither
//!   has); clients that switch on the `error` event see it first, and
//!   lifecycle-driven clients (the SDKs' stream helpers, Codex) end on
//!   `response.failed`, which carries the partial output, with nothing after
//!   it.
//!
//! Signatures and redacted reasoning keep the signer their stream event
//! names, wrapped in `encrypted_content` as `encode_response` wraps them.

mod items;

use serde::Serialize;
use serde_json::{Value, json};

use self::items::{Current, Message};
use super::response::encode_response;
use crate::contiguous::ContiguousBlocks;
use crate::ir::{
    BlockStart, ChatResponse, Delta, ErrorKind, GatewayError, StopKind, StopReason, StreamEvent,
    Usage,
};
use crate::spec::openai_chat::error::error_type;
use crate::translate::Context;

/// A block the source started while another was open: written later.
/// Writes stream events as a Responses stream.
#[derive(Debug)]
pub struct StreamEncoder {
    // Boxed: the state is large, and encoders of every format share one enum.
    state: Box<State>,
}

impl StreamEncoder {
    pub fn new(ctx: &Context) -> Self {
        Self {
            state: Box::new(State::new(ctx)),
        }
    }

    /// Appends the SSE bytes for `event` to `out`.
    pub fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        self.state.encode(event, out);
    }
}

#[derive(Debug)]
struct State {
    ctx: Context,
    sequence: u64,
    started: bool,
    ended: bool,
    /// The answer so far, in the order its blocks were written.
    answer: ChatResponse,
    /// Output items written (the next `output_index`).
    items: usize,
    message: Option<Message>,
    current: Option<Current>,
    /// The order blocks are written in. Taken out while it drives the
    /// state's [`BlockWriter`] methods (they never use it).
    order: ContiguousBlocks,
    called_tool: bool,
    start_usage: Option<Usage>,
    usage: Option<Usage>,
    stop: Option<StopReason>,
}

impl State {
    fn new(ctx: &Context) -> Self {
        Self {
            ctx: ctx.clone(),
            sequence: 0,
            started: false,
            ended: false,
            answer: ChatResponse::default(),
            items: 0,
            message: None,
            current: None,
            order: ContiguousBlocks::default(),
            called_tool: false,
            start_usage: None,
            usage: None,
            stop: None,
        }
    }

    fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        match event {
            StreamEvent::MessageStart { id, model, usage } => {
                if !self.started {
                    self.start_usage = *usage;
                    self.start(id, model, out);
                }
            }
            StreamEvent::KeepAlive => out.extend_from_slice(b": keep-alive\n\n"),
            other => {
                if !self.started {
                    self.start("modelgate", "", out);
                }
                match other {
                    StreamEvent::BlockStart { index, block } => {
                        self.block_start(*index, block, out);
                    }
                    StreamEvent::Delta { index, delta } => self.delta(*index, delta, out),
                    StreamEvent::BlockStop { index } => self.block_stop(*index, out),
                    StreamEvent::Stop(stop) => self.stop = Some(stop.clone()),
                    StreamEvent::Usage(usage) => self.usage = Some(*usage),
                    StreamEvent::MessageStop => self.message_stop(out),
                    StreamEvent::Error(err) => self.error(err, out),
                    StreamEvent::MessageStart { .. } | StreamEvent::KeepAlive => {}
                }
            }
        }
    }

    fn start(&mut self, id: &str, model: &str, out: &mut Vec<u8>) {
        self.started = true;
        self.answer.id = id.to_owned();
        self.answer.model = model.to_owned();
        let mut response = encode_response(&self.answer, &self.ctx);
        response["status"] = json!("in_progress");
        response["usage"] = Value::Null;
        let body = json!({ "response": response });
        self.emit(out, "response.created", &body);
        self.emit(out, "response.in_progress", &body);
    }

    // --- the source's blocks, in the order `ContiguousBlocks` gives ---

    fn block_start(&mut self, source: usize, block: &BlockStart, out: &mut Vec<u8>) {
        let mut order = std::mem::take(&mut self.order);
        order.start(self, source, block, out);
        self.order = order;
    }

    fn delta(&mut self, source: usize, delta: &Delta, out: &mut Vec<u8>) {
        let mut order = std::mem::take(&mut self.order);
        order.piece(self, source, delta, out);
        self.order = order;
    }

    fn block_stop(&mut self, source: usize, out: &mut Vec<u8>) {
        let mut order = std::mem::take(&mut self.order);
        order.stop(self, source, out);
        self.order = order;
    }

    /// Ends the open block and writes every waiting block, ended.
    fn flush_all(&mut self, out: &mut Vec<u8>) {
        let mut order = std::mem::take(&mut self.order);
        order.flush(self, out);
        self.order = order;
    }

    // --- the end ---

    /// Writes what was received as items and closes the open message.
    fn finish_items(&mut self, out: &mut Vec<u8>) {
        self.flush_all(out);
        self.close_message(out);
        self.answer.usage = self.usage.or(self.start_usage).unwrap_or_default();
    }

    fn message_stop(&mut self, out: &mut Vec<u8>) {
        self.finish_items(out);
        self.answer.stop = self.stop.clone().unwrap_or_else(|| {
            let kind = if self.called_tool {
                StopKind::ToolUse
            } else {
                StopKind::EndTurn
            };
            StopReason::new(kind, None)
        });
        let response = encode_response(&self.answer, &self.ctx);
        let output = response["output"].as_array().cloned().unwrap_or_default();
        for item in output.iter().skip(self.items) {
            self.write_whole_item(item, out);
        }
        let terminal = if response["status"] == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.emit(out, terminal, &json!({ "response": response }));
        self.ended = true;
    }

    /// An item only the final object has, written with its parts' events.
    fn write_whole_item(&mut self, value: &Value, out: &mut Vec<u8>) {
        let index = self.items;
        self.items += 1;
        let id = value["id"].as_str().unwrap_or_default().to_owned();
        let item = (index, id);
        let parts = value["content"].as_array().cloned().unwrap_or_default();
        if value["type"] != "message" {
            self.item_added(&item, value, out);
            self.item_done(&item, value, out);
            return;
        }
        let mut added = value.clone();
        added["status"] = json!("in_progress");
        added["content"] = json!([]);
        self.item_added(&item, &added, out);
        for (content_index, part) in parts.iter().enumerate() {
            let (kind, field) = if part["type"] == "refusal" {
                ("response.refusal", "refusal")
            } else {
                ("response.output_text", "text")
            };
            let text = part[field].clone();
            let mut empty = part.clone();
            empty[field] = json!("");
            let at =
                json!({"item_id": item.1, "output_index": index, "content_index": content_index});
            let with = |k: &str, v: Value| {
                let mut body = at.clone();
                body[k] = v;
                body
            };
            self.emit(out, "response.content_part.added", &with("part", empty));
            self.emit(out, &format!("{kind}.delta"), &with("delta", text.clone()));
            self.emit(out, &format!("{kind}.done"), &with(field, text));
            self.emit(
                out,
                "response.content_part.done",
                &with("part", part.clone()),
            );
        }
        self.item_done(&item, value, out);
    }

    fn error(&mut self, err: &GatewayError, out: &mut Vec<u8>) {
        // What was received is delivered before the error.
        self.finish_items(out);
        let code = failure_code(err);
        let body = json!({"code": code, "message": err.message, "param": err.param});
        self.emit(out, "error", &body);
        let mut response = encode_response(&self.answer, &self.ctx);
        response["status"] = json!("failed");
        response["incomplete_details"] = Value::Null;
        response["error"] = json!({"code": code, "message": err.message});
        self.emit(out, "response.failed", &json!({ "response": response }));
        self.ended = true;
    }

    /// Writes one event: `type` and `sequence_number` first, then the
    /// fields of `body` (an object), spliced in without a copy.
    fn emit<T: Serialize>(&mut self, out: &mut Vec<u8>, kind: &str, body: &T) {
        let sequence = self.sequence;
        self.sequence += 1;
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\ndata: {\"type\":");
        write_json(out, kind);
        out.extend_from_slice(b",\"sequence_number\":");
        out.extend_from_slice(sequence.to_string().as_bytes());
        let at = out.len();
        let written = serde_json::to_writer(&mut *out, body).is_ok();
        if written && out.get(at) == Some(&b'{') && out.len() - at > 2 {
            // `{"a":1}` continues the event as `,"a":1}`.
            out[at] = b',';
        } else {
            out.truncate(at);
            out.push(b'}');
        }
        out.extend_from_slice(b"\n\n");
    }
}

/// The `code` a failure is shown with: the error's own, else one of the
/// Responses error codes by its kind.
fn failure_code(err: &GatewayError) -> String {
    if let Some(code) = &err.code {
        return code.clone();
    }
    match err.kind {
        ErrorKind::RateLimited => "rate_limit_exceeded",
        ErrorKind::InvalidRequest => "invalid_prompt",
        kind => error_type(kind),
    }
    .to_owned()
}

fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}
