//! Egress: everything modelgate does to reach an endpoint.
//!
//! [`Endpoint`] is an endpoint's configuration made ready to use (variables
//! resolved, headers parsed, its chat URL parsed); it reaches the upstream
//! through the calling thread's pooled client ([`client`]). [`dispatch`] sends
//! a request with key fallback; [`keytest`] and [`models`] are the two other
//! things the gateway asks of an endpoint.

pub mod auth;
pub mod body;
pub mod client;
pub mod cooldown;
pub mod dispatch;
pub mod endpoint;
pub mod errors;
pub mod keytest;
pub mod models;
pub mod probe;

pub use cooldown::KeyCooldowns;
pub use dispatch::{UpstreamResponse, send};
pub use endpoint::{Endpoint, EndpointBuildError};
