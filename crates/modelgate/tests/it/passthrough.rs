//! Passthrough: what reaches the upstream, and model addressing.

use modelgate_testkit::{FakeUpstream, Reply, openai};
use serde_json::json;

use crate::harness::{Gateway, config, endpoint, message};

fn echo_model() -> impl FnMut(&modelgate_testkit::Recorded) -> Reply + Send + 'static {
    |req| {
        let model = req.json()["model"].as_str().unwrap_or_default().to_owned();
        Reply::json(200, &openai::completion(&model, "hello"))
    }
}

#[tokio::test]
async fn body_reaches_upstream_with_only_the_configured_edits() {
    let upstream = FakeUpstream::start(echo_model()).await;
    let gw = Gateway::start(&config(&[endpoint(
        "local",
        &upstream.url("/v1/"),
        "    api_key: sk-local-key-123456\n    headers: {X-Org: acme}\n    model_map: {gpt-4o: llama3:8b}\n    add_params: {temperature: 0.1, options: {num_ctx: 8192, nested: {a: 1}}}\n    drop_params: [user, logit_bias]\n",
    )]))
    .await;
    let sent = json!({
        "model": "local/gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "top_k": 40, "min_p": 0.05, "repetition_penalty": 1.1,
        "user": "someone", "logit_bias": {"50256": -100},
        "options": {"seed": 7, "nested": {"b": 2}},
        "temperature": 0.9
    });
    let answer = gw.post("/v1/chat/completions", &sent).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["choices"][0]["message"]["content"], "hello");
    assert_eq!(upstream.hits(), 1);

    let got = upstream.last();
    assert_eq!(
        got.path, "/v1/chat/completions",
        "trailing slash of base_url stripped"
    );
    assert_eq!(got.bearer(), Some("sk-local-key-123456"));
    assert_eq!(got.header("x-org"), Some("acme"));
    let body = got.json();
    assert_eq!(body["model"], "llama3:8b", "public id mapped");
    assert_eq!(body["top_k"], 40);
    assert_eq!(body["min_p"], 0.05);
    assert_eq!(body["repetition_penalty"], 1.1);
    assert!(
        body.get("user").is_none() && body.get("logit_bias").is_none(),
        "dropped"
    );
    assert_eq!(body["temperature"], 0.1, "add_params override the client");
    assert_eq!(
        body["options"],
        json!({"seed": 7, "num_ctx": 8192, "nested": {"a": 1, "b": 2}}),
        "objects merge deeply"
    );
    assert_eq!(body["messages"], sent["messages"]);
}

#[tokio::test]
async fn unedited_body_is_forwarded_byte_for_byte() {
    let upstream = FakeUpstream::start(echo_model()).await;
    let gw = Gateway::start(&config(&[endpoint(
        "local",
        &upstream.url("/v1"),
        "    models: {default: [llama3]}\n",
    )]))
    .await;
    let raw = r#"{"model": "llama3",  "messages":[{"role":"user","content":"hi"}], "mirostat": 2}"#;
    let response = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(upstream.last().body, raw.as_bytes());
    assert!(
        upstream.last().header("authorization").is_none(),
        "no key configured, none sent"
    );
}

