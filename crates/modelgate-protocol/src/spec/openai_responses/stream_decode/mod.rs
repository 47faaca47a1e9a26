//! OpenAI Responses streams → canonical [`StreamEvent`]s ([`StreamDecoder`]).
//!
//! A Responses stream is a sequence of typed events (`event:` name and the
//! data's `type` agree; the data's `type` is read when the name is absent)
//! that build output items by their `output_index`. The decoder turns every
//! item into canonical blocks, numbered densely in order of opening:
//!
//! * `response.created` → `MessageStart` (the response's `id` and `model`,
//!   no usage: Responses report usage only at the end). A stream that skips
//!   it gets one (empty id and model) before its first block.
//! * `message` items: every `output_text` or `refusal` part is a text block
//!   (there is no refusal block in a stream), opened by its
//!   `response.content_part.added` or first delta and closed by its
//!   `response.content_part.done` (else by the item's end). A part that
//!   got no delta gives its text from `response.output_text.done` /
//!   `response.refusal.done`, else from the finished item.
//! * `reasoning` items: one reasoning block, opened by the first summary or
//!   reasoning text (`response.reasoning_summary_text.delta`,
//!   `response.reasoning_text.delta`); summary parts are joined by a blank
//!   line, as `decode_response` joins them (reasoning text, which servers
//!   of open-weight models send instead of a summary, is kept too, though
//!   `decode_response` reads only the summary). At `response.output_item.done`
//!   the item's `encrypted_content` is read as `decode_response` reads it:
//!   OpenAI's own blob is the block's `Signature`, or, when no text came, a
//!   `RedactedReasoning` block (opened and closed at once); a value in the
//!   gateway's envelope (`wire.rs`) gives back the signature or redacted
//!   reasoning it wraps. An item with neither text nor blob gives nothing.
//! * `function_call` items: a tool-call block opened by
//!   `response.output_item.added` (`call_id`; the name mapped back to the
//!   client's, `NS.NAME` when the item has a `namespace`; a missing
//!   `call_id` is made up from the response id and output index), argument
//!   pieces as `ToolArgs`; arguments only given whole (`.done`, the
//!   finished item) are sent once.
//! * `custom_tool_call` items: a tool-call block whose arguments are the
//!   canonical JSON `{"input": …}`, sent as one piece when the item ends
//!   (a JSON string cannot be streamed piecewise as it arrives).
//! * Hosted-tool items (`web_search_call`, …) and their events are skipped.
//! * `response.completed`, `response.incomplete` (and `response.done`, seen
//!   from Codex-style backends) close the blocks still open, decode any
//!   item the stream only carried in the final object, then give `Stop`
//!   (from the status, the incomplete reason and whether a tool was
//!   called), `Usage` (when the response has one) and `MessageStop`.
//! * `response.failed` and `error` give `Error` (kind `Upstream`, with the
//!   upstream's code and message). Nothing is read after a terminal event or an error.
//! * Unknown events are ignored; a known event whose JSON cannot be read
//!   is an `Error` with code `malformed_event`; [`StreamDecoder::finish`]
//!   reports a stream that ended without a terminal event as an `Error`
//!   with code `stream_truncated`.

mod items;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use self::items::{Item, Segment};
use super::response::stop_reason;
use super::wire::{WireItem, WirePart, WireResponse, event_type};
use crate::framing::sse::SseEvent;
use crate::ir::{BlockStart, Delta, ErrorKind, GatewayError, StreamEvent, Usage};
use crate::spec::openai_chat::error::decode_upstream_error;
use crate::translate::{Context, ToolNames};

#[derive(Deserialize)]
struct LifecycleData {
    #[serde(default)]
    response: WireResponse,
}

#[derive(Deserialize)]
struct ItemData {
    output_index: usize,
    item: WireItem,
}

#[derive(Deserialize)]
struct PartData {
    output_index: usize,
    #[serde(default)]
    content_index: usize,
    part: WirePart,
}

/// Any event about a piece of an item: the fields that event carries.
#[derive(Deserialize)]
struct PieceData {
    output_index: usize,
    #[serde(default)]
    content_index: usize,
    #[serde(default)]
    summary_index: usize,
    #[serde(default)]
    delta: String,
    /// The whole text of a `*.done` event (`text`, `refusal`,
    /// `arguments` or `input`, whichever the event has).
    #[serde(default, alias = "refusal", alias = "arguments", alias = "input")]
    text: Option<String>,
}

