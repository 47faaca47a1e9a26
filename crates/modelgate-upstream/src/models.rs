//! Fetching an endpoint's model list: `GET {base}/models` (Anthropic's
//! paginated), Azure's lists in turn ([`crate::azure::list_urls`]: the
//! deployments, else the models), or the Gemini API's (paginated by
//! `nextPageToken`; only models that can `generateContent`, ids without
//! their `models/` prefix).

use http::Method;
use modelgate_protocol::spec::openai_chat::wire::ModelEntry;
use modelgate_protocol::{ErrorKind, GatewayError, Spec};
use serde::Deserialize;

use crate::auth::Operation;
use crate::body;
use crate::cooldown::KeyCooldowns;
use crate::dispatch::send_to;
use crate::endpoint::{Endpoint, redact_url};
use crate::errors;

/// Most pages of a paginated (Anthropic) model list read.
const MAX_PAGES: usize = 20;

/// One page of a model list: OpenAI's `{data}` or Anthropic's
/// `{data, has_more, last_id}`.
#[derive(Deserialize)]
struct Page {
    data: Vec<ModelEntry>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    last_id: Option<String>,
}

/// The endpoint's model list, with key fallback like any other request.
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
    if ep.vertex.is_some() {
        // Decision: Vertex AI lists publisher models only through the
        // Model Garden API (`v1beta1`, global, paginated over every
        // publisher), not per location for what a project may call.
        return Err(GatewayError::new(
            ErrorKind::NotSupported,
            format!(
                "endpoint `{}` is a Vertex AI endpoint, which has no model list per location: list its models in `models.default` (or call them as `{}/MODEL`)",
                ep.name, ep.name
            ),
        ));
    }
    if let Some(azure) = &ep.azure {
        return fetch_azure(ep, cooldowns, &crate::azure::list_urls(azure, &ep.base_url)).await;
    }
    if ep.gemini_version.is_some() {
        return fetch_gemini(ep, cooldowns).await;
    }
    let base = ep.url(Operation::Models);
    let mut models = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let url = match (ep.spec, &after) {
            (Spec::Anthropic, None) => format!("{base}?limit=1000"),
            (Spec::Anthropic, Some(id)) => {
                format!(
                    "{base}?limit=1000&after_id={}",
                    crate::endpoint::percent_encode(id)
                )
            }
            _ => base.clone(),
        };
        let page = fetch_page(ep, cooldowns, &url).await?;
        models.extend(page.data);
        match (page.has_more, page.last_id) {
            (true, Some(last)) if ep.spec == Spec::Anthropic => after = Some(last),
            _ => break,
        }
    }
    Ok(models)
}

/// Azure's lists, in order: the first that answers is the list. A list
/// the resource does not serve (404, or a 400 about its api-version) moves
/// on to the next; any other failure is the answer.
async fn fetch_azure(
    ep: &Endpoint,
    cooldowns: &KeyCooldowns,
    urls: &[String],
) -> Result<Vec<ModelEntry>, GatewayError> {
    let mut last = None;
    for url in urls {
        match fetch_page(ep, cooldowns, url).await {
            Ok(page) => return Ok(page.data),
            Err(e) if matches!(e.status, 400 | 404 | 405) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| GatewayError::internal("no model-list URL")))
}

/// The Gemini API's list: `{"models": [{"name": "models/ID",
/// "supportedGenerationMethods": [...]}], "nextPageToken"}`.
async fn fetch_gemini(
    ep: &Endpoint,
    cooldowns: &KeyCooldowns,
) -> Result<Vec<ModelEntry>, GatewayError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct GeminiPage {
        #[serde(default)]
        models: Vec<GeminiModel>,
        #[serde(default)]
        next_page_token: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct GeminiModel {
        name: String,
        #[serde(default)]
        supported_generation_methods: Vec<String>,
    }
    let base = ep.url(Operation::Models);
    let mut models = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let url = match &token {
            None => format!("{base}?pageSize=1000"),
            Some(t) => format!(
                "{base}?pageSize=1000&pageToken={}",
                crate::endpoint::percent_encode(t)
            ),
        };
        let body = fetch_body(ep, cooldowns, &url).await?;
        let page: GeminiPage = serde_json::from_slice(&body).map_err(|_| not_a_list(ep, &url))?;
        models.extend(
            page.models
                .into_iter()
                .filter(|m| {
                    m.supported_generation_methods
                        .iter()
                        .any(|g| g == "generateContent")
                })
                .map(|m| ModelEntry {
                    id: m.name.strip_prefix("models/").unwrap_or(&m.name).to_owned(),
                    object: "model".to_owned(),
                    created: 0,
                    owned_by: "google".to_owned(),
                }),
        );
        match page.next_page_token.filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok(models)
}

async fn fetch_page(
    ep: &Endpoint,
    cooldowns: &KeyCooldowns,
    url: &str,
) -> Result<Page, GatewayError> {
    let body = fetch_body(ep, cooldowns, url).await?;
    serde_json::from_slice::<Page>(&body).map_err(|_| not_a_list(ep, url))
}

/// `GET url`, with key fallback; an error status is the endpoint's error.
async fn fetch_body(
    ep: &Endpoint,
    cooldowns: &KeyCooldowns,
    url: &str,
) -> Result<bytes::Bytes, GatewayError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| GatewayError::internal(format!("invalid model-list URL: {e}")))?;
    let upstream = send_to(
        ep,
        cooldowns,
        Method::GET,
        parsed,
        None,
        &http::HeaderMap::new(),
    )
    .await?;
    let status = upstream.response.status().as_u16();
    if !(200..300).contains(&status) {
        let body = body::read_error_body(ep, upstream.response).await;
        return Err(errors::status_error(ep, status, &body));
    }
    body::read_bounded(ep, upstream.response, body::MAX_MODEL_LIST_BYTES).await
}

fn not_a_list(ep: &Endpoint, url: &str) -> GatewayError {
    GatewayError::new(
        ErrorKind::Upstream,
        format!(
            "endpoint `{}` answered `GET {}` with something that is not a model list; is `{}` the right spec for it?",
            ep.name,
            // The URL as configured may carry credentials.
            redact_url(url),
            ep.spec
        ),
    )
}
