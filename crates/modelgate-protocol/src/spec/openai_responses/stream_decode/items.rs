//! Output items: how each item's events become canonical blocks (see the
//! parent module for the rules).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{StreamDecoder, delta};
use crate::ir::{BlockStart, Delta, StreamEvent};
use crate::spec::openai_responses::wire::{
    Encrypted, SIGNED_BY_RESPONSES, WireItem, WirePart, unwrap_encrypted,
};
use crate::translate::ToolNames;

/// A piece of reasoning text: a summary part or a reasoning-content part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Segment {
    Summary(usize),
    Content(usize),
}

/// A text block of a message part.
#[derive(Debug)]
pub(super) struct Part {
    block: usize,
    open: bool,
    has_text: bool,
}

#[derive(Debug)]
pub(super) enum Item {
    Message {
        /// `content_index` → its text block.
        parts: BTreeMap<usize, Part>,
    },
    Reasoning {
        block: Option<usize>,
        /// Segments that gave text, and the last one.
        with_text: BTreeSet<Segment>,
        last: Option<Segment>,
    },
    Function {
        block: usize,
        has_args: bool,
    },
    Custom {
        block: usize,
        input: String,
        /// The input given whole by `response.custom_tool_call_input.done`.
        done_input: Option<String>,
    },
    Skipped,
}

impl StreamDecoder {
    pub(super) fn item_added(
        &mut self,
        output_index: usize,
        item: WireItem,
        out: &mut Vec<StreamEvent>,
    ) {
        if self.items.contains_key(&output_index) {
            return;
        }
        let item = match item {
            WireItem::Message { .. } => Item::Message {
                parts: BTreeMap::new(),
            },
            WireItem::Reasoning { .. } => Item::Reasoning {
                block: None,
                with_text: BTreeSet::new(),
                last: None,
            },
            WireItem::FunctionCall {
                call_id,
                name,
                namespace,
                arguments,
            } => {
                let block = self.open_tool(output_index, &call_id, &name, namespace, out);
                let has_args = !arguments.is_empty();
                if has_args {
                    out.push(delta(block, Delta::ToolArgs(arguments)));
                }
                Item::Function { block, has_args }
            }
            WireItem::CustomToolCall {
                call_id,
                name,
                namespace,
                input,
            } => {
                let block = self.open_tool(output_index, &call_id, &name, namespace, out);
                Item::Custom {
                    block,
                    input,
                    done_input: None,
                }
            }
            WireItem::Other => Item::Skipped,
        };
        self.items.insert(output_index, item);
    }

    fn open_tool(
        &mut self,
        output_index: usize,
        call_id: &str,
        name: &str,
        namespace: Option<String>,
        out: &mut Vec<StreamEvent>,
    ) -> usize {
        self.called_tool = true;
        let id = if call_id.is_empty() {
            let response = self.id.strip_prefix("resp_").unwrap_or(&self.id);
            format!("call_{response}_{output_index}")
        } else {
            call_id.to_owned()
        };
        let name = canonical_tool_name(&self.names, namespace.as_deref(), name);
        self.open_block(BlockStart::ToolCall { id, name }, out)
    }

    /// Text for a message part: a delta (`whole` false) or the part's whole
    /// text (`whole` true: sent only when no delta came).
    pub(super) fn part_text(
        &mut self,
        output_index: usize,
        content_index: usize,
        text: &str,
        whole: bool,
        out: &mut Vec<StreamEvent>,
    ) {
        if self.finished.contains(&output_index) {
            return;
        }
        let item = self.items.entry(output_index).or_insert(Item::Message {
            parts: BTreeMap::new(),
        });
        let Item::Message { parts } = item else {
            return;
        };
        let existing = parts.get(&content_index).map(|p| (p.block, p.open));
        let block = match existing {
            Some((block, true)) => block,
            Some((_, false)) => return, // the part was closed already
            None => {
                self.ensure_started(out);
                let block = self.next_index;
                self.next_index += 1;
                self.open.push(block);
                out.push(StreamEvent::BlockStart {
                    index: block,
                    block: BlockStart::Text,
                });
                if let Some(Item::Message { parts }) = self.items.get_mut(&output_index) {
                    parts.insert(
                        content_index,
                        Part {
                            block,
                            open: true,
                            has_text: false,
                        },
                    );
                }
                block
            }
        };
        let Some(Item::Message { parts }) = self.items.get_mut(&output_index) else {
            return;
        };
        let Some(part) = parts.get_mut(&content_index) else {
            return;
        };
        if text.is_empty() || (whole && part.has_text) {
            return;
        }
        part.has_text = true;
        out.push(delta(block, Delta::Text(text.to_owned())));
    }

