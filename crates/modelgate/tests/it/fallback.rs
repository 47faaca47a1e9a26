//! Key fallback on 401/403/429, cooldowns, and what is never retried.

use modelgate_testkit::{FakeUpstream, Recorded, Reply, openai};

use crate::harness::{Gateway, config, endpoint, message};

const KEYS: &str = "    api_keys: [sk-key-one-1111, sk-key-two-2222, sk-key-three-3333]\n";

/// Rejects the keys listed with `status`, answers the others.
fn rejecting(
    bad: &'static [&'static str],
    status: u16,
    retry_after: Option<&'static str>,
) -> impl FnMut(&Recorded) -> Reply + Send {
    move |req| {
        let key = req.bearer().unwrap_or_default();
        if bad.contains(&key) {
            let reply = openai::error(
                status,
                &format!("Incorrect API key provided: {key}"),
                "invalid_request_error",
                "invalid_api_key",
            );
            match retry_after {
                Some(after) => reply.with_header("retry-after", after),
                None => reply,
            }
        } else {
            Reply::json(200, &openai::completion("m", &format!("answered by {key}")))
        }
    }
}

fn keys_tried(upstream: &FakeUpstream) -> Vec<String> {
    upstream
        .requests()
        .iter()
        .map(|r| r.bearer().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn falls_back_on_401_and_403() {
    for status in [401, 403] {
        let upstream = FakeUpstream::start(rejecting(
            &["sk-key-one-1111", "sk-key-two-2222"],
            status,
            None,
        ))
        .await;
        let gw = Gateway::start(&config(&[endpoint("ep", &upstream.url("/v1"), KEYS)])).await;
        let answer = gw.chat("ep/m").await;
        assert_eq!(answer.status, 200, "{status}: {:?}", answer.json);
        assert_eq!(
            answer.json["choices"][0]["message"]["content"],
            "answered by sk-key-three-3333"
        );
        assert_eq!(
            keys_tried(&upstream),
            ["sk-key-one-1111", "sk-key-two-2222", "sk-key-three-3333"]
        );
    }
}

#[tokio::test]
async fn a_429_cools_its_key_down_for_retry_after() {
    let upstream = FakeUpstream::start(rejecting(&["sk-key-one-1111"], 429, Some("30"))).await;
    let gw = Gateway::start(&config(&[endpoint("ep", &upstream.url("/v1"), KEYS)])).await;
    assert_eq!(gw.chat("ep/m").await.status, 200);
    assert_eq!(gw.chat("ep/m").await.status, 200);
    // The second request went straight to the second key.
    assert_eq!(
        keys_tried(&upstream),
        ["sk-key-one-1111", "sk-key-two-2222", "sk-key-two-2222"]
    );
}

#[tokio::test]
async fn no_fallback_on_500() {
    let upstream = FakeUpstream::start(|_| {
        openai::error(500, "model crashed", "server_error", "server_error")
    })
    .await;
    let gw = Gateway::start(&config(&[endpoint("ep", &upstream.url("/v1"), KEYS)])).await;
    let answer = gw.chat("ep/m").await;
    assert_eq!(answer.status, 500);
    assert!(message(&answer).contains("model crashed"));
    assert_eq!(
        upstream.hits(),
        1,
        "a broken server is not retried with another key"
    );
}

#[tokio::test]
async fn every_key_rejected_says_rotation_is_exhausted_without_leaking_keys() {
    let upstream = FakeUpstream::start(rejecting(
        &["sk-key-one-1111", "sk-key-two-2222", "sk-key-three-3333"],
        401,
        None,
    ))
    .await;
    let gw = Gateway::start(&config(&[endpoint("ep", &upstream.url("/v1"), KEYS)])).await;
    let answer = gw.chat("ep/m").await;
    // A 502 about the endpoint: the caller's own key is fine.
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json["error"]["code"], "upstream_keys_exhausted");
    assert_eq!(answer.json["error"]["type"], "server_error");
    let text = message(&answer);
    assert!(text.contains("key rotation exhausted"), "{text}");
    assert!(
        text.contains("sk-…1111") && text.contains("sk-…3333"),
        "{text}"
    );
    assert!(
        !answer.json.to_string().contains("sk-key-one-1111"),
        "keys are masked even when the upstream echoes them"
    );
    assert_eq!(upstream.hits(), 3);
}

#[tokio::test]
async fn rate_limited_on_every_key() {
    let upstream = FakeUpstream::start(rejecting(
        &["sk-key-one-1111", "sk-key-two-2222", "sk-key-three-3333"],
        429,
        Some("20"),
    ))
    .await;
    let gw = Gateway::start(&config(&[endpoint("ep", &upstream.url("/v1"), KEYS)])).await;
    let answer = gw.chat("ep/m").await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.json["error"]["code"], "rate_limited_on_every_key");
    assert!(message(&answer).contains("rate limited on every key"));
    let retry: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((15..=20).contains(&retry), "retry-after {retry}");
    assert_eq!(upstream.hits(), 3);
    // All keys cooling down: the next request does not hit the upstream at all.
    assert_eq!(gw.chat("ep/m").await.status, 429);
    assert_eq!(upstream.hits(), 3);
}

/// One key, one bare 429 (no `Retry-After`): the next request still goes
/// to the upstream, whose own answer decides, instead of a local refusal
/// for our guessed cooldown.
#[tokio::test]
async fn a_single_key_after_a_bare_429_is_tried_again() {
    let mut first = true;
    let upstream = FakeUpstream::start(move |_| {
        if std::mem::take(&mut first) {
            openai::error(429, "slow down", "rate_limit_error", "rate_limit_exceeded")
        } else {
            Reply::json(200, &openai::completion("m", "ok"))
        }
    })
    .await;
    let gw = Gateway::start(&config(&[endpoint(
        "ep",
        &upstream.url("/v1"),
        "    api_key: sk-only-key-0001\n",
    )]))
    .await;
    assert_eq!(gw.chat("ep/m").await.status, 429);
    assert_eq!(gw.chat("ep/m").await.status, 200);
    assert_eq!(upstream.hits(), 2);
}

/// A cooldown the upstream asked for is honoured, even with one key.
#[tokio::test]
async fn a_single_key_honours_an_asked_retry_after() {
    let upstream = FakeUpstream::start(rejecting(&["sk-only-key-0001"], 429, Some("30"))).await;
    let gw = Gateway::start(&config(&[endpoint(
        "ep",
        &upstream.url("/v1"),
        "    api_key: sk-only-key-0001\n",
    )]))
    .await;
    assert_eq!(gw.chat("ep/m").await.status, 429);
    let again = gw.chat("ep/m").await;
    assert_eq!(again.status, 429);
    assert_eq!(again.json["error"]["code"], "rate_limited_on_every_key");
    assert_eq!(upstream.hits(), 1, "not asked again before its Retry-After");
}
