//! OpenAI Chat Completions streams → canonical [`StreamEvent`]s.
//!
//! # Decoding ([`StreamDecoder`]: an endpoint's SSE events → stream events)
//!
//! OpenAI chunks have no block boundaries; the decoder makes them:
//!
//! * the first chunk with choices or usage gives `MessageStart` (id, model,
//!   no usage); chunks with neither (Azure prompt-filter results) are
//!   skipped, and so are choices other than the first (`n > 1`);
//! * within a chunk: reasoning (`reasoning_content`, else `reasoning`, else
//!   the text or summary of `reasoning_details` entries), then the
//!   signatures and encrypted entries of `reasoning_details`, then `content`
//!   (and `refusal`, sent as text: there is no refusal block in a stream),
//!   then `tool_calls`; nothing of a chunk is lost;
//! * text and reasoning go to a block of their kind, opened when none is
//!   open (an open text or reasoning block of the other kind is closed
//!   first); a signature goes to the open reasoning block (or a new one);
//!   an encrypted entry is a `RedactedReasoning` block opened and closed at
//!   once (after closing an open text or reasoning block);
//! * every OpenAI tool-call index gets its own block, opened by its first
//!   fragment (closing an open text or reasoning block), with the name
//!   mapped back to the client's; an id the endpoint left out is made up
//!   from the message id. Tool blocks stay open until the finish reason (or
//!   `[DONE]`), whatever comes between: OpenAI interleaves the argument
//!   pieces of parallel calls, and some servers send more arguments after
//!   text, so every piece lands between its block's start and stop (several
//!   blocks may be open at once; the Anthropic encoder serializes them);
//! * block indices count every block in order of opening;
//! * a `content_filter` finish with nothing answered before it (Azure's
//!   withheld answer) first gets a text block saying so, naming the
//!   categories the chunks' `content_filter_results` marked filtered
//!   ([`withheld_text`]), so that every client sees why the answer is empty;
//! * `finish_reason` closes the open blocks (in order) and gives `Stop`;
//!   a `usage` object gives `Usage`; `[DONE]` gives `MessageStop` (after
//!   closing blocks and a `Stop(EndTurn)` when no finish reason came);
//! * an event with a top-level `error` gives `Error` (502) and ends the
//!   stream; data that is not JSON is ignored; [`StreamDecoder::finish`]
//!   reports a stream cut before `[DONE]` as a `stream_truncated` error.

use serde_json::Value;

use super::error::decode_upstream_error;
use super::response::stop_reason;
use super::wire::{ChatUsage, filtered_categories, signer, withheld_text};
use crate::framing::sse::SseEvent;
use crate::ir::{
    BlockStart, Delta, ErrorKind, GatewayError, StopKind, StopReason, StreamEvent, Usage,
};
use crate::translate::{Context, ToolNames};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Reasoning,
    Tool,
}

/// Reads an OpenAI-compatible endpoint's stream. Feed it the SSE events in
/// order, then call [`finish`](Self::finish) when the body ends.
#[derive(Debug)]
pub struct StreamDecoder {
    names: ToolNames,
    id: String,
    started: bool,
    /// Open blocks, in order of opening.
    open: Vec<(usize, Kind)>,
    next_index: usize,
    /// OpenAI tool-call index → canonical block index.
    tools: Vec<(u64, usize)>,
    stopped: bool,
    /// `MessageStop` or an error was emitted: nothing more comes out.
    done: bool,
    /// Text, a refusal or a tool call came: the answer is not empty.
    answered: bool,
    /// Content-filter categories the chunks marked filtered (Azure).
    filtered: Vec<String>,
}

impl StreamDecoder {
    pub fn new(ctx: &Context) -> Self {
        Self {
            names: ctx.tool_names.clone(),
            id: String::new(),
            started: false,
            open: Vec::new(),
            next_index: 0,
            tools: Vec::new(),
            stopped: false,
            done: false,
            answered: false,
            filtered: Vec::new(),
        }
    }

