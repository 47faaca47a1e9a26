//! The configuration file's types. The same `EndpointConfig` is used for
//! endpoints declared in the file, created through the admin API (JSON) and
//! kept in the store, so there is one definition of what an endpoint is.

use std::collections::BTreeMap;
use std::time::Duration;

use modelgate_protocol::Spec;
use serde::{Deserialize, Serialize};

/// The whole configuration file. Every section is optional; an empty file
/// is a valid configuration with no endpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Default timeouts for every endpoint.
    #[serde(default)]
    pub timeouts: TimeoutSettings,
    /// How long fetched model lists are cached.
    #[serde(default)]
    pub catalogue: CatalogueSettings,
    /// Gateway authentication for callers.
    #[serde(default)]
    pub auth: AuthSettings,
    /// Who may talk to the gateway over HTTP, and how it shuts down.
    #[serde(default)]
    pub server: ServerSettings,
    /// The custom endpoints.
    #[serde(default)]
    pub endpoints: Vec<EndpointConfig>,
}

/// The HTTP side of the gateway: trust boundaries and shutdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Extra `Host` names accepted when listening on a loopback address
    /// (`localhost`, `127.0.0.1` and `[::1]` always are). Guards against
    /// DNS rebinding: a web page cannot reach the gateway under its own name.
    pub allowed_hosts: Vec<String>,
    /// Browser origins allowed to call the gateway (CORS), e.g.
    /// `http://localhost:3000`; `*` allows any. Default: none, so a web page
    /// of another origin cannot spend your credit.
    pub cors_origins: Vec<String>,
    /// How long open requests and streams may take to finish after a
    /// shutdown signal; a second signal stops at once. Default 30s.
    pub drain_timeout: HumanDuration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            cors_origins: Vec::new(),
            drain_timeout: HumanDuration(Duration::from_secs(30)),
        }
    }
}

/// One custom endpoint: a service that speaks one of the seven specs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// Unique name; clients address models as `NAME/MODEL`.
    pub name: String,
    /// Which API the endpoint speaks. `provider` is accepted as another
    /// name for it (LibreChat's custom endpoints use that word).
    #[serde(alias = "provider")]
    #[schemars(schema_with = "crate::schema::spec_schema")]
    pub spec: Spec,
    /// Base URL, e.g. `http://localhost:11434/v1` (a trailing slash is removed).
    /// Required, except for an `azure` endpoint given its `resource_name`.
    /// For `azure` it is the resource's URL without the API path, e.g.
    /// `https://my-resource.openai.azure.com` or an API-management proxy's
    /// `https://apim.example.com/team-a`; modelgate appends `/openai/…`
    /// (a trailing `/openai` or `/openai/v1`, as copied from Azure's
    /// samples, is taken off first).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub base_url: String,
    /// When true, `base_url` is the full operation URL and nothing is appended.
    #[serde(default, skip_serializing_if = "is_false")]
    pub direct_endpoint: bool,
    /// The API key. Use either `api_key` or `api_keys`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// API keys: the first is the primary, the rest are tried in order on 401/403/429.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_keys: Vec<String>,
    /// Which models the endpoint offers.
    #[serde(default, skip_serializing_if = "ModelsConfig::is_default")]
    pub models: ModelsConfig,
    /// Public model id (as clients know it) → the endpoint's own model id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub model_map: BTreeMap<String, String>,
    /// Extra HTTP headers sent to the endpoint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Body fields added to every request (override the client's; objects merge deeply).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub add_params: serde_json::Map<String, serde_json::Value>,
    /// Top-level body fields removed from every request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop_params: Vec<String>,
    /// Free text shown in listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free labels for grouping and filtering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Timeouts for this endpoint, overriding the file-wide ones.
    #[serde(default, skip_serializing_if = "TimeoutOverrides::is_empty")]
    pub timeouts: TimeoutOverrides,
    /// `max_tokens` sent when the client gave none and the endpoint's spec
    /// requires one (Anthropic). Default 4096; `models.max_tokens` overrides it per model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_max_tokens: Option<u64>,
    /// How reasoning is asked of an OpenAI-compatible endpoint when a request
    /// is translated: `reasoning_effort` (default), `reasoning_object`, `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_format: Option<ReasoningFormat>,
    /// Which field an OpenAI-compatible endpoint puts reasoning text in:
    /// `reasoning_content` (default, DeepSeek) or `reasoning` (vLLM, OpenRouter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_key: Option<ReasoningKey>,
    /// Azure only: the resource name, so that the base URL is
    /// `https://{resource_name}.openai.azure.com`. Give it or `base_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Azure and Google. Azure: which API to call. `v1` (the default: the
    /// v1 API, no dated version, `/openai/v1/chat/completions` with the
    /// deployment name as `model`), `preview` (the v1 API's preview
    /// features, `?api-version=preview`), or a dated version such as
    /// `2024-10-21` (the classic API:
    /// `/openai/deployments/{deployment}/chat/completions?api-version=…`).
    /// Either way the model id sent is the deployment name. Google (Gemini
    /// API): the path version, `v1beta` (the default), `v1` or `v1alpha`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Azure only: how the key is sent. `api-key` (default: the `api-key`
    /// header) or `bearer` (`Authorization: Bearer …`, for a Microsoft
    /// Entra ID access token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AzureAuth>,
    /// google-vertex only: the Google Cloud project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// google-vertex only: the region (`us-central1`, `europe-west4`, …) or
    /// `global` (host `aiplatform.googleapis.com`, no region prefix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// google-vertex only: the service account's JSON key — inline, a path
    /// to the file, or `${VAR}`. Absent: application default credentials
    /// (`GOOGLE_APPLICATION_CREDENTIALS`, the gcloud ADC file, the metadata
    /// server). Kept encrypted like the keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// google-vertex only: the publisher of models whose id does not say it
    /// (upstream model id → `google` or `anthropic`). By default ids that
    /// start with `claude` are Anthropic's, the others Google's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub model_publishers: BTreeMap<String, Publisher>,
}

