//! The gateway: the routing snapshot, the request pipeline, the OpenAI
//! front door and the admin API, as an axum application.
//!
//! Build an [`AppState`] from the config file and a store, then
//! [`app::serve`] it, or call [`app::router`] directly (the CLI does, to
//! work without a running server).

pub mod admin;
pub mod app;
pub mod auth;
pub mod catalogue;
pub mod count_tokens;
pub mod forward;
pub mod gemini_door;
pub mod guard;
pub mod models_door;
pub mod open_streams;
pub mod passthrough_routes;
pub mod pipeline;
pub mod respond;
pub mod responses_door;
pub mod snapshot;
pub mod state;
#[cfg(test)]
mod test_store;
pub mod translate;
pub mod usage;
pub mod usage_filter;

pub use state::{AppState, Settings};