    /// Decodes one SSE event, appending what it means to `out`.
    pub fn feed(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        let data = event.data.trim();
        if data.starts_with("[DONE]") {
            self.end(out);
            return;
        }
        let Ok(Value::Object(chunk)) = serde_json::from_str::<Value>(data) else {
            return;
        };
        if chunk.get("error").is_some_and(|e| !e.is_null()) {
            out.push(StreamEvent::Error(stream_error(data)));
            self.done = true;
            return;
        }
        let choices = chunk.get("choices").and_then(Value::as_array);
        let usage = chunk.get("usage").filter(|u| u.is_object());
        if choices.is_none_or(Vec::is_empty) && usage.is_none() {
            return; // Azure's prompt-filter results and other empty chunks
        }
        if !self.started {
            self.started = true;
            let field = |k: &str| {
                chunk
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            self.id = field("id");
            out.push(StreamEvent::MessageStart {
                id: field("id"),
                model: field("model"),
                usage: None,
            });
        }
        for choice in choices.into_iter().flatten() {
            if choice.get("index").and_then(Value::as_u64).unwrap_or(0) != 0 {
                continue; // n > 1 is not translated
            }
            if let Some(delta) = choice.get("delta").filter(|d| d.is_object()) {
                self.delta(delta, out);
            }
            if let Some(results) = choice.get("content_filter_results") {
                for category in filtered_categories(results) {
                    if !self.filtered.contains(&category) {
                        self.filtered.push(category);
                    }
                }
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                let stop = stop_reason(reason);
                if stop.kind == StopKind::ContentFilter && !self.answered {
                    let index = self.ensure(Kind::Text, out);
                    out.push(StreamEvent::Delta {
                        index,
                        delta: Delta::Text(withheld_text(&self.filtered)),
                    });
                    self.answered = true;
                }
                self.close_all(out);
                out.push(StreamEvent::Stop(stop));
                self.stopped = true;
            }
        }
        if let Some(usage) = usage
            && let Ok(usage) = serde_json::from_value::<ChatUsage>(usage.clone())
        {
            out.push(StreamEvent::Usage(Usage::from(&usage)));
        }
    }

    /// The body ended. Without a `[DONE]` (or error) first, the stream was cut.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.done = true;
        out.push(StreamEvent::Error(
            GatewayError::new(
                ErrorKind::Upstream,
                "The endpoint closed the stream before it was complete (no [DONE]); \
                 the answer may be cut short. Retry the request.",
            )
            .with_code("stream_truncated"),
        ));
    }

    fn end(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.stopped {
            self.close_all(out);
            out.push(StreamEvent::Stop(StopReason::default()));
            self.stopped = true;
        }
        out.push(StreamEvent::MessageStop);
        self.done = true;
    }

    fn delta(&mut self, delta: &Value, out: &mut Vec<StreamEvent>) {
        let text = |k: &str| {
            delta
                .get(k)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
        };
        let details = delta.get("reasoning_details").and_then(Value::as_array);
        let detail_field = |d: &'_ Value, k: &str| -> Option<String> {
            d.get(k)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let reasoning = text("reasoning_content")
            .or_else(|| text("reasoning"))
            .map(str::to_owned);
        let reasoning = reasoning.or_else(|| {
            let joined: String = details
                .into_iter()
                .flatten()
                .filter_map(|d| match d.get("type").and_then(Value::as_str) {
                    Some("reasoning.text") => detail_field(d, "text"),
                    Some("reasoning.summary") => detail_field(d, "summary"),
                    _ => None,
                })
                .collect();
            (!joined.is_empty()).then_some(joined)
        });
        if let Some(r) = reasoning {
            let index = self.ensure(Kind::Reasoning, out);
            out.push(StreamEvent::Delta {
                index,
                delta: Delta::Reasoning(r),
            });
        }
        for d in details.into_iter().flatten() {
            match d.get("type").and_then(Value::as_str) {
                Some("reasoning.text") => {
                    if let Some(signature) = detail_field(d, "signature") {
                        let index = self.ensure(Kind::Reasoning, out);
                        let signed_by = signer(d.get("format").and_then(Value::as_str));
                        out.push(StreamEvent::Delta {
                            index,
                            delta: Delta::Signature {
                                signature,
                                signed_by,
                            },
                        });
                    }
                }
                Some("reasoning.encrypted") => {
                    if let Some(data) = detail_field(d, "data") {
                        self.close_transient(out);
                        let index = self.next_index;
                        self.next_index += 1;
                        out.push(StreamEvent::BlockStart {
                            index,
                            block: BlockStart::RedactedReasoning {
                                data,
                                signed_by: signer(d.get("format").and_then(Value::as_str)),
                            },
                        });
                        out.push(StreamEvent::BlockStop { index });
                    }
                }
                _ => {}
            }
        }
        for t in [text("content"), text("refusal")].into_iter().flatten() {
            self.answered = true;
            let index = self.ensure(Kind::Text, out);
            out.push(StreamEvent::Delta {
                index,
                delta: Delta::Text(t.to_owned()),
            });
        }
        let calls = delta.get("tool_calls").and_then(Value::as_array);
        for call in calls.into_iter().flatten() {
            self.tool_call(call, out);
        }
    }

