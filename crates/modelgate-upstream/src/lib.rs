//! Egress: everything modelgate does to reach an endpoint.
//!
//! [`Endpoint`] is an endpoint's configuration made ready to use (variables
//! resolved, headers parsed, its chat URL parsed); it reaches the upstream
//! through the calling thread's pooled client ([`client`]). [`dispatch`] sends
//! a request with key fallback; [`keytest`] and [`models`] are the two other
//! things the gateway asks of an endpoint. [`body`] reads answers with a
//! ceiling on memory; [`probe`] asks a server cheap questions when a route
//! is missing, for [`errors::explain_404`] and the key test; [`azure`] holds
//! Azure OpenAI's URLs, auth and error hints. Everything an
//! upstream sends (headers, numbers, bodies) is read so that nothing in it
//! can panic or grow memory without bound, and every error path masks the
//! endpoint's secrets ([`Endpoint::secrets`]).

pub mod auth;
pub mod azure;
pub mod body;
pub mod client;
pub mod cooldown;
pub mod dispatch;
pub mod endpoint;
pub mod errors;
pub mod google;
pub mod google_auth;
pub mod keytest;
mod keytest_azure;
pub mod models;
pub mod probe;
pub mod vertex;

pub use cooldown::KeyCooldowns;
pub use dispatch::{UpstreamResponse, send};
pub use endpoint::{Endpoint, EndpointBuildError};
