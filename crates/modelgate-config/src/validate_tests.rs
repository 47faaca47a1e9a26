use serde_json::json;

use super::*;

fn endpoint(extra: serde_json::Value) -> EndpointConfig {
    let mut value = json!({
        "name": "local",
        "spec": "openai-chat-completions",
        "base_url": "http://localhost:11434/v1",
    });
    if let (Some(base), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(value).expect("endpoint JSON")
}

fn error(extra: serde_json::Value) -> FieldError {
    validate_endpoint(&endpoint(extra)).expect_err("should be refused")
}

#[test]
fn accepts_a_plain_endpoint() {
    assert_eq!(validate_endpoint(&endpoint(json!({}))), Ok(()));
    let full = endpoint(json!({
        "name": "gpu-box_2.local",
        "base_url": "https://user@[::1]:8080/v1?x=1",
        "api_keys": ["a", "b"],
        "model_map": {"fast": "llama3.1:8b"},
        "drop_params": ["temperature"],
        "headers": {"X-Org": "org", "Authorization": "Bearer x"},
        "timeouts": {"idle": "30s"},
    }));
    assert_eq!(validate_endpoint(&full), Ok(()));
}

#[test]
fn names() {
    let e = error(json!({"name": "anthropic"}));
    assert_eq!(e.field, "name");
    assert_eq!(
        e.message,
        "`anthropic` is a built-in spec name; pick another name such as `my-anthropic`"
    );
    assert!(
        error(json!({"name": "OpenAI"}))
            .message
            .contains("built-in")
    );
    let e = error(json!({"name": "team/local"}));
    assert!(e.message.contains("contains `/`"), "{}", e.message);
    assert!(error(json!({"name": ""})).message.contains("needs a name"));
    assert!(error(json!({"name": "-x"})).message.contains("start with"));
    assert!(
        error(json!({"name": "a".repeat(65)}))
            .message
            .contains("64")
    );
    assert_eq!(
        validate_endpoint(&endpoint(json!({"name": "a".repeat(64)}))),
        Ok(())
    );
}

#[test]
fn base_urls() {
    for bad in [
        "localhost:11434",
        "ftp://x",
        "http://",
        "http:///v1",
        "https://:80/",
        "http://a b",
    ] {
        let e = error(json!({ "base_url": bad }));
        assert_eq!(e.field, "base_url", "{bad}");
    }
    assert!(
        error(json!({"base_url": "localhost:1"}))
            .message
            .contains("http://")
    );
    // Resolved later, so not checked now.
    let ep = endpoint(json!({"base_url": "${OLLAMA_URL}"}));
    assert_eq!(validate_endpoint(&ep), Ok(()));
}

#[test]
fn normalization_strips_trailing_slashes() {
    let mut ep = endpoint(json!({"base_url": " http://h:1/v1// "}));
    normalize_endpoint(&mut ep);
    assert_eq!(ep.base_url, "http://h:1/v1");
    // A direct URL is used as written.
    let mut ep = endpoint(json!({"base_url": "http://h/x/", "direct_endpoint": true}));
    normalize_endpoint(&mut ep);
    assert_eq!(ep.base_url, "http://h/x/");
}

#[test]
fn keys() {
    let e = error(json!({"api_key": "a", "api_keys": ["b"]}));
    assert_eq!(e.field, "api_key");
    assert_eq!(
        e.message,
        "give either api_key or api_keys (primary first, then fallbacks)"
    );
    assert_eq!(error(json!({"api_key": " "})).field, "api_key");
    assert_eq!(error(json!({"api_keys": ["a", ""]})).field, "api_keys[1]");
}

#[test]
fn keys_are_tried_in_order() {
    let ep = endpoint(json!({"api_keys": ["primary", "second", "third"]}));
    assert_eq!(ep.keys(), vec!["primary", "second", "third"]);
    let ep = endpoint(json!({"api_key": "only"}));
    assert_eq!(ep.keys(), vec!["only"]);
    assert!(endpoint(json!({})).keys().is_empty());
}

#[test]
fn model_map_drop_params_headers() {
    assert_eq!(error(json!({"model_map": {"": "x"}})).field, "model_map");
    assert_eq!(
        error(json!({"model_map": {"fast": ""}})).field,
        "model_map.fast"
    );
    let e = error(json!({"drop_params": ["top_k", "model"]}));
    assert_eq!(e.field, "drop_params[1]");
    assert_eq!(
        e.message,
        "`model` cannot be dropped; use model_map to change it"
    );
    assert!(
        error(json!({"drop_params": ["messages"]}))
            .message
            .contains("`messages`")
    );
    assert_eq!(error(json!({"drop_params": [""]})).field, "drop_params[0]");
    let e = error(json!({"headers": {"X Org": "a"}}));
    assert_eq!(e.field, "headers.X Org");
    assert!(e.message.contains("not a valid HTTP header name"));
    let e = error(json!({"headers": {"X-Org": "a\r\nEvil: 1"}}));
    assert!(e.message.contains("line breaks"));
}

#[test]
fn zero_timeouts_are_refused() {
    let e = error(json!({"timeouts": {"connect": 0}}));
    assert_eq!(e.field, "timeouts.connect");
    let mut file = ConfigFile::default();
    file.timeouts.idle = HumanDuration::from_secs(0);
    let Err(FileError::File(e)) = validate_file(&file) else {
        panic!("zero idle timeout accepted");
    };
    assert_eq!(e.field, "timeouts.idle");
}

#[test]
fn duplicate_names_in_a_file() {
    let file = ConfigFile {
        endpoints: vec![
            endpoint(json!({"name": "a"})),
            endpoint(json!({"name": "b"})),
            endpoint(json!({"name": "a"})),
        ],
        ..ConfigFile::default()
    };
    let Err(FileError::Endpoint(e)) = validate_file(&file) else {
        panic!("duplicate accepted");
    };
    assert_eq!((e.index, e.duplicate_of), (2, Some(0)));
    assert_eq!(e.error.field, "name");
    // Case matters: `A` and `a` are different endpoints.
    let mut file = file;
    file.endpoints[2].name = "A".into();
    assert_eq!(validate_file(&file), Ok(()));
}

fn azure(extra: serde_json::Value) -> EndpointConfig {
    let mut value = json!({"name": "az", "spec": "azure"});
    if let (Some(base), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(value).expect("endpoint JSON")
}

fn azure_error(extra: serde_json::Value) -> FieldError {
    validate_endpoint(&azure(extra)).expect_err("should be refused")
}

#[test]
fn azure_is_placed_by_resource_name_or_base_url() {
    for ok in [
        json!({"resource_name": "my-res-01"}),
        json!({"resource_name": "${AZURE_RESOURCE}"}),
        json!({"base_url": "https://my-res.openai.azure.com"}),
        json!({"base_url": "https://apim.example.com/team-a/openai/v1"}),
        json!({"base_url": "https://h/x/openai/deployments/d/chat/completions?api-version=2024-10-21", "direct_endpoint": true}),
        json!({"resource_name": "r", "api_version": "2025-04-01-preview", "auth": "bearer", "api_key": "t"}),
        json!({"resource_name": "r", "api_version": "preview", "auth": "api-key"}),
    ] {
        assert_eq!(validate_endpoint(&azure(ok.clone())), Ok(()), "{ok}");
    }
    let e = azure_error(json!({}));
    assert_eq!(e.field, "resource_name");
    assert!(
        e.message.contains("NAME.openai.azure.com") && e.message.contains("`base_url`"),
        "{}",
        e.message
    );
    let e = azure_error(json!({"resource_name": "r", "base_url": "https://r.openai.azure.com"}));
    assert!(e.message.contains("not both"), "{}", e.message);
    let e = azure_error(json!({"resource_name": "r", "direct_endpoint": true}));
    assert_eq!(e.field, "direct_endpoint");
}

#[test]
fn azure_resource_names_must_be_host_labels() {
    for bad in ["my_res", "-res", "res-", "r s", ""] {
        let e = azure_error(json!({ "resource_name": bad }));
        assert_eq!(e.field, "resource_name", "{bad}");
    }
    let e = azure_error(json!({"resource_name": "my_res"}));
    assert!(
        e.message.contains("letters, digits and `-`"),
        "{}",
        e.message
    );
    assert!(
        azure_error(json!({"resource_name": "a".repeat(65)}))
            .message
            .contains("64")
    );
    // A pasted host or URL gets the name to write instead.
    let e = azure_error(json!({"resource_name": "https://my-res.openai.azure.com/"}));
    assert!(
        e.message.contains("`resource_name: my-res`"),
        "{}",
        e.message
    );
    let e = azure_error(json!({"resource_name": "my-res.openai.azure.com"}));
    assert!(
        e.message.contains("`resource_name: my-res`")
            && e.message
                .contains("base_url: https://my-res.openai.azure.com"),
        "{}",
        e.message
    );
}

#[test]
fn azure_base_urls_stop_before_openai() {
    let e = azure_error(
        json!({"base_url": "https://r.openai.azure.com/openai/deployments/gpt4o/chat/completions"}),
    );
    assert_eq!(e.field, "base_url");
    assert!(
        e.message.contains("(here `https://r.openai.azure.com`)")
            && e.message.contains("model_map"),
        "{}",
        e.message
    );
    let e = azure_error(
        json!({"base_url": "https://r.openai.azure.com/openai?api-version=2024-10-21"}),
    );
    assert!(e.message.contains("`api_version`"), "{}", e.message);
    let e = azure_error(json!({"base_url": "https://r.openai.azure.com/?x=1"}));
    assert!(e.message.contains("query"), "{}", e.message);
    assert_eq!(
        azure_error(json!({"base_url": "r.openai.azure.com"})).field,
        "base_url"
    );
}

#[test]
fn azure_api_versions_and_auth() {
    let e = azure_error(json!({"resource_name": "r", "api_version": "2024-10"}));
    assert_eq!(e.field, "api_version");
    assert!(
        e.message.contains("`v1`") && e.message.contains("2024-10-21"),
        "{}",
        e.message
    );
    let e = azure_error(json!({"resource_name": "r", "auth": "bearer"}));
    assert_eq!(e.field, "auth");
    assert!(
        e.message.contains("Entra ID access token as `api_key`"),
        "{}",
        e.message
    );
}

#[test]
fn azure_fields_on_other_specs_are_refused() {
    for (field, value) in [
        ("resource_name", json!("r")),
        ("api_version", json!("v1")),
        ("auth", json!("bearer")),
    ] {
        let e = error(json!({ field: value }));
        assert_eq!(e.field, field);
        assert!(
            e.message.contains("setting of `azure` endpoints")
                && e.message.contains("`openai-chat-completions`"),
            "{}",
            e.message
        );
    }
    let mut ep = endpoint(json!({}));
    ep.base_url.clear();
    let e = validate_endpoint(&ep).expect_err("no base URL");
    assert_eq!(e.field, "base_url");
    assert!(e.message.starts_with("missing field"), "{}", e.message);
}

#[test]
fn normalization_trims_azure_fields() {
    let mut ep = azure(json!({"resource_name": " r ", "api_version": " v1\n"}));
    normalize_endpoint(&mut ep);
    assert_eq!(ep.resource_name.as_deref(), Some("r"));
    assert_eq!(ep.api_version.as_deref(), Some("v1"));
}
