//! Vertex AI endpoints through the real gateway, against the fake token
//! endpoint (`modelgate_testkit::google_token`) and the fake Vertex
//! location (`modelgate_testkit::vertex`): Gemini and Claude models by
//! publisher, both front doors, the shared and refreshed access token, the
//! credentials' diagnoses and the key test.

use modelgate_testkit::google_token::{FakeGoogleToken, OTHER_PRIVATE_KEY, PROJECT_ID};
use modelgate_testkit::vertex::{ANSWER, ANTHROPIC_VERSION, FakeVertex};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, message};

const LOCATION: &str = "us-east5";

/// A vertex endpoint `vx` on the fake, with `credentials` inline.
fn vertex_yaml(base_url: &str, location: &str, credentials: &Value, extra: &str) -> String {
    format!(
        "endpoints:\n  - name: vx\n    spec: google-vertex\n    project_id: {PROJECT_ID}\n    location: {location}\n    base_url: {base_url}\n    credentials: '{credentials}'\n{extra}"
    )
}

async fn setup(extra: &str) -> (FakeGoogleToken, FakeVertex, Gateway) {
    let tokens = FakeGoogleToken::start().await;
    let vertex = FakeVertex::start(PROJECT_ID, LOCATION, &tokens).await;
    let yaml = vertex_yaml(
        &vertex.base_url(),
        LOCATION,
        &tokens.service_account_json(),
        extra,
    );
    let gw = Gateway::start(&yaml).await;
    (tokens, vertex, gw)
}

fn chat_body(model: &str, stream: bool) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream})
}

