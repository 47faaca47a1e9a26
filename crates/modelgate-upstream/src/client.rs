//! The pooled HTTP clients: one per serving thread and connect timeout.
//!
//! reqwest sets the connect timeout on the client, not per request, and a
//! client owns its keep-alive pool; so endpoints that share a connect
//! timeout share a client. Each thread keeps its own: the gateway serves
//! from one single-threaded runtime per core (see the server's `app`), and
//! a connection made on a thread is driven by a task of that thread's
//! runtime, so a request never wakes another thread to reach its upstream.

use std::cell::RefCell;
use std::time::Duration;

thread_local! {
    static CLIENTS: RefCell<Vec<(Duration, reqwest::Client)>> = const { RefCell::new(Vec::new()) };
}

/// This thread's client for endpoints with this connect timeout.
pub fn for_this_thread(connect_timeout: Duration) -> reqwest::Client {
    CLIENTS.with_borrow_mut(|clients| {
        if let Some((_, client)) = clients.iter().find(|(t, _)| *t == connect_timeout) {
            return client.clone();
        }
        let client = build_client(connect_timeout);
        clients.push((connect_timeout, client.clone()));
        client
    })
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
