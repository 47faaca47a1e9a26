use std::time::Duration;

use serde_json::json;

use super::*;
use crate::HumanDuration;

const FULL: &str = r#"# every setting
timeouts:
  connect: 5s
  first_byte: 2m
  idle: 90
catalogue:
  ttl: 1h
auth:
  require_keys: true
endpoints:
  - name: local
    spec: openai-chat-completions
    base_url: http://localhost:11434/v1/
    api_keys: [primary, "${BACKUP_KEY}"]
    models:
      default: [llama3.1:8b, qwen3]
      fetch: true
    model_map:
      fast: llama3.1:8b
    headers:
      X-Org: acme
    add_params:
      options:
        num_ctx: 8192
        stop: ["</s>"]
      keep_alive: 5m
    drop_params: [logit_bias]
    description: The GPU box
    tags: [local, gpu]
    timeouts:
      first_byte: 500ms
  - name: claude-proxy
    spec: anthropic
    base_url: https://proxy.example.com
    direct_endpoint: false
    api_key: ${ANTHROPIC_KEY}
"#;

fn parse_err(text: &str) -> ConfigError {
    parse_str(text, "modelgate.yaml").expect_err("should be refused")
}

#[test]
fn full_example() {
    let file = parse_str(FULL, "modelgate.yaml").expect("valid file");
    assert_eq!(file.timeouts.connect, HumanDuration::from_secs(5));
    assert_eq!(file.timeouts.first_byte, HumanDuration::from_secs(120));
    assert_eq!(file.timeouts.idle.get(), Duration::from_secs(90));
    assert_eq!(file.catalogue.ttl, HumanDuration::from_secs(3600));
    assert!(file.auth.require_keys);
    assert_eq!(file.endpoints.len(), 2);

    let local = &file.endpoints[0];
    assert_eq!(local.spec, Spec::OpenAiChatCompletions);
    assert_eq!(
        local.base_url, "http://localhost:11434/v1",
        "trailing slash stripped"
    );
    assert_eq!(
        local.keys(),
        vec!["primary", "${BACKUP_KEY}"],
        "kept unresolved"
    );
    assert_eq!(local.models.default, vec!["llama3.1:8b", "qwen3"]);
    assert_eq!(local.models.fetch, Some(true));
    assert_eq!(local.model_map["fast"], "llama3.1:8b");
    assert_eq!(local.headers["X-Org"], "acme");
    assert_eq!(
        serde_json::Value::Object(local.add_params.clone()),
        json!({"options": {"num_ctx": 8192, "stop": ["</s>"]}, "keep_alive": "5m"})
    );
    assert_eq!(local.drop_params, vec!["logit_bias"]);
    assert_eq!(local.description.as_deref(), Some("The GPU box"));
    assert_eq!(local.tags, vec!["local", "gpu"]);
    let t = file.timeouts.with_overrides(&local.timeouts);
    assert_eq!(t.first_byte, HumanDuration::from_millis(500));
    assert_eq!(t.connect, HumanDuration::from_secs(5));

    let proxy = &file.endpoints[1];
    assert_eq!(proxy.spec, Spec::Anthropic);
    assert_eq!(proxy.keys(), vec!["${ANTHROPIC_KEY}"]);
    assert!(proxy.models.is_default() && proxy.timeouts.is_empty());
}

#[test]
fn serializes_back_to_what_it_read() {
    let file = parse_str(FULL, "modelgate.yaml").expect("valid file");
    let json = serde_json::to_value(&file).expect("serialize");
    assert_eq!(json["timeouts"]["first_byte"], "2m");
    assert_eq!(json["endpoints"][0]["timeouts"]["first_byte"], "500ms");
    // Unset optional fields are left out, not written as null.
    assert!(json["endpoints"][1].get("models").is_none());
    let again: ConfigFile = serde_json::from_value(json).expect("deserialize");
    assert_eq!(again, file);
}

#[test]
fn empty_file_is_an_empty_config() {
    for text in ["", "\n", "# nothing yet\n", "---\n"] {
        let file = parse_str(text, "e.yaml").expect(text);
        assert_eq!(file, ConfigFile::default(), "{text:?}");
    }
    assert_eq!(
        ConfigFile::default().timeouts.connect,
        HumanDuration::from_secs(10)
    );
}