    pub(super) fn part_done(
        &mut self,
        output_index: usize,
        content_index: usize,
        out: &mut Vec<StreamEvent>,
    ) {
        let Some(Item::Message { parts }) = self.items.get_mut(&output_index) else {
            return;
        };
        let Some(part) = parts.get_mut(&content_index).filter(|p| p.open) else {
            return;
        };
        part.open = false;
        let block = part.block;
        self.close_block(block, out);
    }

    /// Reasoning text: a delta, or a segment's whole text (sent only when
    /// that segment gave no delta).
    pub(super) fn reasoning_text(
        &mut self,
        output_index: usize,
        segment: Segment,
        text: &str,
        whole: bool,
        out: &mut Vec<StreamEvent>,
    ) {
        if self.finished.contains(&output_index) || text.is_empty() {
            return;
        }
        let item = self.items.entry(output_index).or_insert(Item::Reasoning {
            block: None,
            with_text: BTreeSet::new(),
            last: None,
        });
        let Item::Reasoning {
            block,
            with_text,
            last,
        } = item
        else {
            return;
        };
        if whole && with_text.contains(&segment) {
            return;
        }
        // Another summary part: a blank line between parts, as the
        // non-streamed decoder joins them.
        let separate = last.is_some_and(|l| l != segment);
        *last = Some(segment);
        with_text.insert(segment);
        let index = match *block {
            Some(index) => index,
            None => {
                let index = self.open_block(BlockStart::Reasoning, out);
                if let Some(Item::Reasoning { block, .. }) = self.items.get_mut(&output_index) {
                    *block = Some(index);
                }
                index
            }
        };
        if separate {
            out.push(delta(index, Delta::Reasoning("\n\n".to_owned())));
        }
        out.push(delta(index, Delta::Reasoning(text.to_owned())));
    }

    /// Function-call arguments: a piece, or the whole (sent only when no
    /// piece came).
    pub(super) fn args(
        &mut self,
        output_index: usize,
        args: &str,
        whole: bool,
        out: &mut Vec<StreamEvent>,
    ) {
        if self.finished.contains(&output_index) || args.is_empty() {
            return;
        }
        let Some(Item::Function { block, has_args }) = self.items.get_mut(&output_index) else {
            return;
        };
        if whole && *has_args {
            return;
        }
        *has_args = true;
        out.push(delta(*block, Delta::ToolArgs(args.to_owned())));
    }

    pub(super) fn custom_input(&mut self, output_index: usize, text: String, whole: bool) {
        if self.finished.contains(&output_index) {
            return;
        }
        let Some(Item::Custom {
            input, done_input, ..
        }) = self.items.get_mut(&output_index)
        else {
            return;
        };
        if whole {
            *done_input = Some(text);
        } else {
            input.push_str(&text);
        }
    }

    /// An item ended: what only the finished item carries is sent, then its
    /// blocks are closed.
    pub(super) fn item_done(
        &mut self,
        output_index: usize,
        done: &WireItem,
        out: &mut Vec<StreamEvent>,
    ) {
        if self.finished.contains(&output_index) {
            return;
        }
        if !self.items.contains_key(&output_index) {
            // No `output_item.added` came: the finished item is all there is.
            self.item_added(output_index, clone_shell(done), out);
        }
        match done {
            WireItem::Message { content } => {
                for (content_index, part) in content.iter().enumerate() {
                    if let WirePart::OutputText { text } | WirePart::Refusal { refusal: text } =
                        part
                    {
                        self.part_text(output_index, content_index, text, true, out);
                    }
                }
                let blocks: Vec<usize> = match self.items.get(&output_index) {
                    Some(Item::Message { parts }) => parts.values().map(|p| p.block).collect(),
                    _ => Vec::new(),
                };
                for block in blocks {
                    self.close_block(block, out);
                }
            }
            WireItem::Reasoning {
                summary,
                encrypted_content,
            } => {
                for (i, s) in summary.iter().enumerate() {
                    self.reasoning_text(output_index, Segment::Summary(i), &s.text, true, out);
                }
                let encrypted = encrypted_content.as_deref().filter(|e| !e.is_empty());
                self.reasoning_done(output_index, encrypted, out);
            }
            WireItem::FunctionCall { arguments, .. } => {
                self.args(output_index, arguments, true, out);
                if let Some(Item::Function { block, .. }) = self.items.get(&output_index) {
                    let block = *block;
                    self.close_block(block, out);
                }
            }
            WireItem::CustomToolCall { input: whole, .. } => {
                if let Some(Item::Custom {
                    block,
                    input,
                    done_input,
                }) = self.items.get(&output_index)
                {
                    // The most complete of what came: the finished item,
                    // the `.done` event, the pieces.
                    let text = [Some(whole), done_input.as_ref()]
                        .into_iter()
                        .flatten()
                        .find(|t| !t.is_empty())
                        .unwrap_or(input);
                    let args = json!({ "input": text }).to_string();
                    let block = *block;
                    out.push(delta(block, Delta::ToolArgs(args)));
                    self.close_block(block, out);
                }
            }
            WireItem::Other => {}
        }
        self.finished.insert(output_index);
    }

