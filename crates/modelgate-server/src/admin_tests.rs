#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::*;
use crate::test_store::HookedStore;

fn endpoint_body(name: &str) -> Bytes {
    Bytes::from(
        json!({"name": name, "spec": "openai-chat-completions", "base_url": "http://127.0.0.1:9/v1"})
            .to_string(),
    )
}

/// Change A's rebuild read the store before change B was written and is
/// slow to install its snapshot. Were B's rebuild allowed to run meanwhile,
/// A's older snapshot would be installed last and B's endpoint would be
/// missing from routing though it is in the store.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_rebuild_never_installs_an_older_snapshot_last() {
    // Read 1 is the start-up rebuild; read 2 is change A's.
    let store = HookedStore::new().await.holding_read(2);
    let state = store.state().await;
    let a = tokio::spawn({
        let state = state.clone();
        async move { create(&state, endpoint_body("a")).await.map(|(s, _)| s) }
    });
    store.holding.notified().await;
    let mut b = tokio::spawn({
        let state = state.clone();
        async move { create(&state, endpoint_body("b")).await.map(|(s, _)| s) }
    });
    // B either finishes now (nothing orders the two changes) or waits for A
    // (changes are serialised); waiting a moment tells which, and is never
    // what makes this test pass.
    let b_done_early = tokio::time::timeout(Duration::from_millis(300), &mut b)
        .await
        .ok();
    store.release.notify_one();
    assert_eq!(a.await.unwrap().unwrap(), StatusCode::CREATED);
    let b_status = match b_done_early {
        Some(done) => done.unwrap(),
        None => b.await.unwrap(),
    };
    assert_eq!(b_status.unwrap(), StatusCode::CREATED);
    let routes: Vec<String> = state.snapshot.load().routes.keys().cloned().collect();
    assert_eq!(routes, ["a", "b"]);
}