/// Who publishes a model on Vertex AI, which decides its URL and format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Publisher {
    /// Gemini models: `…/publishers/google/models/{m}:generateContent`.
    Google,
    /// Claude models: `…/publishers/anthropic/models/{m}:rawPredict`.
    Anthropic,
}

/// How an Azure endpoint sends its key.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum AzureAuth {
    /// The `api-key` header (a resource key).
    #[default]
    ApiKey,
    /// `Authorization: Bearer …` (a Microsoft Entra ID access token, scope
    /// `https://cognitiveservices.azure.com/.default`).
    Bearer,
}

/// How reasoning is requested from an OpenAI-compatible endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningFormat {
    /// `"reasoning_effort": "high"`.
    ReasoningEffort,
    /// `"reasoning": {"effort": "high"}` or `{"max_tokens": N}`.
    ReasoningObject,
    /// Never sent.
    Disabled,
}

/// The field an OpenAI-compatible endpoint streams reasoning text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningKey {
    ReasoningContent,
    Reasoning,
}

impl EndpointConfig {
    /// The `max_tokens` to send for `model` (upstream id) when the client gave none.
    pub fn max_tokens_for(&self, model: &str) -> Option<u64> {
        self.models
            .max_tokens
            .get(model)
            .copied()
            .or(self.default_max_tokens)
    }

    /// Whether the endpoint's own model list is fetched: `models.fetch`,
    /// by default every endpoint but a direct one (whose base URL is an
    /// operation, with no list beside it).
    pub fn fetches_models(&self) -> bool {
        // Vertex AI has no list per location to fetch (see `modelgate_upstream::vertex`).
        self.models
            .fetch
            .unwrap_or(!self.direct_endpoint && self.spec != Spec::GoogleVertex)
    }

    /// The base URL requests are built on: `base_url`, or when it is left
    /// out, `https://{resource_name}.openai.azure.com` (azure), Google's
    /// Gemini API host (google) or the location's Vertex AI host
    /// (google-vertex).
    pub fn effective_base_url(&self) -> String {
        if !self.base_url.is_empty() {
            return self.base_url.clone();
        }
        match self.spec {
            Spec::Azure => self
                .resource_name
                .as_deref()
                .map(crate::azure_resource_url)
                .unwrap_or_default(),
            Spec::Google => crate::google::GEMINI_API_URL.to_owned(),
            Spec::GoogleVertex => self
                .location
                .as_deref()
                .map(crate::google::vertex_url)
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// The keys in the order they are tried.
    pub fn keys(&self) -> Vec<&str> {
        self.api_key
            .iter()
            .chain(self.api_keys.iter())
            .map(String::as_str)
            .collect()
    }
}

/// The models an endpoint offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    /// Model ids that are always listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default: Vec<String>,
    /// Also fetch the list the endpoint serves (`GET {base}/models`), at
    /// start, after a change and in the background every `catalogue.ttl`.
    /// Default: true, except for direct endpoints (they have no list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch: Option<bool>,
    /// Per-model `max_tokens` default (upstream model id → tokens), for
    /// specs that require `max_tokens` when the client gave none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_tokens: BTreeMap<String, u64>,
}

impl ModelsConfig {
    /// Nothing listed and nothing fetched (lets serialization skip the section).
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// File-wide timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutSettings {
    /// TCP (and TLS) connect timeout. Default 10s.
    pub connect: HumanDuration,
    /// Time until the response headers arrive. Default 300s.
    pub first_byte: HumanDuration,
    /// Longest silence between two chunks of a streamed response. Default 120s.
    pub idle: HumanDuration,
}

impl Default for TimeoutSettings {
    fn default() -> Self {
        Self {
            connect: HumanDuration(Duration::from_secs(10)),
            first_byte: HumanDuration(Duration::from_secs(300)),
            idle: HumanDuration(Duration::from_secs(120)),
        }
    }
}

impl TimeoutSettings {
    /// These settings with an endpoint's overrides applied.
    pub fn with_overrides(self, o: &TimeoutOverrides) -> Self {
        Self {
            connect: o.connect.unwrap_or(self.connect),
            first_byte: o.first_byte.unwrap_or(self.first_byte),
            idle: o.idle.unwrap_or(self.idle),
        }
    }
}

/// Per-endpoint timeouts; unset fields fall back to the file-wide ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutOverrides {
    /// TCP (and TLS) connect timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<HumanDuration>,
    /// Time until the response headers arrive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte: Option<HumanDuration>,
    /// Longest silence between two chunks of a streamed response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<HumanDuration>,
}

impl TimeoutOverrides {
    /// No override set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// Model catalogue settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogueSettings {
    /// How long a fetched model list stays fresh. Default 10m.
    pub ttl: HumanDuration,
}

impl Default for CatalogueSettings {
    fn default() -> Self {
        Self {
            ttl: HumanDuration(Duration::from_secs(600)),
        }
    }
}

/// Gateway authentication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// Require a gateway key (`modelgate keys create`) even on a loopback address.
    /// Keys are always required when listening on any other address.
    pub require_keys: bool,
}

/// A duration written as `500ms`, `10s`, `5m`, `1h`, or a bare number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

fn is_false(b: &bool) -> bool {
    !*b
}