#[test]
fn typo_at_top_level() {
    let err = parse_err("timeouts: {connect: 1s}\nmodles: []\n");
    assert_eq!(err.field.as_deref(), Some("modles"));
    assert_eq!(
        err.suggestion.as_deref(),
        None,
        "no top-level field is close"
    );
    assert_eq!((err.line, err.column), (Some(2), Some(1)));
    assert!(err.message.contains("`endpoints`"), "{}", err.message);

    let err = parse_err("endpoint: []\n");
    assert_eq!(err.suggestion.as_deref(), Some("endpoints"));
}

#[test]
fn typo_in_an_endpoint() {
    let text = "endpoints:\n  - name: local\n    spec: anthropic\n    base_ur: http://x\n";
    let err = parse_err(text);
    assert_eq!(err.field.as_deref(), Some("endpoints.local.base_ur"));
    assert_eq!(err.suggestion.as_deref(), Some("base_url"));
    assert_eq!((err.line, err.column), (Some(4), Some(5)));
    assert_eq!(
        err.to_string(),
        "modelgate.yaml:4:5: endpoints.local.base_ur: unknown field; expected one of `name`, \
         `provider`, `spec`, `base_url`, `direct_endpoint`, `api_key`, `api_keys`, `models`, \
         `model_map`, `headers`, `add_params`, `drop_params`, `description`, `tags`, `timeouts`, \
         `default_max_tokens`, `reasoning_format`, `reasoning_key`, `resource_name`, `api_version`, `auth`, \
         `project_id`, `location`, `credentials`, `model_publishers` (did you mean `base_url`?)"
    );

    let text = "endpoints:\n  - name: local\n    modles: {}\n";
    let err = parse_err(text);
    assert_eq!(err.suggestion.as_deref(), Some("models"));
    assert_eq!(err.line, Some(3));
}

#[test]
fn typo_nested_deeper() {
    let text =
        "endpoints:\n- name: a\n  spec: google\n  base_url: http://h\n  models: {fetchh: true}\n";
    let err = parse_err(text);
    assert_eq!(err.field.as_deref(), Some("endpoints.a.models.fetchh"));
    assert_eq!(err.suggestion.as_deref(), Some("fetch"));
    assert_eq!((err.line, err.column), (Some(5), Some(12)));

    let err = parse_err("timeouts:\n  conect: 1s\n");
    assert_eq!(err.field.as_deref(), Some("timeouts.conect"));
    assert_eq!(err.suggestion.as_deref(), Some("connect"));
    assert_eq!(err.line, Some(2));
}

#[test]
fn type_error_names_field_and_line() {
    let text = "endpoints:\n  - name: a\n    spec: google\n    base_url: http://h\n    models:\n      fetch: maybe\n";
    let err = parse_err(text);
    assert_eq!(err.field.as_deref(), Some("endpoints.a.models.fetch"));
    assert_eq!(err.line, Some(6));
    assert!(err.message.contains("true or false"), "{}", err.message);
    assert!(err.message.contains("`maybe`"), "{}", err.message);
    assert!(!err.to_string().contains('\n'), "one line: {err}");

    let err = parse_err("auth:\n  require_keys: [1]\n");
    assert_eq!(err.field.as_deref(), Some("auth.require_keys"));
    assert_eq!(err.line, Some(2));

    let err = parse_err("timeouts:\n  idle: soon\n");
    assert_eq!(err.field.as_deref(), Some("timeouts.idle"));
    assert!(
        err.message
            .contains("expected a duration like 500ms, 10s, 5m or 1h")
    );
}

#[test]
fn unknown_spec_lists_specs_with_line() {
    let text = "endpoints:\n  - name: a\n    spec: openai\n    base_url: http://h\n";
    let err = parse_err(text);
    assert_eq!(err.line, Some(3));
    assert_eq!(err.field.as_deref(), Some("endpoints.a.spec"));
    assert!(
        err.message.contains("openai-chat-completions"),
        "{}",
        err.message
    );
    assert!(err.message.contains("amazon-bedrock"), "{}", err.message);
    assert_eq!(err.suggestion.as_deref(), Some("openai-chat-completions"));
    let err = parse_err(&text.replace("openai", "antropic"));
    assert_eq!(err.suggestion.as_deref(), Some("anthropic"));
}

