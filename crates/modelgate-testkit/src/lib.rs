//! Fake upstreams for tests: real HTTP servers on 127.0.0.1:0 that speak
//! the exact wire format, record every request and answer from a script.
//!
//! ```ignore
//! let upstream = FakeUpstream::start(|req| openai::completion(&req.json()["model"], "hi")).await;
//! // … point an endpoint at upstream.url("/v1") …
//! assert_eq!(upstream.hits(), 1);
//! ```

pub mod anthropic;
pub mod azure;
pub mod gemini;
pub mod google_token;
pub mod openai;
pub mod responses;
mod server;
pub mod vertex;

pub use server::{FakeUpstream, Recorded, Reply};
