//! Canonical [`StreamEvent`]s → an OpenAI chat-completion stream.
//!
//! Every chunk is `{"id","object":"chat.completion.chunk","created","model",
//! "choices":[{"index":0,"delta":{..},"finish_reason":null}]}`. The first
//! carries `{"role":"assistant","content":""}` (also when no `MessageStart`
//! came). Reasoning goes out as `reasoning_content`, signatures and
//! redacted reasoning as OpenRouter-style `reasoning_details`; tool calls
//! are numbered among tool calls only. `Stop` is a chunk with an empty
//! delta and the finish reason (`stop` is added when `MessageStop` comes
//! without one); `MessageStop` adds the usage chunk (`choices: []`, the
//! last `Usage` seen, zeros if none) when the client asked for it, then
//! `[DONE]`. An error is `data: {"error":{..}}` and the last thing written.
//! Block stops write nothing; `KeepAlive` is an SSE comment.

use serde_json::{Value, json};

use super::error::encode_error;
use super::response::{encode_usage, finish_reason};
use super::wire::reasoning_format;
use crate::ir::{BlockStart, Delta, StreamEvent, Usage};
use crate::translate::Context;

/// Writes stream events as an OpenAI chat-completion stream.
#[derive(Debug)]
pub struct StreamEncoder {
    created: u64,
    model: String,
    include_usage: bool,
    /// The chunk's JSON up to `"choices":`, built when the id is known.
    prefix: Option<String>,
    id: String,
    /// Canonical block index → OpenAI tool-call index.
    tools: Vec<(usize, usize)>,
    usage: Option<Usage>,
    stopped: bool,
    done: bool,
}

impl StreamEncoder {
    pub fn new(ctx: &Context) -> Self {
        Self {
            created: ctx.created,
            model: ctx.client_model.clone(),
            include_usage: ctx.include_usage,
            prefix: None,
            id: String::new(),
            tools: Vec::new(),
            usage: None,
            stopped: false,
            done: false,
        }
    }

    /// Appends the bytes for `event` to `out` (nothing for some events).
    pub fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        match event {
            StreamEvent::MessageStart { id, .. } => {
                if self.prefix.is_none() {
                    self.id.clone_from(id);
                    self.start(out);
                }
            }
            StreamEvent::BlockStart { index, block } => match block {
                BlockStart::Text | BlockStart::Reasoning => {}
                BlockStart::ToolCall { id, name } => {
                    let n = self.tool_index(*index);
                    let call = json!({"index": n, "id": id, "type": "function",
                        "function": {"name": name, "arguments": ""}});
                    self.delta(out, &json!({"tool_calls": [call]}));
                }
                BlockStart::RedactedReasoning { data, signed_by } => {
                    let detail = json!({"type": "reasoning.encrypted", "data": data,
                        "format": reasoning_format(signed_by.as_deref()), "index": 0});
                    self.delta(out, &json!({"reasoning_details": [detail]}));
                }
            },
            StreamEvent::Delta { index, delta } => match delta {
                Delta::Text(t) if !t.is_empty() => self.delta(out, &json!({"content": t})),
                Delta::Reasoning(t) if !t.is_empty() => {
                    self.delta(out, &json!({"reasoning_content": t}));
                }
                Delta::ToolArgs(a) if !a.is_empty() => {
                    let n = self.tool_index(*index);
                    let call = json!({"index": n, "function": {"arguments": a}});
                    self.delta(out, &json!({"tool_calls": [call]}));
                }
                Delta::Signature {
                    signature,
                    signed_by,
                } if !signature.is_empty() => {
                    let detail = json!({"type": "reasoning.text", "text": "", "signature": signature,
                        "format": reasoning_format(signed_by.as_deref()), "index": 0});
                    self.delta(out, &json!({"reasoning_details": [detail]}));
                }
                _ => {}
            },
            StreamEvent::BlockStop { .. } => {}
            StreamEvent::Stop(stop) => self.stop(finish_reason(stop), out),
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::MessageStop => {
                if !self.stopped {
                    self.stop("stop", out);
                }
                if self.include_usage {
                    let usage = encode_usage(&self.usage.unwrap_or_default());
                    let mut chunk = self.prefix(out).to_owned();
                    chunk.push_str("[],\"usage\":");
                    chunk.push_str(&usage.to_string());
                    chunk.push('}');
                    write_data(out, chunk.as_bytes());
                }
                out.extend_from_slice(b"data: [DONE]\n\n");
                self.done = true;
            }
            StreamEvent::Error(err) => {
                write_data(out, &encode_error(err));
                self.done = true;
            }
            StreamEvent::KeepAlive => out.extend_from_slice(b": keep-alive\n\n"),
        }
    }

    fn tool_index(&mut self, block: usize) -> usize {
        if let Some(&(_, n)) = self.tools.iter().find(|(b, _)| *b == block) {
            return n;
        }
        let n = self.tools.len();
        self.tools.push((block, n));
        n
    }

    /// Writes the first chunk (role) once.
    fn start(&mut self, out: &mut Vec<u8>) {
        let prefix = format!(
            "{{\"id\":{},\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":{},\"choices\":",
            Value::from(self.id.as_str()),
            self.created,
            Value::from(self.model.as_str()),
        );
        self.prefix = Some(prefix);
        self.choice(out, "{\"role\":\"assistant\",\"content\":\"\"}", "null");
    }

    /// The chunk prefix, writing the first chunk if it was not written yet.
    fn prefix(&mut self, out: &mut Vec<u8>) -> &str {
        if self.prefix.is_none() {
            self.start(out);
        }
        self.prefix.as_deref().unwrap_or_default()
    }

    fn delta(&mut self, out: &mut Vec<u8>, delta: &Value) {
        self.choice(out, &delta.to_string(), "null");
    }

    fn stop(&mut self, reason: &str, out: &mut Vec<u8>) {
        self.choice(out, "{}", &Value::from(reason).to_string());
        self.stopped = true;
    }

    fn choice(&mut self, out: &mut Vec<u8>, delta: &str, finish: &str) {
        let mut chunk = self.prefix(out).to_owned();
        chunk.push_str("[{\"index\":0,\"delta\":");
        chunk.push_str(delta);
        chunk.push_str(",\"finish_reason\":");
        chunk.push_str(finish);
        chunk.push_str("}]}");
        write_data(out, chunk.as_bytes());
    }
}

fn write_data(out: &mut Vec<u8>, json: &[u8]) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
}
