//! Testing each key of an endpoint, with a diagnosis a person can act on.
//!
//! The probe is the cheapest authenticated call the spec has: `GET
//! {base}/models`. A direct endpoint has no model list, so it gets an empty
//! `POST {}` instead: a server checks the key before the body, so 400/422
//! means the key was accepted, and no tokens are spent.

use std::time::Duration;

use http::Method;
use modelgate_protocol::secret::ApiKey;
use serde::Serialize;

use crate::auth::{self, Operation};
use crate::endpoint::Endpoint;
use crate::errors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    Invalid,
    Forbidden,
    RateLimited,
    NotFound,
    NetworkError,
    /// Any other HTTP status (the endpoint itself is failing).
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Invalid => "invalid",
            Verdict::Forbidden => "forbidden",
            Verdict::RateLimited => "rate-limited",
            Verdict::NotFound => "not-found",
            Verdict::NetworkError => "network-error",
            Verdict::Error => "error",
        }
    }
}

/// The result for one key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyReport {
    /// The key, masked (`sk-…wxyz`), or `(no key)`.
    pub key: String,
    pub verdict: Verdict,
    pub status: Option<u16>,
    /// What it means and what to do.
    pub hint: String,
}

pub async fn test_keys(ep: &Endpoint) -> Vec<KeyReport> {
    if ep.keys.is_empty() {
        return vec![probe(ep, None).await];
    }
    let mut reports = Vec::with_capacity(ep.keys.len());
    for key in &ep.keys {
        reports.push(probe(ep, Some(key)).await);
    }
    reports
}

async fn probe(ep: &Endpoint, key: Option<&ApiKey>) -> KeyReport {
    let shown = key.map_or_else(|| "(no key)".to_owned(), ApiKey::masked);
    let report = |verdict, status, hint: String| KeyReport {
        key: shown.clone(),
        verdict,
        status,
        hint,
    };
    let (method, url) = if ep.direct {
        (Method::POST, ep.base_url.clone())
    } else {
        (Method::GET, ep.url(Operation::Models))
    };
    let mut request = ep
        .client()
        .request(method.clone(), &url)
        .headers(ep.headers.clone());
    if let Some(key) = key {
        match auth::key_header(ep.spec, key) {
            Some((name, value)) => request = request.header(name, value),
            None => {
                return report(
                    Verdict::Invalid,
                    None,
                    "the key has characters that cannot go in an HTTP header".into(),
                );
            }
        }
    }
    if method == Method::POST {
        request = request
            .header(http::header::CONTENT_TYPE, "application/json")
            .body("{}");
    }
    let timeout = ep.timeouts.first_byte.0.min(Duration::from_secs(30));
    let response = match tokio::time::timeout(timeout, request.send()).await {
        Err(_) => {
            return report(
                Verdict::NetworkError,
                None,
                format!("no answer within {}", errors::fmt_duration(timeout)),
            );
        }
        Ok(Err(e)) => {
            return report(
                Verdict::NetworkError,
                None,
                errors::network_error(ep, &e).message,
            );
        }
        Ok(Ok(r)) => r,
    };
    let status = response.status().as_u16();
    let (verdict, hint) = match status {
        200..=299 => (Verdict::Ok, "the key works".to_owned()),
        400 | 422 if ep.direct => (
            Verdict::Ok,
            "the key was accepted (the empty probe body was refused, as expected)".to_owned(),
        ),
        401 => (Verdict::Invalid, "the endpoint does not accept this key: check it, or rotate it with `modelgate endpoints update`".to_owned()),
        403 => (Verdict::Forbidden, "the key is valid but not allowed here (project, region or model access)".to_owned()),
        429 => (Verdict::RateLimited, "the key is rate limited or out of quota right now".to_owned()),
        404 if ep.direct => (Verdict::NotFound, "nothing answers at this URL: with `direct_endpoint: true` the base URL must be the full operation URL".to_owned()),
        404 if ep.spec == modelgate_protocol::Spec::Anthropic => (Verdict::NotFound, format!("`{}` does not exist: the base URL should be the host, e.g. https://api.anthropic.com", crate::endpoint::redact_url(&url))),
        404 => (Verdict::NotFound, format!("`{}` does not exist: the base URL may lack `/v1`", crate::endpoint::redact_url(&url))),
        _ => {
            let body = response.bytes().await.unwrap_or_default();
            (Verdict::Error, errors::status_error(ep, status, &body).message)
        }
    };
    report(verdict, Some(status), hint)
}
