//! How an endpoint is stored, whatever the database: the row's columns,
//! the sealed secrets, and what those secrets are bound to.
//!
//! A row is `name`, `spec`, `settings` (the `EndpointConfig` JSON without
//! name, spec, keys, headers and credentials) and `secrets` (the sealed
//! `{"api_keys": [...], "headers": {...}, "credentials": "…"}`, the last
//! only for a google-vertex endpoint that has a service account).
//!
//! The secrets are bound (AEAD associated data) to the row's **name, spec,
//! base URL and `direct_endpoint` flag**, the fields that decide where the
//! keys are sent and how. Someone who can write the database but has no
//! master key can then neither move sealed keys to another endpoint nor
//! point an endpoint at their own host: the secrets stop opening instead.
//! Other settings (model maps, params, timeouts…) are left out on purpose:
//! they do not send keys anywhere, and binding them would make every
//! future settings migration reseal every row.

use std::borrow::Cow;
use std::collections::BTreeMap;

use modelgate_config::EndpointConfig;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroize as _;

use crate::StoreError;
use crate::master_key::Keyring;
use crate::secret::{Envelope, EnvelopeVersion, MasterKey, OpenFailure};

/// An endpoint row as stored.
#[derive(Debug, Clone)]
pub(crate) struct StoredRow {
    pub name: String,
    pub spec: String,
    pub settings: String,
    pub secrets: String,
}

/// The columns to write for an endpoint (its name is the caller's).
pub(crate) struct EncodedEndpoint {
    pub spec: &'static str,
    pub settings: String,
    pub secrets: String,
}

/// What is encrypted for an endpoint. Headers are included because they
/// often carry credentials (`x-api-key`, `Authorization`).
#[derive(Serialize, Deserialize)]
struct Secrets {
    api_keys: Vec<String>,
    headers: BTreeMap<String, String>,
    /// A google-vertex service account (its JSON holds a private key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credentials: Option<String>,
}

/// Splits an endpoint into its columns, sealing its secrets.
pub(crate) fn encode_endpoint(
    master: &MasterKey,
    ep: &EndpointConfig,
) -> Result<EncodedEndpoint, StoreError> {
    let mut settings = match serde_json::to_value(ep) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(StoreError::Corrupt(
                "endpoint did not serialize to an object".into(),
            ));
        }
    };
    // Name and spec have their own columns; credentials go to `secrets`.
    for field in [
        "name",
        "spec",
        "api_key",
        "api_keys",
        "headers",
        "credentials",
    ] {
        settings.remove(field);
    }
    let secrets = Secrets {
        api_keys: ep.keys().into_iter().map(str::to_owned).collect(),
        headers: ep.headers.clone(),
        credentials: ep.credentials.clone(),
    };
    let mut plaintext = serde_json::to_vec(&secrets)
        .map_err(|e| StoreError::Corrupt(format!("serializing secrets: {e}")))?;
    let spec = ep.spec.id();
    let aad = binding_aad(&ep.name, spec, &settings)?;
    let sealed = master.seal(&plaintext, &aad);
    plaintext.zeroize();
    Ok(EncodedEndpoint {
        spec,
        settings: Value::Object(settings).to_string(),
        secrets: sealed?,
    })
}

/// The endpoint in `row`, secrets decrypted.
pub(crate) fn decode_endpoint(
    master: &MasterKey,
    row: &StoredRow,
) -> Result<EndpointConfig, StoreError> {
    let settings = parse_settings(row)?;
    let envelope = Envelope::parse(&row.secrets).map_err(|e| in_endpoint(&row.name, e))?;
    if envelope.version == EnvelopeVersion::V1 {
        return Err(StoreError::Crypto(format!(
            "endpoint `{}`: its secrets are sealed in the old v1 format, which only the \
             migration when the store opens accepts, so the row was changed outside \
             modelgate; its keys are not used. Check its base URL, then re-add its keys \
             (delete the endpoint and create it again)",
            row.name
        )));
    }
    let aad = binding_aad(&row.name, &row.spec, &settings)?;
    let mut plaintext = master
        .open_parsed(&envelope, &aad)
        .map_err(|e| opening_failed(&row.name, e))?;
    let secrets: Result<Secrets, _> = serde_json::from_slice(&plaintext);
    plaintext.zeroize();
    let secrets = secrets.map_err(|e| corrupt(&row.name, &e))?;
    let mut ep = build_config(row, settings)?;
    ep.api_keys = secrets.api_keys;
    ep.headers = secrets.headers;
    ep.credentials = secrets.credentials;
    Ok(ep)
}

/// The endpoint in `row` without its secrets (no keys, no headers): what
/// can still be shown of an endpoint whose secrets do not open.
pub(crate) fn decode_without_secrets(row: &StoredRow) -> Result<EndpointConfig, StoreError> {
    build_config(row, parse_settings(row)?)
}

/// What a migration does with one row's sealed secrets.
#[derive(Debug)]
pub(crate) enum RowMigration {
    /// Sealed as `v2` under the current key: nothing to do.
    Current,
    /// The new `v2` envelope under the current key, to write back.
    Resealed(String),
    /// Cannot be migrated (tampered, corrupt, or another key): left as it is,
    /// it is then reported when the endpoint is read.
    Unreadable(StoreError),
}

/// The `meta` row recording that a store's secrets were migrated to `v2`
/// under its current key, and the value it then holds.
pub(crate) const FORMAT_META_KEY: &str = "endpoint_secrets_format";
pub(crate) const CURRENT_FORMAT: &str = "v2";

