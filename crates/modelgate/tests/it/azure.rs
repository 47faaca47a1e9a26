//! Azure OpenAI endpoints through the real gateway, against the fake
//! resource of `modelgate_testkit::azure`: URLs per api-version, the
//! deployment as the (mapped) model, `api-key` and Entra bearer auth,
//! both front doors, both content filters, hints, listing and key test.
//!
//! The Responses front door reaches a v1 endpoint by passthrough (to
//! `/openai/v1/responses`) and a classic one by translation.

use modelgate_testkit::FakeUpstream;
use modelgate_testkit::azure::{self as fake, ANSWER_TRIGGER, PROMPT_TRIGGER, Resource};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, message};

const KEY: &str = "fake-azure-key";
const WITHHELD: &str =
    "The answer was withheld by the endpoint's content filter (categories: violence (high)).";

/// An azure endpoint entry; `extra` is YAML lines indented by four spaces.
fn azure(name: &str, base_url: &str, extra: &str) -> String {
    format!("  - name: {name}\n    spec: azure\n    base_url: {base_url}\n{extra}")
}

/// A classic endpoint `az` (dated api-version, `gpt-4o` → `fake-deployment`)
/// and a v1 endpoint `az1` (its base URL as Azure's samples write it,
/// `gpt-4o-mini` → `fake-mini`).
async fn two_endpoints() -> (FakeUpstream, Gateway) {
    let upstream = fake::start(Resource::default()).await;
    let yaml = format!(
        "endpoints:\n{}{}",
        azure(
            "az",
            &upstream.url(""),
            &format!(
                "    api_version: 2024-10-21\n    api_key: {KEY}\n    model_map: {{gpt-4o: fake-deployment}}\n"
            ),
        ),
        azure(
            "az1",
            &upstream.url("/openai/v1/"),
            &format!("    api_key: {KEY}\n    model_map: {{gpt-4o-mini: fake-mini}}\n"),
        ),
    );
    let gw = Gateway::start(&yaml).await;
    (upstream, gw)
}

fn chat_body(model: &str, text: &str, stream: bool) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}], "stream": stream})
}

fn messages_body(model: &str, text: &str, stream: bool) -> Value {
    json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}], "stream": stream})
}

/// A streamed answer's status and whole text.
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

