use modelgate_config::{EndpointConfig, TimeoutSettings};
use modelgate_testkit::{FakeUpstream, Reply};
use serde_json::json;

use super::*;

fn endpoint(spec: &str, base: &str, extra: serde_json::Value) -> Endpoint {
    let mut config = json!({"name": "ep", "spec": spec, "base_url": base});
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    let config: EndpointConfig = serde_json::from_value(config).unwrap();
    Endpoint::build(&config, TimeoutSettings::default()).unwrap()
}

#[test]
fn an_endpoint_without_a_key_refused_upstream_is_a_502_about_the_endpoint() {
    let ep = endpoint(
        "openai-chat-completions",
        "https://llm.example/v1",
        json!({}),
    );
    for status in [401, 403] {
        let err = status_error(
            &ep,
            status,
            br#"{"error":{"message":"Missing bearer token","type":"authentication_error"}}"#,
        );
        assert_eq!(err.status, 502, "{status}");
        assert_eq!(err.kind, ErrorKind::Upstream);
        assert_eq!(err.code.as_deref(), Some("upstream_auth_failed"));
        assert!(
            err.message
                .contains("endpoint `ep` has no API key configured")
                && err
                    .message
                    .contains("server at llm.example:443 refused the request")
                && err
                    .message
                    .contains(&format!("(HTTP {status}: Missing bearer token)"))
                && err
                    .message
                    .contains("modelgate endpoints update ep --api-key"),
            "{}",
            err.message
        );
    }
    // Anthropic's own `authentication_error` type does not turn it back into a 401.
    let ep = endpoint("anthropic", "https://api.anthropic.com", json!({}));
    let err = status_error(
        &ep,
        401,
        br#"{"type":"error","error":{"type":"authentication_error","message":"x-api-key header is required"}}"#,
    );
    assert_eq!((err.status, err.kind), (502, ErrorKind::Upstream));
}

#[test]
fn a_fastapi_route_miss_gets_the_v1_hint_not_the_model_hint() {
    let ep = endpoint(
        "openai-chat-completions",
        "http://127.0.0.1:8000",
        json!({}),
    );
    let err = status_error(&ep, 404, br#"{"detail":"Not Found"}"#);
    assert!(err.message.contains("may lack `/v1`"), "{}", err.message);
    assert!(
        err.message.contains("HTTP 404: Not Found"),
        "{}",
        err.message
    );
    // A structured answer about something else stays a model/path question.
    let err = status_error(&ep, 404, br#"{"error":{"message":"no such deployment"}}"#);
    assert!(
        err.message
            .contains("Check the model id and the endpoint's documentation"),
        "{}",
        err.message
    );
    let err = status_error(
        &ep,
        404,
        br#"{"error":{"message":"The model `x` does not exist","code":"model_not_found"}}"#,
    );
    assert!(
        err.message.contains("`modelgate models` lists"),
        "{}",
        err.message
    );
}

#[test]
fn status_errors_scrub_header_values_and_url_credentials() {
    let ep = endpoint(
        "openai-chat-completions",
        "http://admin:pa55word-9@127.0.0.1:9",
        json!({"headers": {"X-Org-Token": "org-token-abcdef"}}),
    );
    let err = status_error(
        &ep,
        404,
        b"no route for org-token-abcdef at http://admin:pa55word-9@127.0.0.1:9/chat",
    );
    assert!(!err.message.contains("org-token-abcdef"), "{}", err.message);
    assert!(!err.message.contains("pa55word-9"), "{}", err.message);
    assert!(
        err.message.contains("http://***@127.0.0.1:9"),
        "{}",
        err.message
    );
}

/// Serves only `/v1/…` and answers FastAPI's 404 to everything else.
async fn only_below_v1() -> FakeUpstream {
    FakeUpstream::start(|req| match req.path.as_str() {
        "/v1/models" => Reply::json(200, &json!({"object": "list", "data": []})),
        "/v1/chat/completions" => Reply::json(400, &json!({"error": {"message": "bad"}})),
        _ => Reply::json(404, &json!({"detail": "Not Found"})),
    })
    .await
}

#[tokio::test]
async fn explain_404_finds_the_missing_v1() {
    let upstream = only_below_v1().await;
    let ep = endpoint("openai-chat-completions", &upstream.url(""), json!({}));
    let err = explain_404(&ep, None, br#"{"detail":"Not Found"}"#).await;
    assert_eq!(err.status, 404);
    assert!(
        err.message.contains("lacks `/v1`") && err.message.contains(&upstream.url("/v1")),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn explain_404_with_a_right_base_url_points_at_the_model() {
    let upstream = only_below_v1().await;
    let ep = endpoint("openai-chat-completions", &upstream.url("/v1"), json!({}));
    let err = explain_404(&ep, None, br#"{"error":{"message":"unknown deployment"}}"#).await;
    assert!(
        err.message.contains("The base URL is right"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn explain_404_does_not_probe_when_the_body_names_the_model() {
    let upstream = only_below_v1().await;
    let ep = endpoint("openai-chat-completions", &upstream.url(""), json!({}));
    let err = explain_404(&ep, None, br#"{"error":{"message":"model `m` not found"}}"#).await;
    assert!(
        err.message.contains("Check the model id"),
        "{}",
        err.message
    );
    assert_eq!(upstream.hits(), 0);
}

#[tokio::test]
async fn explain_404_probes_with_the_key_that_answered() {
    let upstream = only_below_v1().await;
    let ep = endpoint(
        "openai-chat-completions",
        &upstream.url(""),
        json!({"api_keys": ["sk-first-key-1111", "sk-second-key-2222"]}),
    );
    let _ = explain_404(&ep, Some(1), b"404 page not found").await;
    assert!(upstream.hits() > 0);
    assert!(
        upstream
            .requests()
            .iter()
            .all(|r| r.bearer() == Some("sk-second-key-2222"))
    );
}

#[tokio::test]
async fn a_server_speaking_both_specs_is_not_blamed_for_a_genuine_404() {
    // LiteLLM-style: serves /v1/messages and /v1/chat/completions alike.
    let upstream = only_below_v1().await;
    let ep = endpoint("anthropic", &upstream.url(""), json!({}));
    let err = explain_404(
        &ep,
        None,
        br#"{"type":"error","error":{"type":"not_found_error","message":"no such batch"}}"#,
    )
    .await;
    assert!(!err.message.contains("looks like"), "{}", err.message);
    assert_eq!(upstream.hits(), 0, "{:?}", upstream.requests());
    // A route miss at the same server is worth the question.
    let err = explain_404(&ep, None, b"404 page not found").await;
    assert!(
        err.message
            .contains("it looks like `openai-chat-completions`"),
        "{}",
        err.message
    );
}
