//! `google` endpoints (the Gemini API) behind the other front doors:
//! requests translated to `generateContent`, the model and the stream in
//! the URL, the key in `x-goog-api-key`, the model list and the key test.

use modelgate_testkit::{FakeUpstream, Recorded, Reply};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, config};

const KEY: &str = "AIza-fake-gemini-key-0123";

fn google(name: &str, base_url: &str, extra: &str) -> String {
    format!(
        "  - name: {name}\n    spec: google\n    base_url: {base_url}\n    api_key: {KEY}\n{extra}"
    )
}

fn usage() -> Value {
    json!({"promptTokenCount": 11, "candidatesTokenCount": 4, "totalTokenCount": 15})
}

/// A Gemini answer: echo the last user text, or call the first tool once.
fn answer(req: &Recorded) -> Value {
    let body = req.json();
    let contents = body["contents"].as_array().cloned().unwrap_or_default();
    let last = contents.last().cloned().unwrap_or(Value::Null);
    let answered = last["parts"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p.get("functionResponse").is_some()));
    let tool = &body["tools"][0]["functionDeclarations"][0]["name"];
    let part = if tool.is_string() && !answered {
        json!({"functionCall": {"name": tool, "args": {"city": "Paris"}}})
    } else {
        let text = last["parts"][0]["text"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                last["parts"][0]["functionResponse"]["response"]
                    .as_object()
                    .map(|r| Value::Object(r.clone()).to_string())
            })
            .unwrap_or_default();
        json!({"text": format!("echo: {text}")})
    };
    json!({"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
           "usageMetadata": usage(), "modelVersion": "gemini-2.5-flash", "responseId": "resp-g1"})
}

fn script(req: &Recorded) -> Reply {
    if req.header("x-goog-api-key") != Some(KEY) {
        return Reply::json(
            400,
            &json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}),
        );
    }
    if req.method == Method::GET {
        let page = if req.path.contains("pageToken=p2") {
            json!({"models": [{"name": "models/gemini-2.5-pro", "supportedGenerationMethods": ["generateContent", "countTokens"]}]})
        } else {
            json!({"models": [{"name": "models/gemini-2.5-flash", "supportedGenerationMethods": ["generateContent"]},
                              {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]}],
                   "nextPageToken": "p2"})
        };
        return Reply::json(200, &page);
    }
    let whole = answer(req);
    if req.path.contains(":streamGenerateContent") {
        let text = whole["candidates"][0]["content"]["parts"][0]["text"].as_str();
        let mut events = String::new();
        match text {
            Some(text) => {
                let (a, b) = text.split_at(text.len() / 2);
                events.push_str(&format!("data: {}\r\n\r\n", json!({"candidates": [{"content": {"role": "model", "parts": [{"text": a}]}, "index": 0}]})));
                events.push_str(&format!("data: {}\r\n\r\n", json!({"candidates": [{"content": {"role": "model", "parts": [{"text": b}]}, "finishReason": "STOP", "index": 0}], "usageMetadata": usage()})));
            }
            None => events.push_str(&format!("data: {whole}\r\n\r\n")),
        }
        return Reply::sse(events);
    }
    Reply::json(200, &whole)
}

async fn gateway(upstream: &FakeUpstream) -> Gateway {
    Gateway::start(&config(&[google(
        "gem",
        &upstream.url(""),
        "    model_map: {flash: gemini-2.5-flash}\n",
    )]))
    .await
}

#[tokio::test]
async fn an_openai_client_reaches_a_gemini_endpoint_by_translation() {
    let upstream = FakeUpstream::start(script).await;
    let gw = gateway(&upstream).await;
    let answer = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "gem/flash", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["choices"][0]["message"]["content"], "echo: hi");
    assert_eq!(answer.json["model"], "gem/flash");
    assert_eq!(answer.json["usage"]["prompt_tokens"], 11);
    let got = upstream.last();
    assert_eq!(got.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(got.header("x-goog-api-key"), Some(KEY));
    assert!(got.header("authorization").is_none());
    let body = got.json();
    assert_eq!(body["systemInstruction"]["parts"][0]["text"], "be brief");
    assert_eq!(
        body["contents"][0],
        json!({"role": "user", "parts": [{"text": "hi"}]})
    );
    assert!(body.get("model").is_none(), "the model is in the URL");
}

