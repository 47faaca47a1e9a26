//! modelgate's configuration file: its types, JSON Schema, parsing with
//! line numbers, validation, and `${VAR}` resolution.
//!
//! ```yaml
//! timeouts: { connect: 10s, first_byte: 5m, idle: 2m }
//! catalogue: { ttl: 10m }
//! auth: { require_keys: true }
//! endpoints:
//!   - name: local
//!     spec: openai-chat-completions
//!     base_url: http://localhost:11434/v1
//!     api_key: ${OLLAMA_KEY}
//!     models: { default: [llama3.1:8b], fetch: true }
//! ```
//!
//! - [`load_file`] / [`parse_str`] read a file; every error is a
//!   [`ConfigError`] with the line, the field and, for a typo, a suggestion.
//!   Unknown fields are errors, not ignored.
//! - [`validate_endpoint`] and [`normalize_endpoint`] apply the same rules to
//!   endpoints that arrive through the admin API as JSON.
//! - [`json_schema`] is the schema of the file, for editors.
//!
//! # Azure
//!
//! An `azure` endpoint is placed by `resource_name` or `base_url`, calls
//! the API `api_version` names (default `v1`) and sends its key as
//! `auth` says (`api-key` or `bearer`); see [`EndpointConfig`]'s fields.
//!
//! ```yaml
//! endpoints:
//!   - name: az
//!     spec: azure
//!     resource_name: my-resource          # or base_url: https://apim.example.com/team
//!     api_version: 2024-10-21             # default v1
//!     api_key: ${AZURE_OPENAI_API_KEY}
//!     model_map: { gpt-4o: my-gpt4o-deployment }
//! ```
//!
//! # `${VAR}`
//!
//! Any string of an endpoint (URL, keys, header values, model ids, params
//! nested at any depth in `add_params`, …) may contain `${NAME}`, where
//! `NAME` is letters, digits and `_`, not starting with a digit. References
//! are **not** resolved when the file is loaded: [`EndpointConfig::resolve`]
//! resolves them when the endpoint is used (when the routing snapshot is
//! built), and the result is never written back, so the file and the store
//! keep the reference and secrets stay in the environment. An unset
//! variable is an error naming the endpoint, the field and the variable.
//! Write `$${` for a literal `${`; any other `$` is kept as is.
//!
//! # Durations
//!
//! Timeouts and the catalogue TTL are [`HumanDuration`]s: `500ms`, `10s`,
//! `5m`, `1h` (decimals such as `1.5s` too), or a bare number of seconds.

mod azure;
mod duration;
mod google;
mod load;
mod schema;
mod spans;
mod suggest;
mod types;
mod validate;
mod vars;

pub use azure::{DEFAULT_API_VERSION, azure_resource_url, is_api_version};
pub use duration::DurationError;
pub use google::{DEFAULT_GEMINI_VERSION, GEMINI_API_URL, vertex_url};
pub use load::{Config, ConfigError, load_file, parse_str};
pub use schema::json_schema;
pub use suggest::{nearest, suggest};
pub use types::*;
pub use validate::{
    EndpointError, FieldError, FileError, normalize_endpoint, validate_endpoint, validate_file,
};
pub use vars::{ResolveError, VarError, env_lookup, resolve_vars};
