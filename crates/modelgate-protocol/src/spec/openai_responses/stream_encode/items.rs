//! Output items: how each written block becomes a Responses item and its
//! events (see the parent module for the rules).

use serde::Serialize;
use serde_json::{Value, json};

use super::State;
use crate::contiguous::BlockWriter;
use crate::ir::{BlockStart, Content, Delta};
use crate::spec::openai_responses::response::{
    custom_input, message_item, reasoning_item, text_part, tool_call_item,
};
use crate::spec::openai_responses::wire::item_id;

/// The output item being written, as `(output_index, item id)`.
pub(super) type ItemRef = (usize, String);

/// The `message` item that consecutive text blocks go to.
#[derive(Debug)]
pub(super) struct Message {
    item: ItemRef,
    /// Its finished parts.
    parts: Vec<Value>,
}

/// What the block open in the output is writing.
#[derive(Debug)]
pub(super) enum Current {
    /// A text block; its part (in the message item, at a content index)
    /// opens with the first text.
    Text {
        text: String,
        part: Option<(ItemRef, usize)>,
    },
    /// A reasoning block; its item opens with the first text or signature.
    Reasoning {
        item: Option<ItemRef>,
        text: String,
        signature: Option<String>,
        signed_by: Option<String>,
    },
    Tool {
        item: ItemRef,
        call_id: String,
        name: String,
        custom: bool,
        args: String,
    },
    /// Written whole at its start (redacted reasoning): deltas are ignored.
    Whole,
}

/// The writing of each block, driven by `State::order`.
impl BlockWriter for State {
    fn start(&mut self, block: &BlockStart, out: &mut Vec<u8>) {
        self.begin(block, out);
    }

    fn piece(&mut self, delta: &Delta, out: &mut Vec<u8>) {
        State::piece(self, delta, out);
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        State::end(self, out);
    }
}

impl State {
    /// Opens the next output item: ends the open message first.
    fn next_item(&mut self, prefix: &str, out: &mut Vec<u8>) -> ItemRef {
        self.close_message(out);
        let index = self.items;
        self.items += 1;
        (index, item_id(prefix, &self.answer.id, index))
    }

    pub(super) fn close_message(&mut self, out: &mut Vec<u8>) {
        if let Some(Message { item, parts }) = self.message.take() {
            let done = message_item(&item.1, parts);
            self.item_done(&item, &done, out);
        }
    }

    /// A block is written: what can be said at its start.
    pub(super) fn begin(&mut self, block: &BlockStart, out: &mut Vec<u8>) {
        self.current = Some(match block {
            BlockStart::Text => Current::Text {
                text: String::new(),
                part: None,
            },
            BlockStart::Reasoning => Current::Reasoning {
                item: None,
                text: String::new(),
                signature: None,
                signed_by: None,
            },
            BlockStart::RedactedReasoning { data, signed_by } => {
                let item = self.next_item("rs", out);
                let block = Content::RedactedReasoning {
                    data: data.clone(),
                    signed_by: signed_by.clone(),
                };
                if let Some(done) = reasoning_item(&item.1, &block) {
                    self.item_added(&item, &done, out);
                    self.item_done(&item, &done, out);
                }
                self.answer.content.push(block);
                Current::Whole
            }
            BlockStart::ToolCall { id, name } => {
                self.called_tool = true;
                let custom = self.ctx.client_tools.get(name).is_some_and(|t| t.custom);
                let item = self.next_item(if custom { "ctc" } else { "fc" }, out);
                let mut added = tool_call_item(&item.1, id, name, "", &self.ctx);
                if custom {
                    added["input"] = json!("");
                } else {
                    added["arguments"] = json!("");
                    added["status"] = json!("in_progress");
                }
                self.item_added(&item, &added, out);
                Current::Tool {
                    item,
                    call_id: id.clone(),
                    name: name.clone(),
                    custom,
                    args: String::new(),
                }
            }
        });
    }

