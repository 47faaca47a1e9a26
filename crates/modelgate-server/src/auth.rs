//! Who is calling: gateway keys for model traffic, a token for the admin API.

use http::HeaderMap;
use modelgate_protocol::{ErrorKind, GatewayError};
use modelgate_store::hash_gateway_token;

use crate::state::AppState;

/// The authenticated caller of a model request.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The gateway key id, when the caller presented a valid one.
    pub key_id: Option<String>,
}

/// The credential a client sent, in any of the headers SDKs use.
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    header("authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .or_else(|| header("x-api-key"))
        .or_else(|| header("api-key"))
        .or_else(|| header("x-goog-api-key"))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The prefix of every gateway key modelgate issues.
pub const GATEWAY_KEY_PREFIX: &str = "mg-";

/// Checks the gateway key. A presented gateway key (`mg-…`) must be active,
/// always: a revoked one never works, not even where keys are optional.
/// When keys are not required (an open loopback gateway), a missing key or
/// another placeholder value is fine (clients often must send *some* key,
/// e.g. `sk-no-key`), and a valid key still attributes usage.
pub fn gateway_caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, GatewayError> {
    let token = presented_token(headers);
    let key_id = token.and_then(|t| {
        let snapshot = state.snapshot.load();
        snapshot.gateway_keys.get(&hash_gateway_token(t)).cloned()
    });
    let presented_gateway_key = token.is_some_and(|t| t.starts_with(GATEWAY_KEY_PREFIX));
    if key_id.is_none() && (state.settings.require_keys || presented_gateway_key) {
        let message = match token {
            None => {
                "this gateway requires a key: send `Authorization: Bearer mg-…` (create one with `modelgate keys create NAME`; the CLI takes it as --gateway-key or MODELGATE_API_KEY)"
            }
            Some(_) if presented_gateway_key => {
                "the gateway key is not valid (mistyped or revoked); `modelgate keys list` shows the active keys"
            }
            Some(_) => {
                "this gateway requires a gateway key (`mg-…`), and the key sent is not one: create one with `modelgate keys create NAME` (the CLI takes it as --gateway-key or MODELGATE_API_KEY)"
            }
        };
        return Err(
            GatewayError::new(ErrorKind::Authentication, message).with_code("invalid_api_key")
        );
    }
    Ok(Caller { key_id })
}

/// The admin API's gate, as a layer: the token is checked before any
/// handler reads (or even receives) the body.
pub async fn admin_layer(
    axum::extract::State(state): axum::extract::State<std::sync::Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match check_admin(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(e) => crate::respond::openai_error(&e),
    }
}

/// The shortest admin token accepted: one that can be guessed is a key to
/// every upstream credential the gateway holds.
pub const MIN_ADMIN_TOKEN_LEN: usize = 24;

/// Refuses an admin token that is empty or short (from
/// `MODELGATE_ADMIN_TOKEN`; generated tokens are 47 characters).
pub fn validate_admin_token(token: &str) -> Result<(), String> {
    let len = token.trim().chars().count();
    if len >= MIN_ADMIN_TOKEN_LEN {
        return Ok(());
    }
    Err(format!(
        "the admin token (MODELGATE_ADMIN_TOKEN / --admin-token) is {} characters long; use at least {MIN_ADMIN_TOKEN_LEN} random characters (e.g. `openssl rand -base64 32`), or unset it to use the generated one in the data directory",
        len
    ))
}

/// Checks the admin API's bearer token.
pub fn check_admin(state: &AppState, headers: &HeaderMap) -> Result<(), GatewayError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(t) if constant_time_eq(t.trim().as_bytes(), state.settings.admin_token.as_bytes()) => Ok(()),
        Some(_) => Err(GatewayError::new(
            ErrorKind::Authentication,
            "the admin token is wrong; it is in the data directory's `admin.token` file or MODELGATE_ADMIN_TOKEN",
        )
        .with_code("invalid_admin_token")),
        None => Err(GatewayError::new(
            ErrorKind::Authentication,
            "the admin API needs `Authorization: Bearer <admin token>`; the token is in the data directory's `admin.token` file or MODELGATE_ADMIN_TOKEN",
        )
        .with_code("missing_admin_token")),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_from_any_sdk_header() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer mg-abc".parse().unwrap());
        assert_eq!(presented_token(&h), Some("mg-abc"));
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "mg-xyz".parse().unwrap());
        assert_eq!(presented_token(&h), Some("mg-xyz"));
        assert_eq!(presented_token(&HeaderMap::new()), None);
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
