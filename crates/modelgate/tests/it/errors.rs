//! Errors in OpenAI's shape, with hints; timeouts.

use modelgate_testkit::{FakeUpstream, Reply};
use serde_json::json;

use crate::harness::{Gateway, config, endpoint, message};

#[tokio::test]
async fn upstream_404_hints_at_a_missing_v1() {
    let upstream = FakeUpstream::start(|_| Reply::text(404, "404 page not found")).await;
    // Base URL without /v1: the classic mistake with Ollama.
    let gw = Gateway::start(&config(&[endpoint("ollama", &upstream.url(""), "")])).await;
    let answer = gw.chat("ollama/llama3").await;
    assert_eq!(answer.status, 404);
    assert!(
        message(&answer).contains("may lack `/v1`"),
        "{}",
        message(&answer)
    );
    // The chat request came first; probes for a better hint may follow.
    assert_eq!(upstream.requests()[0].path, "/chat/completions");
}

#[tokio::test]
async fn connection_refused_asks_whether_the_server_runs() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let gw = Gateway::start(&config(&[endpoint(
        "down",
        &format!("http://{addr}/v1"),
        "",
    )]))
    .await;
    let answer = gw.chat("down/m").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json["error"]["code"], "upstream_unreachable");
    assert!(
        message(&answer).contains(&format!("Is the server running at {addr}?")),
        "{}",
        message(&answer)
    );
}

#[tokio::test]
async fn first_byte_timeout_is_a_504() {
    let upstream = FakeUpstream::start(|_| Reply::Hang).await;
    let gw = Gateway::start(&config(&[endpoint(
        "slow",
        &upstream.url("/v1"),
        "    timeouts: {first_byte: 300ms}\n",
    )]))
    .await;
    let answer = gw.chat("slow/m").await;
    assert_eq!(answer.status, 504);
    assert_eq!(answer.json["error"]["code"], "upstream_timeout");
    assert!(message(&answer).contains("first_byte"));
}

#[tokio::test]
async fn bad_requests_get_openai_errors_with_hints() {
    let upstream = FakeUpstream::start(|_| Reply::text(200, "unused")).await;
    let gw = Gateway::start(&config(&[endpoint("ep", &upstream.url("/v1"), "")])).await;
    let not_json = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let body: serde_json::Value = not_json.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a valid JSON object")
    );

    let no_model = gw
        .post("/v1/chat/completions", &json!({"messages": []}))
        .await;
    assert_eq!(no_model.status, 400);
    assert_eq!(no_model.json["error"]["param"], "model");

    let no_route = gw.get("/v2/whatever").await;
    assert_eq!(no_route.status, 404);
    assert!(message(&no_route).contains("/v1/chat/completions"));
    assert_eq!(upstream.hits(), 0);
}

#[tokio::test]
async fn unsupported_specs_answer_not_yet_supported() {
    let gw = Gateway::start(
        "endpoints:\n  - name: my-bedrock\n    spec: amazon-bedrock\n    base_url: http://127.0.0.1:9\n",
    )
    .await;
    let answer = gw.chat("my-bedrock/anthropic.claude-sonnet-4-5").await;
    assert_eq!(answer.status, 501);
    assert_eq!(answer.json["error"]["code"], "spec_not_supported");
    assert!(message(&answer).contains("cannot send requests to yet"));
}

/// A `${VAR}` the server's environment lacks is the gateway's
/// misconfiguration (a server error naming the variable), and listings
/// show the reference as written, not a masked fragment of it.
#[tokio::test]
async fn an_unset_variable_is_a_server_error_that_names_it() {
    let upstream = FakeUpstream::start(|_| Reply::text(200, "unused")).await;
    let gw = Gateway::start(&config(&[endpoint(
        "ep",
        &upstream.url("/v1"),
        "    api_key: ${MODELGATE_TEST_SURELY_UNSET_KEY}\n",
    )]))
    .await;
    let answer = gw.chat("ep/m").await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.json["error"]["type"], "server_error");
    assert_eq!(answer.json["error"]["code"], "endpoint_misconfigured");
    assert!(
        message(&answer).contains("MODELGATE_TEST_SURELY_UNSET_KEY"),
        "{}",
        message(&answer)
    );
    assert_eq!(upstream.hits(), 0);
    let list = gw.admin(reqwest::Method::GET, "/api/endpoints", None).await;
    assert_eq!(
        list.json["endpoints"][0]["api_keys"],
        serde_json::json!(["${MODELGATE_TEST_SURELY_UNSET_KEY}"])
    );
}
