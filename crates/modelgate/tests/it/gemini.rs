//! The Gemini front door: passthrough to `google` endpoints, translation to
//! the others, both stream forms, model names in the path, listing, keys
//! and Google's error envelope.

use modelgate_testkit::{FakeUpstream, Recorded, Reply, anthropic, gemini, openai};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::Gateway;

fn google_endpoint(name: &str, base_url: &str) -> String {
    format!(
        "  - name: {name}\n    spec: google\n    base_url: {base_url}\n    api_key: goog-upstream-0001\n    model_map: {{flash: gemini-2.5-flash}}\n    models: {{default: [flash]}}\n"
    )
}

fn config(endpoints: &[String]) -> String {
    format!("endpoints:\n{}", endpoints.join(""))
}

/// A Gemini request body, written with a field order and spacing a
/// re-serialization would change.
const HELLO: &str = r#"{"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"temperature": 0.5}}"#;

struct Raw {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

async fn post(gw: &Gateway, path: &str, body: &str, key: Option<(&str, &str)>) -> Raw {
    let mut request = gw
        .http
        .post(format!("{}{path}", gw.url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some((name, value)) = key {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    Raw {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// The SSE `data:` payloads of a stream, as JSON.
fn sse_chunks(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| serde_json::from_str(d.trim()).unwrap())
        .collect()
}

/// The texts of every chunk's parts, joined.
fn texts(chunks: &[Value]) -> String {
    chunks
        .iter()
        .flat_map(|c| {
            c["candidates"][0]["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| p["text"].as_str().map(str::to_owned))
        .collect()
}

fn google_fake_reply(req: &Recorded) -> Reply {
    if req.path.contains(":streamGenerateContent") {
        Reply::sse(gemini::text_stream("gemini-2.5-flash", &["hel", "lo"]))
    } else {
        Reply::json(200, &gemini::text_response("gemini-2.5-flash", "hello"))
    }
}

#[tokio::test]
async fn passthrough_to_google_keeps_the_body_and_maps_the_model_into_the_url() {
    let upstream = FakeUpstream::start(google_fake_reply).await;
    let gw = Gateway::start(&config(&[google_endpoint("g", &upstream.url(""))])).await;

    let answer = post(
        &gw,
        "/v1beta/models/g/flash:generateContent",
        HELLO,
        Some(("x-goog-api-key", "any")),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.json()["candidates"][0]["content"]["parts"][0]["text"],
        "hello"
    );
    assert_eq!(answer.headers["x-modelgate-endpoint"], "g");
    let got = upstream.last();
    assert_eq!(got.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(got.header("x-goog-api-key"), Some("goog-upstream-0001"));
    assert_eq!(
        &got.body[..],
        HELLO.as_bytes(),
        "the body is passed as written"
    );

    // SSE with alt=sse: the upstream's chunks as they came.
    let streamed = post(
        &gw,
        "/v1beta/models/g/flash:streamGenerateContent?alt=sse",
        HELLO,
        None,
    )
    .await;
    assert_eq!(streamed.status, 200, "{}", streamed.text);
    assert!(
        streamed.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(
        upstream.last().path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    let chunks = sse_chunks(&streamed.text);
    assert_eq!(chunks.len(), 2);
    assert_eq!(texts(&chunks), "hello");

    // Without alt=sse: one JSON array of the same chunks.
    let array = post(
        &gw,
        "/v1beta/models/g/flash:streamGenerateContent",
        HELLO,
        None,
    )
    .await;
    assert_eq!(array.status, 200, "{}", array.text);
    assert!(
        array.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let items = array
        .json()
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("not an array: {}", array.text));
    assert_eq!(texts(&items), "hello");
    assert_eq!(items[1]["usageMetadata"]["promptTokenCount"], 10);
}

#[tokio::test]
async fn the_model_may_be_named_with_a_literal_or_encoded_slash_or_by_its_listed_name() {
    let upstream = FakeUpstream::start(google_fake_reply).await;
    let gw = Gateway::start(&config(&[google_endpoint("g", &upstream.url(""))])).await;
    for path in [
        "/v1beta/models/g%2Fflash:generateContent",
        "/v1/models/g/flash:generateContent",
        "/v1/models/g%2Fflash:generateContent",
        "/v1beta/models/models/g/flash:generateContent",
    ] {
        let answer = post(&gw, path, HELLO, None).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        assert_eq!(
            upstream.last().path,
            "/v1beta/models/gemini-2.5-flash:generateContent"
        );
    }
    assert_eq!(upstream.hits(), 4);
}

#[tokio::test]
async fn translation_to_openai_chat_streams_in_both_forms() {
    let upstream = FakeUpstream::start(|req: &Recorded| {
        let body = req.json();
        if body["stream"] == json!(true) {
            let mut events =
                openai::chunk("gpt", json!({"role": "assistant", "content": "hel"}), None);
            events.push_str(&openai::chunk(
                "gpt",
                json!({"content": "lo"}),
                Some("stop"),
            ));
            events.push_str(&openai::usage_chunk("gpt", 7, 2));
            events.push_str(openai::DONE);
            Reply::sse(events)
        } else {
            Reply::json(200, &openai::completion("gpt", "hello"))
        }
    })
    .await;
    let gw = Gateway::start(&crate::harness::config(&[crate::harness::endpoint(
        "oa",
        &upstream.url("/v1"),
        "",
    )]))
    .await;

    let answer = post(&gw, "/v1beta/models/oa/gpt-x:generateContent", HELLO, None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let body = answer.json();
    assert_eq!(
        body["candidates"][0]["content"]["parts"][0]["text"],
        "hello"
    );
    assert_eq!(body["candidates"][0]["finishReason"], "STOP");
    let sent = upstream.last().json();
    assert_eq!(sent["model"], "gpt-x");
    assert_eq!(sent["messages"][0]["content"], "hi");
    assert_eq!(sent["temperature"], 0.5);

    let streamed = post(
        &gw,
        "/v1beta/models/oa/gpt-x:streamGenerateContent?alt=sse",
        HELLO,
        None,
    )
    .await;
    assert_eq!(streamed.status, 200, "{}", streamed.text);
    let sent = upstream.last().json();
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"]["include_usage"], true);
    let chunks = sse_chunks(&streamed.text);
    assert_eq!(texts(&chunks), "hello");
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["promptTokenCount"], 7);

    let array = post(
        &gw,
        "/v1/models/oa/gpt-x:streamGenerateContent",
        HELLO,
        None,
    )
    .await;
    assert_eq!(array.status, 200, "{}", array.text);
    let items = array
        .json()
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("not an array: {}", array.text));
    assert_eq!(texts(&items), "hello");
}

#[tokio::test]
async fn a_function_call_round_trip_through_an_anthropic_endpoint() {
    let upstream = FakeUpstream::start(|req: &Recorded| {
        let body = req.json();
        let answered = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["content"].as_array())
            .is_some_and(|blocks| blocks.iter().any(|b| b["type"] == "tool_result"));
        if answered {
            Reply::json(200, &anthropic::text_message("claude", "sunny"))
        } else {
            Reply::json(
                200,
                &anthropic::message(
                    "claude",
                    json!([{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]),
                    "tool_use",
                    anthropic::usage(20, 8),
                ),
            )
        }
    })
    .await;
    let gw = Gateway::start(&format!(
        "endpoints:\n  - name: claude\n    spec: anthropic\n    base_url: {}\n",
        upstream.url("")
    ))
    .await;
    let tools = json!([{"functionDeclarations": [{"name": "get_weather", "description": "weather",
        "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}]}]);
    let ask = json!({"contents": [{"role": "user", "parts": [{"text": "weather in Paris?"}]}], "tools": tools});
    let first = post(
        &gw,
        "/v1beta/models/claude/sonnet:generateContent",
        &ask.to_string(),
        None,
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let call = first.json()["candidates"][0]["content"]["parts"][0]["functionCall"].clone();
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["args"], json!({"city": "Paris"}));
    let sent = upstream.last().json();
    assert_eq!(sent["tools"][0]["name"], "get_weather");

    let reply = json!({"contents": [
        ask["contents"][0],
        {"role": "model", "parts": [{"functionCall": call}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"sky": "clear"}}}]}
    ], "tools": tools});
    let second = post(
        &gw,
        "/v1beta/models/claude/sonnet:generateContent",
        &reply.to_string(),
        None,
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(
        second.json()["candidates"][0]["content"]["parts"][0]["text"],
        "sunny"
    );
    let sent = upstream.last().json();
    let result = &sent["messages"][2]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], "toolu_1");
}

#[tokio::test]
async fn errors_are_in_googles_envelope() {
    let upstream =
        FakeUpstream::start(|_: &Recorded| Reply::json(429, &gemini::error(429, "Quota exceeded")))
            .await;
    let gw = Gateway::start(&config(&[google_endpoint("g", &upstream.url(""))])).await;

    let limited = post(&gw, "/v1beta/models/g/flash:generateContent", HELLO, None).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.json()["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(limited.json()["error"]["code"], 429);

    let unknown = post(&gw, "/v1beta/models/nope/x:generateContent", HELLO, None).await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    assert_eq!(unknown.json()["error"]["status"], "NOT_FOUND");

    let method = post(&gw, "/v1beta/models/g/flash:embedContent", HELLO, None).await;
    assert_eq!(method.status, 404);
    assert!(
        method.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("generateContent")
    );

    let bad = post(
        &gw,
        "/v1beta/models/g/flash:generateContent",
        "{\"contents\": 5",
        None,
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    assert_eq!(bad.json()["error"]["status"], "INVALID_ARGUMENT");

    // Refused by the trust checks, still in Google's shape.
    let form = gw
        .http
        .post(format!("{}/v1beta/models/g/flash:generateContent", gw.url))
        .header("content-type", "text/plain")
        .body(HELLO)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status().as_u16(), 415);
    let form: Value = form.json().await.unwrap();
    assert!(form["error"]["status"].is_string(), "{form}");
    assert_eq!(upstream.hits(), 1);
}

#[tokio::test]
async fn the_callers_key_may_be_a_header_a_query_or_bearer() {
    let upstream = FakeUpstream::start(google_fake_reply).await;
    let gw = Gateway::start_with(&config(&[google_endpoint("g", &upstream.url(""))]), true).await;
    let created = gw
        .admin(Method::POST, "/api/keys", Some(&json!({"name": "genai"})))
        .await;
    let token = created.json["token"].as_str().unwrap().to_owned();

    let missing = post(&gw, "/v1beta/models/g/flash:generateContent", HELLO, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["error"]["status"], "UNAUTHENTICATED");

    let path = "/v1beta/models/g/flash:generateContent";
    let header = post(&gw, path, HELLO, Some(("x-goog-api-key", &token))).await;
    assert_eq!(header.status, 200, "{}", header.text);
    let bearer = post(
        &gw,
        path,
        HELLO,
        Some(("authorization", &format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(bearer.status, 200, "{}", bearer.text);
    let query = post(&gw, &format!("{path}?key={token}"), HELLO, None).await;
    assert_eq!(query.status, 200, "{}", query.text);
    let wrong = post(&gw, &format!("{path}?key=mg-wrong"), HELLO, None).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(upstream.hits(), 3);
}

#[tokio::test]
async fn models_are_listed_in_geminis_shape() {
    let upstream = FakeUpstream::start(google_fake_reply).await;
    let gw = Gateway::start(&config(&[google_endpoint("g", &upstream.url(""))])).await;
    let listed = gw.get("/v1beta/models").await;
    assert_eq!(listed.status, 200, "{}", listed.json);
    let names: Vec<&str> = listed.json["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names, ["models/g/flash"]);
    let one = gw.get("/v1beta/models/g/flash").await;
    assert_eq!(one.status, 200, "{}", one.json);
    assert_eq!(one.json["name"], "models/g/flash");
    let missing = gw.get("/v1beta/models/nope/x").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json["error"]["status"], "NOT_FOUND");
}

#[tokio::test]
async fn count_tokens_is_passed_to_google_and_estimated_elsewhere() {
    let upstream =
        FakeUpstream::start(|_: &Recorded| Reply::json(200, &json!({"totalTokens": 3}))).await;
    let other = FakeUpstream::start(|_: &Recorded| Reply::json(500, &json!({}))).await;
    let gw = Gateway::start(&config(&[
        google_endpoint("g", &upstream.url("")),
        crate::harness::endpoint("oa", &other.url("/v1"), ""),
    ]))
    .await;
    let counted = post(&gw, "/v1beta/models/g/flash:countTokens", HELLO, None).await;
    assert_eq!(counted.status, 200, "{}", counted.text);
    assert_eq!(counted.json()["totalTokens"], 3);
    assert_eq!(
        upstream.last().path,
        "/v1beta/models/gemini-2.5-flash:countTokens"
    );
    let estimated = post(&gw, "/v1beta/models/oa/m:countTokens", HELLO, None).await;
    assert_eq!(estimated.status, 200, "{}", estimated.text);
    assert_eq!(estimated.json()["estimated"], true);
    assert!(estimated.json()["totalTokens"].as_u64().unwrap() > 0);
    assert_eq!(estimated.headers["x-modelgate-estimate"], "true");
    assert_eq!(other.hits(), 0);
}

#[tokio::test]
async fn a_stream_cut_short_ends_with_an_error_element_of_the_array() {
    let upstream = FakeUpstream::start(|_: &Recorded| {
        // One chunk, no finishReason: the upstream stopped midway.
        let chunk = gemini::response("gemini-2.5-flash", json!([{"text": "hel"}]), None, None);
        Reply::sse(format!("data: {chunk}\r\n\r\n"))
    })
    .await;
    let gw = Gateway::start(&config(&[google_endpoint("g", &upstream.url(""))])).await;
    let array = post(
        &gw,
        "/v1beta/models/g/flash:streamGenerateContent",
        HELLO,
        None,
    )
    .await;
    assert_eq!(array.status, 200, "{}", array.text);
    let items = array
        .json()
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("not an array: {}", array.text));
    assert_eq!(items.len(), 2, "{}", array.text);
    assert_eq!(texts(&items[..1]), "hel");
    assert!(items[1]["error"]["status"].is_string(), "{}", array.text);

    // A non-streamed answer to a streamed request is an error, not `[]`.
    let plain =
        FakeUpstream::start(|_: &Recorded| Reply::json(200, &gemini::text_response("m", "hi")))
            .await;
    let gw = Gateway::start(&config(&[google_endpoint("g", &plain.url(""))])).await;
    let array = post(
        &gw,
        "/v1beta/models/g/flash:streamGenerateContent",
        HELLO,
        None,
    )
    .await;
    assert_eq!(array.status, 502, "{}", array.text);
    assert!(array.json()["error"]["status"].is_string());
}

#[tokio::test]
async fn passthrough_applies_params_settings_and_records_usage_in_both_stream_forms() {
    let upstream = FakeUpstream::start(google_fake_reply).await;
    let gw = Gateway::start(&config(&[format!(
        "{}    drop_params: [generationConfig]\n    add_params: {{safetySettings: []}}\n",
        google_endpoint("g", &upstream.url(""))
    )]))
    .await;
    for path in [
        "/v1beta/models/g/flash:generateContent",
        "/v1beta/models/g/flash:streamGenerateContent?alt=sse",
        "/v1beta/models/g/flash:streamGenerateContent",
    ] {
        let answer = post(&gw, path, HELLO, None).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text);
        let sent = upstream.last().json();
        assert!(sent.get("generationConfig").is_none(), "{sent}");
        assert_eq!(sent["safetySettings"], json!([]));
        assert_eq!(sent["contents"][0]["parts"][0]["text"], "hi");
    }
    gw.state.usage.flush().await;
    let rows = gw.state.store.usage_summary().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].endpoint.as_str(), rows[0].model.as_str()),
        ("g", "gemini-2.5-flash")
    );
    assert_eq!(rows[0].requests, 3);
    // 10 in for each; 5 out for the answer, 2 for each stream (two chunks).
    assert_eq!(rows[0].input_tokens, 30);
    assert_eq!(rows[0].output_tokens, 9);
}
