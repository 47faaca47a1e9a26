//! Byte-level framing of streamed responses.

pub mod sse;
