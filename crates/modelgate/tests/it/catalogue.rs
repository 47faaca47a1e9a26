//! One catalogue: `/v1/models`, bare model ids and the admin API agree,
//! right after a change, and model lists are fetched sparingly.

use modelgate_testkit::{FakeUpstream, Recorded, Reply, openai};
use reqwest::Method;
use serde_json::json;

use crate::harness::Gateway;

fn lists_models(req: &Recorded) -> bool {
    req.method == "GET" && req.path.ends_with("/models")
}

/// Added through the admin API (as `modelgate endpoints add` does) with the
/// default settings: its list is fetched and every view shows the same
/// models at once, with no need to run `modelgate models` first.
#[tokio::test]
async fn the_catalogue_is_consistent_right_after_an_endpoint_is_added() {
    let upstream = FakeUpstream::start(|req| {
        if lists_models(req) {
            Reply::json(200, &openai::model_list(&["llama3.1:8b", "qwen2.5"]))
        } else {
            Reply::json(200, &openai::completion("qwen2.5", "hello"))
        }
    })
    .await;
    let gw = Gateway::start("").await;
    let created = gw
        .admin(
            Method::POST,
            "/api/endpoints",
            Some(&json!({"name": "local", "spec": "openai-chat-completions", "base_url": upstream.url("/v1")})),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    let listed = gw.get("/v1/models").await;
    let ids: Vec<&str> = listed.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["local/llama3.1:8b", "local/qwen2.5"]);
    let chat = gw.chat("qwen2.5").await;
    assert_eq!(chat.status, 200, "{:?}", chat.json);
    let admin = gw
        .admin(Method::GET, "/api/endpoints/local/models", None)
        .await;
    assert_eq!(admin.json["models"], json!(["llama3.1:8b", "qwen2.5"]));
    assert_eq!(admin.json["source"], "upstream");
    // Three readers, one fetch.
    let fetches = upstream
        .requests()
        .iter()
        .filter(|r| lists_models(r))
        .count();
    assert_eq!(fetches, 1);
}

/// An endpoint whose list fails is not asked again on every request, and
/// readers that arrive together share one fetch.
#[tokio::test]
async fn a_failing_list_is_fetched_once_not_per_request() {
    let upstream = FakeUpstream::start(|req| {
        if lists_models(req) {
            Reply::text(500, "boom")
        } else {
            Reply::json(200, &openai::completion("m", "hello"))
        }
    })
    .await;
    let gw = Gateway::start(&format!(
        "endpoints:\n  - name: down\n    spec: openai-chat-completions\n    base_url: {}\n    models: {{default: [known], fetch: true}}\n",
        upstream.url("/v1")
    ))
    .await;
    let readers = (0..8).map(|_| gw.get("/v1/models"));
    for listed in futures_util::future::join_all(readers).await {
        assert_eq!(listed.status, 200);
        assert_eq!(listed.json["data"][0]["id"], "down/known");
    }
    for _ in 0..3 {
        assert_eq!(gw.chat("not-a-model").await.status, 404);
    }
    let admin = gw
        .admin(Method::GET, "/api/endpoints/down/models", None)
        .await;
    assert!(
        admin.json["note"].as_str().unwrap().contains("HTTP 500"),
        "{:?}",
        admin.json
    );
    let fetches = upstream
        .requests()
        .iter()
        .filter(|r| lists_models(r))
        .count();
    assert_eq!(fetches, 1, "a failure is remembered for a while");
}

/// Changing an endpoint forgets its old list; deleting it removes its
/// models from every view.
#[tokio::test]
async fn a_changed_endpoint_is_listed_anew() {
    let first =
        FakeUpstream::start(|_| Reply::json(200, &openai::model_list(&["old-model"]))).await;
    let second =
        FakeUpstream::start(|_| Reply::json(200, &openai::model_list(&["new-model"]))).await;
    let gw = Gateway::start("").await;
    gw.admin(
        Method::POST,
        "/api/endpoints",
        Some(
            &json!({"name": "ep", "spec": "openai-chat-completions", "base_url": first.url("/v1")}),
        ),
    )
    .await;
    assert_eq!(
        gw.get("/v1/models").await.json["data"][0]["id"],
        "ep/old-model"
    );
    let patched = gw
        .admin(
            Method::PATCH,
            "/api/endpoints/ep",
            Some(&json!({"base_url": second.url("/v1")})),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(
        gw.get("/v1/models").await.json["data"][0]["id"],
        "ep/new-model"
    );
    gw.admin(Method::DELETE, "/api/endpoints/ep", None).await;
    assert_eq!(gw.get("/v1/models").await.json["data"], json!([]));
}