/// The JSON of every `data:` line of an SSE body but `[DONE]`.
fn sse_data(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[tokio::test]
async fn openai_clients_pass_through_to_classic_and_v1_deployments() {
    let (upstream, gw) = two_endpoints().await;

    let answer = gw
        .post("/v1/chat/completions", &chat_body("az/gpt-4o", "hi", false))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["choices"][0]["message"]["content"], "echo: hi");
    assert_eq!(answer.headers["x-modelgate-endpoint"], "az");
    let got = upstream.last();
    assert_eq!(
        got.path,
        "/openai/deployments/fake-deployment/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(got.header("api-key"), Some(KEY));
    assert!(got.header("authorization").is_none());
    assert_eq!(got.json()["model"], "fake-deployment", "the mapped model");

    let answer = gw
        .post(
            "/v1/chat/completions",
            &chat_body("az1/gpt-4o-mini", "yo", false),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["choices"][0]["message"]["content"], "echo: yo");
    let got = upstream.last();
    assert_eq!(
        got.path, "/openai/v1/chat/completions",
        "no api-version on v1"
    );
    assert_eq!(got.header("api-key"), Some(KEY));
    assert_eq!(
        got.json()["model"],
        "fake-mini",
        "the deployment is the body's model"
    );

    // Streamed: Azure's chunks reach the client as they came.
    let (status, text) = stream_text(
        &gw,
        "/v1/chat/completions",
        &chat_body("az/gpt-4o", "hi there", true),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let chunks = sse_data(&text);
    assert!(chunks[0]["prompt_filter_results"].is_array(), "{text}");
    let said: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(said, "echo: hi there");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    assert!(
        chunks
            .iter()
            .all(|c| c.get("usage").is_none_or(Value::is_null)),
        "the usage chunk the gateway asked for is not shown: {text}"
    );
    assert_eq!(
        upstream.last().json()["stream_options"]["include_usage"],
        true
    );
    assert_eq!(upstream.hits(), 3);
}

#[tokio::test]
async fn anthropic_clients_reach_azure_by_translation() {
    let (upstream, gw) = two_endpoints().await;
    let answer = gw
        .post("/v1/messages", &messages_body("az/gpt-4o", "hi", false))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["type"], "message");
    assert_eq!(answer.json["model"], "az/gpt-4o");
    assert_eq!(answer.json["content"][0]["text"], "echo: hi");
    assert_eq!(answer.json["stop_reason"], "end_turn");
    assert_eq!(answer.json["usage"]["input_tokens"], 12);
    let got = upstream.last();
    assert_eq!(
        got.path,
        "/openai/deployments/fake-deployment/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(got.json()["messages"][0]["content"], "hi");

    // Streamed through the v1 endpoint: the leading empty-choices chunk is skipped.
    let (status, text) = stream_text(
        &gw,
        "/v1/messages",
        &messages_body("az1/gpt-4o-mini", "hello you", true),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(upstream.last().path, "/openai/v1/chat/completions");
    let events = sse_data(&text);
    assert_eq!(events[0]["type"], "message_start", "{text}");
    let said: String = events
        .iter()
        .filter_map(|e| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(said, "echo: hello you");
    let delta = events
        .iter()
        .find(|e| e["type"] == "message_delta")
        .unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
}

#[tokio::test]
async fn a_filtered_prompt_is_a_clear_400_for_every_client() {
    let (upstream, gw) = two_endpoints().await;
    let prompt = format!("please {PROMPT_TRIGGER}");
    for stream in [false, true] {
        let answer = gw
            .post(
                "/v1/chat/completions",
                &chat_body("az/gpt-4o", &prompt, stream),
            )
            .await;
        assert_eq!(answer.status, 400, "{:?}", answer.json);
        let error = &answer.json["error"];
        assert_eq!(error["type"], "invalid_request_error");
        assert_eq!(error["code"], "content_filter");
        assert_eq!(error["param"], "prompt");
        assert!(
            message(&answer)
                .contains("filtered by Azure's content filter (categories: hate (high))"),
            "{}",
            message(&answer)
        );

        let answer = gw
            .post(
                "/v1/messages",
                &messages_body("az1/gpt-4o-mini", &prompt, stream),
            )
            .await;
        assert_eq!(answer.status, 400, "{:?}", answer.json);
        assert_eq!(answer.json["type"], "error");
        assert_eq!(answer.json["error"]["type"], "invalid_request_error");
        let said = answer.json["error"]["message"].as_str().unwrap();
        assert!(said.contains("categories: hate (high)"), "{said}");
    }
    assert_eq!(upstream.hits(), 4);
}

#[tokio::test]
async fn a_withheld_answer_is_a_clear_stop_for_every_client() {
    let (_upstream, gw) = two_endpoints().await;
    let prompt = format!("tell me {ANSWER_TRIGGER}");

    // OpenAI clients get Azure's answer as it is: the finish reason and the categories.
    let answer = gw
        .post(
            "/v1/chat/completions",
            &chat_body("az/gpt-4o", &prompt, false),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    let choice = &answer.json["choices"][0];
    assert_eq!(choice["finish_reason"], "content_filter");
    assert!(choice["message"]["content"].is_null());
    assert_eq!(
        choice["content_filter_results"]["violence"]["filtered"],
        true
    );
    let (status, text) = stream_text(
        &gw,
        "/v1/chat/completions",
        &chat_body("az1/gpt-4o-mini", &prompt, true),
    )
    .await;
    assert_eq!(status, 200);
    let chunks = sse_data(&text);
    let finishes: Vec<String> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(finishes, ["content_filter"], "{text}");
    let last_choice = chunks
        .iter()
        .rev()
        .find(|c| c["choices"][0]["finish_reason"].is_string());
    assert_eq!(
        last_choice.unwrap()["choices"][0]["content_filter_results"]["violence"]["filtered"],
        true
    );

    // Anthropic clients get a refusal that says why the answer is empty.
    let answer = gw
        .post("/v1/messages", &messages_body("az/gpt-4o", &prompt, false))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["stop_reason"], "refusal");
    assert_eq!(answer.json["content"][0]["type"], "text");
    assert_eq!(answer.json["content"][0]["text"], WITHHELD);
    let (status, text) = stream_text(
        &gw,
        "/v1/messages",
        &messages_body("az1/gpt-4o-mini", &prompt, true),
    )
    .await;
    assert_eq!(status, 200);
    let events = sse_data(&text);
    let said: String = events
        .iter()
        .filter_map(|e| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(said, WITHHELD);
    let delta = events
        .iter()
        .find(|e| e["type"] == "message_delta")
        .unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "refusal");
    assert_eq!(events.last().unwrap()["type"], "message_stop");
}

#[tokio::test]
async fn a_missing_deployment_and_a_refused_key_say_what_to_fix() {
    let upstream = fake::start(Resource::default()).await;
    let yaml = format!(
        "endpoints:\n{}{}",
        azure(
            "az",
            &upstream.url(""),
            &format!("    api_version: 2024-10-21\n    api_key: {KEY}\n")
        ),
        azure(
            "stale",
            &upstream.url(""),
            "    api_keys: [old-key-000000001, old-key-000000002]\n"
        ),
    );
    let gw = Gateway::start(&yaml).await;

    let answer = gw.chat("az/gpt-4o").await;
    assert_eq!(answer.status, 404, "{:?}", answer.json);
    assert_eq!(answer.json["error"]["code"], "deployment_not_found");
    let said = message(&answer);
    assert!(
        said.contains("no deployment named `gpt-4o` in resource `127.0.0.1:")
            && said.contains("the model id must be the deployment name (set `model_map`"),
        "{said}"
    );
    // Anthropic clients get the same words, in their envelope.
    let answer = gw
        .post("/v1/messages", &messages_body("az/gpt-4o", "hi", false))
        .await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json["error"]["type"], "not_found_error");

    let answer = gw.chat("stale/fake-deployment").await;
    assert_eq!(answer.status, 502, "{:?}", answer.json);
    assert_eq!(answer.json["error"]["code"], "upstream_keys_exhausted");
    let said = message(&answer);
    assert!(
        said.contains("the key was refused: check `api_key` and that it belongs to resource")
            && said.contains("`auth: bearer`")
            && !said.contains("old-key-000000001"),
        "{said}"
    );
    assert_eq!(upstream.last().path, "/openai/v1/chat/completions");
}

#[tokio::test]
async fn entra_tokens_go_as_bearer() {
    let upstream = fake::start(Resource::default()).await;
    let yaml = format!(
        "endpoints:\n{}",
        azure(
            "az",
            &upstream.url(""),
            "    api_version: 2024-10-21\n    auth: bearer\n    api_key: fake-entra-token\n",
        ),
    );
    let gw = Gateway::start(&yaml).await;
    let answer = gw.chat("az/fake-mini").await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    let got = upstream.last();
    assert_eq!(got.bearer(), Some("fake-entra-token"));
    assert!(got.header("api-key").is_none());
}

#[tokio::test]
async fn listing_reads_deployments_and_the_key_test_passes() {
    let upstream = fake::start(Resource::default()).await;
    let yaml = format!(
        "endpoints:\n{}",
        azure(
            "az",
            &upstream.url(""),
            &format!(
                "    api_version: 2024-10-21\n    api_key: {KEY}\n    models: {{fetch: true}}\n"
            ),
        ),
    );
    let gw = Gateway::start(&yaml).await;
    let listing = gw
        .admin(Method::GET, "/api/endpoints/az/models", None)
        .await;
    assert_eq!(listing.json["source"], "upstream", "{:?}", listing.json);
    assert_eq!(
        listing.json["models"],
        json!(["fake-deployment", "fake-mini"])
    );
    assert!(
        upstream
            .requests()
            .iter()
            .any(|r| r.path == "/openai/deployments?api-version=2022-12-01")
    );
    // A listed deployment is routed by its bare name.
    let answer = gw.chat("fake-mini").await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(
        upstream.last().path,
        "/openai/deployments/fake-mini/chat/completions?api-version=2024-10-21"
    );

    let report = gw.admin(Method::POST, "/api/endpoints/az/test", None).await;
    assert_eq!(report.json["ok"], true, "{:?}", report.json);
    assert_eq!(report.json["results"][0]["verdict"], "ok");
    assert!(!report.json.to_string().contains(KEY));
}

#[tokio::test]
async fn azure_endpoints_are_created_and_refused_through_the_admin_api() {
    let gw = Gateway::start("endpoints: []\n").await;
    let created = gw
        .admin(
            Method::POST,
            "/api/endpoints",
            Some(&json!({
                "name": "az", "spec": "azure", "resource_name": "my-res",
                "api_version": "2024-10-21", "auth": "bearer", "api_key": "entra-token-0001",
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    assert_eq!(created.json["resource_name"], "my-res");
    assert_eq!(created.json["api_version"], "2024-10-21");
    assert_eq!(created.json["auth"], "bearer");
    assert_eq!(created.json["status"], "ready");
    let read = gw.admin(Method::GET, "/api/endpoints/az", None).await;
    assert_eq!(read.json["resource_name"], "my-res", "kept by the store");

    for (body, field) in [
        (json!({"name": "x", "spec": "azure"}), "resource_name"),
        (
            json!({"name": "x", "spec": "azure", "resource_name": "my_res"}),
            "resource_name",
        ),
        (
            json!({"name": "x", "spec": "openai-chat-completions", "base_url": "http://h/v1", "api_version": "v1"}),
            "api_version",
        ),
    ] {
        let refused = gw.admin(Method::POST, "/api/endpoints", Some(&body)).await;
        assert_eq!(refused.status, 400, "{body}: {:?}", refused.json);
        assert!(message(&refused).contains(field), "{}", message(&refused));
    }
}

#[test]
fn config_errors_name_the_field() {
    let err = modelgate_config::parse_str(
        "endpoints:\n  - name: az\n    spec: azure\n    base_url: https://r.openai.azure.com/openai/deployments/gpt4o/chat/completions\n",
        "m.yaml",
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("endpoints.az.base_url"));
    assert!(
        err.to_string()
            .contains("(here `https://r.openai.azure.com`)"),
        "{err}"
    );
}

fn responses_body(model: &str, text: &str, stream: bool) -> Value {
    json!({"model": model, "input": text, "stream": stream, "store": false})
}

#[tokio::test]
async fn responses_clients_pass_through_to_v1_and_are_translated_for_classic_deployments() {
    let (upstream, gw) = two_endpoints().await;

    // v1: the Responses body goes to /openai/v1/responses, only the model mapped.
    let sent = responses_body("az1/gpt-4o-mini", "hi", false);
    let answer = gw.post("/v1/responses", &sent).await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["object"], "response");
    assert_eq!(answer.headers["x-modelgate-endpoint"], "az1");
    let got = upstream.last();
    assert_eq!(got.path, "/openai/v1/responses");
    assert_eq!(got.header("api-key"), Some(KEY));
    let mut expected = sent.clone();
    expected["model"] = json!("fake-mini");
    assert_eq!(
        got.json(),
        expected,
        "passed through, the deployment as model"
    );

    // Classic: translated to the deployment's chat completions.
    let answer = gw
        .post("/v1/responses", &responses_body("az/gpt-4o", "hi", false))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["model"], "az/gpt-4o");
    assert_eq!(answer.json["status"], "completed");
    assert_eq!(answer.json["output"][0]["content"][0]["text"], "echo: hi");
    let got = upstream.last();
    assert_eq!(
        got.path,
        "/openai/deployments/fake-deployment/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(got.json()["messages"][0]["content"], "hi");

    // Classic, streamed: typed events ending with response.completed.
    let (status, text) = stream_text(
        &gw,
        "/v1/responses",
        &responses_body("az/gpt-4o", "hello you", true),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let events = sse_data(&text);
    assert_eq!(events[0]["type"], "response.created", "{text}");
    let said: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect();
    assert_eq!(said, "echo: hello you");
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.completed", "{text}");
    assert_eq!(
        last["response"]["output"][0]["content"][0]["text"],
        "echo: hello you"
    );
}

#[tokio::test]
async fn a_withheld_answer_reaches_a_responses_client_as_a_content_filter_stop() {
    let (_upstream, gw) = two_endpoints().await;
    let prompt = format!("please {ANSWER_TRIGGER}");
    let answer = gw
        .post(
            "/v1/responses",
            &responses_body("az/gpt-4o", &prompt, false),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["status"], "incomplete");
    assert_eq!(
        answer.json["incomplete_details"]["reason"],
        "content_filter"
    );
    let parts = &answer.json["output"][0]["content"];
    assert!(
        parts
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["refusal"] == WITHHELD || p["text"] == WITHHELD),
        "the client is told why: {parts}"
    );

    let prompt = format!("please {PROMPT_TRIGGER}");
    let answer = gw
        .post(
            "/v1/responses",
            &responses_body("az/gpt-4o", &prompt, false),
        )
        .await;
    assert_eq!(answer.status, 400, "{:?}", answer.json);
    assert_eq!(answer.json["error"]["code"], "content_filter");
}

#[tokio::test]
async fn older_api_versions_are_not_sent_stream_options_they_would_refuse() {
    let upstream = fake::start(Resource::default()).await;
    let yaml = format!(
        "endpoints:\n{}",
        azure(
            "old",
            &upstream.url(""),
            &format!(
                "    api_version: 2024-06-01\n    api_key: {KEY}\n    model_map: {{gpt-4o: fake-deployment}}\n"
            ),
        )
    );
    let gw = Gateway::start(&yaml).await;
    for (path, body) in [
        ("/v1/chat/completions", chat_body("old/gpt-4o", "hi", true)),
        ("/v1/messages", messages_body("old/gpt-4o", "hi", true)),
    ] {
        let (status, text) = stream_text(&gw, path, &body).await;
        assert_eq!(status, 200, "{path}: {text}");
        let sent = upstream.last().json();
        assert!(
            sent.get("stream_options").is_none(),
            "{path}: 2024-06-01 refuses stream_options: {sent}"
        );
    }
}
