//! Token usage with one written-down meaning, whatever the wire format.

use serde::{Deserialize, Serialize};

/// Token counts of one call.
///
/// * `input` — prompt tokens **not** served from a cache;
/// * `cache_read` — prompt tokens read from a cache;
/// * `cache_write` — prompt tokens written to a cache;
/// * `output` — generated tokens, reasoning included;
/// * `reasoning` — the part of `output` spent on reasoning.
///
/// So the whole prompt is `input + cache_read + cache_write`. The counts
/// come from upstreams: sums of them saturate at `u64::MAX` rather than
/// overflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub output: u64,
    pub reasoning: u64,
}

impl Usage {
    /// Every prompt token, cached or not (saturating).
    pub fn prompt_total(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    /// Every token of the call, prompt and output (saturating).
    pub fn total(&self) -> u64 {
        self.prompt_total().saturating_add(self.output)
    }
}
