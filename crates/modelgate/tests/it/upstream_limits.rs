//! Egress hardening: hostile headers, oversize answers, upstream auth
//! failures, 404 diagnosis, secrets and credentials that must not show.

use modelgate_testkit::{FakeUpstream, Recorded, Reply, anthropic, openai};
use reqwest::Method;
use serde_json::json;

use crate::harness::{Gateway, config, endpoint, message};

fn healthy(_: &Recorded) -> Reply {
    Reply::json(200, &openai::completion("m", "still here"))
}

#[tokio::test]
async fn a_retry_after_of_inf_or_1e300_is_a_429_and_the_gateway_keeps_serving() {
    for (header, value) in [("retry-after-ms", "inf"), ("retry-after", "1e300")] {
        let limited = FakeUpstream::start(move |_| {
            openai::error(429, "slow down", "rate_limit_error", "rate_limit_exceeded")
                .with_header(header, value)
        })
        .await;
        let fine = FakeUpstream::start(healthy).await;
        let gw = Gateway::start(&config(&[
            endpoint(
                "keyed",
                &limited.url("/v1"),
                "    api_key: sk-limited-key-0001\n",
            ),
            endpoint("keyless", &limited.url("/v1"), ""),
            endpoint("fine", &fine.url("/v1"), ""),
        ]))
        .await;

        let keyed = gw.chat("keyed/m").await;
        assert_eq!(keyed.status, 429, "{header}: {value}: {:?}", keyed.json);
        assert_eq!(keyed.json["error"]["code"], "rate_limited_on_every_key");
        assert_eq!(keyed.json["error"]["type"], "rate_limit_error");
        let retry: u64 = keyed.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry <= 600, "clamped to the longest cooldown: {retry}");

        let keyless = gw.chat("keyless/m").await;
        assert_eq!(keyless.status, 429, "{header}: {value}: {:?}", keyless.json);
        assert!(
            message(&keyless).contains("slow down"),
            "{:?}",
            keyless.json
        );

        let after = gw.chat("fine/m").await;
        assert_eq!(
            after.status, 200,
            "the gateway still serves: {:?}",
            after.json
        );
        assert_eq!(after.json["choices"][0]["message"]["content"], "still here");
    }
}

#[tokio::test]
async fn a_non_stream_answer_past_32_mib_is_a_502_naming_the_limit() {
    let huge = format!(
        "{{\"choices\":[{{\"message\":{{\"content\":\"{}\"}}}}]}}",
        "x".repeat(33 * 1024 * 1024)
    );
    let upstream = FakeUpstream::start(move |_| Reply::Full {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: bytes::Bytes::from(huge.clone()),
    })
    .await;
    let gw = Gateway::start(&config(&[endpoint("big", &upstream.url("/v1"), "")])).await;
    let answer = gw.chat("big/m").await;
    assert_eq!(answer.status, 502, "{:?}", answer.json);
    assert_eq!(answer.json["error"]["code"], "upstream_response_too_large");
    assert_eq!(answer.json["error"]["type"], "server_error");
    assert!(message(&answer).contains("32 MiB"), "{}", message(&answer));
}

#[tokio::test]
async fn a_fastapi_server_without_v1_in_the_base_url_gets_the_v1_hint() {
    let upstream = FakeUpstream::start(|req| match req.path.as_str() {
        "/v1/models" => Reply::json(200, &openai::model_list(&["m"])),
        "/v1/chat/completions" => Reply::json(200, &openai::completion("m", "hi")),
        _ => Reply::json(404, &json!({"detail": "Not Found"})),
    })
    .await;
    let gw = Gateway::start(&config(&[endpoint(
        "vllm",
        &upstream.url(""),
        "    models: {fetch: false}\n",
    )]))
    .await;
    let answer = gw.chat("vllm/m").await;
    assert_eq!(answer.status, 404, "{:?}", answer.json);
    let text = message(&answer);
    assert!(text.contains("lacks `/v1`"), "{text}");
    assert!(text.contains(&upstream.url("/v1")), "{text}");
    assert!(!text.contains("Check the model id"), "{text}");
    assert_eq!(upstream.requests()[0].path, "/chat/completions");
}

