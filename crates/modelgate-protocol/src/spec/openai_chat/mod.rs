//! OpenAI Chat Completions (and every OpenAI-compatible server).

pub mod error;
pub mod stream;
pub mod wire;
