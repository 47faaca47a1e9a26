//! Integration tests: the real gateway against fake upstreams on
//! 127.0.0.1:0, and the real binary for the CLI. One test binary, so the
//! tree is linked once.

#![allow(clippy::unwrap_used)]

mod admin;
mod anthropic;
mod azure;
mod catalogue;
mod cli;
mod cli_usability;
mod errors;
mod fallback;
mod gemini;
mod google;
mod harness;
mod lifecycle;
mod limits;
mod matrix;
mod passthrough;
mod responses;
mod routes;
mod streaming;
mod trust;
mod upstream_limits;
mod vertex;
