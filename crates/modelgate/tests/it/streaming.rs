//! Streaming: forwarded as it arrives, usage read on the side, failures
//! after the first byte become error events.

use std::sync::Mutex;

use bytes::Bytes;
use modelgate_testkit::{FakeUpstream, Reply, openai};
use serde_json::json;
use tokio::sync::mpsc;

use crate::harness::{Gateway, config, endpoint};

/// An upstream whose single stream the test writes chunk by chunk.
async fn scripted_stream() -> (FakeUpstream, mpsc::Sender<Bytes>) {
    let (tx, rx) = mpsc::channel(16);
    let rx = Mutex::new(Some(rx));
    let upstream = FakeUpstream::start(move |_| match rx.lock().unwrap().take() {
        Some(rx) => Reply::Stream(rx),
        None => Reply::text(500, "only one stream in this test"),
    })
    .await;
    (upstream, tx)
}

async fn open_stream(gw: &Gateway, model: &str) -> reqwest::Response {
    let response = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(
            &json!({"model": model, "stream": true, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response
}

/// Reads until the accumulated text contains `needle`.
async fn read_until(response: &mut reqwest::Response, seen: &mut String, needle: &str) {
    while !seen.contains(needle) {
        let chunk = response
            .chunk()
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("stream ended before {needle:?}; got {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Opens a stream through `gw` and reads it until the client has the
/// upstream's first chunk (`"first"`), sent through `tx`.
async fn first_chunk_read(gw: &Gateway, tx: &mpsc::Sender<Bytes>) -> (reqwest::Response, String) {
    let mut response = open_stream(gw, "local/m").await;
    tx.send(openai::chunk("m", json!({"role": "assistant", "content": "first"}), None).into())
        .await
        .unwrap();
    let mut seen = String::new();
    read_until(&mut response, &mut seen, "first").await;
    (response, seen)
}

async fn rest(mut response: reqwest::Response, mut seen: String) -> String {
    while let Some(chunk) = response.chunk().await.unwrap() {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

#[tokio::test]
async fn chunks_reach_the_client_before_the_upstream_finishes() {
    let (upstream, tx) = scripted_stream().await;
    let gw = Gateway::start(&config(&[endpoint("local", &upstream.url("/v1"), "")])).await;
    // The upstream has sent one chunk and is still open: the client already has it.
    let (response, seen) = first_chunk_read(&gw, &tx).await;
    assert!(!seen.contains("[DONE]"));

    for event in [
        openai::chunk("m", json!({"content": " second"}), None),
        openai::chunk("m", json!({}), Some("stop")),
        openai::usage_chunk("m", 12, 2),
        openai::DONE.to_owned(),
    ] {
        tx.send(event.into()).await.unwrap();
    }
    drop(tx);
    let all = rest(response, seen).await;
    assert!(
        all.contains(" second") && all.ends_with("data: [DONE]\n\n"),
        "{all}"
    );
    assert!(!all.contains("\"error\""));

    // Usage was read from the stream while it passed.
    gw.state.usage.flush().await;
    let summary = gw.state.store.usage_summary().await.unwrap();
    assert_eq!(summary.len(), 1);
    assert_eq!((summary[0].input_tokens, summary[0].output_tokens), (12, 2));
    assert_eq!(summary[0].requests, 1);
}

#[tokio::test]
async fn a_stream_cut_short_ends_with_an_error_event() {
    let (upstream, tx) = scripted_stream().await;
    let gw = Gateway::start(&config(&[endpoint("local", &upstream.url("/v1"), "")])).await;
    let response = open_stream(&gw, "local/m").await;
    tx.send(openai::chunk("m", json!({"content": "partial"}), None).into())
        .await
        .unwrap();
    drop(tx);
    let all = rest(response, String::new()).await;
    assert!(all.contains("partial"));
    let last = all.trim_end().rsplit("\n\n").next().unwrap();
    let error: serde_json::Value =
        serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(error["error"]["code"], "stream_truncated", "{all}");
    // Its usage row says how it ended, not 200.
    gw.state.usage.flush().await;
    let rows = gw.state.store.recent_usage(10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, 502);
}

#[tokio::test]
async fn a_silent_upstream_hits_the_idle_timeout_mid_stream() {
    let (upstream, tx) = scripted_stream().await;
    let gw = Gateway::start(&config(&[endpoint(
        "local",
        &upstream.url("/v1"),
        "    timeouts: {idle: 300ms}\n",
    )]))
    .await;
    let response = open_stream(&gw, "local/m").await;
    tx.send(openai::chunk("m", json!({"content": "then silence"}), None).into())
        .await
        .unwrap();
    let all = rest(response, String::new()).await;
    assert!(all.contains("then silence"));
    assert!(
        all.contains("\"code\":\"upstream_timeout\"") && all.contains("idle timeout"),
        "{all}"
    );
    drop(tx);
}

#[tokio::test]
async fn usage_is_recorded_even_when_the_client_did_not_ask_for_it() {
    let upstream = FakeUpstream::start(|req| {
        let body = req.json();
        let asked = body["stream_options"]["include_usage"] == true;
        Reply::sse(openai::text_stream("m", &["a", "b"], asked))
    })
    .await;
    let gw = Gateway::start(&config(&[endpoint("local", &upstream.url("/v1"), "")])).await;
    let response = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "local/m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let all = rest(response, String::new()).await;
    assert_eq!(
        upstream.last().json()["stream_options"]["include_usage"],
        true,
        "modelgate asked"
    );
    assert!(
        all.contains("\"content\":\"b\"") && all.ends_with("data: [DONE]\n\n"),
        "{all}"
    );
    assert!(
        !all.contains("prompt_tokens"),
        "the client did not ask for the usage chunk: {all}"
    );
    gw.state.usage.flush().await;
    let summary = gw.state.store.usage_summary().await.unwrap();
    assert_eq!((summary[0].input_tokens, summary[0].output_tokens), (10, 2));
}

#[tokio::test]
async fn a_stream_missing_only_its_terminator_gets_one() {
    let upstream = FakeUpstream::start(|_| {
        let mut body = openai::chunk("m", json!({"content": "all here"}), None);
        body.push_str(&openai::chunk("m", json!({}), Some("stop")));
        Reply::sse(body)
    })
    .await;
    let gw = Gateway::start(&config(&[endpoint("local", &upstream.url("/v1"), "")])).await;
    let response = open_stream(&gw, "local/m").await;
    let all = rest(response, String::new()).await;
    assert!(all.contains("all here"));
    assert!(all.ends_with("data: [DONE]\n\n"), "{all}");
    assert!(!all.contains("\"error\""), "{all}");
}

#[tokio::test]
async fn a_client_that_goes_away_closes_the_upstream_stream_and_is_recorded() {
    let (upstream, tx) = scripted_stream().await;
    let gw = Gateway::start(&config(&[endpoint("local", &upstream.url("/v1"), "")])).await;
    let (response, _) = first_chunk_read(&gw, &tx).await;

    drop(response);
    // The gateway let go of the upstream: its stream has no reader left.
    tx.closed().await;
    gw.state.usage.flush().await;
    let summary = gw.state.store.usage_summary().await.unwrap();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].requests, 1);
    // Recorded as the client closing the request (nginx's 499), not a 200.
    let rows = gw.state.store.recent_usage(10).await.unwrap();
    assert_eq!(rows[0].status, 499);
}
