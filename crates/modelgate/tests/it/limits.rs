//! Limits on untrusted input: model ids, and memory per stream.

use modelgate_testkit::{FakeUpstream, Reply, openai};
use serde_json::json;

use crate::harness::{Gateway, config, endpoint, message};

/// A 16 MB model id is refused before any work is done with it (no
/// suggestion search, nothing sent upstream, nothing stored), and the
/// gateway keeps answering meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn a_huge_model_id_is_refused_at_once_and_nothing_is_stored() {
    let upstream = FakeUpstream::start(|_| Reply::json(200, &openai::completion("m", "hi"))).await;
    let gw = Gateway::start(&config(&[endpoint(
        "ep",
        &upstream.url("/v1"),
        "    models: {default: [llama3]}\n",
    )]))
    .await;
    let huge = "x".repeat(16 * 1024 * 1024);
    let body = json!({"model": huge, "messages": [{"role": "user", "content": "hi"}]});
    let (big, health) = tokio::join!(gw.post("/v1/chat/completions", &body), gw.get("/healthz"));
    assert_eq!(health.status, 200);
    assert_eq!(big.status, 400, "{:?}", big.json);
    assert_eq!(big.json["error"]["code"], "model_id_too_long");
    assert!(
        message(&big).contains("at most 256 bytes"),
        "{}",
        message(&big)
    );
    assert!(message(&big).len() < 1000, "the id is not echoed back");
    // Prefixed with an endpoint name, too.
    let prefixed = json!({"model": format!("ep/{}", "y".repeat(300)), "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(gw.post("/v1/chat/completions", &prefixed).await.status, 400);
    let one = gw.get(&format!("/v1/models/{}", "z".repeat(300))).await;
    assert_eq!(one.status, 400);
    assert_eq!(upstream.hits(), 0);
    gw.state.usage.flush().await;
    assert!(gw.state.store.usage_summary().await.unwrap().is_empty());
}

/// A fast upstream and a client that does not read: the gateway stops
/// reading the upstream once a bounded amount is in flight, instead of
/// holding the whole answer in memory. The upstream's writes stall.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_client_holds_the_upstream_back() {
    let (chunks, rx) = tokio::sync::mpsc::channel(8);
    let rx = std::sync::Mutex::new(Some(rx));
    let upstream =
        FakeUpstream::start(move |_| Reply::Stream(rx.lock().unwrap().take().expect("one stream")))
            .await;
    let gw = Gateway::start(&config(&[endpoint("ep", &upstream.url("/v1"), "")])).await;
    let piece = openai::chunk("m", json!({"content": "x".repeat(64 * 1024)}), None);
    chunks.send(piece.clone().into()).await.unwrap();
    let mut response = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "ep/m", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.chunk().await.unwrap().is_some());
    // From here on the client reads nothing. Offer up to 512 MiB; count
    // what the gateway takes before the upstream's writes stall (a send
    // that has not gone through after a while: it never would).
    let limit = 512 * 1024 * 1024;
    let mut sent = piece.len();
    while sent < limit {
        let offered = chunks.send(piece.clone().into());
        match tokio::time::timeout(std::time::Duration::from_secs(3), offered).await {
            Ok(Ok(())) => sent += piece.len(),
            Ok(Err(_)) => panic!("the upstream stream closed"),
            Err(_) => break,
        }
    }
    // Socket buffers on loopback hold a few MiB each way; the gateway itself
    // holds at most a few 64 KiB batches.
    assert!(
        sent < 64 * 1024 * 1024,
        "the gateway read {} MiB the client never took",
        sent / (1024 * 1024)
    );
    drop(response);
}

/// A body past the limit is refused in the caller's format, not as text.
#[tokio::test]
async fn an_oversized_body_is_refused_in_the_callers_format() {
    let gw = Gateway::start("").await;
    let huge = format!(
        "{{\"model\":\"m\",\"messages\":[],\"pad\":\"{}\"}}",
        "x".repeat(65 * 1024 * 1024)
    );
    let answer = gw
        .http
        .post(format!("{}/v1/messages", gw.url))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 413);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["type"], "error", "Anthropic's shape on /v1/messages");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 MiB")
    );
}
