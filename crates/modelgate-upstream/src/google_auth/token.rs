//! Getting, caching and sharing access tokens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use modelgate_protocol::secret::{ApiKey, scrub};
use serde::{Deserialize, Serialize};

use super::credentials::{AuthorizedUser, Credentials, MetadataServer, ServiceAccount};
use super::{AccessToken, AuthError, AuthErrorKind, CLOUD_PLATFORM_SCOPE, REFRESH_MARGIN};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The lifetime asked of an assertion: Google's maximum.
const ASSERTION_LIFETIME: u64 = 3600;
/// Google's tokens live an hour; a longer `expires_in` is believed up to a day.
const MAX_LIFETIME: u64 = 24 * 3600;
/// A token answer is a few hundred bytes; an error page may be larger.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Connect timeout of the client the exchange uses unless the endpoint's
/// is given ([`TokenSource::with_connect_timeout`]).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole exchange, so a silent token endpoint fails requests instead
/// of holding them (and every caller waiting on the same exchange).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Access tokens for one set of credentials: cached, refreshed
/// [`REFRESH_MARGIN`](super::REFRESH_MARGIN) before expiry, one exchange at
/// a time. Share it (`Arc`) between the requests of an endpoint.
#[derive(Debug)]
pub struct TokenSource {
    credentials: Credentials,
    connect_timeout: Duration,
    /// Exchanges finished, successful or not. A caller notes it before
    /// waiting for the lock; if it moved meanwhile, the exchange it waited
    /// for is the answer (the token, or its error), and it does not start
    /// another one.
    finished: AtomicU64,
    state: tokio::sync::Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    token: Option<AccessToken>,
    last_error: Option<AuthError>,
}

impl TokenSource {
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            connect_timeout: CONNECT_TIMEOUT,
            finished: AtomicU64::new(0),
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// Exchanges go through this thread's pooled client for this connect
    /// timeout: give the endpoint's, and they share its client.
    pub fn with_connect_timeout(mut self, connect_timeout: Duration) -> Self {
        self.connect_timeout = connect_timeout;
        self
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A token valid for at least the refresh margin when one can be had
    /// (a token issued for less than the margin is used until it expires
    /// by the callers that waited for it, and replaced by the next caller).
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        let seen = self.finished.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        let now = Instant::now();
        let waited_for_one = self.finished.load(Ordering::Acquire) != seen;
        if let Some(token) = &state.token {
            let fresh = token.expires_at > now + REFRESH_MARGIN;
            if fresh || (waited_for_one && token.expires_at > now) {
                return Ok(token.clone());
            }
        }
        if waited_for_one
            && state.token.is_none()
            && let Some(error) = &state.last_error
        {
            return Err(error.clone());
        }
        let outcome = match self.exchange().await {
            Ok(token) => {
                state.token = Some(token.clone());
                state.last_error = None;
                Ok(token)
            }
            Err(error) => {
                state.last_error = Some(error.clone());
                // A refresh ahead of time failed: the old token still
                // works until it expires, so requests go on meanwhile.
                match state
                    .token
                    .as_ref()
                    .filter(|t| t.expires_at > Instant::now())
                {
                    Some(token) => {
                        tracing::warn!(
                            "Google access token refresh failed, the current one is used until it expires: {error}"
                        );
                        Ok(token.clone())
                    }
                    None => {
                        state.token = None;
                        Err(error)
                    }
                }
            }
        };
        self.finished.fetch_add(1, Ordering::Release);
        outcome
    }

    /// Forgets `rejected` (an upstream answered 401 to it: revoked before
    /// it expired), so the next [`token`](Self::token) exchanges anew. A
    /// token another caller already replaced is left alone.
    pub async fn invalidate(&self, rejected: &AccessToken) {
        let mut state = self.state.lock().await;
        if state
            .token
            .as_ref()
            .is_some_and(|t| t.expose() == rejected.expose())
        {
            state.token = None;
        }
    }

