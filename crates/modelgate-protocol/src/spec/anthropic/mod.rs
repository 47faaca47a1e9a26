//! Anthropic Messages.

pub mod error;
pub mod request;
mod request_encode;
pub mod response;
pub mod stream;
mod stream_encode;
pub mod tap;
mod wire;