#[tokio::test]
async fn bare_ids_resolve_through_the_catalogue() {
    let a = FakeUpstream::start(echo_model()).await;
    let b = FakeUpstream::start(|req| {
        if req.path.ends_with("/models") {
            Reply::json(200, &openai::model_list(&["qwen3", "shared"]))
        } else {
            Reply::json(200, &openai::completion("b", "from b"))
        }
    })
    .await;
    let gw = Gateway::start(&config(&[
        endpoint("a", &a.url("/v1"), "    models: {default: [llama3, shared]}\n    model_map: {claude-sonnet-4-6: claude-v2}\n"),
        endpoint("b", &b.url("/v1"), "    models: {fetch: true}\n"),
    ]))
    .await;

    assert_eq!(gw.chat("llama3").await.status, 200);
    assert_eq!(a.last().json()["model"], "llama3");

    // A well-known id reaches the endpoint that maps it to its own id.
    assert_eq!(gw.chat("claude-sonnet-4-6").await.status, 200);
    assert_eq!(a.last().json()["model"], "claude-v2");

    // Fetched lists count: the first miss fetches b's list once.
    let answer = gw.chat("qwen3").await;
    assert_eq!(answer.json["choices"][0]["message"]["content"], "from b");
    assert_eq!(
        b.requests()
            .iter()
            .filter(|r| r.path == "/v1/models")
            .count(),
        1
    );
    assert_eq!(b.last().json()["model"], "qwen3");

    let ambiguous = gw.chat("shared").await;
    assert_eq!(ambiguous.status, 400);
    assert_eq!(ambiguous.json["error"]["code"], "ambiguous_model");
    assert!(
        message(&ambiguous).contains("`a/shared`") && message(&ambiguous).contains("`b/shared`")
    );

    let unknown = gw.chat("lama3").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json["error"]["code"], "model_not_found");
    assert!(
        message(&unknown).contains("did you mean `llama3`"),
        "{}",
        message(&unknown)
    );
    assert_eq!(a.hits(), 2, "errors never reached an upstream");
    assert_eq!(
        b.requests()
            .iter()
            .filter(|r| r.path == "/v1/models")
            .count(),
        1,
        "list cached"
    );
}

#[tokio::test]
async fn models_endpoints_list_every_model() {
    let upstream =
        FakeUpstream::start(|_| Reply::json(200, &openai::model_list(&["fetched-1"]))).await;
    let gw = Gateway::start(&config(&[endpoint(
        "local",
        &upstream.url("/v1"),
        "    models: {default: [llama3], fetch: true}\n    model_map: {gpt-4o: llama3}\n",
    )]))
    .await;
    let list = gw.get("/v1/models").await;
    let ids: Vec<&str> = list.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["local/llama3", "local/gpt-4o", "local/fetched-1"]);
    let one = gw.get("/v1/models/local/llama3").await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json["owned_by"], "local");
    assert_eq!(gw.get("/v1/models/nope").await.status, 404);
}

#[tokio::test]
async fn env_vars_resolve_at_use_and_missing_ones_are_named() {
    let upstream = FakeUpstream::start(echo_model()).await;
    // PATH is always set; the second variable never is.
    let gw = Gateway::start(&config(&[
        endpoint(
            "ok",
            &upstream.url("/v1"),
            "    headers: {X-Path: \"${PATH}\"}\n    models: {default: [m1]}\n",
        ),
        endpoint(
            "missing",
            &upstream.url("/v1"),
            "    api_key: ${MODELGATE_TEST_SURELY_UNSET_VAR}\n",
        ),
    ]))
    .await;
    assert_eq!(gw.chat("ok/m1").await.status, 200);
    assert_eq!(
        upstream.last().header("x-path"),
        std::env::var("PATH").ok().as_deref()
    );
    let missing = gw.chat("missing/m1").await;
    assert_eq!(missing.status, 500);
    assert!(
        message(&missing).contains("MODELGATE_TEST_SURELY_UNSET_VAR"),
        "{}",
        message(&missing)
    );
    assert_eq!(upstream.hits(), 1);
}

#[tokio::test]
async fn a_direct_endpoint_posts_to_its_url_as_written() {
    let upstream = FakeUpstream::start(echo_model()).await;
    let gw = Gateway::start(&config(&[endpoint(
        "proxy",
        &upstream.url("/deployments/chat/run?team=a"),
        "    direct_endpoint: true\n",
    )]))
    .await;
    assert_eq!(gw.chat("proxy/any-model").await.status, 200);
    assert_eq!(upstream.last().path, "/deployments/chat/run?team=a");
    assert_eq!(upstream.last().json()["model"], "any-model");
}
