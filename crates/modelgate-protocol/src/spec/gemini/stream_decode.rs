//! Gemini streams (`streamGenerateContent?alt=sse`) → canonical
//! [`StreamEvent`]s ([`StreamDecoder`]).
//!
//! Every SSE event's data is a `GenerateContentResponse` chunk holding only
//! new parts; there are no event names and no terminator.
//!
//! * The first chunk gives `MessageStart` (id `responseId`, model
//!   `modelVersion`, no usage). Only `candidates[0]` is read.
//! * Parts, in order, as in non-streamed answers (`response.rs`): text goes
//!   to a text block and `thought: true` text to a reasoning block, each
//!   opened when no block of its kind is open (closing the other kind
//!   first); consecutive chunks of one kind extend one block.
//! * A `thoughtSignature` is a `Signature` delta signed by
//!   [`SIGNED_BY_GOOGLE`]: on a thought part it goes to that reasoning
//!   block after its text and closes it (a signature ends its thought); on
//!   any other part it is a reasoning block of its own (start, signature,
//!   stop) right before the part's content.
//! * A `functionCall` arrives whole: `BlockStart` ToolCall (name mapped
//!   back, id the given one or `call_{responseId or "gemini"}_{n}` as in
//!   non-streamed answers), one `ToolArgs` delta with the compact JSON of
//!   `args`, `BlockStop`.
//! * Repeated text: Gemini sends increments, but some proxies resend the
//!   whole text so far. A text (or thought) piece that begins with
//!   everything of its kind received so far, when that is at least
//!   [`REPEAT_MIN`] bytes, is taken as cumulative and only its new end is
//!   used (an exact repeat adds nothing). Shorter prefixes are not
//!   checked: a genuine increment may well begin like a short answer.
//! * `finishReason` closes the open block and gives `Stop` (see
//!   `wire::stop_reason`; `STOP` after a function call is ToolUse). As in
//!   non-streamed answers, a filtered or unusable-function-call finish with
//!   nothing visible before it first gets a text block saying why (a stream
//!   has no refusal block). Parts after the finish reason are ignored.
//! * `usageMetadata`: the last one wins; it is sent as `Usage` after the
//!   `Stop` (and again if a later chunk changes it), or before the error of
//!   a truncated stream.
//! * `promptFeedback.blockReason` without candidates: a text block naming
//!   the reason, then `Stop(ContentFilter)` (native: the block reason).
//! * A chunk that is an error envelope gives `Error` and ends the stream;
//!   a JSON chunk that is not a response gives `Error` (code
//!   `malformed_event`); data that is not JSON is ignored.
//! * [`StreamDecoder::finish`] (the body ended) gives `MessageStop` when a
//!   finish reason came, else an `Error` with code `stream_truncated`.

use serde_json::Value;

use super::SIGNED_BY_GOOGLE;
use super::response::tool_call;
use super::wire::{
    WirePart, WireResponse, bad_tool_call_text, blocked_text, error_of, is_bad_tool_call,
    stop_reason, withheld_text,
};
use crate::framing::sse::SseEvent;
use crate::ir::{
    BlockStart, Content, Delta, ErrorKind, GatewayError, StopKind, StopReason, StreamEvent, Usage,
};
use crate::translate::Context;

/// Accumulated text shorter than this is not checked for repetition.
pub const REPEAT_MIN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Reasoning,
}

/// Reads a Gemini endpoint's stream. Feed it the SSE events in order,
/// then call [`finish`](Self::finish) when the body ends.
#[derive(Debug)]
pub struct StreamDecoder {
    ctx: Context,
    id: String,
    started: bool,
    /// The open text or reasoning block.
    open: Option<(usize, Kind)>,
    next_index: usize,
    /// Function calls so far (for synthesized ids).
    calls: usize,
    /// Text or a function call came.
    answered: bool,
    stopped: bool,
    /// `MessageStop` or an error was emitted.
    ended: bool,
    usage: Option<Usage>,
    sent_usage: Option<Usage>,
    /// Everything received so far per kind, for the repeat guard.
    text_so_far: String,
    thought_so_far: String,
}

impl StreamDecoder {
    pub fn new(ctx: &Context) -> Self {
        Self {
            ctx: ctx.clone(),
            id: String::new(),
            started: false,
            open: None,
            next_index: 0,
            calls: 0,
            answered: false,
            stopped: false,
            ended: false,
            usage: None,
            sent_usage: None,
            text_so_far: String::new(),
            thought_so_far: String::new(),
        }
    }

