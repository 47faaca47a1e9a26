//! Stream events: every streamed format is decoded into these, and every
//! front door's encoder turns them back into its own wire format.

use super::error::GatewayError;
use super::response::StopReason;
use super::usage::Usage;

/// One step of a streamed response.
///
/// Blocks are numbered in one index space for all block kinds (Anthropic's
/// `index`); an OpenAI encoder keeps its own numbering of tool calls. A
/// block's deltas come between its `BlockStart` and its `BlockStop`, but
/// several blocks may be open at once (an OpenAI stream interleaves the
/// arguments of parallel tool calls): an encoder whose format allows one
/// open block at a time serializes them.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The response begins. `usage` carries input tokens when known this early.
    MessageStart {
        id: String,
        model: String,
        usage: Option<Usage>,
    },
    BlockStart {
        index: usize,
        block: BlockStart,
    },
    Delta {
        index: usize,
        delta: Delta,
    },
    BlockStop {
        index: usize,
    },
    /// Why the message stopped (comes once, after the last block).
    Stop(StopReason),
    /// Cumulative usage so far; the last one wins.
    Usage(Usage),
    /// The response is complete.
    MessageStop,
    /// A failure after the stream began.
    Error(GatewayError),
    /// A keep-alive (Anthropic `ping`, SSE comment).
    KeepAlive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockStart {
    Text,
    ToolCall {
        id: String,
        name: String,
    },
    Reasoning,
    /// Redacted reasoning arrives whole.
    RedactedReasoning {
        data: String,
        /// Who can read it (see `Content::RedactedReasoning`).
        signed_by: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    Text(String),
    /// A piece of the tool call's JSON arguments.
    ToolArgs(String),
    Reasoning(String),
    /// The complete signature of the reasoning block (assigned, not
    /// appended), with the spec family that made it: only that family's
    /// endpoints can read it (see `Content::Reasoning`, [`super::sealed`]).
    Signature {
        signature: String,
        signed_by: Option<String>,
    },
}
