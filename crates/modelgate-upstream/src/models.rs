//! Fetching an endpoint's model list.

use http::Method;
use modelgate_protocol::spec::openai_chat::wire::{ModelEntry, ModelList};
use modelgate_protocol::{ErrorKind, GatewayError};

use crate::cooldown::KeyCooldowns;
use crate::dispatch::send;
use crate::endpoint::Endpoint;
use crate::errors;

/// `GET {base}/models`, with key fallback like any other request.
pub async fn fetch_models(
    ep: &Endpoint,
    cooldowns: &KeyCooldowns,
) -> Result<Vec<ModelEntry>, GatewayError> {
    if ep.direct {
        return Err(GatewayError::new(
            ErrorKind::NotSupported,
            format!(
                "endpoint `{}` is a direct endpoint (its base URL is the operation URL), so it has no model list",
                ep.name
            ),
        ));
    }
    let upstream = send(ep, cooldowns, Method::GET, "models", None).await?;
    let status = upstream.response.status().as_u16();
    let read = tokio::time::timeout(ep.timeouts.idle.0, upstream.response.bytes());
    let body = match read.await {
        Err(_) => return Err(errors::idle_timeout(ep)),
        Ok(Err(e)) => return Err(errors::body_error(ep, &e)),
        Ok(Ok(body)) => body,
    };
    if !(200..300).contains(&status) {
        return Err(errors::status_error(ep, status, &body));
    }
    serde_json::from_slice::<ModelList>(&body)
        .map(|list| list.data)
        .map_err(|_| {
            GatewayError::new(
                ErrorKind::Upstream,
                format!(
                    "endpoint `{}` answered `GET {}` with something that is not an OpenAI model list; is `{}` the right spec for it?",
                    ep.name,
                    ep.url("models"),
                    ep.spec
                ),
            )
        })
}
