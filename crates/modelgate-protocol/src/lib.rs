//! Pure protocol code for modelgate: no tokio, no HTTP client, no I/O.
//!
//! Layers, bottom up: [`framing`] (bytes → events), [`spec`] (one folder
//! per wire format, plus the [`Spec`] ids), [`ir`] (the canonical model),
//! [`body`] (passthrough edits). Most of the gateway's logic lives here so
//! that it is tested without a network.

pub mod body;
pub mod codec;
pub mod contiguous;
pub mod framing;
pub mod ir;
pub mod secret;
pub mod spec;
pub mod tap;
pub mod translate;

pub use ir::{ErrorKind, GatewayError, StreamEvent, Usage};
pub use spec::Spec;
