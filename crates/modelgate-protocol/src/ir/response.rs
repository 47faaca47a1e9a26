//! The canonical chat response.

use serde::{Deserialize, Serialize};

use super::content::Content;
use super::usage::Usage;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub id: String,
    /// The model as the upstream named it.
    pub model: String,
    pub content: Vec<Content>,
    pub stop: StopReason,
    pub usage: Usage,
}

/// Why generation stopped, with the upstream's own value kept beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopReason {
    pub kind: StopKind,
    /// The value the upstream sent (`end_turn`, `stop`, …).
    pub native: Option<String>,
    /// The stop sequence that matched, when known.
    pub stop_sequence: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopKind {
    #[default]
    EndTurn,
    StopSequence,
    MaxTokens,
    ToolUse,
    /// Safety filter or refusal.
    ContentFilter,
    /// Anthropic server-tool pause.
    PauseTurn,
    ContextWindowExceeded,
    Other,
}

impl StopReason {
    pub fn new(kind: StopKind, native: Option<&str>) -> Self {
        Self {
            kind,
            native: native.map(str::to_owned),
            stop_sequence: None,
        }
    }
}
