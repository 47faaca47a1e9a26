//! Loading credentials: the setting, key files and application default
//! credentials (the table is in the [module docs](super)).

use std::fmt;
use std::path::{Path, PathBuf};

use jsonwebtoken::EncodingKey;
use modelgate_protocol::secret::ApiKey;
use serde_json::{Map, Value};

use super::{AuthError, AuthErrorKind, DEFAULT_TOKEN_URI, METADATA_HOST};

/// Key files are a few KB; a larger file is not one.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Credentials that can get access tokens.
#[derive(Debug, Clone)]
pub enum Credentials {
    ServiceAccount(ServiceAccount),
    AuthorizedUser(AuthorizedUser),
    Metadata(MetadataServer),
}

/// A service-account key (`"type": "service_account"`).
#[derive(Clone)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key_id: Option<String>,
    pub token_uri: String,
    pub project_id: Option<String>,
    /// Parsed (and tried) once at load, so a bad key fails there.
    pub(crate) key: EncodingKey,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

/// gcloud's user credentials (`"type": "authorized_user"`).
#[derive(Debug, Clone)]
pub struct AuthorizedUser {
    pub client_id: String,
    pub client_secret: ApiKey,
    pub refresh_token: ApiKey,
    pub token_uri: String,
    pub quota_project_id: Option<String>,
}

/// The GCE metadata server.
#[derive(Debug, Clone)]
pub struct MetadataServer {
    /// `host[:port]`.
    pub host: String,
    /// Set when application default credentials fell back to the metadata
    /// server: what was looked for before, for the message when it cannot
    /// be reached either.
    pub searched: Option<String>,
}

impl MetadataServer {
    pub fn token_url(&self) -> String {
        format!(
            "http://{}/computeMetadata/v1/instance/service-accounts/default/token",
            self.host
        )
    }
}

impl Credentials {
    /// The credentials an endpoint's `credentials` setting names (its
    /// `${VAR}`s resolved), reading the process environment for
    /// application default credentials.
    pub fn from_setting(setting: Option<&str>) -> Result<Self, AuthError> {
        Self::from_setting_with(setting, &|name| std::env::var(name).ok())
    }

    /// [`from_setting`](Self::from_setting) with the environment looked up
    /// through `var` (tests pass a map).
    pub fn from_setting_with(
        setting: Option<&str>,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, AuthError> {
        match setting.map(str::trim) {
            Some(json) if json.starts_with('{') => Self::from_json(json, "the inline credentials"),
            Some(path) => Self::from_file(Path::new(path)),
            None => Self::application_default(var),
        }
    }

    /// Parses a key file's text; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, AuthError> {
        let bad = |message: String| {
            AuthError::new(AuthErrorKind::Credentials, format!("{origin}: {message}"))
        };
        // serde_json's message gives line and column, never the text.
        let value: Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON ({e})")))?;
        let Value::Object(fields) = value else {
            return Err(bad("not a JSON object".into()));
        };
        match fields.get("type").and_then(Value::as_str) {
            Some("service_account") => service_account(&fields)
                .map(Self::ServiceAccount)
                .map_err(bad),
            Some("authorized_user") => authorized_user(&fields)
                .map(Self::AuthorizedUser)
                .map_err(bad),
            Some(other) => Err(bad(format!(
                "`type` is `{other}`; modelgate takes `service_account` or `authorized_user` credentials"
            ))),
            None => Err(bad(
                "`type` is missing (expected `service_account` or `authorized_user`)".into(),
            )),
        }
    }

    /// Reads a key file.
    pub fn from_file(path: &Path) -> Result<Self, AuthError> {
        let origin = format!("credentials file `{}`", path.display());
        let text = read_small(path).map_err(|e| {
            AuthError::new(
                AuthErrorKind::Credentials,
                format!("cannot read {origin}: {e}"),
            )
        })?;
        Self::from_json(&text, &origin)
    }

