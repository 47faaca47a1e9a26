//! Anthropic endpoints and the Anthropic front door: passthrough, headers,
//! key fallback, model listing, key tests, count_tokens.

use modelgate_testkit::{FakeUpstream, Recorded, Reply, anthropic};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::Gateway;

fn anthropic_endpoint(name: &str, base_url: &str, extra: &str) -> String {
    format!("endpoints:\n  - name: {name}\n    spec: anthropic\n    base_url: {base_url}\n{extra}")
}

async fn messages(gw: &Gateway, body: &Value, key: Option<(&str, &str)>) -> (u16, Value) {
    let mut request = gw
        .http
        .post(format!("{}/v1/messages", gw.url))
        .header("anthropic-version", "2023-06-01")
        .json(body);
    if let Some((name, value)) = key {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn hello(model: &str) -> Value {
    json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}], "top_k": 5})
}

#[tokio::test]
async fn passthrough_sends_anthropic_headers_and_keeps_the_body() {
    let upstream = FakeUpstream::start(|req: &Recorded| {
        Reply::json(
            200,
            &anthropic::text_message(req.json()["model"].as_str().unwrap_or_default(), "hello"),
        )
    })
    .await;
    // A base URL written with /v1 must not double it.
    let gw = Gateway::start(&anthropic_endpoint(
        "claude",
        &upstream.url("/v1/"),
        "    api_key: sk-ant-upstream-0001\n    model_map: {sonnet: claude-sonnet-4-5}\n",
    ))
    .await;
    let (status, body) = messages(
        &gw,
        &hello("claude/sonnet"),
        Some(("x-api-key", "any-client-key")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["content"][0]["text"], "hello");
    let got = upstream.last();
    assert_eq!(got.path, "/v1/messages");
    assert_eq!(got.header("x-api-key"), Some("sk-ant-upstream-0001"));
    assert_eq!(got.header("anthropic-version"), Some("2023-06-01"));
    assert!(got.header("authorization").is_none());
    let sent = got.json();
    assert_eq!(sent["model"], "claude-sonnet-4-5");
    assert_eq!(sent["top_k"], 5);
    assert_eq!(sent["messages"], hello("x")["messages"]);

    // Bearer works as the caller's key too (the current SDK sends it).
    let (status, _) = messages(
        &gw,
        &hello("claude/sonnet"),
        Some(("authorization", "Bearer any")),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn anthropic_errors_keep_their_status_and_shape() {
    let upstream =
        FakeUpstream::start(|_: &Recorded| anthropic::error(529, "overloaded_error", "Overloaded"))
            .await;
    let gw = Gateway::start(&anthropic_endpoint("claude", &upstream.url(""), "")).await;
    let (status, body) = messages(&gw, &hello("claude/x"), None).await;
    assert_eq!(status, 529);
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "overloaded_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Overloaded")
    );

    // The OpenAI front door maps 529 to 503.
    let answer = gw.chat("claude/x").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json["error"]["type"], "server_error");

    // Front-door errors are Anthropic-shaped too.
    let (status, body) = messages(
        &gw,
        &json!({"model": "nowhere/x", "max_tokens": 1, "messages": []}),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["type"], "not_found_error");
}

