//! Google OAuth2 access tokens, for `google-vertex` endpoints.
//!
//! Where the credentials come from (the endpoint's `credentials` setting,
//! [`Credentials::from_setting`]):
//!
//! | setting | credentials |
//! |---|---|
//! | starts with `{` | the JSON itself (`${VAR}` resolves to this) |
//! | anything else | the path of a JSON file |
//! | absent | application default credentials, first found of: the file named by `GOOGLE_APPLICATION_CREDENTIALS`; gcloud's `application_default_credentials.json` (in `$CLOUDSDK_CONFIG`, else `~/.config/gcloud`, else `%APPDATA%\gcloud`); the GCE metadata server (`metadata.google.internal`, or `$GCE_METADATA_HOST`) |
//!
//! A JSON file is a service-account key (`"type": "service_account"`) or
//! gcloud's user credentials (`"type": "authorized_user"`).
//!
//! How each gets a token ([`TokenSource::token`]):
//!
//! | credentials | request |
//! |---|---|
//! | service account | `POST {token_uri}`, form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT`; the JWT is RS256-signed with `private_key`, header `kid` = `private_key_id`, claims `iss` = `client_email`, `scope` = cloud-platform, `aud` = `token_uri`, `iat`, `exp` = `iat` + 1 h |
//! | authorized user | `POST {token_uri}`, form `grant_type=refresh_token&client_id&client_secret&refresh_token` |
//! | metadata server | `GET http://{host}/computeMetadata/v1/instance/service-accounts/default/token`, header `Metadata-Flavor: Google` |
//!
//! All three answer `{"access_token", "expires_in", "token_type"}`. A token
//! is reused until [`REFRESH_MARGIN`] before it expires; callers that ask
//! while an exchange is under way wait for that one exchange and share its
//! outcome. Tokens, keys, client secrets and refresh tokens are
//! [`ApiKey`]s: never in `Debug`, and scrubbed from every error message.

mod credentials;
mod token;

#[cfg(test)]
mod tests;

use std::fmt;
use std::time::{Duration, Instant};

use modelgate_protocol::secret::ApiKey;

pub use credentials::{AuthorizedUser, Credentials, MetadataServer, ServiceAccount};
pub use token::TokenSource;

/// Google's token endpoint, when a key file names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The scope Vertex AI needs.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The metadata server, when `GCE_METADATA_HOST` does not name another.
pub const METADATA_HOST: &str = "metadata.google.internal";
/// A token is refreshed this long before it expires, so that a request
/// never leaves with a token that expires on the way.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// An OAuth2 access token. `Debug` shows it masked.
#[derive(Clone)]
pub struct AccessToken {
    secret: ApiKey,
    expires_at: Instant,
}

impl AccessToken {
    /// The token itself, for the `Authorization` header.
    pub fn expose(&self) -> &str {
        self.secret.expose()
    }

    /// As a secret to scrub from messages.
    pub fn as_api_key(&self) -> &ApiKey {
        &self.secret
    }

    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// `Bearer {token}`, marked sensitive (kept out of logs and HPACK tables).
    pub fn header_value(&self) -> Result<http::HeaderValue, AuthError> {
        let mut value =
            http::HeaderValue::from_str(&format!("Bearer {}", self.expose())).map_err(|_| {
                AuthError::new(
                    AuthErrorKind::Malformed,
                    "the access token has characters that cannot go in an HTTP header",
                )
            })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &self.secret)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What went wrong, for callers that branch (e.g. the key test).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthErrorKind {
    /// The credentials setting or file is missing, unreadable or malformed.
    Credentials,
    /// The token endpoint refused the grant (`invalid_grant` and the like).
    Refused,
    /// The token endpoint or metadata server could not be reached.
    Unreachable,
    /// It answered with something that is not a token.
    Malformed,
}

/// A failure to load credentials or get a token. The message names what is
/// wrong and never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    pub kind: AuthErrorKind,
    pub message: String,
}

impl AuthError {
    pub(crate) fn new(kind: AuthErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}
