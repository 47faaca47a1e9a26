//! Trust boundaries in front of every route.
//!
//! Listening on 127.0.0.1 keeps other machines out, but not the web pages
//! in the user's own browser: any page may POST to `http://127.0.0.1:4000`
//! (a `text/plain` body needs no CORS preflight), and through DNS
//! rebinding a page may even read the answers under its own host name.
//! So every request passes three checks before a handler sees it:
//!
//! 1. **Host**: on a loopback bind only `localhost`, `127.0.0.1`, `[::1]`
//!    and the names in `server.allowed_hosts` are accepted (a rebound
//!    page's requests carry the attacker's host name). Any port; a request
//!    without `Host` (HTTP/1.0, the CLI in-process) is no browser's.
//! 2. **Origin**: a request that carries `Origin` (browsers send it on
//!    every cross-origin request and on same-origin POSTs) must come from
//!    the gateway's own origin or one listed in `server.cors_origins`.
//!    Allowed origins get CORS headers and preflight answers; CORS is off
//!    by default.
//! 3. **Content type**: a request with a body must say
//!    `application/json` (or `…+json`): the forms and `text/plain` bodies
//!    a page can send without preflight are refused.
//!
//! Refusals are in the caller's API format (Google's for `/v1beta/` and
//! Google's SDKs), with what to do.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use modelgate_config::ServerSettings;
use modelgate_protocol::codec::Format;
use modelgate_protocol::{ErrorKind, GatewayError};

use crate::respond;

/// The checks, prepared once per serving thread.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Check `Host` (the gateway listens on a loopback address).
    check_host: bool,
    /// Lowercased host names accepted besides the loopback ones.
    allowed_hosts: Vec<String>,
    /// Origins allowed by CORS, as written (`*` allows any).
    cors_origins: Vec<String>,
}

const LOOPBACK_HOSTS: [&str; 4] = ["localhost", "127.0.0.1", "[::1]", "::1"];

/// A header name given as `&str` is parsed on every lookup; this one once.
static ANTHROPIC_VERSION: header::HeaderName = header::HeaderName::from_static("anthropic-version");
/// Sent by Google's SDKs: their refusals are in Google's shape.
static GOOG_API_CLIENT: header::HeaderName = header::HeaderName::from_static("x-goog-api-client");

impl Guard {
    /// The guard for a gateway listening on `bind` (`None`: in-process use,
    /// where requests never come from a browser).
    pub fn new(settings: &ServerSettings, bind: Option<SocketAddr>) -> Self {
        Self {
            check_host: bind.is_some_and(|a| a.ip().is_loopback()),
            allowed_hosts: settings
                .allowed_hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            cors_origins: settings
                .cors_origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .collect(),
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        // Compared without allocating: this runs on every request.
        let name = host_name(host);
        LOOPBACK_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(name))
            || self
                .allowed_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
    }

    /// Whether `origin` may call: the gateway's own origin, or a configured one.
    fn origin_allowed(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/');
        let same_origin = host.is_some_and(|host| {
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        });
        same_origin || self.cors_configured_for(origin)
    }

    fn cors_configured_for(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        self.cors_origins.iter().any(|o| o == "*" || o == origin)
    }
}

/// `host[:port]` → `host` (IPv6 literals keep their brackets).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// The API format a refusal is written in: Anthropic's for its routes and
/// for clients that announce themselves with `anthropic-version`.
fn format_for(path: &str, headers: &HeaderMap) -> Format {
    if path.starts_with("/v1beta/") || headers.contains_key(&GOOG_API_CLIENT) {
        Format::Gemini
    } else if path.starts_with("/v1/messages") || headers.contains_key(&ANTHROPIC_VERSION) {
        Format::Anthropic
    } else {
        Format::OpenAiChat
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A body is present unless the request says it has none.
fn has_body(headers: &HeaderMap) -> bool {
    match header_str(headers, header::CONTENT_LENGTH) {
        Some(len) => len.trim() != "0",
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

fn is_json(content_type: &str) -> bool {
    // Compared without allocating: this runs on every request with a body.
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let tail = subtype.len().saturating_sub(5);
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype
                .get(tail..)
                .is_some_and(|end| end.eq_ignore_ascii_case("+json")))
}

/// The routes whose handlers log each request themselves, as static
/// strings (so the line needs no copy of the path).
fn model_route(path: &str) -> Option<&'static str> {
    [
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/embeddings",
        "/v1/completions",
    ]
    .into_iter()
    .find(|route| *route == path)
}

/// The middleware: the checks, and one log line for every request no
/// model handler logged (model handlers log when they end, with model,
/// endpoint and tokens: at the end of a stream).
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let line = tracing::enabled!(target: "modelgate::request", tracing::Level::INFO).then(|| {
        let path = request.uri().path();
        let path: Cow<'static, str> = match model_route(path) {
            Some(route) => Cow::Borrowed(route),
            None => Cow::Owned(path.to_owned()),
        };
        (request.method().clone(), path, Instant::now())
    });
    let (response, logged) = screen(&guard, request, next).await;
    if let Some((method, path, started)) = line
        && !logged
    {
        tracing::info!(
            target: "modelgate::request",
            "{method} {path} status={} latency_ms={}",
            response.status().as_u16(),
            started.elapsed().as_millis()
        );
    }
    response
}

