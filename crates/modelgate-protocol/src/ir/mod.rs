//! The canonical model: what every wire format is converted to and from.
//!
//! Blocks, not strings; unknown request fields kept in `extra`. Each field
//! has one written-down meaning (see [`Usage`] for token counts).

pub mod content;
pub mod error;
pub mod request;
pub mod response;
pub mod sealed;
pub mod stream;
pub mod usage;

pub use content::{Content, ImageSource, SIGNED_BY_ANTHROPIC};
pub use error::{ErrorKind, GatewayError};
pub use request::{
    ChatRequest, ClientTool, Message, Reasoning, ResponseFormat, Role, Tool, ToolChoice,
};
pub use response::{ChatResponse, StopKind, StopReason};
pub use stream::{BlockStart, Delta, StreamEvent};
pub use usage::Usage;
