//! What the client asks ([`Ask`]), written in each front door's format.

use serde_json::{Map, Value, json};

use super::Front;

/// The model as the client addresses it (mapped to `upstream-model`).
pub const MODEL: &str = "ep/client-model";
pub const SYSTEM: &str = "You are terse.";
pub const USER: &str = "What's the weather in Paris?";

/// A tool's JSON schema.
pub fn schema(name: &str) -> Value {
    match name {
        "get_weather" => json!({"type": "object",
            "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        _ => json!({"type": "object", "properties": {"tz": {"type": "string"}}}),
    }
}

pub fn description(name: &str) -> String {
    format!("The tool {name}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Required,
    None,
    Named(&'static str),
}

/// What the client asks, written in any front door's format by [`Ask::body`].
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub tools: Vec<&'static str>,
    pub choice: Option<Choice>,
    /// `Some(false)`: `parallel_tool_calls: false` / `disable_parallel_tool_use: true`.
    pub parallel: Option<bool>,
    /// OpenAI `reasoning_effort: low` with `max_tokens: 1000`; Anthropic
    /// `thinking` with a 2048 budget and `max_tokens: 4000`; Responses
    /// `reasoning: {effort: low, summary: auto}`, `include:
    /// [reasoning.encrypted_content]` and `max_output_tokens: 4000`.
    pub reasoning: bool,
    /// OpenAI `temperature: 1.5, stop: [END]`; Anthropic `temperature: 0.5,
    /// stop_sequences: [END]`; Responses (which has no stop sequences)
    /// `temperature: 1.5`.
    pub sampling: bool,
    /// OpenAI streams: `stream_options.include_usage`.
    pub include_usage: bool,
    /// Responses only: `tools` as written here (namespace, custom and
    /// hosted tools), instead of [`Ask::tools`]; the case checks what the
    /// endpoint got.
    pub raw_tools: Option<Value>,
    /// Responses only: `tool_choice` as written here.
    pub raw_choice: Option<Value>,
    /// Responses only: more fields (`store`, `include`,
    /// `previous_response_id`, …), set last.
    pub extra: Vec<(&'static str, Value)>,
}

impl Ask {
    /// The conversation: one user message (the system prompt is apart but
    /// for OpenAI chat).
    pub fn messages(front: Front) -> Vec<Value> {
        match front {
            Front::OpenAi => vec![
                json!({"role": "system", "content": SYSTEM}),
                json!({"role": "user", "content": USER}),
            ],
            Front::Anthropic => vec![json!({"role": "user", "content": USER})],
            Front::Responses => vec![json!({"type": "message", "role": "user",
                "content": [{"type": "input_text", "text": USER}]})],
        }
    }

    /// The output-token limit the client sends.
    pub fn max_tokens(&self, front: Front) -> Option<u64> {
        match front {
            Front::OpenAi => self.reasoning.then_some(1000),
            Front::Anthropic | Front::Responses => Some(if self.reasoning { 4000 } else { 256 }),
        }
    }

    pub fn body(&self, front: Front, stream: bool) -> Value {
        self.body_with(front, stream, Self::messages(front))
    }

    /// The request with other messages (Responses: input items; the
    /// system prompt kept).
    pub fn body_with(&self, front: Front, stream: bool, messages: Vec<Value>) -> Value {
        let mut b = Map::new();
        b.insert("model".into(), MODEL.into());
        match front {
            Front::OpenAi => self.openai(&mut b, stream, messages),
            Front::Anthropic => self.anthropic(&mut b, stream, messages),
            Front::Responses => self.responses(&mut b, stream, messages),
        }
        Value::Object(b)
    }

    fn openai(&self, b: &mut Map<String, Value>, stream: bool, messages: Vec<Value>) {
        b.insert("messages".into(), messages.into());
        if stream {
            b.insert("stream".into(), true.into());
            if self.include_usage {
                b.insert("stream_options".into(), json!({"include_usage": true}));
            }
        }
        if !self.tools.is_empty() {
            let tools: Vec<Value> = self
                .tools
                .iter()
                .map(|n| {
                    json!({"type": "function",
                        "function": {"name": n, "description": description(n),
                                     "parameters": schema(n)}})
                })
                .collect();
            b.insert("tools".into(), tools.into());
        }
        if let Some(choice) = &self.choice {
            let choice = match choice {
                Choice::Auto => json!("auto"),
                Choice::Required => json!("required"),
                Choice::None => json!("none"),
                Choice::Named(n) => json!({"type": "function", "function": {"name": n}}),
            };
            b.insert("tool_choice".into(), choice);
        }
        if let Some(p) = self.parallel {
            b.insert("parallel_tool_calls".into(), p.into());
        }
        if self.reasoning {
            b.insert("reasoning_effort".into(), "low".into());
        }
        if let Some(max) = self.max_tokens(Front::OpenAi) {
            b.insert("max_tokens".into(), max.into());
        }
        if self.sampling {
            b.insert("temperature".into(), 1.5.into());
            b.insert("stop".into(), json!(["END"]));
        }
    }

    fn anthropic(&self, b: &mut Map<String, Value>, stream: bool, messages: Vec<Value>) {
        if let Some(max) = self.max_tokens(Front::Anthropic) {
            b.insert("max_tokens".into(), max.into());
        }
        b.insert("system".into(), SYSTEM.into());
        b.insert("messages".into(), messages.into());
        if stream {
            b.insert("stream".into(), true.into());
        }
        if !self.tools.is_empty() {
            let tools: Vec<Value> = self
                .tools
                .iter()
                .map(|n| json!({"name": n, "description": description(n), "input_schema": schema(n)}))
                .collect();
            b.insert("tools".into(), tools.into());
        }
        let mut choice = self.choice.as_ref().map(|c| match c {
            Choice::Auto => json!({"type": "auto"}),
            Choice::Required => json!({"type": "any"}),
            Choice::None => json!({"type": "none"}),
            Choice::Named(n) => json!({"type": "tool", "name": n}),
        });
        if self.parallel == Some(false) {
            choice.get_or_insert_with(|| json!({"type": "auto"}))["disable_parallel_tool_use"] =
                true.into();
        }
        if let Some(choice) = choice {
            b.insert("tool_choice".into(), choice);
        }
        if self.reasoning {
            b.insert(
                "thinking".into(),
                json!({"type": "enabled", "budget_tokens": 2048}),
            );
        }
        if self.sampling {
            b.insert("temperature".into(), 0.5.into());
            b.insert("stop_sequences".into(), json!(["END"]));
        }
    }

    fn responses(&self, b: &mut Map<String, Value>, stream: bool, input: Vec<Value>) {
        b.insert("instructions".into(), SYSTEM.into());
        b.insert("input".into(), input.into());
        if stream {
            b.insert("stream".into(), true.into());
        }
        if let Some(tools) = &self.raw_tools {
            b.insert("tools".into(), tools.clone());
        } else if !self.tools.is_empty() {
            let tools: Vec<Value> = self
                .tools
                .iter()
                .map(|n| {
                    json!({"type": "function", "name": n, "description": description(n),
                           "parameters": schema(n)})
                })
                .collect();
            b.insert("tools".into(), tools.into());
        }
        let choice = self.choice.as_ref().map(|c| match c {
            Choice::Auto => json!("auto"),
            Choice::Required => json!("required"),
            Choice::None => json!("none"),
            Choice::Named(n) => json!({"type": "function", "name": n}),
        });
        if let Some(choice) = self.raw_choice.clone().or(choice) {
            b.insert("tool_choice".into(), choice);
        }
        if let Some(p) = self.parallel {
            b.insert("parallel_tool_calls".into(), p.into());
        }
        if self.reasoning {
            b.insert(
                "reasoning".into(),
                json!({"effort": "low", "summary": "auto"}),
            );
            b.insert("include".into(), json!(["reasoning.encrypted_content"]));
        }
        if let Some(max) = self.max_tokens(Front::Responses) {
            b.insert("max_output_tokens".into(), max.into());
        }
        if self.sampling {
            b.insert("temperature".into(), 1.5.into());
        }
        for (k, v) in &self.extra {
            b.insert((*k).into(), v.clone());
        }
    }
}