    /// The end of a reasoning item, read as `decode_response` reads it: a
    /// value in the gateway's envelope gives back what it wraps (a
    /// signature, or redacted reasoning of another producer); OpenAI's own
    /// blob is the signature of the text, or redacted reasoning when no
    /// text came.
    fn reasoning_done(
        &mut self,
        output_index: usize,
        encrypted: Option<&str>,
        out: &mut Vec<StreamEvent>,
    ) {
        let block = match self.items.get(&output_index) {
            Some(Item::Reasoning { block, .. }) => *block,
            _ => None,
        };
        let signature = match encrypted.map(unwrap_encrypted) {
            None => None,
            Some(Encrypted::Signature {
                signature,
                signed_by,
            }) => Some((signature, signed_by)),
            Some(Encrypted::Redacted { signed_by, data })
                if block.is_none() || signed_by != SIGNED_BY_RESPONSES =>
            {
                if let Some(block) = block {
                    self.close_block(block, out);
                }
                let data = data.to_owned();
                let block = BlockStart::RedactedReasoning {
                    data,
                    signed_by: Some(signed_by.to_owned()),
                };
                let index = self.open_block(block, out);
                self.close_block(index, out);
                return;
            }
            Some(Encrypted::Redacted { data, signed_by }) => Some((data, signed_by)),
        };
        let signature = signature.filter(|(s, _)| !s.is_empty());
        let block = match (block, signature) {
            (Some(block), _) => block,
            // A signature of no text (our own envelope read back).
            (None, Some(_)) => self.open_block(BlockStart::Reasoning, out),
            (None, None) => return,
        };
        if let Some((signature, signed_by)) = signature {
            let signature = Delta::Signature {
                signature: signature.to_owned(),
                signed_by: Some(signed_by.to_owned()),
            };
            out.push(delta(block, signature));
        }
        self.close_block(block, out);
    }
}

/// The canonical name of a tool the endpoint called: the client's name for
/// it, `NS.NAME` inside a namespace (see [`crate::ir::ClientTool`]).
fn canonical_tool_name(names: &ToolNames, namespace: Option<&str>, name: &str) -> String {
    let name = names.to_client(name);
    match namespace.filter(|ns| !ns.is_empty()) {
        Some(ns) => format!("{ns}.{name}"),
        None => name.to_owned(),
    }
}

/// An item's kind and identity without its content, to open it when only
/// its end was streamed (the content is then read from the finished item).
fn clone_shell(item: &WireItem) -> WireItem {
    match item {
        WireItem::Message { .. } => WireItem::Message {
            content: Vec::new(),
        },
        WireItem::Reasoning { .. } => WireItem::Reasoning {
            summary: Vec::new(),
            encrypted_content: None,
        },
        WireItem::FunctionCall {
            call_id,
            name,
            namespace,
            ..
        } => WireItem::FunctionCall {
            call_id: call_id.clone(),
            name: name.clone(),
            namespace: namespace.clone(),
            arguments: String::new(),
        },
        WireItem::CustomToolCall {
            call_id,
            name,
            namespace,
            ..
        } => WireItem::CustomToolCall {
            call_id: call_id.clone(),
            name: name.clone(),
            namespace: namespace.clone(),
            input: String::new(),
        },
        WireItem::Other => WireItem::Other,
    }
}
