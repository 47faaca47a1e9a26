//! Anthropic Messages streams: upstream SSE → [`StreamEvent`]s
//! ([`StreamDecoder`]).
//!
//! * The event name (`event:`) decides, else the data's `type`. Upstream
//!   block indices are kept. Tool names are mapped back to the client's.
//! * `message_start` → `MessageStart` with its usage (input and cache tokens).
//! * `content_block_start` → `BlockStart`; text or thinking already present
//!   in the start, and a non-empty `input` object of a `tool_use` start
//!   (some Anthropic-compatible servers send the whole input there), follow
//!   as deltas. Server-tool and unknown blocks are skipped with their deltas.
//! * `message_delta` → `Stop`, then `Usage`: the counts of `message_start`
//!   with those of the delta written over them (Anthropic's are cumulative).
//! * `ping` → `KeepAlive`; `error` → `Error` (kind from its `error.type`);
//!   `message_stop` → `MessageStop`. Nothing is read after `message_stop`
//!   or an error. A known event whose JSON cannot be read is an `Error`
//!   (code `malformed_event`) rather than silently lost content.
//! * [`StreamDecoder::finish`] reports a stream that ended before
//!   `message_stop` (and without an error) as an `Error` with code
//!   `stream_truncated`.

use std::collections::HashSet;

use serde::Deserialize;

use super::error::kind_of;
use super::response::stop_reason;
use super::wire::{WireBlock, WireError, WireUsage};
use crate::framing::sse::SseEvent;
use crate::ir::{
    BlockStart, Delta, ErrorKind, GatewayError, SIGNED_BY_ANTHROPIC, StreamEvent, Usage,
};
use crate::translate::{Context, ToolNames};

#[derive(Deserialize)]
struct MessageStartData {
    message: StartMessage,
}

#[derive(Deserialize)]
struct StartMessage {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct BlockStartData {
    index: usize,
    content_block: WireBlock,
}

#[derive(Deserialize)]
struct BlockDeltaData {
    index: usize,
    delta: WireDelta,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    SignatureDelta {
        signature: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct BlockStopData {
    index: usize,
}

#[derive(Deserialize)]
struct MessageDeltaData {
    #[serde(default)]
    delta: MessageDeltaBody,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Default, Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    stop_sequence: Option<String>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(default)]
    error: WireError,
}

/// The `type` of an event: its `event:` name, else the data's `type`.
pub(super) fn event_type(event: &SseEvent) -> Option<&str> {
    if let Some(name) = event.event.as_deref() {
        return Some(name);
    }
    let rest = event.data.trim_start().strip_prefix("{\"type\":\"")?;
    rest.split('"').next()
}

/// Turns an Anthropic upstream stream into [`StreamEvent`]s.
#[derive(Debug)]
pub struct StreamDecoder {
    tool_names: ToolNames,
    usage: Usage,
    /// Upstream indices of skipped (server-tool / unknown) blocks.
    skipped: HashSet<usize>,
    stopped: bool,
    ended: bool,
}

impl StreamDecoder {
    pub fn new(ctx: &Context) -> Self {
        Self {
            tool_names: ctx.tool_names.clone(),
            usage: Usage::default(),
            skipped: HashSet::new(),
            stopped: false,
            ended: false,
        }
    }

    /// Decodes one SSE event, appending what it means to `out`.
    pub fn feed(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        let Some(kind) = event_type(event) else {
            return;
        };
        let result = match kind {
            "message_start" => self.message_start(&event.data, out),
            "content_block_start" => self.block_start(&event.data, out),
            "content_block_delta" => self.block_delta(&event.data, out),
            "content_block_stop" => parse::<BlockStopData>(&event.data).map(|d| {
                if !self.skipped.contains(&d.index) {
                    out.push(StreamEvent::BlockStop { index: d.index });
                }
            }),
            "message_delta" => self.message_delta(&event.data, out),
            "message_stop" => {
                self.ended = true;
                self.stopped = true;
                out.push(StreamEvent::MessageStop);
                Ok(())
            }
            "ping" => {
                out.push(StreamEvent::KeepAlive);
                Ok(())
            }
            "error" => {
                let err = parse::<ErrorData>(&event.data)
                    .map(|d| d.error)
                    .unwrap_or_default();
                let message = if err.message.is_empty() {
                    "the upstream reported an error in the stream".to_owned()
                } else {
                    err.message
                };
                self.ended = true;
                out.push(StreamEvent::Error(GatewayError::new(
                    kind_of(&err.kind),
                    message,
                )));
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.ended = true;
            out.push(StreamEvent::Error(
                GatewayError::new(
                    ErrorKind::Upstream,
                    format!("the upstream sent a malformed `{kind}` event: {e}"),
                )
                .with_code("malformed_event"),
            ));
        }
    }

    /// Ends the stream: a stream that stopped early is reported.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        self.ended = true;
        if !self.stopped {
            out.push(StreamEvent::Error(
                GatewayError::new(
                    ErrorKind::Upstream,
                    "the upstream's stream ended before `message_stop`; the answer is incomplete",
                )
                .with_code("stream_truncated"),
            ));
        }
    }

