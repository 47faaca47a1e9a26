use serde_json::json;

use crate::validate::validate_endpoint;
use crate::{EndpointConfig, Publisher};

fn google(spec: &str, extra: serde_json::Value) -> EndpointConfig {
    let mut value = json!({"name": "g", "spec": spec});
    if let (Some(base), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(value).expect("endpoint JSON")
}

fn refused(spec: &str, extra: serde_json::Value) -> (String, String) {
    let e = validate_endpoint(&google(spec, extra)).expect_err("should be refused");
    (e.field, e.message)
}

#[test]
fn a_gemini_api_endpoint_needs_no_base_url_and_takes_path_versions() {
    let ep = google("google", json!({"api_key": "AIza-test"}));
    assert_eq!(validate_endpoint(&ep), Ok(()));
    assert_eq!(
        ep.effective_base_url(),
        "https://generativelanguage.googleapis.com"
    );
    assert_eq!(ep.gemini_api_version(), "v1beta");
    let proxied = google(
        "google",
        json!({"base_url": "http://127.0.0.1:8080", "api_version": "v1"}),
    );
    assert_eq!(validate_endpoint(&proxied), Ok(()));
    assert_eq!(proxied.effective_base_url(), "http://127.0.0.1:8080");
    assert_eq!(proxied.gemini_api_version(), "v1");
    let (field, message) = refused("google", json!({"api_version": "2024-10-21"}));
    assert_eq!(field, "api_version");
    assert!(message.contains("v1beta"), "{message}");
    let (field, _) = refused("google", json!({"project_id": "my-project"}));
    assert_eq!(field, "project_id");
}

#[test]
fn a_vertex_endpoint_needs_a_project_and_a_location() {
    let ep = google(
        "google-vertex",
        json!({"project_id": "my-project-123", "location": "us-east5", "credentials": "/etc/sa.json",
               "model_publishers": {"my-tuned-model": "anthropic"}}),
    );
    assert_eq!(validate_endpoint(&ep), Ok(()));
    assert_eq!(
        ep.effective_base_url(),
        "https://us-east5-aiplatform.googleapis.com"
    );
    assert_eq!(
        ep.publisher_of("claude-sonnet-4-5@20250929"),
        Publisher::Anthropic
    );
    assert_eq!(ep.publisher_of("gemini-2.5-pro"), Publisher::Google);
    assert_eq!(ep.publisher_of("my-tuned-model"), Publisher::Anthropic);
    let global = google(
        "google-vertex",
        json!({"project_id": "my-project-123", "location": "global"}),
    );
    assert_eq!(validate_endpoint(&global), Ok(()));
    assert_eq!(
        global.effective_base_url(),
        "https://aiplatform.googleapis.com"
    );

    for (extra, field, says) in [
        (
            json!({"location": "us-central1"}),
            "project_id",
            "needs `project_id`",
        ),
        (
            json!({"project_id": "my-project-123"}),
            "location",
            "us-central1",
        ),
        (
            json!({"project_id": "My Project", "location": "us-central1"}),
            "project_id",
            "not a Google Cloud project id",
        ),
        (
            json!({"project_id": "my-project-123", "location": "US Central"}),
            "location",
            "not a Vertex AI location",
        ),
        (
            json!({"project_id": "my-project-123", "location": "global", "api_key": "k"}),
            "api_key",
            "not API keys",
        ),
        (
            json!({"project_id": "my-project-123", "location": "global", "credentials": " "}),
            "credentials",
            "empty",
        ),
        (
            json!({"project_id": "my-project-123", "location": "global", "api_version": "v1"}),
            "api_version",
            "remove `api_version`",
        ),
    ] {
        let (got, message) = refused("google-vertex", extra.clone());
        assert_eq!(got, field, "{extra}: {message}");
        assert!(message.contains(says), "{extra}: {message}");
    }
}

#[test]
fn vertex_fields_on_another_spec_are_refused() {
    let ep: EndpointConfig = serde_json::from_value(json!({
        "name": "local", "spec": "openai-chat-completions", "base_url": "http://h/v1",
        "location": "us-central1"
    }))
    .unwrap();
    let e = validate_endpoint(&ep).unwrap_err();
    assert_eq!(e.field, "location");
    assert!(e.message.contains("google-vertex"), "{}", e.message);
}
