//! Routes tools expect beside chat, and hints for the wrong ones.

use modelgate_testkit::{FakeUpstream, Reply, anthropic};
use serde_json::json;

use crate::harness::{Gateway, config, endpoint, message};

fn embedding_answer() -> serde_json::Value {
    json!({
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2, 0.3]}],
        "model": "nomic-embed-text",
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    })
}

/// `/v1/embeddings` reaches `{base}/embeddings` with the mapped model and
/// the endpoint's settings; the answer comes back as it was; usage is kept.
#[tokio::test]
async fn embeddings_pass_through_to_openai_compatible_endpoints() {
    let upstream = FakeUpstream::start(|_| Reply::json(200, &embedding_answer())).await;
    let gw = Gateway::start(&config(&[endpoint(
        "local",
        &upstream.url("/v1"),
        "    api_key: sk-local-000001\n    model_map: {text-embedding-3-small: nomic-embed-text}\n    add_params: {truncate: true}\n",
    )]))
    .await;
    let answer = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "local/text-embedding-3-small", "input": "hello world"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json, embedding_answer());
    assert_eq!(answer.headers["x-modelgate-endpoint"], "local");
    let seen = upstream.last();
    assert_eq!(seen.path, "/v1/embeddings");
    assert_eq!(seen.header("authorization"), Some("Bearer sk-local-000001"));
    assert_eq!(
        seen.json(),
        json!({"model": "nomic-embed-text", "input": "hello world", "truncate": true})
    );
    gw.state.usage.flush().await;
    let usage = gw.state.store.usage_summary().await.unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].model.as_str(), usage[0].input_tokens),
        ("nomic-embed-text", 4)
    );
}

/// Legacy and fill-in-the-middle completions pass through, streamed or not,
/// byte for byte.
#[tokio::test]
async fn completions_pass_through_streamed_or_not() {
    let stream = concat!(
        "data: {\"id\":\"c1\",\"object\":\"text_completion\",\"choices\":[{\"text\":\"fn main\",\"index\":0,\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c1\",\"object\":\"text_completion\",\"choices\":[{\"text\":\"() {}\",\"index\":0,\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n"
    );
    let upstream = FakeUpstream::start(move |req| {
        if req.json()["stream"] == true {
            Reply::sse(stream.to_owned())
        } else {
            Reply::json(200, &json!({"id": "c0", "object": "text_completion", "choices": [{"text": "fn main() {}", "index": 0, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}}))
        }
    })
    .await;
    let gw = Gateway::start(&config(&[endpoint("coder", &upstream.url("/v1"), "")])).await;
    let body =
        json!({"model": "coder/qwen2.5-coder", "prompt": "fn ", "suffix": "\n", "max_tokens": 8});
    let plain = gw.post("/v1/completions", &body).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.json["choices"][0]["text"], "fn main() {}");
    assert_eq!(upstream.last().path, "/v1/completions");
    assert_eq!(upstream.last().json()["suffix"], "\n");

    let mut streamed_body = body.clone();
    streamed_body["stream"] = json!(true);
    let streamed = gw
        .http
        .post(format!("{}/v1/completions", gw.url))
        .json(&streamed_body)
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 200);
    assert_eq!(streamed.headers()["content-type"], "text/event-stream");
    assert_eq!(streamed.text().await.unwrap(), stream);
}

/// Only OpenAI-compatible endpoints serve these routes; the others say so.
#[tokio::test]
async fn embeddings_to_an_anthropic_endpoint_say_why_not() {
    let upstream =
        FakeUpstream::start(|_| Reply::json(200, &anthropic::text_message("c", "hi"))).await;
    let gw = Gateway::start(&format!(
        "endpoints:\n  - name: claude\n    spec: anthropic\n    base_url: {}\n",
        upstream.url("")
    ))
    .await;
    let answer = gw
        .post(
            "/v1/embeddings",
            &json!({"model": "claude/c", "input": "x"}),
        )
        .await;
    assert_eq!(answer.status, 501);
    assert_eq!(answer.json["error"]["code"], "operation_not_supported");
    assert!(
        message(&answer).contains("openai-chat-completions"),
        "{}",
        message(&answer)
    );
    assert_eq!(upstream.hits(), 0);
}

/// A doubled `/v1` (a base URL with `/v1` given to a client that adds it)
/// gets a hint, in the format of the client that made the mistake.
#[tokio::test]
async fn a_doubled_v1_gets_a_hint_in_the_clients_format() {
    let gw = Gateway::start("").await;
    let anthropic_client = gw
        .post(
            "/v1/v1/messages",
            &json!({"model": "m", "max_tokens": 1, "messages": []}),
        )
        .await;
    assert_eq!(anthropic_client.status, 404);
    assert_eq!(anthropic_client.json["type"], "error");
    let text = anthropic_client.json["error"]["message"].as_str().unwrap();
    assert!(
        text.contains("ANTHROPIC_BASE_URL=http://127.0.0.1:4000"),
        "{text}"
    );
    let openai_client = gw
        .post(
            "/v1/v1/chat/completions",
            &json!({"model": "m", "messages": []}),
        )
        .await;
    assert_eq!(openai_client.status, 404);
    assert!(
        message(&openai_client).contains("`/v1` is doubled"),
        "{}",
        message(&openai_client)
    );
    let no_v1 = gw.post("/chat/completions", &json!({})).await;
    assert!(
        message(&no_v1).contains("/v1/chat/completions"),
        "{}",
        message(&no_v1)
    );
}
