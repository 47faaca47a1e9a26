//! The admin API, key testing and gateway keys.

use modelgate_testkit::{FakeUpstream, Reply, openai};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Gateway, config, endpoint, message};

fn answering(_: &modelgate_testkit::Recorded) -> Reply {
    Reply::json(200, &openai::completion("m", "ok"))
}

#[tokio::test]
async fn endpoint_crud_never_shows_keys_and_never_touches_the_upstream() {
    let upstream = FakeUpstream::start(answering).await;
    let moved = FakeUpstream::start(answering).await;
    let gw = Gateway::start("endpoints: []\n").await;

    let created = gw
        .admin(
            Method::POST,
            "/api/endpoints",
            Some(&json!({
                "name": "lab", "spec": "openai-chat-completions", "base_url": upstream.url("/v1/"),
                "api_key": "sk-secret-original-0001", "models": {"default": ["m"]}
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    assert_eq!(created.json["api_keys"], json!(["sk-…0001"]));
    assert_eq!(created.json["base_url"], upstream.url("/v1"));
    assert_eq!(created.json["source"], "store");

    assert_eq!(gw.chat("lab/m").await.status, 200);
    assert_eq!(upstream.last().bearer(), Some("sk-secret-original-0001"));

    // Rotate the key and move the base URL.
    let updated = gw
        .admin(
            Method::PATCH,
            "/api/endpoints/lab",
            Some(&json!({
                "api_keys": ["sk-secret-rotated-0002"], "base_url": moved.url("/v1")
            })),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.json);
    assert_eq!(
        updated.json["models"]["default"],
        json!(["m"]),
        "untouched fields kept"
    );
    assert_eq!(gw.chat("lab/m").await.status, 200);
    assert_eq!(moved.last().bearer(), Some("sk-secret-rotated-0002"));

    let listed = gw.admin(Method::GET, "/api/endpoints", None).await;
    let text = listed.json.to_string();
    assert!(text.contains("sk-…0002"));
    assert!(!text.contains("sk-secret"), "no key in clear: {text}");

    let hits_before = (upstream.hits(), moved.hits());
    assert_eq!(
        gw.admin(Method::DELETE, "/api/endpoints/lab", None)
            .await
            .status,
        200
    );
    assert_eq!((upstream.hits(), moved.hits()), hits_before);
    assert_eq!(
        gw.admin(Method::GET, "/api/endpoints/lab", None)
            .await
            .status,
        404
    );
    assert_eq!(gw.chat("lab/m").await.status, 404);
}

#[tokio::test]
async fn bad_endpoints_are_refused_clearly() {
    let gw = Gateway::start(&config(&[endpoint("filed", "http://127.0.0.1:9/v1", "")])).await;
    let gw = &gw;
    let create =
        |body: Value| async move { gw.admin(Method::POST, "/api/endpoints", Some(&body)).await };

    let reserved =
        create(json!({"name": "anthropic", "spec": "anthropic", "base_url": "http://x"})).await;
    assert_eq!(reserved.status, 400);
    assert!(
        message(&reserved).contains("built-in"),
        "{}",
        message(&reserved)
    );

    let typo =
        create(json!({"name": "x", "spec": "openai-chat-completions", "base_ur": "http://x"}))
            .await;
    assert_eq!(typo.status, 400);
    assert!(message(&typo).contains("base_ur"));

    let taken =
        create(json!({"name": "filed", "spec": "openai-chat-completions", "base_url": "http://x"}))
            .await;
    assert_eq!(taken.status, 409);
    assert!(message(&taken).contains("read-only"));

    let patch = gw
        .admin(
            Method::PATCH,
            "/api/endpoints/filed",
            Some(&json!({"base_url": "http://y"})),
        )
        .await;
    assert_eq!(patch.status, 409);
    assert_eq!(
        gw.admin(Method::DELETE, "/api/endpoints/filed", None)
            .await
            .status,
        409
    );

    let no_token = gw.get("/api/endpoints").await;
    assert_eq!(no_token.status, 401);
    assert_eq!(no_token.json["error"]["code"], "missing_admin_token");
}

#[tokio::test]
async fn key_test_diagnoses_each_key() {
    let upstream = FakeUpstream::start(|req| match req.bearer() {
        Some("sk-good-key-0001") => Reply::json(200, &openai::model_list(&["m"])),
        Some("sk-revoked-key-0002") => openai::error(
            401,
            "invalid key",
            "invalid_request_error",
            "invalid_api_key",
        ),
        Some("sk-other-project-03") => {
            openai::error(403, "no access", "permission_error", "forbidden")
        }
        _ => openai::error(429, "slow down", "rate_limit_error", "rate_limit_exceeded"),
    })
    .await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let gw = Gateway::start(&config(&[
        endpoint("ep", &upstream.url("/v1"), "    api_keys: [sk-good-key-0001, sk-revoked-key-0002, sk-other-project-03, sk-busy-key-00004]\n"),
        endpoint("down", &format!("http://{closed}/v1"), "    api_key: sk-good-key-0001\n"),
    ]))
    .await;
    let report = gw.admin(Method::POST, "/api/endpoints/ep/test", None).await;
    let verdicts: Vec<&str> = report.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["ok", "invalid", "forbidden", "rate-limited"]);
    assert_eq!(report.json["ok"], false);
    assert!(!report.json.to_string().contains("sk-good-key-0001"));
    // Every key lists models; the one accepted also gets the empty chat probe.
    let probes: Vec<String> = upstream
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        probes,
        [
            "GET /v1/models",
            "POST /v1/chat/completions",
            "GET /v1/models",
            "GET /v1/models",
            "GET /v1/models"
        ]
    );

    let down = gw
        .admin(Method::POST, "/api/endpoints/down/test", None)
        .await;
    assert_eq!(down.json["results"][0]["verdict"], "network-error");
    assert!(
        down.json["results"][0]["hint"]
            .as_str()
            .unwrap()
            .contains("Is the server running")
    );
}

#[tokio::test]
async fn key_test_404_says_base_url_may_lack_v1() {
    let upstream = FakeUpstream::start(|_| Reply::text(404, "not found")).await;
    let gw = Gateway::start(&config(&[endpoint(
        "ep",
        &upstream.url(""),
        "    api_key: sk-some-key-000001\n",
    )]))
    .await;
    let report = gw.admin(Method::POST, "/api/endpoints/ep/test", None).await;
    assert_eq!(report.json["results"][0]["verdict"], "not-found");
    assert!(
        report.json["results"][0]["hint"]
            .as_str()
            .unwrap()
            .contains("/v1")
    );
}

#[tokio::test]
async fn model_listing_falls_back_to_defaults_with_a_note() {
    let upstream = FakeUpstream::start(|_| Reply::text(500, "boom")).await;
    let gw = Gateway::start(&config(&[endpoint(
        "ep",
        &upstream.url("/v1"),
        "    models: {default: [a, b], fetch: true}\n",
    )]))
    .await;
    let listing = gw
        .admin(Method::GET, "/api/endpoints/ep/models", None)
        .await;
    assert_eq!(listing.json["source"], "default");
    assert_eq!(listing.json["models"], json!(["a", "b"]));
    assert!(listing.json["note"].as_str().unwrap().contains("HTTP 500"));
}

#[tokio::test]
async fn gateway_keys_guard_model_traffic_when_required() {
    let upstream = FakeUpstream::start(answering).await;
    let gw = Gateway::start_with(&config(&[endpoint("ep", &upstream.url("/v1"), "")]), true).await;
    let denied = gw.chat("ep/m").await;
    assert_eq!(denied.status, 401);
    assert!(message(&denied).contains("modelgate keys create"));

    let created = gw
        .admin(Method::POST, "/api/keys", Some(&json!({"name": "ci"})))
        .await;
    assert_eq!(created.status, 201);
    let token = created.json["token"].as_str().unwrap().to_owned();
    let with_key = |token: String| {
        let gw = &gw;
        async move {
            gw.http
                .post(format!("{}/v1/chat/completions", gw.url))
                .bearer_auth(token)
                .json(&json!({"model": "ep/m", "messages": []}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(with_key(token.clone()).await, 200);
    let listed = gw.admin(Method::GET, "/api/keys", None).await;
    assert!(
        !listed.json.to_string().contains(&token),
        "the token is shown once only"
    );
    let id = created.json["id"].as_str().unwrap();
    assert_eq!(
        gw.admin(Method::DELETE, &format!("/api/keys/{id}"), None)
            .await
            .status,
        200
    );
    assert_eq!(with_key(token).await, 401);
    assert_eq!(upstream.hits(), 1);
}

#[tokio::test]
async fn a_vertex_service_account_is_never_shown() {
    let gw = Gateway::start("endpoints: []\n").await;
    let credentials = r#"{"type":"service_account","client_email":"sa@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\nMIIsecretkeymaterial\n-----END PRIVATE KEY-----\n"}"#;
    let created = gw
        .admin(
            Method::POST,
            "/api/endpoints",
            Some(&json!({
                "name": "vx", "spec": "google-vertex", "project_id": "my-project-123",
                "location": "us-east5", "credentials": credentials
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    assert_eq!(created.json["credentials"], "(inline service-account JSON)");
    let listed = gw.admin(Method::GET, "/api/endpoints", None).await;
    let text = listed.json.to_string();
    assert!(!text.contains("MIIsecret"), "{text}");
    assert!(text.contains("(inline service-account JSON)"), "{text}");

    let by_path = gw
        .admin(
            Method::POST,
            "/api/endpoints",
            Some(&json!({
                "name": "vx2", "spec": "google-vertex", "project_id": "my-project-123",
                "location": "global", "credentials": "/etc/modelgate/sa.json"
            })),
        )
        .await;
    assert_eq!(by_path.status, 201, "{:?}", by_path.json);
    assert_eq!(
        by_path.json["credentials"], "/etc/modelgate/sa.json",
        "a path is no secret"
    );
}
