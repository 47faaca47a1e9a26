//! One pooled HTTP client per connect timeout.
//!
//! reqwest sets the connect timeout on the client, not per request, and a
//! client owns its keep-alive pool; so endpoints that share a connect
//! timeout share a client (and its pool) instead of each building one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct ClientPool {
    clients: Mutex<HashMap<Duration, reqwest::Client>>,
}

impl ClientPool {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, connect_timeout: Duration) -> reqwest::Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(connect_timeout)
            .or_insert_with(|| build_client(connect_timeout))
            .clone()
    }
}

fn build_client(connect_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        // Without it a request written in two pieces waits for the peer's
        // delayed ACK (40 ms) on every keep-alive request.
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("modelgate/", env!("CARGO_PKG_VERSION")))
        .build()
        // Only fails when the TLS backend cannot initialise: nothing works then.
        .unwrap_or_else(|e| panic!("cannot build the HTTP client: {e}"))
}
