//! The OpenAI half of the matrix client: a chat completion, or a
//! chat-completion stream, read into [`Seen`] with plain JSON and
//! [`parse_sse`](super::client::parse_sse), no modelgate codec.

use serde_json::{Map, Value, json};

use super::client::{Event, Seen, SeenError, parse_args};

impl Seen {
    pub(super) fn openai_body(&mut self, v: &Value, model: Option<&str>) {
        if v["object"] != "chat.completion" {
            self.violation(format!("object {}", v["object"]));
        }
        self.check_model(&v["model"], model, "response");
        let choice = &v["choices"][0];
        let msg = &choice["message"];
        if msg["role"] != "assistant" {
            self.violation(format!("message role {}", msg["role"]));
        }
        self.text = msg["content"].as_str().unwrap_or_default().to_owned();
        self.reasoning = msg["reasoning_content"]
            .as_str()
            .or_else(|| msg["reasoning"].as_str())
            .unwrap_or_default()
            .to_owned();
        let details = msg["reasoning_details"].as_array().cloned();
        for d in details.iter().flatten() {
            self.reasoning_detail(d);
        }
        for call in msg["tool_calls"].as_array().into_iter().flatten() {
            if call["type"] != "function" {
                self.violation(format!("tool call type {}", call["type"]));
            }
            let Some(args) = call["function"]["arguments"].as_str() else {
                self.violation("tool call arguments must be a JSON string");
                continue;
            };
            self.tool_calls.push((
                call["id"].as_str().unwrap_or_default().to_owned(),
                call["function"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                parse_args(args),
            ));
        }
        match choice["finish_reason"].as_str() {
            Some(reason) => {
                self.stop = Some(openai_stop(reason));
                self.terminated_properly = true;
            }
            None => self.violation("no finish_reason"),
        }
        self.openai_usage(&v["usage"]);
        self.replay = Some(msg.clone());
    }

    /// A reasoning detail of a complete message.
    fn reasoning_detail(&mut self, d: &Value) {
        if d["type"] == "reasoning.text" {
            if let Some(sig) = d["signature"].as_str().filter(|s| !s.is_empty()) {
                self.signature = Some(sig.to_owned());
            }
            if self.reasoning.is_empty() {
                self.reasoning = d["text"].as_str().unwrap_or_default().to_owned();
            }
        }
    }

    fn openai_usage(&mut self, u: &Value) {
        if !u.is_object() {
            return;
        }
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        let (prompt, completion) = (n(&u["prompt_tokens"]), n(&u["completion_tokens"]));
        if n(&u["total_tokens"]) != prompt + completion {
            self.violation(format!(
                "total_tokens {} ≠ prompt + completion",
                u["total_tokens"]
            ));
        }
        self.usage = Some((
            prompt,
            n(&u["prompt_tokens_details"]["cached_tokens"]),
            completion,
        ));
        self.raw_usage = Some(u.clone());
    }

    pub(super) fn openai_stream(&mut self, events: &[Event], model: Option<&str>) {
        // OpenAI tool-call index → (id, name, arguments)
        let mut calls: Vec<(u64, String, String, String)> = Vec::new();
        // reasoning_details accumulated by index, as OpenRouter-style clients do
        let mut details: Vec<(u64, Map<String, Value>)> = Vec::new();
        let mut ended = false;
        let mut done = false;
        let mut first = true;
        for event in events {
            if ended {
                self.violation(format!("event after the end of the stream: {}", event.data));
                continue;
            }
            if event.name.is_some() {
                self.violation(format!(
                    "an OpenAI stream has no `event:` lines ({event:?})"
                ));
            }
            if event.data == "[DONE]" {
                ended = true;
                done = true;
                continue;
            }
            let Ok(chunk) = serde_json::from_str::<Value>(&event.data) else {
                self.violation(format!("data is not JSON: {}", event.data));
                continue;
            };
            if let Some(e) = chunk.get("error") {
                self.error = Some(SeenError {
                    status: self.status,
                    kind: e["type"].as_str().unwrap_or("<none>").to_owned(),
                    code: e["code"].as_str().map(str::to_owned),
                    message: e["message"].as_str().unwrap_or_default().to_owned(),
                });
                ended = true;
                continue;
            }
            // Azure's first chunk: the prompt's filter results, no choices,
            // empty id, object and model. A passthrough client gets it as
            // Azure sent it (the SDK skips it); a translated stream is the
            // gateway's own and must not have it.
            if chunk.get("prompt_filter_results").is_some() && chunk["choices"] == json!([]) {
                if model.is_some() {
                    self.violation("Azure's prompt-filter chunk in a translated stream");
                }
                continue;
            }
            if chunk["object"] != "chat.completion.chunk" {
                self.violation(format!("chunk object {}", chunk["object"]));
            }
            self.check_model(&chunk["model"], model, "chunk");
            let choices = chunk["choices"].as_array().cloned().unwrap_or_default();
            if first {
                first = false;
                if choices.first().map(|c| &c["delta"]["role"]) != Some(&json!("assistant")) {
                    self.violation(format!("the first chunk has no assistant role: {chunk}"));
                }
            }
            if choices.is_empty() {
                if chunk["usage"].is_object() {
                    self.openai_usage(&chunk["usage"]);
                } else {
                    self.violation(format!("a chunk with neither choices nor usage: {chunk}"));
                }
                continue;
            }
            let choice = &choices[0];
            let delta = &choice["delta"];
            if let Some(t) = delta["content"].as_str() {
                self.text.push_str(t);
            }
            if let Some(t) = delta["reasoning_content"]
                .as_str()
                .or_else(|| delta["reasoning"].as_str())
            {
                self.reasoning.push_str(t);
            }
            for d in delta["reasoning_details"].as_array().into_iter().flatten() {
                let index = d["index"].as_u64().unwrap_or(0);
                let Value::Object(d) = d.clone() else {
                    self.violation(format!("a reasoning detail that is not an object: {d}"));
                    continue;
                };
                match details.iter_mut().find(|(i, _)| *i == index) {
                    None => details.push((index, d)),
                    Some((_, acc)) => {
                        for (k, v) in d {
                            match (k.as_str(), v) {
                                ("text", Value::String(t)) => {
                                    let old = acc.get("text").and_then(Value::as_str);
                                    let joined = format!("{}{t}", old.unwrap_or_default());
                                    acc.insert(k, joined.into());
                                }
                                ("signature", Value::String(s)) if s.is_empty() => {}
                                (_, v) => {
                                    acc.insert(k, v);
                                }
                            }
                        }
                    }
                }
            }
            for tc in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = tc["index"].as_u64().unwrap_or(u64::MAX);
                let args = tc["function"]["arguments"].as_str().unwrap_or_default();
                match calls.iter_mut().find(|c| c.0 == index) {
                    Some(call) => call.3.push_str(args),
                    None => {
                        let id = tc["id"].as_str().unwrap_or_default().to_owned();
                        let name = tc["function"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        if id.is_empty() || name.is_empty() || tc["type"] != "function" {
                            self.violation(format!(
                                "the first fragment of tool call {index} lacks id, type or name: {tc}"
                            ));
                        }
                        calls.push((index, id, name, args.to_owned()));
                    }
                }
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                if self.stop.is_some() {
                    self.violation("a second finish_reason");
                }
                self.stop = Some(openai_stop(reason));
            }
            if chunk["usage"].is_object() {
                self.openai_usage(&chunk["usage"]);
            }
        }
        self.terminated_properly = done && self.error.is_none();
        if done && self.stop.is_none() {
            self.violation("[DONE] without a finish_reason");
        }
        let details: Vec<Value> = details.into_iter().map(|(_, d)| Value::Object(d)).collect();
        for d in &details {
            self.reasoning_detail(d);
        }
        self.tool_calls = calls
            .iter()
            .map(|(_, id, name, args)| (id.clone(), name.clone(), parse_args(args)))
            .collect();
        let mut replay = json!({"role": "assistant",
            "content": if self.text.is_empty() { Value::Null } else { self.text.clone().into() }});
        if !calls.is_empty() {
            replay["tool_calls"] = calls
                .iter()
                .map(|(_, id, name, args)| {
                    json!({"id": id, "type": "function",
                    "function": {"name": name, "arguments": args}})
                })
                .collect();
        }
        if !self.reasoning.is_empty() {
            replay["reasoning_content"] = self.reasoning.clone().into();
        }
        if !details.is_empty() {
            replay["reasoning_details"] = details.into();
        }
        self.replay = Some(replay);
    }
}

/// OpenAI's `finish_reason` in canonical (Anthropic) words.
fn openai_stop(reason: &str) -> String {
    match reason {
        "stop" => "end_turn",
        "tool_calls" => "tool_use",
        "length" => "max_tokens",
        "content_filter" => "refusal",
        other => other,
    }
    .to_owned()
}
