//! OpenAI Chat Completions (and every OpenAI-compatible server).

pub mod error;
pub mod request;
pub mod response;
pub mod stream;
pub mod stream_codec;
pub mod wire;
