//! The Responses front door's own routes: passthrough to an
//! `openai-responses` endpoint, and the stored-response routes that only an
//! endpoint speaking Responses can answer (modelgate stores nothing).

use modelgate_testkit::{FakeUpstream, Reply};
use serde_json::json;

use crate::harness::{Gateway, config, message};

const KEY: &str = "sk-resp-key-0123456789";

fn responses_endpoint(name: &str, base_url: &str) -> String {
    format!(
        "  - name: {name}\n    spec: openai-responses\n    base_url: {base_url}\n    api_key: {KEY}\n    models: {{default: [gpt-5]}}\n"
    )
}

fn chat_endpoint(name: &str, base_url: &str) -> String {
    format!(
        "  - name: {name}\n    spec: openai-chat-completions\n    base_url: {base_url}\n    models: {{default: [llama]}}\n"
    )
}

fn stored_response(id: &str) -> serde_json::Value {
    json!({"id": id, "object": "response", "status": "completed", "output": []})
}

#[tokio::test]
async fn a_stored_response_is_read_from_the_only_responses_endpoint() {
    let upstream = FakeUpstream::start(|req| {
        let id = req.path.rsplit('/').next().unwrap_or_default().to_owned();
        Reply::json(200, &stored_response(&id))
    })
    .await;
    let chat = FakeUpstream::start(|_| Reply::json(500, &json!({}))).await;
    let gw = Gateway::start(&config(&[
        responses_endpoint("oai", &upstream.url("/v1")),
        chat_endpoint("local", &chat.url("/v1")),
    ]))
    .await;
    let answer = gw.get("/v1/responses/resp_abc123").await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["id"], "resp_abc123");
    let got = upstream.last();
    assert_eq!(got.path, "/v1/responses/resp_abc123");
    assert_eq!(got.bearer(), Some(KEY));
    assert_eq!(chat.hits(), 0);

    let answer = gw.get("/v1/responses/resp_abc123/input_items").await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(
        upstream.last().path,
        "/v1/responses/resp_abc123/input_items"
    );
}

#[tokio::test]
async fn without_a_responses_endpoint_a_stored_response_is_a_clear_400() {
    let chat = FakeUpstream::start(|_| Reply::json(500, &json!({}))).await;
    let gw = Gateway::start(&config(&[chat_endpoint("local", &chat.url("/v1"))])).await;
    let answer = gw.get("/v1/responses/resp_abc123").await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json["error"]["type"], "invalid_request_error");
    assert_eq!(answer.json["error"]["code"], "response_not_stored");
    assert!(
        message(&answer).contains("does not store responses"),
        "{}",
        message(&answer)
    );
    assert_eq!(chat.hits(), 0);
}

#[tokio::test]
async fn with_several_responses_endpoints_the_header_picks_one() {
    let a = FakeUpstream::start(|_| Reply::json(200, &stored_response("resp_a"))).await;
    let b = FakeUpstream::start(|_| Reply::json(200, &stored_response("resp_b"))).await;
    let gw = Gateway::start(&config(&[
        responses_endpoint("a", &a.url("/v1")),
        responses_endpoint("b", &b.url("/v1")),
    ]))
    .await;
    let answer = gw.get("/v1/responses/resp_x").await;
    assert_eq!(answer.status, 400);
    assert!(
        message(&answer).contains("`a`, `b`") && message(&answer).contains("x-modelgate-endpoint"),
        "{}",
        message(&answer)
    );

    let response = gw
        .http
        .get(format!("{}/v1/responses/resp_x", gw.url))
        .header("x-modelgate-endpoint", "b")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-modelgate-endpoint"].to_str().unwrap(),
        "b"
    );
    assert_eq!((a.hits(), b.hits()), (0, 1));

    let response = gw
        .http
        .get(format!("{}/v1/responses/resp_x", gw.url))
        .header("x-modelgate-endpoint", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_response_id_that_is_not_an_id_is_refused_before_any_request() {
    let upstream = FakeUpstream::start(|_| Reply::json(200, &stored_response("x"))).await;
    let gw = Gateway::start(&config(&[responses_endpoint("oai", &upstream.url("/v1"))])).await;
    let answer = gw.get("/v1/responses/resp%2F..%2Fmodels").await;
    assert_eq!(answer.status, 400, "{:?}", answer.json);
    assert_eq!(answer.json["error"]["param"], "response_id");
    assert_eq!(upstream.hits(), 0);
}

#[tokio::test]
async fn an_upstream_error_on_a_stored_response_is_passed_on_with_its_status() {
    let upstream = FakeUpstream::start(|_| {
        Reply::json(
            404,
            &json!({"error": {"message": "Response with id 'resp_gone' not found.", "type": "invalid_request_error", "param": null, "code": null}}),
        )
    })
    .await;
    let gw = Gateway::start(&config(&[responses_endpoint("oai", &upstream.url("/v1"))])).await;
    let answer = gw.get("/v1/responses/resp_gone").await;
    assert_eq!(answer.status, 404, "{:?}", answer.json);
    assert!(
        message(&answer).contains("resp_gone"),
        "{}",
        message(&answer)
    );
}
