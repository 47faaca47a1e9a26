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

fn completed(model: &str) -> serde_json::Value {
    json!({
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
        "model": model, "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": "hello", "annotations": []}]}],
        "usage": {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 4},
                  "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 17}
    })
}

/// The rows the gateway recorded: (endpoint, model, requests, input, cached, output).
async fn recorded(gw: &Gateway) -> Vec<(String, String, u64, u64, u64, u64)> {
    gw.state.usage.flush().await;
    let rows = gw.state.store.usage_summary().await.unwrap();
    rows.iter()
        .map(|r| {
            (
                r.endpoint.clone(),
                r.model.clone(),
                r.requests,
                r.input_tokens,
                r.cached_tokens,
                r.output_tokens,
            )
        })
        .collect()
}

#[tokio::test]
async fn a_responses_request_passes_through_with_the_model_mapped_and_usage_recorded() {
    let upstream = FakeUpstream::start(|req| {
        let model = req.json()["model"].as_str().unwrap_or_default().to_owned();
        Reply::json(200, &completed(&model))
    })
    .await;
    let gw = Gateway::start(&config(&[format!(
        "{}    model_map: {{codex: gpt-5-codex}}\n",
        responses_endpoint("oai", &upstream.url("/v1"))
    )]))
    .await;
    let sent = json!({
        "model": "oai/codex", "input": "hi", "store": true, "previous_response_id": "resp_0",
        "tools": [{"type": "web_search"}], "include": ["reasoning.encrypted_content"]
    });
    let answer = gw.post("/v1/responses", &sent).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["output"][0]["content"][0]["text"], "hello");
    let got = upstream.last();
    assert_eq!(got.path, "/v1/responses");
    assert_eq!(got.bearer(), Some(KEY));
    let mut expected = sent.clone();
    expected["model"] = json!("gpt-5-codex");
    assert_eq!(got.json(), expected, "only the model is edited");
    assert_eq!(
        recorded(&gw).await,
        [("oai".into(), "gpt-5-codex".into(), 1, 12, 4, 5)]
    );
}

#[tokio::test]
async fn a_responses_stream_passes_through_byte_for_byte_and_its_usage_is_recorded() {
    let done = completed("gpt-5");
    let stream = format!(
        "event: response.created\ndata: {}\n\n\
         event: response.output_text.delta\ndata: {}\n\n\
         event: response.completed\ndata: {}\n\n",
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "status": "in_progress", "output": []}}),
        json!({"type": "response.output_text.delta", "sequence_number": 1, "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "hello"}),
        json!({"type": "response.completed", "sequence_number": 2, "response": done}),
    );
    let body = stream.clone();
    let upstream = FakeUpstream::start(move |_| Reply::sse(body.clone())).await;
    let gw = Gateway::start(&config(&[responses_endpoint("oai", &upstream.url("/v1"))])).await;
    let response = gw
        .http
        .post(format!("{}/v1/responses", gw.url))
        .json(&json!({"model": "oai/gpt-5", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), stream);
    assert_eq!(
        recorded(&gw).await,
        [("oai".into(), "gpt-5".into(), 1, 12, 4, 5)]
    );
}

#[tokio::test]
async fn a_responses_stream_cut_before_its_terminal_event_ends_with_an_error_event() {
    let stream = format!(
        "event: response.created\ndata: {}\n\n",
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "status": "in_progress", "output": []}}),
    );
    let upstream = FakeUpstream::start(move |_| Reply::sse(stream.clone())).await;
    let gw = Gateway::start(&config(&[responses_endpoint("oai", &upstream.url("/v1"))])).await;
    let response = gw
        .http
        .post(format!("{}/v1/responses", gw.url))
        .json(&json!({"model": "oai/gpt-5", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    assert!(last.starts_with("event: error\ndata: "), "{text}");
    let data: serde_json::Value =
        serde_json::from_str(last.trim_start_matches("event: error\ndata: ")).unwrap();
    assert_eq!(data["type"], "error");
    assert_eq!(data["code"], "stream_truncated");
}

#[tokio::test]
async fn a_responses_endpoint_lists_its_models_and_its_keys_test_as_openai_ones_do() {
    let upstream = FakeUpstream::start(|req| match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/v1/models") if req.bearer() == Some(KEY) => Reply::json(
            200,
            &json!({"object": "list", "data": [{"id": "gpt-5", "object": "model", "owned_by": "openai"}]}),
        ),
        ("POST", "/v1/responses") if req.bearer() == Some(KEY) => Reply::json(
            400,
            &json!({"error": {"message": "Missing required parameter: 'model'.", "type": "invalid_request_error", "param": "model", "code": "missing_required_parameter"}}),
        ),
        _ => Reply::json(
            401,
            &json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
        ),
    })
    .await;
    let gw = Gateway::start(&config(&[format!(
        "  - name: oai\n    spec: openai-responses\n    base_url: {}\n    api_keys: [{KEY}, sk-wrong-key-0123456789]\n    models: {{fetch: true}}\n",
        upstream.url("/v1")
    )]))
    .await;
    let report = gw
        .admin(reqwest::Method::POST, "/api/endpoints/oai/test", None)
        .await;
    let verdicts: Vec<&str> = report.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["ok", "invalid"], "{:?}", report.json);
    assert!(
        upstream
            .requests()
            .iter()
            .any(|r| r.method == "POST" && r.path == "/v1/responses"),
        "the key test posts to the Responses route"
    );

    let models = gw.get("/v1/models").await;
    let ids: Vec<&str> = models.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["oai/gpt-5"]);
}