    /// A delta of the open block.
    pub(super) fn piece(&mut self, delta: &Delta, out: &mut Vec<u8>) {
        let Some(mut current) = self.current.take() else {
            return;
        };
        match (&mut current, delta) {
            (Current::Text { text, part }, Delta::Text(t)) if !t.is_empty() => {
                let (item, index) = match part {
                    Some(part) => part,
                    None => {
                        let item = self.message_ref(out);
                        let index = self.message.as_ref().map_or(0, |m| m.parts.len());
                        let body = json!({"item_id": item.1, "output_index": item.0,
                            "content_index": index, "part": text_part("")});
                        self.emit(out, "response.content_part.added", &body);
                        part.insert((item, index))
                    }
                };
                text.push_str(t);
                let body = DeltaEvent::new(item, t).content(*index).logprobs();
                self.emit(out, "response.output_text.delta", &body);
            }
            (Current::Reasoning { item, text, .. }, Delta::Reasoning(t)) if !t.is_empty() => {
                let item = match item {
                    Some(item) => item,
                    None => item.insert(self.open_reasoning(out)),
                };
                if text.is_empty() {
                    let body = json!({"item_id": item.1, "output_index": item.0,
                        "summary_index": 0, "part": {"type": "summary_text", "text": ""}});
                    self.emit(out, "response.reasoning_summary_part.added", &body);
                }
                text.push_str(t);
                let body = DeltaEvent::new(item, t).summary(0);
                self.emit(out, "response.reasoning_summary_text.delta", &body);
            }
            (
                Current::Reasoning {
                    item,
                    signature,
                    signed_by,
                    ..
                },
                Delta::Signature {
                    signature: s,
                    signed_by: by,
                },
            ) if !s.is_empty() => {
                if item.is_none() {
                    *item = Some(self.open_reasoning(out));
                }
                *signature = Some(s.clone());
                signed_by.clone_from(by);
            }
            (
                Current::Tool {
                    item, custom, args, ..
                },
                Delta::ToolArgs(a),
            ) if !a.is_empty() => {
                args.push_str(a);
                if !*custom {
                    let body = DeltaEvent::new(item, a);
                    self.emit(out, "response.function_call_arguments.delta", &body);
                }
            }
            _ => {}
        }
        self.current = Some(current);
    }

    /// The open message item, opened now if there is none.
    fn message_ref(&mut self, out: &mut Vec<u8>) -> ItemRef {
        if let Some(m) = &self.message {
            return m.item.clone();
        }
        let item = self.next_item("msg", out);
        let added = json!({"type": "message", "id": item.1, "role": "assistant",
            "status": "in_progress", "content": []});
        self.item_added(&item, &added, out);
        self.message = Some(Message {
            item: item.clone(),
            parts: Vec::new(),
        });
        item
    }

    fn open_reasoning(&mut self, out: &mut Vec<u8>) -> ItemRef {
        let item = self.next_item("rs", out);
        let empty = Content::Reasoning {
            text: String::new(),
            signature: None,
            signed_by: None,
        };
        if let Some(added) = reasoning_item(&item.1, &empty) {
            self.item_added(&item, &added, out);
        }
        item
    }