    fn tool_call(&mut self, call: &Value, out: &mut Vec<StreamEvent>) {
        self.answered = true;
        let openai_index = call.get("index").and_then(Value::as_u64).unwrap_or(0);
        let function = call.get("function");
        let index = match self.tools.iter().find(|(i, _)| *i == openai_index) {
            Some(&(_, index)) => index,
            None => {
                self.close_transient(out);
                let index = self.open_block(Kind::Tool);
                self.tools.push((openai_index, index));
                let id = call
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|i| !i.is_empty());
                let id =
                    id.map_or_else(|| format!("call_{}_{openai_index}", self.id), str::to_owned);
                let name = function
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let name = self.names.to_client(name).to_owned();
                out.push(StreamEvent::BlockStart {
                    index,
                    block: BlockStart::ToolCall { id, name },
                });
                index
            }
        };
        let args = function
            .and_then(|f| f.get("arguments"))
            .and_then(Value::as_str);
        if let Some(args) = args.filter(|a| !a.is_empty()) {
            out.push(StreamEvent::Delta {
                index,
                delta: Delta::ToolArgs(args.to_owned()),
            });
        }
    }

    /// The open block of `kind` (text or reasoning), or a new one after
    /// closing the open text or reasoning block (tool blocks stay open).
    fn ensure(&mut self, kind: Kind, out: &mut Vec<StreamEvent>) -> usize {
        if let Some(&(index, _)) = self.open.iter().find(|(_, k)| *k == kind) {
            return index;
        }
        self.close_transient(out);
        let index = self.open_block(kind);
        out.push(StreamEvent::BlockStart {
            index,
            block: match kind {
                Kind::Text => BlockStart::Text,
                _ => BlockStart::Reasoning,
            },
        });
        index
    }

    fn open_block(&mut self, kind: Kind) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        self.open.push((index, kind));
        index
    }

    /// Closes the open text and reasoning blocks; tool blocks stay open.
    fn close_transient(&mut self, out: &mut Vec<StreamEvent>) {
        self.open.retain(|&(index, kind)| {
            kind == Kind::Tool || {
                out.push(StreamEvent::BlockStop { index });
                false
            }
        });
    }

    fn close_all(&mut self, out: &mut Vec<StreamEvent>) {
        for (index, _) in self.open.drain(..) {
            out.push(StreamEvent::BlockStop { index });
        }
    }
}

/// An in-stream `{"error": ..}` event as a gateway error.
fn stream_error(data: &str) -> GatewayError {
    let body = decode_upstream_error(data.as_bytes());
    let message = body.message.unwrap_or_else(|| {
        "The endpoint reported an error in the middle of the stream.".to_owned()
    });
    let mut err = GatewayError::new(ErrorKind::Upstream, message);
    err.code = body.code.or(body.kind);
    err
}