    async fn exchange(&self) -> Result<AccessToken, AuthError> {
        let client = crate::client::for_this_thread(self.connect_timeout);
        match &self.credentials {
            Credentials::ServiceAccount(sa) => {
                let assertion = assertion(sa)?;
                let body = form(&[("grant_type", JWT_BEARER), ("assertion", &assertion)]);
                let request = client.post(&sa.token_uri).header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                );
                let diagnosis = "the token exchange was refused (invalid_grant): the system clock \
                                 may be off, or the key was deleted in the Cloud console";
                send(request.body(body), &sa.token_uri, &[], diagnosis, None).await
            }
            Credentials::AuthorizedUser(user) => refresh(&client, user).await,
            Credentials::Metadata(server) => metadata(&client, server).await,
        }
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

/// The signed JWT of the JWT-bearer grant.
fn assertion(sa: &ServiceAccount) -> Result<String, AuthError> {
    let iat = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = Claims {
        iss: &sa.client_email,
        scope: CLOUD_PLATFORM_SCOPE,
        aud: &sa.token_uri,
        iat,
        exp: iat + ASSERTION_LIFETIME,
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = sa.private_key_id.clone();
    jsonwebtoken::encode(&header, &claims, &sa.key).map_err(|e| {
        AuthError::new(
            AuthErrorKind::Credentials,
            format!(
                "cannot sign the token request with the key of `{}`: {e}",
                sa.client_email
            ),
        )
    })
}

async fn refresh(
    client: &reqwest::Client,
    user: &AuthorizedUser,
) -> Result<AccessToken, AuthError> {
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("client_id", &user.client_id),
        ("client_secret", user.client_secret.expose()),
        ("refresh_token", user.refresh_token.expose()),
    ]);
    let request = client.post(&user.token_uri).header(
        http::header::CONTENT_TYPE,
        "application/x-www-form-urlencoded",
    );
    let secrets = [user.refresh_token.clone(), user.client_secret.clone()];
    let diagnosis = "the refresh token was refused (invalid_grant): it was revoked or has \
                     expired; run `gcloud auth application-default login` again";
    send(
        request.body(body),
        &user.token_uri,
        &secrets,
        diagnosis,
        None,
    )
    .await
}

async fn metadata(
    client: &reqwest::Client,
    server: &MetadataServer,
) -> Result<AccessToken, AuthError> {
    let url = server.token_url();
    let request = client.get(&url).header("metadata-flavor", "Google");
    send(request, &url, &[], "", server.searched.as_deref()).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Sends a token request and reads its answer. `searched` is set for the
/// metadata server reached as the last resort of default credentials:
/// failing to reach it then means no credentials were found at all.
async fn send(
    request: reqwest::RequestBuilder,
    url: &str,
    secrets: &[ApiKey],
    invalid_grant: &str,
    searched: Option<&str>,
) -> Result<AccessToken, AuthError> {
    let fail = |kind, message: String| AuthError::new(kind, scrub(&message, secrets));
    let sent = Instant::now();
    let response = request
        .timeout(EXCHANGE_TIMEOUT)
        .send()
        .await
        .map_err(|e| {
            let reason = if e.is_timeout() {
                format!("no answer within {}s", EXCHANGE_TIMEOUT.as_secs())
            } else {
                error_chain(&e)
            };
            match searched {
                Some(searched) => fail(
                    AuthErrorKind::Credentials,
                    format!(
                        "no Google credentials found: {searched}, and the metadata server \
                         ({url}) cannot be reached: {reason}"
                    ),
                ),
                None => fail(
                    AuthErrorKind::Unreachable,
                    format!("cannot reach the token endpoint {url}: {reason}"),
                ),
            }
        })?;
    let status = response.status();
    let body = read_answer(response)
        .await
        .map_err(|reason| fail(AuthErrorKind::Unreachable, format!("{url}: {reason}")))?;
    if !status.is_success() {
        let answer = serde_json::from_slice::<ErrorAnswer>(&body).ok();
        return Err(match answer {
            Some(answer) if answer.error == "invalid_grant" && !invalid_grant.is_empty() => fail(
                AuthErrorKind::Refused,
                format!(
                    "{invalid_grant} ({url} said: {})",
                    answer
                        .error_description
                        .as_deref()
                        .unwrap_or("no description")
                ),
            ),
            Some(answer) => fail(
                AuthErrorKind::Refused,
                format!(
                    "the token endpoint {url} refused the request: HTTP {status}, {}{}",
                    answer.error,
                    answer
                        .error_description
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ),
            ),
            None => fail(
                AuthErrorKind::Refused,
                format!(
                    "the token endpoint {url} answered HTTP {status}: {}",
                    snippet(&body)
                ),
            ),
        });
    }
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
        fail(
            AuthErrorKind::Malformed,
            format!("the token endpoint {url} answered something that is not a token ({e})"),
        )
    })?;
    if answer.access_token.is_empty() {
        return Err(fail(
            AuthErrorKind::Malformed,
            format!("the token endpoint {url} answered an empty access_token"),
        ));
    }
    // Counted from when the request left, so the network time errs on the
    // safe side; capped, so that no number sent can overflow the clock.
    let expires_at = sent + Duration::from_secs(answer.expires_in.min(MAX_LIFETIME));
    Ok(AccessToken {
        secret: ApiKey::new(answer.access_token),
        expires_at,
    })
}

async fn read_answer(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "the answer is larger than {} KiB, so not a token",
                MAX_ANSWER_BYTES / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of a non-JSON answer, for the message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None if text.is_empty() => "(empty body)".to_owned(),
        None => text.to_owned(),
    }
}

/// reqwest's error with its causes ("error sending request: connection refused").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
