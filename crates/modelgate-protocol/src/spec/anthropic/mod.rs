//! Anthropic Messages.

pub mod error;
pub mod request;
pub mod response;
pub mod stream;
pub mod tap;