    fn message_start(&mut self, data: &str, out: &mut Vec<StreamEvent>) -> serde_json::Result<()> {
        let d: MessageStartData = parse(data)?;
        let usage = d.message.usage.map(|u| u.apply(Usage::default()));
        self.usage = usage.unwrap_or_default();
        out.push(StreamEvent::MessageStart {
            id: d.message.id,
            model: d.message.model,
            usage,
        });
        Ok(())
    }

    fn block_start(&mut self, data: &str, out: &mut Vec<StreamEvent>) -> serde_json::Result<()> {
        let d: BlockStartData = parse(data)?;
        let index = d.index;
        let (block, delta, signature) = match d.content_block {
            WireBlock::Text { text } => (BlockStart::Text, Some(Delta::Text(text)), None),
            WireBlock::ToolUse { id, name, input } => {
                let name = self.tool_names.to_client(&name).to_owned();
                let args = input
                    .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
                    .map(|v| Delta::ToolArgs(v.to_string()));
                (BlockStart::ToolCall { id, name }, args, None)
            }
            WireBlock::Thinking {
                thinking,
                signature,
            } => (
                BlockStart::Reasoning,
                Some(Delta::Reasoning(thinking)),
                signature.map(anthropic_signature),
            ),
            WireBlock::RedactedThinking { data } => (
                BlockStart::RedactedReasoning {
                    data,
                    signed_by: Some(SIGNED_BY_ANTHROPIC.to_owned()),
                },
                None,
                None,
            ),
            WireBlock::Other => {
                self.skipped.insert(index);
                return Ok(());
            }
        };
        self.skipped.remove(&index);
        out.push(StreamEvent::BlockStart { index, block });
        for delta in [delta, signature].into_iter().flatten() {
            if !delta_is_empty(&delta) {
                out.push(StreamEvent::Delta { index, delta });
            }
        }
        Ok(())
    }

    fn block_delta(&mut self, data: &str, out: &mut Vec<StreamEvent>) -> serde_json::Result<()> {
        let d: BlockDeltaData = parse(data)?;
        if self.skipped.contains(&d.index) {
            return Ok(());
        }
        let delta = match d.delta {
            WireDelta::TextDelta { text } => Delta::Text(text),
            WireDelta::InputJsonDelta { partial_json } => Delta::ToolArgs(partial_json),
            WireDelta::ThinkingDelta { thinking } => Delta::Reasoning(thinking),
            WireDelta::SignatureDelta { signature } => anthropic_signature(signature),
            WireDelta::Other => return Ok(()),
        };
        if !delta_is_empty(&delta) {
            out.push(StreamEvent::Delta {
                index: d.index,
                delta,
            });
        }
        Ok(())
    }

    fn message_delta(&mut self, data: &str, out: &mut Vec<StreamEvent>) -> serde_json::Result<()> {
        let d: MessageDeltaData = parse(data)?;
        if let Some(native) = d.delta.stop_reason.as_deref() {
            let mut stop = stop_reason(native);
            stop.stop_sequence = d.delta.stop_sequence;
            out.push(StreamEvent::Stop(stop));
        }
        if let Some(usage) = d.usage {
            self.usage = usage.apply(self.usage);
            out.push(StreamEvent::Usage(self.usage));
        }
        Ok(())
    }
}

fn parse<'a, T: Deserialize<'a>>(data: &'a str) -> serde_json::Result<T> {
    serde_json::from_str(data)
}

/// A signature an Anthropic endpoint made.
fn anthropic_signature(signature: String) -> Delta {
    Delta::Signature {
        signature,
        signed_by: Some(SIGNED_BY_ANTHROPIC.to_owned()),
    }
}

/// Empty pieces carry nothing (an empty signature is a start's placeholder).
fn delta_is_empty(delta: &Delta) -> bool {
    match delta {
        Delta::Text(s)
        | Delta::ToolArgs(s)
        | Delta::Reasoning(s)
        | Delta::Signature { signature: s, .. } => s.is_empty(),
    }
}