/// Refuses what fails a check, answers CORS preflights, runs the rest and
/// adds CORS headers for allowed foreign origins. Also says whether a
/// model handler ran (and so logged the request).
async fn screen(guard: &Guard, request: Request, next: Next) -> (Response, bool) {
    let headers = request.headers();
    let path = request.uri().path();
    let host = header_str(headers, header::HOST);
    let refuse = |status: u16, code: &str, message: String| {
        let err = GatewayError::new(ErrorKind::PermissionDenied, message)
            .with_status(status)
            .with_code(code);
        (respond::error(format_for(path, headers), &err), false)
    };
    if guard.check_host
        && let Some(host) = host
        && !guard.host_allowed(host)
    {
        return refuse(
            403,
            "host_not_allowed",
            format!(
                "requests for host `{}` are refused: modelgate listens on a loopback address and answers only to localhost, 127.0.0.1 and [::1]; add the name to `server.allowed_hosts` in the config file if you reach it under another name",
                host_name(host)
            ),
        );
    }
    let origin = header_str(headers, header::ORIGIN).map(str::to_owned);
    if let Some(origin) = &origin
        && !guard.origin_allowed(origin, host)
    {
        return refuse(
            403,
            "origin_not_allowed",
            format!(
                "requests from the web origin `{origin}` are refused, so that web pages cannot use your gateway; allow it with `server.cors_origins: [{origin}]` in the config file"
            ),
        );
    }
    let cors_origin = origin.filter(|o| guard.cors_configured_for(o));
    if request.method() == Method::OPTIONS {
        if let Some(origin) = &cors_origin {
            return (preflight(origin, headers), false);
        }
    } else if has_body(headers) && !header_str(headers, header::CONTENT_TYPE).is_some_and(is_json) {
        let sent = header_str(headers, header::CONTENT_TYPE).unwrap_or("none");
        let err = GatewayError::invalid_request(format!(
            "the body must be JSON sent with `content-type: application/json` (this request said `{sent}`); with curl add -H 'content-type: application/json'"
        ))
        .with_status(415)
        .with_code("unsupported_media_type");
        return (respond::error(format_for(path, headers), &err), false);
    }
    let mut logged = model_route(path).is_some();
    // For the body limit's answer, which comes rarely: what decides its
    // format, kept before the request moves on.
    let anthropic = path.starts_with("/v1/messages") || headers.contains_key(&ANTHROPIC_VERSION);
    let mut response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && !response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json)
    {
        // The body limit's own answer (the handler never ran) is plain
        // text: say it in the caller's format.
        let err = GatewayError::invalid_request(
            "the request body is larger than modelgate accepts (64 MiB on model routes, 1 MiB on the admin API); send large images by URL rather than inline",
        )
        .with_status(413)
        .with_code("request_too_large");
        let format = if anthropic {
            Format::Anthropic
        } else {
            Format::OpenAiChat
        };
        response = respond::error(format, &err);
        logged = false;
    }
    if let Some(origin) = cors_origin {
        allow_origin(response.headers_mut(), &origin);
    }
    (response, logged)
}

/// Headers every response to an allowed foreign origin carries.
fn allow_origin(headers: &mut HeaderMap, origin: &str) {
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.append(header::VARY, HeaderValue::from_static("origin"));
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-modelgate-endpoint, x-modelgate-estimate, retry-after"),
        );
    }
}

/// The answer to a CORS preflight from an allowed origin.
fn preflight(origin: &str, request: &HeaderMap) -> Response {
    let mut response = (StatusCode::NO_CONTENT, Body::empty()).into_response();
    let headers = response.headers_mut();
    allow_origin(headers, origin);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    let asked = request
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("authorization, content-type"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked);
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(hosts: &[&str], origins: &[&str]) -> Guard {
        let settings = ServerSettings {
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            cors_origins: origins.iter().map(|s| s.to_string()).collect(),
            ..ServerSettings::default()
        };
        Guard::new(&settings, Some(SocketAddr::from(([127, 0, 0, 1], 4000))))
    }

    #[test]
    fn loopback_names_and_configured_hosts_pass_any_port() {
        let g = guard(&["gateway.internal"], &[]);
        assert!(g.check_host);
        for ok in [
            "localhost:4000",
            "127.0.0.1",
            "[::1]:4000",
            "LOCALHOST",
            "gateway.internal:80",
        ] {
            assert!(g.host_allowed(ok), "{ok}");
        }
        for bad in ["evil.example:4000", "127.0.0.1.evil.example", "[::2]:4000"] {
            assert!(!g.host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn hosts_are_not_checked_beyond_loopback() {
        let settings = ServerSettings::default();
        assert!(!Guard::new(&settings, Some(SocketAddr::from(([0, 0, 0, 0], 4000)))).check_host);
        assert!(!Guard::new(&settings, None).check_host);
    }

    #[test]
    fn origins_same_or_configured() {
        let g = guard(&[], &["http://localhost:3000"]);
        assert!(g.origin_allowed("http://127.0.0.1:4000", Some("127.0.0.1:4000")));
        assert!(g.origin_allowed("http://localhost:3000/", Some("127.0.0.1:4000")));
        assert!(!g.origin_allowed("https://evil.example", Some("127.0.0.1:4000")));
        assert!(!g.origin_allowed("null", Some("127.0.0.1:4000")));
        assert!(guard(&[], &["*"]).origin_allowed("https://any.example", None));
    }

    #[test]
    fn refusals_take_the_callers_format() {
        let none = HeaderMap::new();
        assert_eq!(
            format_for("/v1beta/models/x:generateContent", &none),
            Format::Gemini
        );
        assert_eq!(format_for("/v1/messages", &none), Format::Anthropic);
        assert_eq!(
            format_for("/v1/chat/completions", &none),
            Format::OpenAiChat
        );
        let mut google = HeaderMap::new();
        google.insert(
            "x-goog-api-client",
            HeaderValue::from_static("google-genai-sdk/2"),
        );
        assert_eq!(
            format_for("/v1/models/x:generateContent", &google),
            Format::Gemini
        );
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/vnd.api+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }
}
