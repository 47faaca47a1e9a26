use http::Method;
use modelgate_config::{EndpointConfig, TimeoutSettings};
use modelgate_protocol::ErrorKind;
use modelgate_testkit::azure::{self as fake, Deployment, Resource};
use serde_json::json;

use super::*;
use crate::KeyCooldowns;
use crate::keytest::{Verdict, test_keys};

fn endpoint(extra: serde_json::Value) -> Endpoint {
    let mut config = json!({"name": "az", "spec": "azure"});
    if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
        config.extend(extra.clone());
    }
    let config: EndpointConfig = serde_json::from_value(config).unwrap();
    modelgate_config::validate_endpoint(&config).unwrap();
    Endpoint::build(&config, TimeoutSettings::default()).unwrap()
}

fn paths(upstream: &modelgate_testkit::FakeUpstream) -> Vec<String> {
    upstream
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[test]
fn urls_per_api_version() {
    let classic = endpoint(json!({"resource_name": "my-res", "api_version": "2024-10-21"}));
    assert_eq!(classic.base_url, "https://my-res.openai.azure.com");
    assert_eq!(
        classic
            .model_url(Operation::Chat, "gpt4o-prod", false)
            .unwrap()
            .as_str(),
        "https://my-res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(
        classic.url(Operation::Models),
        "https://my-res.openai.azure.com/openai/models?api-version=2024-10-21"
    );
    assert!(!classic.speaks_responses());
    assert!(classic.model_url(Operation::Chat, "", false).is_err());

    let v1 = endpoint(json!({"base_url": "https://apim.example.com/team-a/openai/v1/"}));
    for model in ["gpt4o-prod", "other"] {
        assert_eq!(
            v1.model_url(Operation::Chat, model, false)
                .unwrap()
                .as_str(),
            "https://apim.example.com/team-a/openai/v1/chat/completions",
            "the model stays in the body"
        );
    }
    assert_eq!(
        v1.model_url(Operation::Responses, "d", false)
            .unwrap()
            .as_str(),
        "https://apim.example.com/team-a/openai/v1/responses"
    );
    assert_eq!(
        v1.url(Operation::Models),
        "https://apim.example.com/team-a/openai/v1/models"
    );
    assert!(v1.speaks_responses());

    let preview = endpoint(json!({"resource_name": "r", "api_version": "preview"}));
    assert_eq!(
        preview
            .model_url(Operation::Chat, "d", false)
            .unwrap()
            .as_str(),
        "https://r.openai.azure.com/openai/v1/chat/completions?api-version=preview"
    );
    assert_eq!(
        preview
            .model_url(Operation::Responses, "d", false)
            .unwrap()
            .as_str(),
        "https://r.openai.azure.com/openai/v1/responses?api-version=preview"
    );
    assert!(preview.speaks_responses());

    // A direct endpoint is called at its URL, with Azure's auth.
    let direct = endpoint(json!({
        "base_url": "https://h/openai/deployments/d/chat/completions?api-version=2024-10-21",
        "direct_endpoint": true, "api_key": "azure-key-123456",
    }));
    assert_eq!(
        direct
            .model_url(Operation::Chat, "x", false)
            .unwrap()
            .as_str(),
        "https://h/openai/deployments/d/chat/completions?api-version=2024-10-21"
    );
    assert!(!direct.speaks_responses());
}

#[test]
fn keys_go_in_api_key_or_as_bearer() {
    let key = ApiKey::new("azure-key-123456");
    let ep = endpoint(json!({"resource_name": "r", "api_key": "azure-key-123456"}));
    let (name, value) = ep.key_header(&key).unwrap();
    assert_eq!(
        (name.as_str(), value.to_str().unwrap()),
        ("api-key", "azure-key-123456")
    );
    assert!(value.is_sensitive());
    let ep = endpoint(json!({"resource_name": "r", "auth": "bearer", "api_key": "tok"}));
    let (name, value) = ep.key_header(&key).unwrap();
    assert_eq!(
        (name.as_str(), value.to_str().unwrap()),
        ("authorization", "Bearer azure-key-123456")
    );
    assert!(value.is_sensitive());
}

async fn chat_to(
    ep: &Endpoint,
    model: &str,
    messages: serde_json::Value,
) -> Result<crate::UpstreamResponse, modelgate_protocol::GatewayError> {
    let url = ep.model_url(Operation::Chat, model, false).unwrap();
    let body = json!({"model": model, "messages": messages}).to_string();
    crate::dispatch::send_to(
        ep,
        &KeyCooldowns::default(),
        Method::POST,
        url,
        Some(body.into()),
        &http::HeaderMap::new(),
    )
    .await
}

fn hi() -> serde_json::Value {
    json!([{"role": "user", "content": "hi"}])
}

#[tokio::test]
async fn a_missing_deployment_is_named_with_the_model_map_hint() {
    let upstream = fake::start(Resource::default()).await;
    for version in ["2024-10-21", "v1"] {
        let ep = endpoint(json!({
            "base_url": upstream.url(""), "api_version": version, "api_key": "fake-azure-key",
        }));
        let err = chat_to(&ep, "gpt-4o", hi()).await.unwrap_err();
        assert_eq!(
            (err.status, err.kind),
            (404, ErrorKind::NotFound),
            "{version}"
        );
        assert_eq!(err.code.as_deref(), Some("deployment_not_found"));
        assert!(
            err.message
                .contains("no deployment named `gpt-4o` in resource `127.0.0.1:")
                && err.message.contains("must be the deployment name")
                && err.message.contains("`model_map`"),
            "{version}: {}",
            err.message
        );
        let ok = chat_to(&ep, "fake-deployment", hi()).await.unwrap();
        assert_eq!(ok.response.status(), 200);
    }
    assert_eq!(
        paths(&upstream)[0],
        "POST /openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    );
}

#[tokio::test]
async fn a_refused_key_says_which_resource_and_auth() {
    let upstream = fake::start(Resource::default()).await;
    let ep = endpoint(json!({
        "base_url": upstream.url(""), "api_version": "2024-10-21",
        "api_keys": ["wrong-key-0000001", "wrong-key-0000002"],
    }));
    let err = chat_to(&ep, "fake-deployment", hi()).await.unwrap_err();
    assert_eq!(err.status, 502);
    assert_eq!(err.code.as_deref(), Some("upstream_keys_exhausted"));
    assert!(
        err.message.contains("the key was refused: check `api_key`")
            && err.message.contains("belongs to resource `127.0.0.1:")
            && err.message.contains("`auth: bearer`")
            && !err.message.contains("wrong-key-0000001"),
        "{}",
        err.message
    );
    assert!(
        upstream
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
    assert_eq!(
        upstream.requests()[1].header("api-key"),
        Some("wrong-key-0000002")
    );

    // An endpoint without keys gets the answer (the caller explains it
    // with `status_error`), which says the same, and to add a key.
    let keyless = endpoint(json!({"base_url": upstream.url(""), "api_version": "2024-10-21"}));
    let answer = chat_to(&keyless, "fake-deployment", hi()).await.unwrap();
    let body = crate::body::read_error_body(&keyless, answer.response).await;
    let err = crate::errors::status_error(&keyless, 401, &body);
    assert_eq!(err.code.as_deref(), Some("upstream_auth_failed"));
    assert!(
        err.message.contains("the key was refused") && err.message.contains("has no key"),
        "{}",
        err.message
    );

    // An Entra token is sent as a bearer token, and refused in its own words.
    let bearer = endpoint(json!({
        "base_url": upstream.url(""), "api_version": "2024-10-21",
        "auth": "bearer", "api_key": "expired-token-0001",
    }));
    let err = chat_to(&bearer, "fake-deployment", hi()).await.unwrap_err();
    assert!(
        err.message.contains("the Entra ID token was refused"),
        "{}",
        err.message
    );
    assert_eq!(upstream.last().bearer(), Some("expired-token-0001"));
}

#[tokio::test]
async fn a_filtered_prompt_is_a_400_naming_the_categories() {
    let upstream = fake::start(Resource::default()).await;
    let ep = endpoint(json!({"base_url": upstream.url(""), "api_key": "fake-azure-key"}));
    let answer = chat_to(
        &ep,
        "fake-deployment",
        json!([{"role": "user", "content": format!("say {}", fake::PROMPT_TRIGGER)}]),
    )
    .await
    .unwrap();
    assert_eq!(
        answer.response.status(),
        400,
        "the caller decides what a 400 means"
    );
    let body = crate::body::read_error_body(&ep, answer.response).await;
    let err = crate::errors::status_error(&ep, 400, &body);
    assert_eq!((err.status, err.kind), (400, ErrorKind::InvalidRequest));
    assert_eq!(err.code.as_deref(), Some("content_filter"));
    assert_eq!(err.param.as_deref(), Some("prompt"));
    assert!(
        err.message
            .contains("filtered by Azure's content filter (categories: hate (high))"),
        "{}",
        err.message
    );
}

#[test]
fn an_unknown_api_version_names_the_setting() {
    let ep = endpoint(json!({"resource_name": "r", "api_version": "2023-01-01"}));
    let err = crate::errors::status_error(
        &ep,
        400,
        br#"{"error":{"code":"BadRequest","message":"API version not supported"}}"#,
    );
    assert_eq!(err.status, 400);
    assert_eq!(err.code.as_deref(), Some("api_version_not_supported"));
    assert!(
        err.message
            .contains("Check `api_version` (now `2023-01-01`)")
            && err.message.contains("leave it out for the v1 API"),
        "{}",
        err.message
    );
    let err = crate::errors::status_error(
        &ep,
        404,
        br#"{"error":{"code":"404","message":"Resource not found"}}"#,
    );
    assert!(
        err.message.contains("`api_version`")
            && err.message.contains("https://r.openai.azure.com/openai/deployments/{deployment}/chat/completions?api-version=2023-01-01"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn listing_asks_for_deployments_then_models() {
    let upstream = fake::start(Resource::default()).await;
    let cooldowns = KeyCooldowns::default();
    let classic = endpoint(json!({
        "base_url": upstream.url(""), "api_version": "2024-10-21", "api_key": "fake-azure-key",
    }));
    let ids: Vec<String> = crate::models::fetch_models(&classic, &cooldowns)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["fake-deployment", "fake-mini"], "deployment names");
    assert_eq!(
        paths(&upstream),
        ["GET /openai/deployments?api-version=2022-12-01"]
    );

    let newer = fake::start(Resource {
        list_deployments: false,
        ..Resource::default()
    })
    .await;
    let classic = endpoint(json!({
        "base_url": newer.url(""), "api_version": "2024-10-21", "api_key": "fake-azure-key",
    }));
    let ids: Vec<String> = crate::models::fetch_models(&classic, &cooldowns)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"]);
    assert_eq!(
        paths(&newer),
        [
            "GET /openai/deployments?api-version=2022-12-01",
            "GET /openai/models?api-version=2024-10-21"
        ]
    );

    let v1 = endpoint(json!({"base_url": newer.url(""), "api_key": "fake-azure-key"}));
    assert_eq!(
        crate::models::fetch_models(&v1, &cooldowns)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(newer.last().path, "/openai/v1/models");
    assert_eq!(newer.last().header("api-key"), Some("fake-azure-key"));
}

#[tokio::test]
async fn the_key_test_checks_lists_and_a_deployment() {
    let upstream = fake::start(Resource::default()).await;
    // Classic, no deployment configured: the placeholder's "no such
    // deployment" proves the key and the api-version.
    let ep = endpoint(json!({
        "base_url": upstream.url(""), "api_version": "2024-10-21",
        "api_keys": ["fake-azure-key", "bad-key-00000001"],
    }));
    let reports = test_keys(&ep).await;
    assert_eq!(reports[0].verdict, Verdict::Ok, "{:?}", reports[0]);
    assert!(
        reports[0]
            .hint
            .contains("api-version `2024-10-21` is accepted"),
        "{}",
        reports[0].hint
    );
    assert_eq!(reports[1].verdict, Verdict::Invalid, "{:?}", reports[1]);
    assert!(
        reports[1].hint.contains("belongs to resource"),
        "{}",
        reports[1].hint
    );
    assert_eq!(
        paths(&upstream),
        [
            "GET /openai/deployments?api-version=2022-12-01",
            "POST /openai/deployments/modelgate-key-test/chat/completions?api-version=2024-10-21",
            "GET /openai/deployments?api-version=2022-12-01",
        ]
    );

    // A configured deployment that does not exist is the finding.
    let ep = endpoint(json!({
        "base_url": upstream.url(""), "api_version": "2024-10-21", "api_key": "fake-azure-key",
        "models": {"default": ["gpt-4o"]}, "model_map": {"gpt-4o": "gpt4o-prod"},
    }));
    let report = &test_keys(&ep).await[0];
    assert_eq!(report.verdict, Verdict::NotFound, "{report:?}");
    assert!(
        report.hint.contains("no deployment named `gpt4o-prod`"),
        "{}",
        report.hint
    );

    // An api-version the resource does not know.
    let ep = endpoint(json!({
        "base_url": upstream.url(""), "api_version": "2023-01-01", "api_key": "fake-azure-key",
        "models": {"default": ["fake-deployment"]},
    }));
    let report = &test_keys(&ep).await[0];
    assert_eq!(report.verdict, Verdict::Error, "{report:?}");
    assert!(
        report.hint.contains("`api_version` (now `2023-01-01`)"),
        "{}",
        report.hint
    );

    // v1 with an Entra token: the deployment goes as the body's model.
    let ep = endpoint(json!({
        "base_url": upstream.url(""), "auth": "bearer", "api_key": "fake-entra-token",
        "models": {"default": ["fake-mini"]},
    }));
    let report = &test_keys(&ep).await[0];
    assert_eq!(report.verdict, Verdict::Ok, "{report:?}");
    assert_eq!(upstream.last().path, "/openai/v1/chat/completions");
    assert_eq!(upstream.last().json(), json!({"model": "fake-mini"}));
    assert_eq!(upstream.last().bearer(), Some("fake-entra-token"));
    let ep = endpoint(json!({
        "base_url": upstream.url(""), "api_key": "fake-azure-key",
        "models": {"default": ["gpt-5"]},
    }));
    let report = &test_keys(&ep).await[0];
    assert_eq!(report.verdict, Verdict::NotFound, "{report:?}");
    assert!(
        report.hint.contains("no deployment named `gpt-5`"),
        "{}",
        report.hint
    );
}

#[tokio::test]
async fn deployment_names_are_one_path_segment_on_the_wire() {
    let upstream = fake::start(Resource {
        deployments: vec![Deployment::new("team a/gpt", "gpt-4o-2024-08-06")],
        ..Resource::default()
    })
    .await;
    let ep = endpoint(json!({
        "base_url": upstream.url(""), "api_version": "2024-10-21", "api_key": "fake-azure-key",
    }));
    let ok = chat_to(&ep, "team a/gpt", hi()).await.unwrap();
    assert_eq!(ok.response.status(), 200);
    assert_eq!(
        upstream.last().path,
        "/openai/deployments/team%20a%2Fgpt/chat/completions?api-version=2024-10-21"
    );
}

#[test]
fn bases_lose_a_trailing_openai() {
    assert_eq!(
        normalize_base("https://r.openai.azure.com/"),
        "https://r.openai.azure.com"
    );
    assert_eq!(
        normalize_base("https://r.openai.azure.com/openai/v1/"),
        "https://r.openai.azure.com"
    );
    assert_eq!(
        normalize_base("https://apim.example.com/team/OpenAI"),
        "https://apim.example.com/team"
    );
    // Only a whole trailing segment is taken off.
    assert_eq!(normalize_base("https://h/myopenai"), "https://h/myopenai");
}

#[test]
fn deployment_urls_encode_the_name_as_one_segment() {
    let base =
        reqwest::Url::parse("https://r.openai.azure.com/openai/deployments?api-version=2024-10-21")
            .unwrap();
    let url = deployment_url(&base, "my gpt/4o").unwrap();
    assert_eq!(
        url.as_str(),
        "https://r.openai.azure.com/openai/deployments/my%20gpt%2F4o/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(deployment_of(&url, None).as_deref(), Some("my gpt/4o"));
    let dots = deployment_url(&base, "..").unwrap();
    assert!(
        dots.path()
            .starts_with("/openai/deployments/%252E%252E/chat"),
        "{dots}"
    );
    assert!(deployment_url(&base, "").is_err());
    let v1 = reqwest::Url::parse("https://r/openai/v1/chat/completions").unwrap();
    assert_eq!(
        deployment_of(&v1, Some(br#"{"model":"dep-1"}"#)).as_deref(),
        Some("dep-1")
    );
    assert_eq!(deployment_of(&v1, Some(b"{}")), None);
    let proxied =
        reqwest::Url::parse("https://apim/deployments/x/openai/v1/chat/completions").unwrap();
    assert_eq!(
        deployment_of(&proxied, Some(br#"{"model":"dep-2"}"#)).as_deref(),
        Some("dep-2")
    );
}