/// Brings one row's secrets to `v2` under the keyring's current key: `v1`
/// envelopes (bound to the name only) and envelopes sealed under the legacy
/// passphrase key are opened and sealed again.
///
/// `accept_old` is true only until the store has been migrated once (see
/// [`FORMAT_META_KEY`]). After that an old envelope is refused even here:
/// otherwise an old `v1` value (from a backup) put back into a row whose
/// base URL was changed would be resealed bound to the new base URL.
pub(crate) fn migrate_row(keys: &Keyring, row: &StoredRow, accept_old: bool) -> RowMigration {
    match try_migrate_row(keys, row, accept_old) {
        Ok(None) => RowMigration::Current,
        Ok(Some(sealed)) => RowMigration::Resealed(sealed),
        Err(e) => RowMigration::Unreadable(e),
    }
}

fn try_migrate_row(
    keys: &Keyring,
    row: &StoredRow,
    accept_old: bool,
) -> Result<Option<String>, StoreError> {
    let envelope = Envelope::parse(&row.secrets).map_err(|e| in_endpoint(&row.name, e))?;
    if envelope.version == EnvelopeVersion::V2 && envelope.key_id == keys.current.key_id() {
        return Ok(None);
    }
    if !accept_old {
        // Says why, as reading the endpoint would.
        return decode_endpoint(&keys.current, row).map(|_| None);
    }
    let settings = parse_settings(row)?;
    let new_aad = binding_aad(&row.name, &row.spec, &settings)?;
    let old_aad = match envelope.version {
        EnvelopeVersion::V1 => format!("endpoint:{}", row.name).into_bytes(),
        EnvelopeVersion::V2 => new_aad.clone(),
    };
    let key = keys.key_for(envelope.key_id).unwrap_or(&keys.current);
    let mut plaintext = key
        .open_parsed(&envelope, &old_aad)
        .map_err(|e| opening_failed(&row.name, e))?;
    let sealed = keys.current.seal(&plaintext, &new_aad);
    plaintext.zeroize();
    sealed.map(Some)
}

/// The key id on a sealed value, `None` when it does not parse.
pub(crate) fn sealed_with(secrets: &str) -> Option<&str> {
    Envelope::parse(secrets).ok().map(|e| e.key_id)
}

/// The associated data binding an endpoint's secrets: JSON of a fixed
/// struct (so fields cannot run into each other), with the base URL and
/// flag exactly as they are in the stored settings (for an azure endpoint
/// without one, the URL its `resource_name` stands for).
fn binding_aad(
    name: &str,
    spec: &str,
    settings: &Map<String, Value>,
) -> Result<Vec<u8>, StoreError> {
    #[derive(Serialize)]
    struct Binding<'a> {
        purpose: &'static str,
        name: &'a str,
        spec: &'a str,
        base_url: &'a str,
        direct_endpoint: bool,
    }
    // An endpoint may leave its base URL out (azure placed by its resource
    // name, google on Google's host, google-vertex on its location's): then
    // the URL it stands for is bound, so keys never follow a changed name.
    let text = |key: &str| match settings.get(key) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    let base_url: Option<Cow<'_, str>> = match (settings.get("base_url"), spec) {
        (Some(url), _) => url.as_str().map(Cow::Borrowed),
        (None, "azure") => {
            text("resource_name").map(|r| Cow::Owned(modelgate_config::azure_resource_url(r)))
        }
        (None, "google") => Some(Cow::Borrowed(modelgate_config::GEMINI_API_URL)),
        (None, "google-vertex") => {
            text("location").map(|l| Cow::Owned(modelgate_config::vertex_url(l)))
        }
        _ => None,
    };
    let base_url = base_url
        .ok_or_else(|| StoreError::Corrupt(format!("endpoint `{name}` has no base_url")))?;
    let direct_endpoint = match settings.get("direct_endpoint") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(StoreError::Corrupt(format!(
                "endpoint `{name}`: direct_endpoint is not a boolean"
            )));
        }
    };
    serde_json::to_vec(&Binding {
        purpose: "modelgate endpoint secrets v2",
        name,
        spec,
        base_url: &base_url,
        direct_endpoint,
    })
    .map_err(|e| StoreError::Corrupt(format!("endpoint `{name}`: {e}")))
}

fn parse_settings(row: &StoredRow) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_str(&row.settings).map_err(|e| corrupt(&row.name, &e))
}

/// The config from the row's columns; normalized: every key in `api_keys`
/// (none here), `api_key` unset.
fn build_config(
    row: &StoredRow,
    mut settings: Map<String, Value>,
) -> Result<EndpointConfig, StoreError> {
    for field in ["api_key", "api_keys", "headers"] {
        settings.remove(field);
    }
    settings.insert("name".into(), row.name.clone().into());
    settings.insert("spec".into(), row.spec.clone().into());
    serde_json::from_value(Value::Object(settings)).map_err(|e| corrupt(&row.name, &e))
}

fn opening_failed(name: &str, failure: OpenFailure) -> StoreError {
    let rejected = format!(
        "endpoint `{name}`: its secrets do not decrypt. They are bound to its base URL (and \
         its name, spec and direct_endpoint flag), so the row was changed outside modelgate, \
         or is corrupt; its keys are not used. Check its base URL, then re-add its keys \
         (delete the endpoint and create it again)"
    );
    match failure {
        OpenFailure::Rejected => StoreError::Crypto(rejected),
        other => in_endpoint(name, other.into_error("")),
    }
}

fn in_endpoint(name: &str, e: StoreError) -> StoreError {
    StoreError::Crypto(format!("secrets of endpoint `{name}`: {e}"))
}

fn corrupt(name: &str, e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("endpoint `{name}`: {e}"))
}
