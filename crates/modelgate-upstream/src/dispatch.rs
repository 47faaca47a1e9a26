//! Sending a request to an endpoint, falling back across its keys.
//!
//! 401, 403 and 429 move on to the next key (a 429 also puts its key in
//! cooldown for `Retry-After`). When every key was rejected the caller gets
//! a 502 `upstream_keys_exhausted` (all 429s: a 429 `rate_limited_on_every_key`);
//! an endpoint without keys that gets a 401/403 is explained by
//! [`errors::status_error`] (`upstream_auth_failed`, also a 502). Any other answer, 5xx included, is the
//! answer: another key would not fix a broken server. Network errors are
//! not retried either. This happens before any byte reaches the client, so
//! fallback can never mix two responses.
//!
//! A `google-vertex` endpoint has no keys: each request carries the access
//! token of its token source (`Authorization: Bearer`); a token that
//! cannot be had is a 502 `upstream_auth_failed` with the diagnosis, and a
//! 401 (a token revoked before its expiry) makes it get a new token and
//! send the request once more.

use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use modelgate_protocol::secret::scrub;
use modelgate_protocol::spec::openai_chat::error::decode_upstream_error;
use modelgate_protocol::{ErrorKind, GatewayError};

use crate::auth::Operation;
use crate::cooldown::{self, KeyCooldowns};
use crate::endpoint::Endpoint;
use crate::errors;

/// A response from the endpoint (any status but a key rejection).
#[derive(Debug)]
pub struct UpstreamResponse {
    pub response: reqwest::Response,
    /// Which key answered (index into `Endpoint::keys`), if the endpoint has keys.
    pub key_index: Option<usize>,
}

/// What one key got back, for the "every key was rejected" message.
struct Rejection {
    key: String,
    status: u16,
    said: Option<String>,
}

/// Sends `body` to the operation's URL with each usable key in turn,
/// with `extra` headers from the client beside the endpoint's own.
pub async fn send(
    ep: &Endpoint,
    cooldowns: &KeyCooldowns,
    method: Method,
    op: Operation,
    body: Option<Bytes>,
    extra: &HeaderMap,
) -> Result<UpstreamResponse, GatewayError> {
    // No model: an operation whose URL names one (Azure's classic chat) is
    // sent with `send_to` and `Endpoint::model_url`.
    let url = ep
        .model_url(op, "", false)
        .map_err(GatewayError::internal)?;
    send_to(ep, cooldowns, method, url, body, extra).await
}

/// [`send`] to a URL the caller built (e.g. with a query string).
///
/// An Azure endpoint's 404 is explained here, where the deployment the
/// request named is known (from the URL, or the body's `model`): the
/// caller gets the error ([`errors::status_error_for`]), not the response.
pub async fn send_to(
    ep: &Endpoint,
    cooldowns: &KeyCooldowns,
    method: Method,
    url: reqwest::Url,
    body: Option<Bytes>,
    extra: &HeaderMap,
) -> Result<UpstreamResponse, GatewayError> {
    let kept = ep.azure.is_some().then(|| (url.clone(), body.clone()));
    let answer = send_with_keys(ep, cooldowns, method, url, body, extra).await?;
    match kept {
        Some((url, body)) if answer.response.status() == http::StatusCode::NOT_FOUND => {
            let deployment = crate::azure::deployment_of(&url, body.as_deref());
            let error_body = crate::body::read_error_body(ep, answer.response).await;
            Err(errors::status_error_for(
                ep,
                404,
                &error_body,
                deployment.as_deref(),
            ))
        }
        _ => Ok(answer),
    }
}

async fn send_with_keys(
    ep: &Endpoint,
    cooldowns: &KeyCooldowns,
    method: Method,
    url: reqwest::Url,
    body: Option<Bytes>,
    extra: &HeaderMap,
) -> Result<UpstreamResponse, GatewayError> {
    if let Some(vertex) = &ep.vertex {
        return send_with_token(ep, vertex, method, url, body, extra).await;
    }
    if ep.keys.is_empty() {
        let response = attempt(ep, &method, url, None, body, extra).await?;
        return Ok(UpstreamResponse {
            response,
            key_index: None,
        });
    }
    let (usable, earliest) = cooldowns.plan(&ep.name, &ep.keys, Instant::now());
    if usable.is_empty() {
        return Err(all_cooling(ep, earliest));
    }
    let mut rejections = Vec::new();
    for index in usable {
        let key = &ep.keys[index];
        let auth = ep.key_header(key).ok_or_else(|| {
            GatewayError::invalid_request(format!(
                "key {} of endpoint `{}` has characters that cannot go in an HTTP header",
                key.masked(),
                ep.name
            ))
        })?;
        let response = attempt(ep, &method, url.clone(), Some(auth), body.clone(), extra).await?;
        let status = response.status().as_u16();
        if !matches!(status, 401 | 403 | 429) {
            return Ok(UpstreamResponse {
                response,
                key_index: Some(index),
            });
        }
        if status == 429 {
            let asked = cooldown::retry_after(response.headers(), unix_now());
            let wait = asked.unwrap_or(cooldown::DEFAULT_COOLDOWN);
            cooldowns.cool_down(&ep.name, key, Instant::now() + wait, asked.is_some());
        }
        // Bounded in time and size: a rejection is only read for its message.
        let body = crate::body::read_error_body(ep, response).await;
        let said = decode_upstream_error(&body)
            .message
            .map(|m| scrub(&m, &ep.secrets));
        tracing::info!(endpoint = %ep.name, key = %key.masked(), status, "key rejected, trying the next one");
        rejections.push(Rejection {
            key: key.masked(),
            status,
            said,
        });
    }
    Err(exhausted(ep, cooldowns, &rejections))
}

