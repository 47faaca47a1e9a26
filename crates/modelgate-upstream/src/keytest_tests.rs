use modelgate_config::{EndpointConfig, TimeoutSettings};
use modelgate_testkit::{FakeUpstream, Recorded, Reply};
use serde_json::json;

use super::*;

fn endpoint(spec: &str, base: &str, keys: &[&str]) -> Endpoint {
    let config: EndpointConfig = serde_json::from_value(json!({
        "name": "ep", "spec": spec, "base_url": base, "api_keys": keys,
    }))
    .unwrap();
    Endpoint::build(&config, TimeoutSettings::default()).unwrap()
}

/// An OpenAI-compatible server below `/v1` (models and chat), FastAPI 404s elsewhere.
fn openai_server(req: &Recorded) -> Reply {
    match req.path.as_str() {
        "/v1/models" => Reply::json(200, &json!({"object": "list", "data": [{"id": "m"}]})),
        "/v1/chat/completions" => Reply::json(
            400,
            &json!({"error": {"message": "you must provide a model parameter"}}),
        ),
        _ => Reply::json(404, &json!({"detail": "Not Found"})),
    }
}

fn paths(upstream: &FakeUpstream) -> Vec<String> {
    upstream
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[tokio::test]
async fn an_anthropic_endpoint_at_an_openai_server_is_a_wrong_spec() {
    let upstream = FakeUpstream::start(openai_server).await;
    let ep = endpoint("anthropic", &upstream.url(""), &["sk-ant-key-1234"]);
    let reports = test_keys(&ep).await;
    let report = &reports[0];
    assert_eq!(report.verdict, Verdict::WrongSpec, "{report:?}");
    assert_eq!(report.verdict.as_str(), "wrong-spec");
    assert_eq!(report.status, Some(404));
    assert!(
        report.hint.contains("does not serve /v1/messages")
            && report.hint.contains("`openai-chat-completions`")
            && report.hint.contains(&upstream.url("/v1")),
        "{}",
        report.hint
    );
    assert_eq!(
        report.suggested_spec.as_deref(),
        Some("openai-chat-completions")
    );
    assert_eq!(
        report.suggested_base_url.as_deref(),
        Some(upstream.url("/v1").as_str())
    );
    assert_eq!(
        paths(&upstream),
        [
            "GET /v1/models",
            "POST /v1/messages",
            "POST /v1/chat/completions"
        ]
    );
    let json = serde_json::to_value(report).unwrap();
    assert_eq!(json["verdict"], "wrong-spec");
    assert_eq!(json["key"], "sk-…1234");
}

#[tokio::test]
async fn an_openai_endpoint_at_an_anthropic_server_is_a_wrong_spec() {
    let upstream = FakeUpstream::start(|req| match req.path.as_str() {
        "/v1/models" => Reply::json(200, &json!({"data": [{"id": "claude"}], "has_more": false})),
        "/v1/messages" if req.header("x-api-key") == Some("sk-key-1234567") => Reply::json(
            400,
            &json!({"type": "error", "error": {"type": "invalid_request_error", "message": "model: Field required"}}),
        ),
        _ => Reply::json(
            404,
            &json!({"type": "error", "error": {"type": "not_found_error", "message": "Not found"}}),
        ),
    })
    .await;
    let ep = endpoint(
        "openai-chat-completions",
        &upstream.url("/v1"),
        &["sk-key-1234567"],
    );
    let report = &test_keys(&ep).await[0];
    assert_eq!(report.verdict, Verdict::WrongSpec, "{report:?}");
    assert_eq!(report.suggested_spec.as_deref(), Some("anthropic"));
    assert_eq!(
        report.suggested_base_url.as_deref(),
        Some(upstream.url("").as_str())
    );
    assert!(
        report.hint.contains("does not serve /chat/completions"),
        "{}",
        report.hint
    );
}

#[tokio::test]
async fn a_right_endpoint_is_ok_after_two_probes() {
    let upstream = FakeUpstream::start(openai_server).await;
    let ep = endpoint(
        "openai-chat-completions",
        &upstream.url("/v1"),
        &["sk-key-one-1111", "sk-key-two-2222"],
    );
    let reports = test_keys(&ep).await;
    assert!(
        reports.iter().all(|r| r.verdict == Verdict::Ok),
        "{reports:?}"
    );
    assert_eq!(
        upstream.hits(),
        4,
        "two probes per key: {:?}",
        paths(&upstream)
    );
    assert!(reports[0].suggested_spec.is_none());
}

#[tokio::test]
async fn a_base_url_without_v1_is_not_found_with_the_right_base_suggested() {
    let upstream = FakeUpstream::start(openai_server).await;
    let ep = endpoint("openai-chat-completions", &upstream.url(""), &[]);
    let report = &test_keys(&ep).await[0];
    assert_eq!(report.verdict, Verdict::NotFound, "{report:?}");
    assert_eq!(report.key, "(no key)");
    assert_eq!(
        report.suggested_base_url.as_deref(),
        Some(upstream.url("/v1").as_str())
    );
    assert!(report.hint.contains("answers below"), "{}", report.hint);
}

#[tokio::test]
async fn a_public_model_list_does_not_make_a_bad_key_ok() {
    let upstream = FakeUpstream::start(|req| match (req.path.as_str(), req.bearer()) {
        ("/api/v1/models", _) => Reply::json(200, &json!({"data": []})),
        ("/api/v1/chat/completions", Some("sk-good-key-1234")) => {
            Reply::json(400, &json!({"error": {"message": "no model"}}))
        }
        _ => Reply::json(
            401,
            &json!({"error": {"message": "No auth credentials found"}}),
        ),
    })
    .await;
    let ep = endpoint(
        "openai-chat-completions",
        &upstream.url("/api/v1"),
        &["sk-bad-key-0000", "sk-good-key-1234"],
    );
    let reports = test_keys(&ep).await;
    assert_eq!(reports[0].verdict, Verdict::Invalid, "{:?}", reports[0]);
    assert_eq!(reports[1].verdict, Verdict::Ok, "{:?}", reports[1]);
}

#[tokio::test]
async fn a_server_without_a_model_list_is_ok_when_its_chat_route_takes_the_key() {
    // An Anthropic-compatible proxy below a path, with no `/v1/models`.
    let upstream = FakeUpstream::start(|req| match req.path.as_str() {
        "/anthropic/v1/messages" => Reply::json(
            400,
            &json!({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}}),
        ),
        _ => Reply::text(404, "404 page not found"),
    })
    .await;
    let ep = endpoint(
        "anthropic",
        &upstream.url("/anthropic"),
        &["sk-ant-key-1234"],
    );
    let report = &test_keys(&ep).await[0];
    assert_eq!(report.verdict, Verdict::Ok, "{report:?}");
    assert!(report.hint.contains("no model list"), "{}", report.hint);
    assert!(
        report.hint.contains("models.fetch: false"),
        "{}",
        report.hint
    );
    assert_eq!(
        paths(&upstream),
        ["GET /anthropic/v1/models", "POST /anthropic/v1/messages"]
    );
}

#[tokio::test]
async fn the_error_read_is_bounded_and_secrets_do_not_show() {
    let upstream = FakeUpstream::start(|_| {
        let mut text = "bad gateway for key sk-key-secret-9999 ".to_owned();
        text.push_str(&"x".repeat(200 * 1024));
        Reply::text(502, &text)
    })
    .await;
    let ep = endpoint(
        "openai-chat-completions",
        &upstream.url("/v1"),
        &["sk-key-secret-9999"],
    );
    let report = &test_keys(&ep).await[0];
    assert_eq!(report.verdict, Verdict::Error);
    assert_eq!(report.status, Some(502));
    assert!(
        !report.hint.contains("sk-key-secret-9999"),
        "{}",
        report.hint
    );
    assert!(report.hint.len() < 2048, "the hint is the first line, cut");
}
