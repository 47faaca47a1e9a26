//! Trust boundaries: what a web page in the user's browser, a revoked key
//! or an admin API caller must not be able to do.

use modelgate_config::EndpointConfig;
use modelgate_testkit::{FakeUpstream, Reply, openai};
use reqwest::Method;
use serde_json::json;

use crate::harness::{Gateway, config, endpoint, message};

fn chat_body() -> serde_json::Value {
    json!({"model": "ep/m", "messages": [{"role": "user", "content": "hi"}]})
}

async fn fake() -> FakeUpstream {
    FakeUpstream::start(|_| Reply::json(200, &openai::completion("m", "hello"))).await
}

/// A `text/plain` or form POST (what a page sends without a preflight) is
/// refused before it reaches an endpoint, in the caller's format.
#[tokio::test]
async fn only_json_bodies_are_accepted() {
    let upstream = fake().await;
    let gw = Gateway::start(&config(&[endpoint("ep", &upstream.url("/v1"), "")])).await;
    for (path, content_type) in [
        ("/v1/chat/completions", "text/plain"),
        ("/v1/chat/completions", "application/x-www-form-urlencoded"),
        ("/v1/messages", "text/plain;charset=UTF-8"),
    ] {
        let answer = gw
            .http
            .post(format!("{}{path}", gw.url))
            .header("content-type", content_type)
            .body(chat_body().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 415, "{path} {content_type}");
        let body: serde_json::Value = answer.json().await.unwrap();
        let text = if path == "/v1/messages" {
            assert_eq!(body["type"], "error");
            body["error"]["message"].as_str().unwrap().to_owned()
        } else {
            assert_eq!(body["error"]["code"], "unsupported_media_type");
            body["error"]["message"].as_str().unwrap().to_owned()
        };
        assert!(text.contains("application/json"), "{text}");
    }
    assert_eq!(upstream.hits(), 0);
    // JSON with a charset is JSON.
    let ok = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .header("content-type", "application/json; charset=utf-8")
        .body(chat_body().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

/// DNS rebinding: a page under a foreign name reaches 127.0.0.1, but its
/// requests carry that name in `Host`.
#[tokio::test]
async fn foreign_host_names_are_refused_on_loopback() {
    let upstream = fake().await;
    let yaml = format!(
        "server:\n  allowed_hosts: [gateway.internal]\n{}",
        config(&[endpoint("ep", &upstream.url("/v1"), "")])
    );
    let gw = Gateway::start(&yaml).await;
    let with_host = |host: &'static str| {
        gw.http
            .post(format!("{}/v1/chat/completions", gw.url))
            .header("host", host)
            .json(&chat_body())
            .send()
    };
    let refused = with_host("attacker.example:4000").await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "host_not_allowed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("server.allowed_hosts")
    );
    assert_eq!(upstream.hits(), 0);
    for ok in ["localhost:4000", "127.0.0.1", "gateway.internal:4000"] {
        assert_eq!(with_host(ok).await.unwrap().status(), 200, "{ok}");
    }
}

/// A page of another origin cannot call the gateway; an origin listed in
/// `server.cors_origins` can, with CORS headers and preflights.
#[tokio::test]
async fn foreign_origins_are_refused_unless_configured() {
    let upstream = fake().await;
    let yaml = format!(
        "server:\n  cors_origins: [\"http://localhost:3000\"]\n{}",
        config(&[endpoint("ep", &upstream.url("/v1"), "")])
    );
    let gw = Gateway::start(&yaml).await;
    let from = |origin: &'static str| {
        gw.http
            .post(format!("{}/v1/chat/completions", gw.url))
            .header("origin", origin)
            .json(&chat_body())
            .send()
    };
    let refused = from("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    assert!(refused_headers_lack_cors(&body));
    assert_eq!(upstream.hits(), 0);

    let allowed = from("http://localhost:3000").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let preflight = gw
        .http
        .request(Method::OPTIONS, format!("{}/v1/chat/completions", gw.url))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-headers"],
        "authorization, content-type"
    );
    // The gateway's own origin (a page it serves) is not foreign.
    let own = gw.url.clone();
    let same = gw
        .http
        .post(format!("{}/v1/chat/completions", gw.url))
        .header("origin", own)
        .json(&chat_body())
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
}

fn refused_headers_lack_cors(body: &serde_json::Value) -> bool {
    body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("server.cors_origins"))
}

