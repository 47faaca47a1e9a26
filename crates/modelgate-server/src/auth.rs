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

/// Checks the gateway key. When keys are not required, a missing or unknown
/// key is fine (clients often must send *some* key, e.g. `sk-no-key`), and a
/// valid one still attributes usage.
pub fn gateway_caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, GatewayError> {
    let token = presented_token(headers);
    let key_id = token.and_then(|t| {
        let snapshot = state.snapshot.load();
        snapshot.gateway_keys.get(&hash_gateway_token(t)).cloned()
    });
    if key_id.is_none() && state.settings.require_keys {
        let message = match token {
            None => {
                "this gateway requires a key: send `Authorization: Bearer mg-…` (create one with `modelgate keys create NAME`)"
            }
            Some(_) => {
                "the gateway key is not valid (mistyped or revoked); `modelgate keys list` shows the active keys"
            }
        };
        return Err(
            GatewayError::new(ErrorKind::Authentication, message).with_code("invalid_api_key")
        );
    }
    Ok(Caller { key_id })
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