#[test]
fn missing_field_is_named() {
    let err = parse_err("endpoints:\n  - name: a\n    spec: anthropic\n    tags: [x]\n");
    assert_eq!(err.field.as_deref(), Some("endpoints.a.base_url"));
    assert!(err.message.starts_with("missing field"), "{}", err.message);
    assert!(
        err.message.contains("http://localhost:11434/v1"),
        "{}",
        err.message
    );
    assert_eq!(err.line, Some(2), "the endpoint's line");
    let text = "endpoints:\n  - name: a\n    base_url: http://h\n    models:\n      fetch: true\n";
    let err = parse_err(text);
    assert_eq!(err.field.as_deref(), Some("endpoints.a.spec"));
    let err = parse_err("endpoints:\n  - {}\n");
    assert_eq!(err.field.as_deref(), Some("endpoints[0].name"));
    assert_eq!(err.line, Some(2));
}

#[test]
fn duplicate_names_name_both_lines() {
    let ep = |name: &str| format!("  - name: {name}\n    spec: google\n    base_url: http://h\n");
    let text = format!("endpoints:\n{}{}{}", ep("a"), ep("b"), ep("a"));
    let err = parse_err(&text);
    assert_eq!(err.line, Some(8));
    assert_eq!(err.field.as_deref(), Some("endpoints.a.name"));
    assert!(err.message.contains("used twice"), "{}", err.message);
    assert!(err.message.contains("first at line 2"), "{}", err.message);
}

#[test]
fn validation_errors_have_lines() {
    let text = "endpoints:\n  - name: anthropic\n    spec: anthropic\n    base_url: http://h\n";
    let err = parse_err(text);
    assert_eq!((err.line, err.column), (Some(2), Some(5)));
    assert!(err.message.contains("`my-anthropic`"), "{}", err.message);

    let text = "endpoints:\n  - name: team/x\n    spec: google\n    base_url: http://h\n";
    let err = parse_err(text);
    assert_eq!(err.field.as_deref(), Some("endpoints[0].name"));
    assert!(err.message.contains('/'), "{}", err.message);

    let text = "endpoints:\n  - name: x\n    spec: google\n    base_url: localhost:8080\n";
    let err = parse_err(text);
    assert_eq!(err.field.as_deref(), Some("endpoints.x.base_url"));
    assert_eq!(err.line, Some(4));

    let text = "endpoints:\n- name: x\n  spec: google\n  base_url: http://h\n  api_key: a\n  api_keys:\n    - b\n";
    let err = parse_err(text);
    assert_eq!(err.field.as_deref(), Some("endpoints.x.api_key"));
    assert_eq!(err.line, Some(5));

    let text = "endpoints:\n- name: x\n  spec: google\n  base_url: http://h\n  headers:\n    X-A: ok\n    \"Bad Name\": v\n";
    let err = parse_err(text);
    assert_eq!(err.field.as_deref(), Some("endpoints.x.headers.Bad Name"));
    assert_eq!(err.line, Some(7));

    let err = parse_err("timeouts:\n  connect: 0s\n");
    assert_eq!(err.field.as_deref(), Some("timeouts.connect"));
    assert_eq!(err.line, Some(2));
}

#[test]
fn syntax_and_duplicate_key_errors_have_locations() {
    let err = parse_err("endpoints:\n  - name: a\n   bad indent: [\n");
    assert!(err.line.is_some(), "{err}");
    assert!(!err.to_string().contains('\n'), "{err}");
    assert!(err.field.is_none(), "{err}");
    let err = parse_err("auth: {}\nauth: {}\n");
    assert_eq!(err.line, Some(2));
    assert_eq!(err.field.as_deref(), Some("auth"));
    assert!(err.message.contains("twice"), "{}", err.message);
    let err = parse_err("auth: {}\n---\nauth: {}\n");
    assert!(
        err.message.contains("more than one YAML document"),
        "{}",
        err.message
    );
}

#[test]
fn display_leaves_out_unknown_parts() {
    let err = ConfigError::new("x.yaml", "cannot read");
    assert_eq!(err.to_string(), "x.yaml: cannot read");
    let err = ConfigError {
        line: Some(3),
        column: Some(7),
        field: Some("auth".into()),
        suggestion: Some("auth".into()),
        ..ConfigError::new("x.yaml", "oops")
    };
    assert_eq!(
        err.to_string(),
        "x.yaml:3:7: auth: oops (did you mean `auth`?)"
    );
}

