//! Google Gemini (`generateContent`): the wire format of the `google`
//! (Gemini API) and `google-vertex` (Gemini models on Vertex AI) specs, and
//! of the Gemini front door.
//!
//! The same parts as every format folder (see `spec/mod.rs`).
//!
//! Thought signatures: Gemini attaches a `thoughtSignature` to the part it
//! belongs to (a `functionCall`, a text, a thought). Canonically it is a
//! [`Content::Reasoning`](crate::ir::Content::Reasoning) signed by
//! [`SIGNED_BY_GOOGLE`] placed right before the content of that part (with
//! the thought's text when the part is a thought, else empty); the Gemini
//! encoder puts it back on the part that follows it. Other formats carry it
//! as they carry any foreign signature (`ir/sealed.rs`) and never send it
//! to a model that cannot read it.

pub mod error;
pub mod request;
mod request_encode;
pub mod response;
pub mod stream_decode;
pub mod stream_encode;
pub mod tap;
pub mod wire;

/// The `signed_by` of Gemini thought signatures.
pub const SIGNED_BY_GOOGLE: &str = "google";