#[tokio::test]
async fn key_fallback_uses_x_api_key() {
    let upstream = FakeUpstream::start(|req: &Recorded| match req.header("x-api-key") {
        Some("sk-ant-second-0002") => Reply::json(200, &anthropic::text_message("m", "ok")),
        _ => anthropic::error(401, "authentication_error", "invalid x-api-key"),
    })
    .await;
    let gw = Gateway::start(&anthropic_endpoint(
        "claude",
        &upstream.url(""),
        "    api_keys: [sk-ant-first-00001, sk-ant-second-0002]\n",
    ))
    .await;
    let (status, _) = messages(&gw, &hello("claude/m"), None).await;
    assert_eq!(status, 200);
    let keys: Vec<String> = upstream
        .requests()
        .iter()
        .map(|r| r.header("x-api-key").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(keys, ["sk-ant-first-00001", "sk-ant-second-0002"]);
}

#[tokio::test]
async fn model_listing_pages_and_key_test_use_v1_models() {
    let upstream = FakeUpstream::start(|req: &Recorded| {
        if req.path.contains("after_id=model-b") {
            Reply::json(200, &json!({"data": [{"type": "model", "id": "model-c"}], "has_more": false, "last_id": "model-c"}))
        } else {
            Reply::json(200, &json!({"data": [{"type": "model", "id": "model-a"}, {"type": "model", "id": "model-b"}], "has_more": true, "last_id": "model-b"}))
        }
    })
    .await;
    let gw = Gateway::start(&anthropic_endpoint(
        "claude",
        &upstream.url(""),
        "    api_key: sk-ant-key-000001\n    models: {fetch: true}\n",
    ))
    .await;
    let listing = gw
        .admin(Method::GET, "/api/endpoints/claude/models", None)
        .await;
    assert_eq!(
        listing.json["models"],
        json!(["model-a", "model-b", "model-c"])
    );
    assert!(
        upstream
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/v1/models?limit=1000"))
    );

    let report = gw
        .admin(Method::POST, "/api/endpoints/claude/test", None)
        .await;
    assert_eq!(report.json["results"][0]["verdict"], "ok");
    assert_eq!(
        upstream.last().header("x-api-key"),
        Some("sk-ant-key-000001")
    );
}

#[tokio::test]
async fn count_tokens_passes_through_or_is_an_honest_estimate() {
    let upstream = FakeUpstream::start(|req: &Recorded| {
        assert_eq!(req.path, "/v1/messages/count_tokens");
        Reply::json(200, &json!({"input_tokens": 42}))
    })
    .await;
    let oai = FakeUpstream::start(|_: &Recorded| Reply::text(500, "never called")).await;
    let gw = Gateway::start(&format!(
        "{}  - name: local\n    spec: openai-chat-completions\n    base_url: {}\n",
        anthropic_endpoint("claude", &upstream.url(""), ""),
        oai.url("/v1")
    ))
    .await;
    let count = |model: &str| {
        let gw = &gw;
        let body =
            json!({"model": model, "messages": [{"role": "user", "content": "0123456789abcdef"}]});
        async move {
            gw.http
                .post(format!("{}/v1/messages/count_tokens", gw.url))
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let exact = count("claude/m").await;
    assert!(exact.headers().get("x-modelgate-estimate").is_none());
    assert_eq!(exact.json::<Value>().await.unwrap()["input_tokens"], 42);
    assert_eq!(upstream.last().json()["model"], "m");

    let estimated = count("local/m").await;
    assert_eq!(estimated.headers()["x-modelgate-estimate"], "true");
    let body: Value = estimated.json().await.unwrap();
    assert_eq!(body["estimated"], true);
    assert!(body["input_tokens"].as_u64().unwrap() >= 4);
    assert_eq!(oai.hits(), 0);
}

#[tokio::test]
async fn models_in_anthropic_shape_when_asked() {
    let gw = Gateway::start(&anthropic_endpoint(
        "claude",
        "http://127.0.0.1:9",
        "    models: {default: [claude-x]}\n",
    ))
    .await;
    let response = gw
        .http
        .get(format!("{}/v1/models", gw.url))
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"][0]["type"], "model");
    assert_eq!(body["data"][0]["id"], "claude/claude-x");
    assert_eq!(body["has_more"], false);
    assert_eq!(body["first_id"], "claude/claude-x");
    let openai_shape = gw.get("/v1/models").await;
    assert_eq!(openai_shape.json["object"], "list");
}

#[tokio::test]
async fn provider_is_accepted_for_spec() {
    let upstream = FakeUpstream::start(|_: &Recorded| {
        Reply::json(200, &anthropic::text_message("m", "via provider"))
    })
    .await;
    let gw = Gateway::start(&format!(
        "endpoints:\n  - name: c\n    provider: anthropic\n    base_url: {}\n",
        upstream.url("")
    ))
    .await;
    let (status, body) = messages(&gw, &hello("c/m"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["content"][0]["text"], "via provider");
}

#[tokio::test]
async fn beta_flags_reach_an_anthropic_endpoint() {
    let upstream =
        FakeUpstream::start(|_: &Recorded| Reply::json(200, &anthropic::text_message("m", "ok")))
            .await;
    let gw = Gateway::start(&anthropic_endpoint("c", &upstream.url(""), "")).await;
    let (status, _) = messages(
        &gw,
        &hello("c/m"),
        Some(("anthropic-beta", "interleaved-thinking-2025-05-14")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        upstream.last().header("anthropic-beta"),
        Some("interleaved-thinking-2025-05-14")
    );
}

#[tokio::test]
async fn anthropic_error_types_survive_and_keys_never_leak() {
    let upstream = FakeUpstream::start(|req: &Recorded| {
        if req.json()["stream"] == true {
            let mut body = anthropic::message_start("m", 5);
            body.push_str(&anthropic::event(json!({"type": "error", "error": {"type": "api_error", "message": "internal failure for key sk-ant-secret-key-0042"}})));
            Reply::sse(body)
        } else {
            anthropic::error(402, "billing_error", "credit exhausted for sk-ant-secret-key-0042")
        }
    })
    .await;
    let gw = Gateway::start(&anthropic_endpoint(
        "c",
        &upstream.url(""),
        "    api_key: sk-ant-secret-key-0042\n",
    ))
    .await;
    let (status, body) = messages(&gw, &hello("c/m"), None).await;
    assert_eq!(status, 402);
    assert_eq!(
        body["error"]["type"], "permission_error",
        "billing errors keep their kind"
    );
    assert!(
        !body.to_string().contains("sk-ant-secret-key-0042"),
        "{body}"
    );

    // Translated mid-stream error: scrubbed as well.
    let response = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "c/m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(text.contains("internal failure for key"), "{text}");
    assert!(!text.contains("sk-ant-secret-key-0042"), "{text}");
}