/// On an open loopback gateway placeholder keys pass, but a gateway key
/// that is revoked (or unknown) is refused: revoking must mean something.
#[tokio::test]
async fn a_revoked_gateway_key_is_refused_even_where_keys_are_optional() {
    let upstream = fake().await;
    let gw = Gateway::start(&config(&[endpoint("ep", &upstream.url("/v1"), "")])).await;
    let created = gw
        .admin(Method::POST, "/api/keys", Some(&json!({"name": "laptop"})))
        .await;
    assert_eq!(created.json["keys_required"], false);
    let token = created.json["token"].as_str().unwrap().to_owned();
    let with_key = |key: String| {
        gw.http
            .post(format!("{}/v1/chat/completions", gw.url))
            .bearer_auth(key)
            .json(&chat_body())
            .send()
    };
    assert_eq!(with_key(token.clone()).await.unwrap().status(), 200);
    assert_eq!(with_key("sk-no-key".into()).await.unwrap().status(), 200);
    let revoked = gw
        .admin(
            Method::DELETE,
            &format!("/api/keys/{}", created.json["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200);
    let refused = with_key(token).await.unwrap();
    assert_eq!(refused.status(), 401);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    let unknown = with_key("mg-not-a-real-key".into()).await.unwrap();
    assert_eq!(unknown.status(), 401);
}

/// The admin API checks its token before it reads a body.
#[tokio::test]
async fn the_admin_token_is_checked_before_the_body() {
    let gw = Gateway::start("").await;
    let answer = gw
        .http
        .post(format!("{}/api/endpoints", gw.url))
        .header("content-type", "application/json")
        .bearer_auth("wrong-token")
        .body("{this is not json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    let bad_json = gw
        .http
        .post(format!("{}/api/endpoints", gw.url))
        .header("content-type", "application/json")
        .bearer_auth(&gw.admin_token)
        .body("{this is not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
}

/// `${VAR}` is expanded only in the config file: an endpoint made through
/// the admin API cannot read the server's environment.
#[tokio::test]
async fn stored_endpoints_never_expand_variables() {
    let upstream = FakeUpstream::start(|_| Reply::json(200, &openai::model_list(&["m"]))).await;
    let gw = Gateway::start("").await;
    let with_var = json!({
        "name": "leaky",
        "spec": "openai-chat-completions",
        "base_url": format!("{}/${{HOME}}", upstream.url("/v1")),
    });
    let refused = gw
        .admin(Method::POST, "/api/endpoints", Some(&with_var))
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        message(&refused).contains("only in the config file"),
        "{}",
        message(&refused)
    );
    let in_key = json!({"name": "k", "spec": "openai-chat-completions", "base_url": upstream.url("/v1"), "api_key": "${MODELGATE_MASTER_KEY}"});
    assert_eq!(
        gw.admin(Method::POST, "/api/endpoints", Some(&in_key))
            .await
            .status,
        400
    );

    // One stored before this rule (written to the store directly) is used
    // literally, never expanded.
    let mut config: EndpointConfig = serde_json::from_value(with_var).unwrap();
    modelgate_config::normalize_endpoint(&mut config);
    gw.state.store.create_endpoint(&config).await.unwrap();
    gw.state.rebuild().await.unwrap();
    let report = gw
        .admin(Method::POST, "/api/endpoints/leaky/test", None)
        .await;
    assert_eq!(report.status, 200);
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let seen = upstream.last().path;
    assert!(
        !seen.contains(&home),
        "the environment reached the upstream: {seen}"
    );
    assert!(seen.contains("HOME"), "{seen}");
    assert!(!report.json.to_string().contains(&home), "{}", report.json);
}

/// Credentials written into a base URL never show in listings.
#[tokio::test]
async fn credentials_in_base_urls_are_redacted_in_listings() {
    let upstream = fake().await;
    let base = upstream
        .url("/v1")
        .replace("http://", "http://alice:hunter2secret@");
    let gw = Gateway::start(&config(&[endpoint("ep", &base, "")])).await;
    let list = gw.admin(Method::GET, "/api/endpoints", None).await;
    let text = list.json.to_string();
    assert!(!text.contains("hunter2secret"), "{text}");
    assert!(!text.contains("alice"), "{text}");
    let shown = upstream.url("/v1").replace("http://", "http://***@");
    assert!(text.contains(&shown), "{text}");
}