    /// The open block ends: its closing events, and its block in the answer.
    pub(super) fn end(&mut self, out: &mut Vec<u8>) {
        match self.current.take() {
            Some(Current::Text {
                text,
                part: Some((item, index)),
            }) => {
                let body = json!({"item_id": item.1, "output_index": item.0,
                    "content_index": index, "text": text, "logprobs": []});
                self.emit(out, "response.output_text.done", &body);
                let part = text_part(&text);
                let body = json!({"item_id": item.1, "output_index": item.0,
                    "content_index": index, "part": part});
                self.emit(out, "response.content_part.done", &body);
                if let Some(m) = &mut self.message {
                    m.parts.push(part);
                }
                self.answer.content.push(Content::text(text));
            }
            Some(Current::Reasoning {
                item: Some(item),
                text,
                signature,
                signed_by,
            }) => {
                if !text.is_empty() {
                    let body = json!({"item_id": item.1, "output_index": item.0,
                        "summary_index": 0, "text": text});
                    self.emit(out, "response.reasoning_summary_text.done", &body);
                    let body = json!({"item_id": item.1, "output_index": item.0,
                        "summary_index": 0, "part": {"type": "summary_text", "text": text}});
                    self.emit(out, "response.reasoning_summary_part.done", &body);
                }
                let signed_by = signature.as_ref().and(signed_by);
                let block = Content::Reasoning {
                    text,
                    signature,
                    signed_by,
                };
                if let Some(done) = reasoning_item(&item.1, &block) {
                    self.item_done(&item, &done, out);
                }
                self.answer.content.push(block);
            }
            Some(Current::Tool {
                item,
                call_id,
                name,
                custom,
                args,
            }) => {
                let arguments = if args.is_empty() {
                    // No piece came: `{}` is the arguments, and the pieces
                    // still add up to them.
                    if !custom {
                        let body = DeltaEvent::new(&item, "{}");
                        self.emit(out, "response.function_call_arguments.delta", &body);
                    }
                    "{}".to_owned()
                } else {
                    args
                };
                if custom {
                    let input = custom_input(&arguments);
                    if !input.is_empty() {
                        let body = DeltaEvent::new(&item, &input);
                        self.emit(out, "response.custom_tool_call_input.delta", &body);
                    }
                    let body = json!({"item_id": item.1, "output_index": item.0,
                        "input": input});
                    self.emit(out, "response.custom_tool_call_input.done", &body);
                } else {
                    let body = json!({"item_id": item.1, "output_index": item.0,
                        "arguments": arguments});
                    self.emit(out, "response.function_call_arguments.done", &body);
                }
                let done = tool_call_item(&item.1, &call_id, &name, &arguments, &self.ctx);
                self.item_done(&item, &done, out);
                self.answer.content.push(Content::ToolCall {
                    id: call_id,
                    name,
                    arguments,
                });
            }
            // Blocks that carried nothing, and whole ones, end silently.
            Some(Current::Text { .. } | Current::Reasoning { .. } | Current::Whole) | None => {}
        }
    }

    pub(super) fn item_added(&mut self, item: &ItemRef, value: &Value, out: &mut Vec<u8>) {
        let body = ItemEvent {
            output_index: item.0,
            item: value,
        };
        self.emit(out, "response.output_item.added", &body);
    }

    pub(super) fn item_done(&mut self, item: &ItemRef, value: &Value, out: &mut Vec<u8>) {
        let body = ItemEvent {
            output_index: item.0,
            item: value,
        };
        self.emit(out, "response.output_item.done", &body);
    }
}

/// `response.output_item.added` / `.done`, without copying the item.
#[derive(Serialize)]
struct ItemEvent<'a> {
    output_index: usize,
    item: &'a Value,
}

/// A `*.delta` event, the most frequent: written without building a map.
#[derive(Serialize)]
struct DeltaEvent<'a> {
    item_id: &'a str,
    output_index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary_index: Option<usize>,
    delta: &'a str,
    /// `[]` on `response.output_text.delta`, where the SDK requires it.
    #[serde(skip_serializing_if = "Option::is_none")]
    logprobs: Option<[u8; 0]>,
}

impl<'a> DeltaEvent<'a> {
    fn new(item: &'a ItemRef, delta: &'a str) -> Self {
        Self {
            item_id: &item.1,
            output_index: item.0,
            content_index: None,
            summary_index: None,
            delta,
            logprobs: None,
        }
    }

    fn content(mut self, index: usize) -> Self {
        self.content_index = Some(index);
        self
    }

    fn summary(mut self, index: usize) -> Self {
        self.summary_index = Some(index);
        self
    }

    fn logprobs(mut self) -> Self {
        self.logprobs = Some([]);
        self
    }
}