/// Reads an `openai-responses` endpoint's stream. Feed it the SSE events
/// in order, then call [`finish`](Self::finish) when the body ends.
#[derive(Debug)]
pub struct StreamDecoder {
    names: ToolNames,
    id: String,
    started: bool,
    /// Items by `output_index`; an item stays here after it ends.
    items: BTreeMap<usize, Item>,
    /// Items whose `response.output_item.done` came.
    finished: BTreeSet<usize>,
    /// Open blocks, in order of opening.
    open: Vec<usize>,
    next_index: usize,
    called_tool: bool,
    /// A terminal event or an error was emitted: nothing more comes out.
    done: bool,
}

impl StreamDecoder {
    pub fn new(ctx: &Context) -> Self {
        Self {
            names: ctx.tool_names.clone(),
            id: String::new(),
            started: false,
            items: BTreeMap::new(),
            finished: BTreeSet::new(),
            open: Vec::new(),
            next_index: 0,
            called_tool: false,
            done: false,
        }
    }

    /// Decodes one SSE event, appending what it means to `out`.
    pub fn feed(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        let Some(kind) = kind_of(event) else {
            return;
        };
        let kind = kind.as_ref();
        let data = event.data.as_str();
        let result =
            match kind {
                "response.created" | "response.in_progress" | "response.queued" => {
                    parse::<LifecycleData>(data).map(|d| self.start(&d.response, out))
                }
                "response.output_item.added" => {
                    parse::<ItemData>(data).map(|d| self.item_added(d.output_index, d.item, out))
                }
                "response.output_item.done" => {
                    parse::<ItemData>(data).map(|d| self.item_done(d.output_index, &d.item, out))
                }
                "response.content_part.added" => parse::<PartData>(data).map(|d| {
                    if let WirePart::OutputText { text } | WirePart::Refusal { refusal: text } =
                        d.part
                    {
                        self.part_text(d.output_index, d.content_index, &text, false, out);
                    }
                }),
                "response.content_part.done" => parse::<PartData>(data)
                    .map(|d| self.part_done(d.output_index, d.content_index, out)),
                "response.output_text.delta" | "response.refusal.delta" => parse::<PieceData>(data)
                    .map(|d| self.part_text(d.output_index, d.content_index, &d.delta, false, out)),
                "response.output_text.done" | "response.refusal.done" => parse::<PieceData>(data)
                    .map(|d| {
                        let text = d.text.unwrap_or_default();
                        self.part_text(d.output_index, d.content_index, &text, true, out);
                    }),
                "response.reasoning_summary_text.delta" => parse::<PieceData>(data).map(|d| {
                    let segment = Segment::Summary(d.summary_index);
                    self.reasoning_text(d.output_index, segment, &d.delta, false, out);
                }),
                "response.reasoning_summary_text.done" => parse::<PieceData>(data).map(|d| {
                    let text = d.text.unwrap_or_default();
                    let segment = Segment::Summary(d.summary_index);
                    self.reasoning_text(d.output_index, segment, &text, true, out);
                }),
                "response.reasoning_text.delta" => parse::<PieceData>(data).map(|d| {
                    let segment = Segment::Content(d.content_index);
                    self.reasoning_text(d.output_index, segment, &d.delta, false, out);
                }),
                "response.reasoning_text.done" => parse::<PieceData>(data).map(|d| {
                    let text = d.text.unwrap_or_default();
                    let segment = Segment::Content(d.content_index);
                    self.reasoning_text(d.output_index, segment, &text, true, out);
                }),
                "response.function_call_arguments.delta" => parse::<PieceData>(data)
                    .map(|d| self.args(d.output_index, &d.delta, false, out)),
                "response.function_call_arguments.done" => parse::<PieceData>(data).map(|d| {
                    let args = d.text.unwrap_or_default();
                    self.args(d.output_index, &args, true, out);
                }),
                "response.custom_tool_call_input.delta" => parse::<PieceData>(data)
                    .map(|d| self.custom_input(d.output_index, d.delta, false)),
                "response.custom_tool_call_input.done" => parse::<PieceData>(data).map(|d| {
                    self.custom_input(d.output_index, d.text.unwrap_or_default(), true);
                }),
                "response.completed" | "response.incomplete" | "response.done" => {
                    parse::<LifecycleData>(data).map(|d| self.end(&d.response, out))
                }
                "response.failed" => parse::<LifecycleData>(data).map(|d| {
                    let error = d.response.error.unwrap_or(Value::Null);
                    let body = json!({"error": error}).to_string();
                    self.fail(body.as_bytes(), out);
                }),
                "error" => {
                    self.fail(data.as_bytes(), out);
                    Ok(())
                }
                _ => Ok(()),
            };
        if let Err(e) = result {
            self.done = true;
            out.push(StreamEvent::Error(
                GatewayError::new(
                    ErrorKind::Upstream,
                    format!("the upstream sent a malformed `{kind}` event: {e}"),
                )
                .with_code("malformed_event"),
            ));
        }
    }

