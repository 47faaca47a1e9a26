//! The Gemini API (`spec: google`): where its operations live and how its
//! key is sent.
//!
//! | operation | URL (`{base}`: `base_url`, default Google's host; `{v}`: `api_version`, default `v1beta`) |
//! |---|---|
//! | generate | `{base}/{v}/models/{model}:generateContent` |
//! | stream | `{base}/{v}/models/{model}:streamGenerateContent?alt=sse` |
//! | list | `{base}/{v}/models?pageSize=1000` (then `&pageToken=…`) |
//!
//! The model id (after `model_map`) goes in the path: a leading `models/`
//! is taken off (ids are listed with it), a `tunedModels/…` id keeps its
//! own collection. The key goes in `x-goog-api-key`, a sensitive header.

use http::{HeaderName, HeaderValue};
use modelgate_protocol::secret::ApiKey;

use crate::endpoint::percent_encode;

/// The path of a model operation below `{base}/{version}/`.
fn model_path(model: &str) -> String {
    let model = model.strip_prefix("models/").unwrap_or(model);
    match model.strip_prefix("tunedModels/") {
        Some(tuned) => format!("tunedModels/{}", percent_encode(tuned)),
        None => format!("models/{}", percent_encode(model)),
    }
}

/// The URL that generates with `model`, streamed or not.
pub fn generate_url(base: &str, version: &str, model: &str, stream: bool) -> String {
    let path = model_path(model);
    if stream {
        format!("{base}/{version}/{path}:streamGenerateContent?alt=sse")
    } else {
        format!("{base}/{version}/{path}:generateContent")
    }
}

/// The model list's URL (the first page).
pub fn models_url(base: &str, version: &str) -> String {
    format!("{base}/{version}/models")
}

/// `x-goog-api-key: KEY`.
pub fn key_header(key: &ApiKey) -> Option<(HeaderName, HeaderValue)> {
    let mut value = HeaderValue::from_str(key.expose()).ok()?;
    value.set_sensitive(true);
    Some((HeaderName::from_static("x-goog-api-key"), value))
}

/// A Gemini API base URL is the host: a trailing version segment
/// (`/v1beta`, `/v1`, `/v1alpha`) written in `base_url` would double it.
pub fn normalize_base(base: &str) -> String {
    let base = base.trim_end_matches('/');
    for version in ["/v1beta", "/v1alpha", "/v1"] {
        if let Some(host) = base.strip_suffix(version) {
            return host.to_owned();
        }
    }
    base.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_model_and_the_version() {
        let base = "https://generativelanguage.googleapis.com";
        assert_eq!(
            generate_url(base, "v1beta", "gemini-2.5-pro", false),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent"
        );
        assert_eq!(
            generate_url(base, "v1", "models/gemini-2.5-flash", true),
            "https://generativelanguage.googleapis.com/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            generate_url(base, "v1beta", "tunedModels/my-model", false),
            "https://generativelanguage.googleapis.com/v1beta/tunedModels/my-model:generateContent"
        );
        assert!(generate_url(base, "v1beta", "a/../b?x", false).contains("models/a%2F..%2Fb%3Fx:"));
        assert_eq!(normalize_base("http://h:8080/v1beta/"), "http://h:8080");
        assert_eq!(normalize_base("http://h/proxy"), "http://h/proxy");
        let (name, value) = key_header(&ApiKey::new("AIza-123")).unwrap();
        assert_eq!(name, "x-goog-api-key");
        assert!(value.is_sensitive());
    }
}