#[test]
fn load_file_reads_and_names_missing_files() {
    let dir = std::env::temp_dir().join(format!("modelgate-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("modelgate.yaml");
    std::fs::write(&path, FULL).expect("write");
    let config = load_file(&path).expect("load");
    assert_eq!(config.path.as_deref(), Some(path.as_path()));
    assert_eq!(config.file.endpoints.len(), 2);

    let missing = dir.join("nope.yaml");
    let err = load_file(&missing).expect_err("missing file");
    assert_eq!(err.origin, missing.display().to_string());
    assert!(
        err.to_string().starts_with(&missing.display().to_string()),
        "{err}"
    );
    assert!(err.message.contains("cannot read"), "{}", err.message);

    std::fs::write(&path, "endpoints: 3\n").expect("write");
    let err = load_file(&path).expect_err("bad file");
    assert_eq!(err.origin, path.display().to_string());
    assert_eq!(err.field.as_deref(), Some("endpoints"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn provider_is_another_name_for_spec() {
    let text = "endpoints:\n  - name: claude-proxy\n    provider: anthropic\n    base_url: http://x\n    reasoning_format: reasoning_object\n    reasoning_key: reasoning\n    default_max_tokens: 8192\n    models: {max_tokens: {big: 32000}}\n";
    let file = parse_str(text, "m.yaml").unwrap();
    let ep = &file.endpoints[0];
    assert_eq!(ep.spec, modelgate_protocol::Spec::Anthropic);
    assert_eq!(ep.max_tokens_for("big"), Some(32000));
    assert_eq!(ep.max_tokens_for("small"), Some(8192));
    assert_eq!(
        ep.reasoning_format,
        Some(crate::ReasoningFormat::ReasoningObject)
    );
}

#[test]
fn azure_endpoints() {
    let text = "endpoints:\n  - name: az\n    spec: azure\n    resource_name: my-res\n    api_version: 2024-10-21\n    auth: bearer\n    api_key: ${AZURE_TOKEN}\n  - name: az-proxy\n    spec: azure\n    base_url: https://apim.example.com/team/openai/\n";
    let file = parse_str(text, "m.yaml").unwrap();
    let az = &file.endpoints[0];
    assert_eq!(az.spec, Spec::Azure);
    assert_eq!(az.effective_base_url(), "https://my-res.openai.azure.com");
    assert_eq!(az.azure_api_version(), "2024-10-21");
    assert_eq!(az.auth, Some(crate::AzureAuth::Bearer));
    let proxy = &file.endpoints[1];
    assert_eq!(proxy.azure_api_version(), "v1", "the v1 API by default");
    assert_eq!(
        proxy.effective_base_url(),
        "https://apim.example.com/team/openai"
    );
    // Written back, unset fields stay out (the store keeps this JSON).
    let json = serde_json::to_value(&file).unwrap();
    assert!(json["endpoints"][0].get("base_url").is_none());
    assert!(json["endpoints"][1].get("api_version").is_none());
    assert!(json["endpoints"][1].get("auth").is_none());
    assert_eq!(json["endpoints"][0]["auth"], "bearer");
    let again: ConfigFile = serde_json::from_value(json).unwrap();
    assert_eq!(again, file);
}

#[test]
fn azure_errors_point_at_the_field() {
    let err = parse_err("endpoints:\n  - name: az\n    spec: azure\n    api_key: k\n");
    assert_eq!(err.field.as_deref(), Some("endpoints.az.resource_name"));
    assert_eq!(err.line, Some(2), "the endpoint's line");
    assert!(err.message.contains("`base_url`"), "{}", err.message);

    let err = parse_err("endpoints:\n  - name: az\n    spec: azure\n    resource_name: my_res\n");
    assert_eq!(err.field.as_deref(), Some("endpoints.az.resource_name"));
    assert_eq!(err.line, Some(4));

    let err = parse_err(
        "endpoints:\n  - name: x\n    spec: openai-chat-completions\n    base_url: http://h/v1\n    api_version: 2024-10-21\n",
    );
    assert_eq!(err.field.as_deref(), Some("endpoints.x.api_version"));
    assert!(err.message.contains("`azure`"), "{}", err.message);

    // A typo among the new fields gets a suggestion.
    let err = parse_err("endpoints:\n  - name: az\n    spec: azure\n    resource: my-res\n");
    assert_eq!(err.suggestion.as_deref(), Some("resource_name"));
    let err = parse_err(
        "endpoints:\n  - name: az\n    spec: azure\n    resource_name: r\n    apiversion: v1\n",
    );
    assert_eq!(err.suggestion.as_deref(), Some("api_version"));
    let err = parse_err(
        "endpoints:\n  - name: az\n    spec: azure\n    resource_name: r\n    auth: entra\n",
    );
    assert_eq!(err.field.as_deref(), Some("endpoints.az.auth"));
    assert!(
        err.message.contains("api-key") && err.message.contains("bearer"),
        "{}",
        err.message
    );
}
