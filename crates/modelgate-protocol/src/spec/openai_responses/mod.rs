//! OpenAI Responses (`POST /responses`): the item-based API of Codex and
//! the newer OpenAI SDK calls.
//!
//! The same parts as every format folder (see `spec/mod.rs`).

pub mod error;
pub mod request;
mod request_encode;
pub mod response;
pub mod stream_decode;
pub mod stream_encode;
pub mod tap;
pub mod wire;