/// An endpoint with a token source (`google-vertex`): `Authorization:
/// Bearer {token}`. A token that cannot be had is a 502 with the
/// diagnosis; a 401 means the token was revoked before it expired, so it
/// is forgotten and the request sent once more with a new one.
async fn send_with_token(
    ep: &Endpoint,
    vertex: &crate::vertex::Vertex,
    method: Method,
    url: reqwest::Url,
    body: Option<Bytes>,
    extra: &HeaderMap,
) -> Result<UpstreamResponse, GatewayError> {
    let mut retried = false;
    loop {
        let token = vertex
            .token()
            .await
            .map_err(|e| crate::vertex::auth_error(ep, &e))?;
        let auth = crate::vertex::bearer(&token).map_err(|e| crate::vertex::auth_error(ep, &e))?;
        let response = attempt(ep, &method, url.clone(), Some(auth), body.clone(), extra).await?;
        if response.status() != http::StatusCode::UNAUTHORIZED || retried {
            return Ok(UpstreamResponse {
                response,
                key_index: None,
            });
        }
        tracing::info!(endpoint = %ep.name, "the access token was refused (401): getting a new one");
        vertex.invalidate(&token).await;
        retried = true;
    }
}

async fn attempt(
    ep: &Endpoint,
    method: &Method,
    url: reqwest::Url,
    auth: Option<(HeaderName, HeaderValue)>,
    body: Option<Bytes>,
    extra: &HeaderMap,
) -> Result<reqwest::Response, GatewayError> {
    let mut request = ep
        .client()
        .request(method.clone(), url)
        .headers(ep.headers.clone());
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    // Headers passed on from the client (e.g. `anthropic-beta`) are added
    // to the configured ones, never replacing them.
    for (name, value) in extra {
        request = request.header(name, value);
    }
    if let Some(body) = body {
        request = request
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body);
    }
    match tokio::time::timeout(ep.timeouts.first_byte.0, request.send()).await {
        Err(_) => Err(errors::first_byte_timeout(ep)),
        Ok(Err(e)) => Err(errors::network_error(ep, &e)),
        Ok(Ok(response)) => Ok(response),
    }
}

fn all_cooling(ep: &Endpoint, earliest: Option<Instant>) -> GatewayError {
    let wait = earliest
        .map(|t| t.saturating_duration_since(Instant::now()))
        .unwrap_or(cooldown::DEFAULT_COOLDOWN)
        .max(Duration::from_secs(1));
    GatewayError::new(
        ErrorKind::RateLimited,
        format!(
            "endpoint `{}` is rate limited on every key ({} of them are cooling down); retry in {}s, or add keys with `api_keys`",
            ep.name,
            ep.keys.len(),
            wait.as_secs()
        ),
    )
    .with_code("rate_limited_on_every_key")
    .with_retry_after(wait)
}

fn exhausted(ep: &Endpoint, cooldowns: &KeyCooldowns, rejections: &[Rejection]) -> GatewayError {
    let mut detail = String::new();
    for (i, r) in rejections.iter().enumerate() {
        let sep = if i == 0 { "" } else { "; " };
        let _ = write!(detail, "{sep}{} → HTTP {}", r.key, r.status);
        if let Some(said) = &r.said {
            let _ = write!(detail, " ({said})");
        }
    }
    if rejections.iter().all(|r| r.status == 429) {
        let (_, earliest) = cooldowns.plan(&ep.name, &ep.keys, Instant::now());
        let mut err = all_cooling(ep, earliest);
        err.message = format!(
            "endpoint `{}` is rate limited on every key ({detail}); retry in {}s",
            ep.name,
            err.retry_after.map_or(1, |d| d.as_secs())
        );
        return err;
    }
    // A 502, not the 401/403 the keys got: the caller's own key is fine,
    // and SDKs would raise their "invalid API key" error at the caller.
    let message = match &ep.azure {
        Some(azure) => format!(
            "endpoint `{}` rejected every key (key rotation exhausted): {detail}. {}",
            ep.name,
            crate::azure::auth_hint(ep, azure)
        ),
        None => format!(
            "endpoint `{}` rejected every key (key rotation exhausted): {detail}. Fix the keys with `modelgate endpoints update {} --api-key …` and check them with `modelgate endpoints test {}`",
            ep.name, ep.name, ep.name
        ),
    };
    GatewayError::new(ErrorKind::Upstream, message).with_code("upstream_keys_exhausted")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
