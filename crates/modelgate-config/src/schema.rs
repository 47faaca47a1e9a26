//! JSON Schema helpers: the schema `modelgate config schema` prints, which
//! editors use to complete and check the YAML file.

use modelgate_protocol::Spec;
use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator, json_schema};

use crate::ConfigFile;

/// `Spec` lives in the protocol crate, which does not depend on schemars, so
/// its schema is written here: a string enum of the seven ids.
pub(crate) fn spec_schema(_generator: &mut SchemaGenerator) -> Schema {
    let ids: Vec<&str> = Spec::ALL.iter().map(|s| s.id()).collect();
    json_schema!({
        "description": "The API the endpoint speaks.",
        "type": "string",
        "enum": ids,
    })
}

/// The JSON Schema (draft 2020-12) of the configuration file.
pub fn json_schema() -> serde_json::Value {
    // The file is input, so describe what deserialization accepts.
    SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<ConfigFile>()
        .to_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_sections_and_specs() {
        let schema = json_schema();
        let text = schema.to_string();
        assert!(text.contains("openai-chat-completions"), "{text}");
        assert!(text.contains("google-vertex"), "{text}");
        assert!(schema["properties"]["endpoints"].is_object(), "{text}");
        assert!(text.contains("base_url"), "{text}");
        // deny_unknown_fields becomes additionalProperties: false, so editors flag typos.
        assert_eq!(schema["additionalProperties"], serde_json::json!(false));
    }

    #[test]
    fn azure_fields_are_described() {
        let schema = json_schema();
        let text = schema.to_string();
        for field in ["resource_name", "api_version", "auth"] {
            assert!(text.contains(&format!("\"{field}\"")), "{field}: {text}");
        }
        assert!(
            text.contains(r#""api-key""#) && text.contains(r#""bearer""#),
            "{text}"
        );
        // `base_url` may be left out (an azure endpoint given its resource name).
        let endpoint = &schema["$defs"]["EndpointConfig"];
        let required = endpoint["required"].as_array().expect("required");
        assert!(required.contains(&serde_json::json!("name")), "{endpoint}");
        assert!(
            !required.contains(&serde_json::json!("base_url")),
            "{endpoint}"
        );
    }

    #[test]
    fn google_fields_are_described() {
        let text = json_schema().to_string();
        for field in ["project_id", "location", "credentials", "model_publishers"] {
            assert!(text.contains(&format!("\"{field}\"")), "{field}: {text}");
        }
        assert!(text.contains("application default credentials"), "{text}");
    }

    #[test]
    fn durations_are_string_or_number() {
        let text = json_schema().to_string();
        assert!(text.contains(r#""type":"number""#), "{text}");
        assert!(text.contains("(ms|s|m|h)"), "{text}");
    }
}