#[tokio::test]
async fn an_endpoint_without_a_key_refused_upstream_is_a_502_not_the_callers_401() {
    let upstream = FakeUpstream::start(|_| {
        openai::error(
            401,
            "You didn't provide an API key.",
            "invalid_request_error",
            "missing_api_key",
        )
    })
    .await;
    let gw = Gateway::start(&config(&[endpoint("nokey", &upstream.url("/v1"), "")])).await;
    let answer = gw.chat("nokey/m").await;
    assert_eq!(answer.status, 502, "{:?}", answer.json);
    assert_eq!(answer.json["error"]["code"], "upstream_auth_failed");
    assert_eq!(answer.json["error"]["type"], "server_error");
    let text = message(&answer);
    assert!(
        text.contains("endpoint `nokey` has no API key configured")
            && text.contains(&format!("server at {} refused", upstream.addr))
            && text.contains("modelgate endpoints update nokey --api-key"),
        "{text}"
    );

    // The Anthropic front door: `api_error`, not `authentication_error`.
    let response = gw
        .http
        .post(format!("{}/v1/messages", gw.url))
        .json(&json!({"model": "nokey/m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "api_error", "{body}");
}

#[tokio::test]
async fn configured_header_values_echoed_upstream_never_reach_the_client() {
    const SECRET: &str = "tenant-secret-abcdef";
    let upstream = FakeUpstream::start(|req| {
        let echoed = format!("tenant {SECRET} is not allowed to use this model");
        if req.json()["stream"] == true {
            let mut body = openai::chunk("m", json!({"role": "assistant", "content": ""}), None);
            body.push_str(&openai::error_event(&echoed, "invalid_request_error"));
            Reply::sse(body)
        } else {
            openai::error(400, &echoed, "invalid_request_error", "bad_tenant")
        }
    })
    .await;
    let gw = Gateway::start(&config(&[endpoint(
        "tenant",
        &upstream.url("/v1"),
        &format!("    headers: {{X-Tenant-Token: {SECRET}}}\n"),
    )]))
    .await;
    let answer = gw.chat("tenant/m").await;
    assert_eq!(answer.status, 400);
    assert!(
        message(&answer).contains("is not allowed"),
        "{:?}",
        answer.json
    );
    assert!(
        !answer.json.to_string().contains(SECRET),
        "{:?}",
        answer.json
    );

    // Passthrough stream: the error event is forwarded, scrubbed.
    let streamed = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "tenant/m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    let text = streamed.json.as_str().unwrap_or_default().to_owned();
    assert!(text.contains("is not allowed"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert_eq!(upstream.last().header("x-tenant-token"), Some(SECRET));
}

#[tokio::test]
async fn a_translated_stream_event_past_16_mib_ends_the_stream_with_an_error() {
    let upstream = FakeUpstream::start(|_| {
        let mut body = anthropic::message_start("m", 5);
        body.push_str(&anthropic::text_block_start(0));
        body.push_str(&anthropic::text_delta(0, "before "));
        body.push_str(&anthropic::text_delta(0, &"y".repeat(17 * 1024 * 1024)));
        body.push_str(&anthropic::text_delta(0, "after"));
        body.push_str(&anthropic::block_stop(0));
        body.push_str(&anthropic::message_delta("end_turn", 3));
        body.push_str(&anthropic::message_stop());
        Reply::sse(body)
    })
    .await;
    let gw = Gateway::start(&format!(
        "endpoints:\n  - name: claude\n    spec: anthropic\n    base_url: {}\n    api_key: sk-ant-key-00001\n",
        upstream.url("")
    ))
    .await;
    let answer = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "claude/m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(answer.status, 200);
    let text = answer.json.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("before "),
        "{}",
        &text[..text.len().min(2000)]
    );
    assert!(
        text.contains("stream_too_large"),
        "{}",
        &text[..text.len().min(2000)]
    );
    assert!(text.contains("16 MiB"), "{}", &text[..text.len().min(2000)]);
    assert!(!text.contains("after"), "nothing is sent after the error");
    assert!(
        text.len() < 64 * 1024,
        "the oversize event is not forwarded"
    );
}

#[tokio::test]
async fn the_key_test_names_the_spec_an_anthropic_endpoint_really_points_at() {
    // An OpenAI-compatible server: `/v1/models` and `/v1/chat/completions`.
    let upstream = FakeUpstream::start(|req| match req.path.as_str() {
        "/v1/models" => Reply::json(200, &openai::model_list(&["m"])),
        "/v1/chat/completions" => openai::error(
            400,
            "you must provide a model parameter",
            "invalid_request_error",
            "missing_model",
        ),
        _ => Reply::json(404, &json!({"detail": "Not Found"})),
    })
    .await;
    let gw = Gateway::start(&format!(
        "endpoints:\n  - name: misfit\n    spec: anthropic\n    base_url: {}\n    api_key: sk-ant-key-00001\n",
        upstream.url("")
    ))
    .await;
    let report = gw
        .admin(Method::POST, "/api/endpoints/misfit/test", None)
        .await;
    assert_eq!(report.json["ok"], false, "{:?}", report.json);
    let result = &report.json["results"][0];
    assert_eq!(result["verdict"], "wrong-spec", "{result}");
    assert_eq!(result["suggested_spec"], "openai-chat-completions");
    assert_eq!(result["suggested_base_url"], upstream.url("/v1"));
    assert!(
        result["hint"]
            .as_str()
            .unwrap()
            .contains("does not serve /v1/messages"),
        "{result}"
    );
}

#[tokio::test]
async fn credentials_in_a_base_url_do_not_reach_the_model_list_note() {
    let upstream = FakeUpstream::start(|_| Reply::json(200, &json!({"not": "a list"}))).await;
    let base = format!("http://proxyuser:hunter2hunter2@{}/v1", upstream.addr);
    let gw = Gateway::start(&config(&[endpoint(
        "creds",
        &base,
        "    models: {fetch: true}\n",
    )]))
    .await;
    let models = gw
        .admin(Method::GET, "/api/endpoints/creds/models", None)
        .await;
    let note = models.json["note"].as_str().unwrap_or_default();
    assert!(note.contains("not a model list"), "{:?}", models.json);
    assert!(note.contains("http://***@"), "{note}");
    assert!(
        !models.json.to_string().contains("hunter2"),
        "{:?}",
        models.json
    );
}
