//! The key test of an Azure endpoint: the same two cheap steps as every
//! other endpoint's, at Azure's URLs, read with Azure's errors.
//!
//! 1. The model lists the gateway fetches ([`azure::list_urls`]), in
//!    order: a list the resource does not serve (404, 400, 405) moves on;
//!    a 401/403/429 is the verdict.
//! 2. `POST {}` to the chat URL of a deployment (on the v1 API, `POST
//!    {"model": deployment}`): the first configured model (after
//!    `model_map`), else the placeholder [`PROBE_DEPLOYMENT`]. A
//!    400 (the empty body refused) means the key, the api-version and the
//!    deployment are right; `DeploymentNotFound` means the key and the
//!    api-version are right, and is only a problem for a configured
//!    deployment; an api-version error names `api_version`.

use http::Method;
use modelgate_protocol::secret::ApiKey;
use modelgate_protocol::spec::openai_chat::error::decode_upstream_error;

use crate::auth::Operation;
use crate::azure::{self, Azure};
use crate::endpoint::{Endpoint, redact_url};
use crate::errors;
use crate::keytest::{FORBIDDEN, KeyReport, RATE_LIMITED, Verdict, send, send_request};

/// The deployment the chat probe names when none is configured: a name no
/// one gives a deployment, so the answer is "no such deployment" once the
/// key and the api-version are accepted.
pub const PROBE_DEPLOYMENT: &str = "modelgate-key-test";

pub(crate) async fn probe(
    ep: &Endpoint,
    azure: &Azure,
    key: Option<&ApiKey>,
    shown: &str,
) -> KeyReport {
    let invalid = |status| {
        KeyReport::new(
            shown,
            Verdict::Invalid,
            Some(status),
            azure::auth_hint(ep, azure),
        )
    };
    for url in azure::list_urls(azure, &ep.base_url) {
        let response = match send(ep, key, Method::GET, &url).await {
            Ok(response) => response,
            Err(report) => return report.for_key(shown),
        };
        let status = response.status().as_u16();
        match status {
            200..=299 => break,
            401 => return invalid(status),
            403 => {
                return KeyReport::new(shown, Verdict::Forbidden, Some(status), FORBIDDEN.into());
            }
            429 => {
                return KeyReport::new(
                    shown,
                    Verdict::RateLimited,
                    Some(status),
                    RATE_LIMITED.into(),
                );
            }
            // This list is not served here: the next one, or the chat probe.
            400 | 404 | 405 => {}
            _ => {
                let body = crate::body::read_error_body(ep, response).await;
                let hint = errors::status_error(ep, status, &body).message;
                return KeyReport::new(shown, Verdict::Error, Some(status), hint);
            }
        }
    }
    chat(ep, azure, key, shown).await
}

/// Step 2: `POST {}` to a deployment's chat URL (on v1, the deployment as `model`).
async fn chat(ep: &Endpoint, azure: &Azure, key: Option<&ApiKey>, shown: &str) -> KeyReport {
    let configured = azure.probe_deployment.as_deref();
    let deployment = configured.unwrap_or(PROBE_DEPLOYMENT);
    let url = match ep.model_url(Operation::Chat, deployment, false) {
        Ok(url) => url,
        Err(e) => return KeyReport::new(shown, Verdict::Error, None, e),
    };
    let mut request = crate::probe::request(ep, key, ep.spec, Method::POST, url.as_str());
    if azure.is_v1() {
        // The v1 API finds the deployment in the body.
        request = request.body(serde_json::json!({ "model": deployment }).to_string());
    }
    let response = match send_request(ep, request).await {
        Ok(response) => response,
        Err(report) => return report.for_key(shown),
    };
    let status = response.status().as_u16();
    let report = |verdict, hint: String| KeyReport::new(shown, verdict, Some(status), hint);
    match status {
        401 => return report(Verdict::Invalid, azure::auth_hint(ep, azure)),
        403 => return report(Verdict::Forbidden, FORBIDDEN.into()),
        429 => return report(Verdict::RateLimited, RATE_LIMITED.into()),
        200..=299 => return report(Verdict::Ok, "the key works".into()),
        _ => {}
    }
    let body = crate::body::read_error_body(ep, response).await;
    let upstream = decode_upstream_error(&body);
    let not_deployed = upstream.code.as_deref() == Some("DeploymentNotFound");
    let explained = azure::explain(ep, azure, status, &upstream, Some(deployment));
    match (status, explained) {
        (404, Some(_)) if not_deployed && configured.is_none() => report(
            Verdict::Ok,
            format!(
                "the key works and api-version `{}` is accepted; no deployment is configured to check (list one in `models.default`)",
                azure.version()
            ),
        ),
        (404, Some(err)) => report(Verdict::NotFound, err.message),
        (_, Some(err)) => report(Verdict::Error, err.message),
        (400 | 422, None) => report(Verdict::Ok, "the key works".into()),
        (404 | 405, None) => report(
            Verdict::NotFound,
            format!(
                "`{}` does not exist: check the base URL (the resource's, e.g. https://NAME.openai.azure.com) and `api_version`",
                redact_url(url.as_str())
            ),
        ),
        (_, None) => report(
            Verdict::Error,
            errors::status_error_for(ep, status, &body, Some(deployment)).message,
        ),
    }
}