    /// Application default credentials, in Google's order.
    fn application_default(var: &dyn Fn(&str) -> Option<String>) -> Result<Self, AuthError> {
        if let Some(path) = var("GOOGLE_APPLICATION_CREDENTIALS").filter(|p| !p.is_empty()) {
            return Self::from_file(Path::new(&path)).map_err(|e| {
                AuthError::new(
                    e.kind,
                    format!("GOOGLE_APPLICATION_CREDENTIALS: {}", e.message),
                )
            });
        }
        let gcloud = gcloud_adc_path(var);
        if let Some(path) = &gcloud
            && path.is_file()
        {
            return Self::from_file(path);
        }
        let host = var("GCE_METADATA_HOST")
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| METADATA_HOST.to_owned());
        let searched = match &gcloud {
            Some(path) => format!(
                "GOOGLE_APPLICATION_CREDENTIALS is not set and there is no gcloud file `{}` \
                 (run `gcloud auth application-default login`, or set `credentials`)",
                path.display()
            ),
            None => "GOOGLE_APPLICATION_CREDENTIALS is not set and there is no home directory \
                     to find gcloud's credentials in (set `credentials`)"
                .to_owned(),
        };
        Ok(Self::Metadata(MetadataServer {
            host,
            searched: Some(searched),
        }))
    }

    /// The project the credentials belong to, when they say.
    pub fn project_id(&self) -> Option<&str> {
        match self {
            Self::ServiceAccount(sa) => sa.project_id.as_deref(),
            Self::AuthorizedUser(user) => user.quota_project_id.as_deref(),
            Self::Metadata(_) => None,
        }
    }

    /// The secrets these credentials hold that could be echoed in a
    /// message (the private key never leaves the signer).
    pub fn secrets(&self) -> Vec<ApiKey> {
        match self {
            Self::AuthorizedUser(user) => {
                vec![user.refresh_token.clone(), user.client_secret.clone()]
            }
            Self::ServiceAccount(_) | Self::Metadata(_) => Vec::new(),
        }
    }
}

/// gcloud's ADC file: `$CLOUDSDK_CONFIG/application_default_credentials.json`,
/// else under `$HOME/.config/gcloud` (`%APPDATA%\gcloud` on Windows).
fn gcloud_adc_path(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let nonempty = |name: &str| var(name).filter(|v| !v.is_empty());
    let dir = if let Some(dir) = nonempty("CLOUDSDK_CONFIG") {
        PathBuf::from(dir)
    } else if cfg!(windows) {
        PathBuf::from(nonempty("APPDATA")?).join("gcloud")
    } else {
        PathBuf::from(nonempty("HOME")?)
            .join(".config")
            .join("gcloud")
    };
    Some(dir.join("application_default_credentials.json"))
}

fn read_small(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(
            "larger than 1 MiB, so not a credentials file",
        ));
    }
    Ok(text)
}

fn required<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Err(format!("`{name}` is missing")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("`{name}` is empty")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("`{name}` is not a string")),
    }
}

fn optional(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{name}` is not a string")),
    }
}

fn token_uri(fields: &Map<String, Value>) -> Result<String, String> {
    let uri = optional(fields, "token_uri")?.unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
    match reqwest::Url::parse(&uri) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(uri),
        _ => Err(format!("`token_uri` (`{uri}`) is not an http(s) URL")),
    }
}

fn service_account(fields: &Map<String, Value>) -> Result<ServiceAccount, String> {
    let client_email = required(fields, "client_email")?.to_owned();
    let pem = required(fields, "private_key")?;
    // The messages name the field and what is wrong with it, never its text.
    if !pem.contains("-----BEGIN") {
        return Err(
            "`private_key` is not a PEM key (expected `-----BEGIN PRIVATE KEY-----`…)".into(),
        );
    }
    let key = EncodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|e| format!("`private_key` is not an RSA private key in PEM ({e})"))?;
    // Parsing the PEM does not parse the key inside: a trial signature does,
    // so a damaged key fails here and not at the first request.
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &serde_json::json!({}),
        &key,
    )
    .map_err(|e| format!("`private_key` cannot sign with RS256 ({e})"))?;
    Ok(ServiceAccount {
        client_email,
        private_key_id: optional(fields, "private_key_id")?,
        token_uri: token_uri(fields)?,
        project_id: optional(fields, "project_id")?,
        key,
    })
}

fn authorized_user(fields: &Map<String, Value>) -> Result<AuthorizedUser, String> {
    Ok(AuthorizedUser {
        client_id: required(fields, "client_id")?.to_owned(),
        client_secret: ApiKey::new(required(fields, "client_secret")?),
        refresh_token: ApiKey::new(required(fields, "refresh_token")?),
        token_uri: token_uri(fields)?,
        quota_project_id: optional(fields, "quota_project_id")?,
    })
}