    /// The body ended. Without a terminal event (or error) first, the
    /// stream was cut.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.done {
            return;
        }
        self.done = true;
        out.push(StreamEvent::Error(
            GatewayError::new(
                ErrorKind::Upstream,
                "The endpoint closed the stream before `response.completed`; \
                 the answer may be cut short. Retry the request.",
            )
            .with_code("stream_truncated"),
        ));
    }

    fn start(&mut self, response: &WireResponse, out: &mut Vec<StreamEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        self.id.clone_from(&response.id);
        out.push(StreamEvent::MessageStart {
            id: response.id.clone(),
            model: response.model.clone(),
            usage: None,
        });
    }

    fn ensure_started(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.start(&WireResponse::default(), out);
        }
    }

    fn open_block(&mut self, block: BlockStart, out: &mut Vec<StreamEvent>) -> usize {
        self.ensure_started(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open.push(index);
        out.push(StreamEvent::BlockStart { index, block });
        index
    }

    fn close_block(&mut self, index: usize, out: &mut Vec<StreamEvent>) {
        if let Some(pos) = self.open.iter().position(|&i| i == index) {
            self.open.remove(pos);
            out.push(StreamEvent::BlockStop { index });
        }
    }

    /// A terminal response: the rest of the answer, `Stop`, `Usage`, `MessageStop`.
    fn end(&mut self, response: &WireResponse, out: &mut Vec<StreamEvent>) {
        self.ensure_started(out);
        for (output_index, item) in response.output.iter().flatten().enumerate() {
            // Items the stream never finished, or only carried here.
            if !self.finished.contains(&output_index) {
                self.item_done(output_index, item, out);
            }
        }
        for index in std::mem::take(&mut self.open) {
            out.push(StreamEvent::BlockStop { index });
        }
        let status = response.status.as_deref().unwrap_or("completed");
        let reason = response
            .incomplete_details
            .as_ref()
            .and_then(|d| d.reason.as_deref());
        out.push(StreamEvent::Stop(stop_reason(
            status,
            reason,
            self.called_tool,
        )));
        if let Some(usage) = &response.usage {
            out.push(StreamEvent::Usage(Usage::from(usage)));
        }
        out.push(StreamEvent::MessageStop);
        self.done = true;
    }

    /// `response.failed` or `error`: the upstream's error, and the end.
    fn fail(&mut self, body: &[u8], out: &mut Vec<StreamEvent>) {
        let body = decode_upstream_error(body);
        let message = body.message.unwrap_or_else(|| {
            "The endpoint reported an error in the middle of the stream.".to_owned()
        });
        let mut err = GatewayError::new(ErrorKind::Upstream, message);
        // A flat `error` event's `type` is the event's own, not a code.
        err.code = body.code.or(body.kind.filter(|k| k != "error"));
        out.push(StreamEvent::Error(err));
        self.done = true;
    }
}

/// The `type` of an event: its `event:` name, else the data's `type`,
/// found without parsing when it comes first (as OpenAI writes it).
fn kind_of(event: &SseEvent) -> Option<Cow<'_, str>> {
    if let Some(kind) = event_type(event) {
        return Some(Cow::Borrowed(kind));
    }
    #[derive(Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        kind: String,
    }
    let typed: Typed = serde_json::from_str(&event.data).ok()?;
    Some(Cow::Owned(typed.kind))
}

fn delta(index: usize, delta: Delta) -> StreamEvent {
    StreamEvent::Delta { index, delta }
}

fn parse<T: DeserializeOwned>(data: &str) -> serde_json::Result<T> {
    serde_json::from_str(data)
}