#[tokio::test]
async fn streams_and_tool_calls_come_back_well_formed() {
    let upstream = FakeUpstream::start(script).await;
    let gw = gateway(&upstream).await;
    let response = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .json(&json!({"model": "gem/flash", "stream": true, "messages": [{"role": "user", "content": "stream me"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let said: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(said, "echo: stream me");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    assert_eq!(
        upstream.last().path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );

    // A function call without an id gets one; its result goes back by name.
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": false}}}]);
    let first = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "gem/flash", "tools": tools, "messages": [{"role": "user", "content": "weather?"}]}),
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.json);
    let call = &first.json["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], r#"{"city":"Paris"}"#);
    assert_eq!(first.json["choices"][0]["finish_reason"], "tool_calls");
    let id = call["id"].as_str().unwrap();
    assert!(!id.is_empty());
    let sent = upstream.last().json();
    assert!(
        sent["tools"][0]["functionDeclarations"][0]["parameters"]
            .get("additionalProperties")
            .is_none(),
        "the schema is made acceptable to Gemini: {sent}"
    );
    let second = gw
        .post(
            "/v1/chat/completions",
            &json!({"model": "gem/flash", "tools": tools, "messages": [
                {"role": "user", "content": "weather?"},
                first.json["choices"][0]["message"],
                {"role": "tool", "tool_call_id": id, "content": "{\"sky\":\"clear\"}"}
            ]}),
        )
        .await;
    assert_eq!(second.status, 200, "{:?}", second.json);
    let sent = upstream.last().json();
    let response = &sent["contents"][2]["parts"][0]["functionResponse"];
    assert_eq!(response["name"], "get_weather", "{sent}");
    assert_eq!(response["response"], json!({"sky": "clear"}));
    assert_eq!(
        second.json["choices"][0]["message"]["content"],
        r#"echo: {"sky":"clear"}"#
    );
}

#[tokio::test]
async fn an_anthropic_client_reaches_a_gemini_endpoint() {
    let upstream = FakeUpstream::start(script).await;
    let gw = gateway(&upstream).await;
    let answer = gw
        .post(
            "/v1/messages",
            &json!({"model": "gem/flash", "max_tokens": 100, "messages": [{"role": "user", "content": "hello"}]}),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["content"][0]["text"], "echo: hello");
    assert_eq!(answer.json["stop_reason"], "end_turn");
    assert_eq!(
        upstream.last().json()["generationConfig"]["maxOutputTokens"],
        100
    );
}

#[tokio::test]
async fn the_model_list_follows_pages_and_keeps_generative_models() {
    let upstream = FakeUpstream::start(script).await;
    let gw = Gateway::start(&config(&[google(
        "gem",
        &upstream.url("/v1beta"),
        "    models: {fetch: true}\n",
    )]))
    .await;
    let models = gw.get("/v1/models").await;
    let ids: Vec<&str> = models.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gem/gemini-2.5-flash", "gem/gemini-2.5-pro"]);
    assert!(
        upstream
            .requests()
            .iter()
            .all(|r| r.path.starts_with("/v1beta/models?pageSize=1000")),
        "a trailing /v1beta in base_url is not doubled"
    );
}

#[tokio::test]
async fn the_key_test_reads_googles_verdicts() {
    let upstream = FakeUpstream::start(script).await;
    let gw = Gateway::start(&config(&[format!(
        "  - name: gem\n    spec: google\n    base_url: {}\n    api_keys: [{KEY}, AIza-wrong-key-000000]\n",
        upstream.url("")
    )]))
    .await;
    let report = gw
        .admin(Method::POST, "/api/endpoints/gem/test", None)
        .await;
    let verdicts: Vec<&str> = report.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["ok", "invalid"], "{:?}", report.json);
}