    /// Decodes one SSE event, appending what it means to `out`.
    pub fn feed(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(event.data.trim()) else {
            return;
        };
        if let Some(err) = error_of(&value) {
            self.ended = true;
            out.push(StreamEvent::Error(err));
            return;
        }
        let chunk = match serde_json::from_value::<WireResponse>(value) {
            Ok(chunk) => chunk,
            Err(e) => {
                self.ended = true;
                out.push(StreamEvent::Error(
                    GatewayError::new(
                        ErrorKind::Upstream,
                        format!("the upstream sent a chunk that is not a Gemini response: {e}"),
                    )
                    .with_code("malformed_event"),
                ));
                return;
            }
        };
        if !self.started {
            self.started = true;
            self.id = chunk.response_id.clone();
            out.push(StreamEvent::MessageStart {
                id: chunk.response_id.clone(),
                model: chunk.model_version.clone(),
                usage: None,
            });
        }
        if let Some(u) = chunk.usage_metadata {
            self.usage = Some(u.canonical());
        }
        if !self.stopped {
            match chunk.candidates.into_iter().next() {
                Some(candidate) => {
                    let parts = candidate.content.map(|c| c.parts).unwrap_or_default();
                    for part in parts {
                        self.part(part, out);
                    }
                    if let Some(native) = candidate.finish_reason.as_deref() {
                        let message = candidate.finish_message.as_deref();
                        self.finish_reason(native, message, out);
                    }
                }
                None => {
                    if let Some(feedback) = chunk.prompt_feedback
                        && let Some(reason) = feedback.block_reason.as_deref()
                    {
                        let text = blocked_text(reason, feedback.block_reason_message.as_deref());
                        self.close(out);
                        self.text_block(text, out);
                        self.stopped = true;
                        out.push(StreamEvent::Stop(StopReason::new(
                            StopKind::ContentFilter,
                            Some(reason),
                        )));
                    }
                }
            }
        }
        if self.stopped {
            self.send_usage(out);
        }
    }

    /// The upstream's stream ended.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.close(out);
        self.send_usage(out);
        if self.stopped {
            out.push(StreamEvent::MessageStop);
        } else {
            out.push(StreamEvent::Error(
                GatewayError::new(
                    ErrorKind::Upstream,
                    "the upstream's stream ended before a finish reason; the answer is incomplete",
                )
                .with_code("stream_truncated"),
            ));
        }
    }

    fn part(&mut self, part: WirePart, out: &mut Vec<StreamEvent>) {
        let signature = part.thought_signature.filter(|s| !s.is_empty());
        let google = Some(SIGNED_BY_GOOGLE.to_owned());
        if part.thought && part.function_call.is_none() {
            let text = dedupe(&mut self.thought_so_far, part.text.unwrap_or_default());
            if !text.is_empty() {
                let index = self.ensure(Kind::Reasoning, out);
                out.push(StreamEvent::Delta {
                    index,
                    delta: Delta::Reasoning(text),
                });
            }
            if let Some(signature) = signature {
                let index = self.ensure(Kind::Reasoning, out);
                out.push(StreamEvent::Delta {
                    index,
                    delta: Delta::Signature {
                        signature,
                        signed_by: google,
                    },
                });
                self.close(out);
            }
            return;
        }
        if let Some(signature) = signature {
            self.close(out);
            let index = self.ensure(Kind::Reasoning, out);
            out.push(StreamEvent::Delta {
                index,
                delta: Delta::Signature {
                    signature,
                    signed_by: google,
                },
            });
            self.close(out);
        }
        if let Some(call) = part.function_call {
            self.close(out);
            let Content::ToolCall {
                id,
                name,
                arguments,
            } = tool_call(call, &self.id, &mut self.calls, &self.ctx)
            else {
                return;
            };
            let index = self.next_index;
            self.next_index += 1;
            self.answered = true;
            out.push(StreamEvent::BlockStart {
                index,
                block: BlockStart::ToolCall { id, name },
            });
            out.push(StreamEvent::Delta {
                index,
                delta: Delta::ToolArgs(arguments),
            });
            out.push(StreamEvent::BlockStop { index });
        } else if let Some(text) = part.text {
            let text = dedupe(&mut self.text_so_far, text);
            if !text.is_empty() {
                self.answered = true;
                let index = self.ensure(Kind::Text, out);
                out.push(StreamEvent::Delta {
                    index,
                    delta: Delta::Text(text),
                });
            }
        }
    }

    fn finish_reason(&mut self, native: &str, message: Option<&str>, out: &mut Vec<StreamEvent>) {
        self.close(out);
        let stop = stop_reason(native, self.calls > 0);
        if !self.answered {
            if stop.kind == StopKind::ContentFilter {
                self.text_block(withheld_text(native), out);
            } else if is_bad_tool_call(native) {
                self.text_block(bad_tool_call_text(native, message), out);
            }
        }
        self.stopped = true;
        out.push(StreamEvent::Stop(stop));
    }

    /// A whole text block (start, text, stop).
    fn text_block(&mut self, text: String, out: &mut Vec<StreamEvent>) {
        let index = self.ensure(Kind::Text, out);
        out.push(StreamEvent::Delta {
            index,
            delta: Delta::Text(text),
        });
        self.answered = true;
        self.close(out);
    }

    fn send_usage(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(usage) = self.usage
            && self.sent_usage != Some(usage)
        {
            self.sent_usage = Some(usage);
            out.push(StreamEvent::Usage(usage));
        }
    }

    /// The index of the open block of `kind`, opening one (after closing
    /// a block of the other kind) when none is open.
    fn ensure(&mut self, kind: Kind, out: &mut Vec<StreamEvent>) -> usize {
        if let Some((index, open)) = self.open {
            if open == kind {
                return index;
            }
            self.close(out);
        }
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((index, kind));
        let block = match kind {
            Kind::Text => BlockStart::Text,
            Kind::Reasoning => BlockStart::Reasoning,
        };
        out.push(StreamEvent::BlockStart { index, block });
        index
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((index, _)) = self.open.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }
}

/// The new part of `piece` given everything of its kind so far (module
/// docs), recorded in `so_far`.
fn dedupe(so_far: &mut String, piece: String) -> String {
    let piece = if so_far.len() >= REPEAT_MIN && piece.starts_with(so_far.as_str()) {
        piece[so_far.len()..].to_owned()
    } else {
        piece
    };
    so_far.push_str(&piece);
    piece
}