async fn stream_text(gw: &Gateway, path: &str, body: &Value) -> (u16, String) {
    let response = gw
        .http
        .post(format!("{}{path}", gw.url))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The text of an OpenAI chat stream.
fn chat_stream_text(sse: &str) -> String {
    sse.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

fn model_path(model: &str, publisher: &str, method: &str) -> String {
    format!(
        "/v1/projects/{PROJECT_ID}/locations/{LOCATION}/publishers/{publisher}/models/{model}:{method}"
    )
}

#[tokio::test]
async fn openai_clients_reach_gemini_and_claude_models_with_one_token() {
    let (tokens, vertex, gw) = setup("").await;

    let gemini = gw
        .post(
            "/v1/chat/completions",
            &chat_body("vx/gemini-2.5-flash", false),
        )
        .await;
    assert_eq!(gemini.status, 200, "{:?}", gemini.json);
    assert_eq!(gemini.json["choices"][0]["message"]["content"], ANSWER);
    let sent = vertex.upstream.last();
    assert_eq!(
        sent.path,
        model_path("gemini-2.5-flash", "google", "generateContent")
    );
    assert_eq!(sent.bearer(), Some("ya29.fake-1"));

    let (status, sse) = stream_text(
        &gw,
        "/v1/chat/completions",
        &chat_body("vx/gemini-2.5-flash", true),
    )
    .await;
    assert_eq!(status, 200, "{sse}");
    assert_eq!(chat_stream_text(&sse), ANSWER);
    assert_eq!(
        vertex.upstream.last().path,
        model_path(
            "gemini-2.5-flash",
            "google",
            "streamGenerateContent?alt=sse"
        )
    );

    let claude = gw
        .post(
            "/v1/chat/completions",
            &chat_body("vx/claude-sonnet-4", false),
        )
        .await;
    assert_eq!(claude.status, 200, "{:?}", claude.json);
    assert_eq!(claude.json["choices"][0]["message"]["content"], ANSWER);
    let sent = vertex.upstream.last();
    assert_eq!(
        sent.path,
        model_path("claude-sonnet-4", "anthropic", "rawPredict")
    );
    let body = sent.json();
    assert!(body.get("model").is_none(), "{body}");
    assert_eq!(body["anthropic_version"], ANTHROPIC_VERSION);

    let (status, sse) = stream_text(
        &gw,
        "/v1/chat/completions",
        &chat_body("vx/claude-sonnet-4", true),
    )
    .await;
    assert_eq!(status, 200, "{sse}");
    assert_eq!(chat_stream_text(&sse), ANSWER);
    assert_eq!(
        vertex.upstream.last().path,
        model_path("claude-sonnet-4", "anthropic", "streamRawPredict")
    );

    // Four requests, one token exchange, the same token on each.
    assert_eq!(tokens.exchanges(), 1);
    assert!(
        vertex
            .requests()
            .iter()
            .all(|r| r.bearer() == Some("ya29.fake-1"))
    );
}

#[tokio::test]
async fn concurrent_requests_share_one_token_exchange() {
    let (tokens, vertex, gw) = setup("").await;
    let requests = (0..8).map(|_| gw.chat("vx/gemini-2.5-flash"));
    let answers = futures_util::future::join_all(requests).await;
    assert!(answers.iter().all(|a| a.status == 200));
    assert_eq!(tokens.exchanges(), 1);
    assert_eq!(vertex.upstream.hits(), 8);
}

#[tokio::test]
async fn model_publishers_route_an_id_that_does_not_say() {
    let (_tokens, vertex, gw) = setup("    model_publishers: {my-claude: anthropic}\n").await;
    let answer = gw
        .post("/v1/chat/completions", &chat_body("vx/my-claude", false))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(
        vertex.upstream.last().path,
        model_path("my-claude", "anthropic", "rawPredict")
    );
}

#[tokio::test]
async fn anthropic_clients_pass_through_to_claude_with_the_vertex_body_edits() {
    let (_tokens, vertex, gw) = setup("").await;
    let request = json!({
        "model": "vx/claude-sonnet-4",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
    });
    let answer = gw.post("/v1/messages", &request).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["content"][0]["text"], ANSWER);
    let body = vertex.upstream.last().json();
    assert_eq!(
        body,
        json!({
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi"}],
            "anthropic_version": ANTHROPIC_VERSION,
        })
    );

    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    let (status, sse) = stream_text(&gw, "/v1/messages", &streamed).await;
    assert_eq!(status, 200, "{sse}");
    assert!(sse.contains("message_stop"), "{sse}");
    assert_eq!(
        vertex.upstream.last().path,
        model_path("claude-sonnet-4", "anthropic", "streamRawPredict")
    );
}

#[tokio::test]
async fn claude_token_counts_go_to_vertex_count_tokens() {
    let (_tokens, vertex, gw) = setup("").await;
    let request = json!({
        "model": "vx/claude-sonnet-4",
        "messages": [{"role": "user", "content": "hi"}],
    });
    let answer = gw.post("/v1/messages/count_tokens", &request).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json, json!({"input_tokens": 11}));
    let sent = vertex.upstream.last();
    assert_eq!(
        sent.path,
        model_path("count-tokens", "anthropic", "rawPredict")
    );
    assert_eq!(sent.json()["model"], "claude-sonnet-4");
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_and_a_revoked_one_replaced_once() {
    let (tokens, vertex, gw) = setup("").await;
    // Shorter than the refresh margin: each request needs a new token.
    tokens.set_expires_in(60);
    for _ in 0..3 {
        assert_eq!(gw.chat("vx/gemini-2.5-flash").await.status, 200);
    }
    assert_eq!(tokens.exchanges(), 3);
    let bearers: Vec<_> = vertex
        .requests()
        .iter()
        .map(|r| r.bearer().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(bearers, ["ya29.fake-1", "ya29.fake-2", "ya29.fake-3"]);

    // A long-lived token revoked before it expires: one 401, a new token,
    // the request sent again.
    tokens.set_expires_in(3599);
    assert_eq!(gw.chat("vx/gemini-2.5-flash").await.status, 200);
    vertex.revoke("ya29.fake-4");
    let answer = gw.chat("vx/gemini-2.5-flash").await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(tokens.exchanges(), 5);
    assert_eq!(vertex.upstream.last().bearer(), Some("ya29.fake-5"));
    assert_eq!(vertex.upstream.hits(), 6);
}

#[tokio::test]
async fn bad_credentials_and_refused_exchanges_are_named() {
    let tokens = FakeGoogleToken::start().await;
    let vertex = FakeVertex::start(PROJECT_ID, LOCATION, &tokens).await;
    let mut missing_key = tokens.service_account_json();
    missing_key.as_object_mut().unwrap().remove("private_key");
    let gw = Gateway::start(&vertex_yaml(&vertex.base_url(), LOCATION, &missing_key, "")).await;
    let answer = gw.chat("vx/gemini-2.5-flash").await;
    assert_eq!(answer.status, 502, "{:?}", answer.json);
    assert!(
        message(&answer).contains("`private_key` is missing"),
        "{}",
        message(&answer)
    );
    assert_eq!(vertex.upstream.hits(), 0);
    let report = gw.admin(Method::POST, "/api/endpoints/vx/test", None).await;
    assert_eq!(
        report.json["results"][0]["verdict"], "invalid",
        "{:?}",
        report.json
    );

    let mut other_key = tokens.service_account_json();
    other_key["private_key"] = json!(OTHER_PRIVATE_KEY);
    let gw = Gateway::start(&vertex_yaml(&vertex.base_url(), LOCATION, &other_key, "")).await;
    let answer = gw.chat("vx/gemini-2.5-flash").await;
    assert_eq!(answer.status, 502, "{:?}", answer.json);
    assert!(
        message(&answer).contains("invalid_grant"),
        "{}",
        message(&answer)
    );
    assert!(!message(&answer).contains("BEGIN"), "{}", message(&answer));
    assert_eq!(vertex.upstream.hits(), 0);
}

#[tokio::test]
async fn key_test_verdicts_and_hints() {
    let (_tokens, vertex, gw) = setup("    models: {default: [gemini-2.5-flash]}\n").await;
    let test = || gw.admin(Method::POST, "/api/endpoints/vx/test", None);
    let report = test().await;
    assert_eq!(
        report.json["results"][0]["verdict"], "ok",
        "{:?}",
        report.json
    );
    assert_eq!(
        report.json["results"][0]["key"],
        modelgate_testkit::google_token::CLIENT_EMAIL
    );
    // The probe is an empty body to the first configured model.
    assert_eq!(
        vertex.upstream.last().path,
        model_path("gemini-2.5-flash", "google", "generateContent")
    );

    vertex.force_status(Some(403));
    let report = test().await;
    assert_eq!(report.json["results"][0]["verdict"], "forbidden");
    let hint = report.json["results"][0]["hint"]
        .as_str()
        .unwrap_or_default();
    assert!(hint.contains("roles/aiplatform.user"), "{hint}");
    // The same 403 on a request explains itself too.
    let answer = gw.chat("vx/gemini-2.5-flash").await;
    assert!(
        message(&answer).contains("roles/aiplatform.user"),
        "{}",
        message(&answer)
    );

    vertex.force_status(Some(404));
    let report = test().await;
    assert_eq!(report.json["results"][0]["verdict"], "not-found");
    let hint = report.json["results"][0]["hint"]
        .as_str()
        .unwrap_or_default();
    assert!(hint.contains(LOCATION), "{hint}");
    vertex.force_status(None);
    let answer = gw.chat("vx/missing-model").await;
    assert_eq!(answer.status, 404, "{:?}", answer.json);
    assert!(message(&answer).contains(LOCATION), "{}", message(&answer));
}

#[tokio::test]
async fn the_global_location_is_in_the_path() {
    let tokens = FakeGoogleToken::start().await;
    let vertex = FakeVertex::start(PROJECT_ID, "global", &tokens).await;
    let yaml = vertex_yaml(
        &vertex.base_url(),
        "global",
        &tokens.service_account_json(),
        "",
    );
    let gw = Gateway::start(&yaml).await;
    let answer = gw.chat("vx/gemini-2.5-flash").await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(
        vertex.upstream.last().path,
        format!(
            "/v1/projects/{PROJECT_ID}/locations/global/publishers/google/models/gemini-2.5-flash:generateContent"
        )
    );
}
