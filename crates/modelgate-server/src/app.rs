//! The HTTP application: routes, and serving it until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use http::{HeaderMap, Method, StatusCode};
use modelgate_protocol::GatewayError;
use modelgate_protocol::codec::Format;
use serde_json::json;

use crate::catalogue::Catalogue;
use crate::guard::{self, Guard};
use crate::respond::{self, json};
use crate::state::AppState;
use crate::{
    admin, auth, count_tokens, gemini_door, models_door, passthrough_routes, pipeline,
    responses_door,
};

/// How long streams that are cut off at shutdown get to tell their clients
/// and record themselves.
const CUT_WAIT: Duration = Duration::from_secs(2);

/// Requests carry base64 images and long contexts: well above axum's 2 MB default.
const BODY_LIMIT: usize = 64 * 1024 * 1024;
/// Admin bodies are endpoint settings and key names.
const ADMIN_BODY_LIMIT: usize = 1024 * 1024;

/// The application for in-process use (the CLI without a server), where
/// requests never come from a browser.
pub fn router(state: Arc<AppState>) -> Router {
    router_for(state, None)
}

/// The application as served on `bind`: the trust checks of
/// [`crate::guard`] know whether it listens on loopback.
pub fn router_for(state: Arc<AppState>, bind: Option<SocketAddr>) -> Router {
    let guard = Arc::new(Guard::new(&state.file.load().server, bind));
    // The admin token is checked by a layer, before any handler receives
    // (or reads) a body.
    let admin = Router::new()
        .route(
            "/api/endpoints",
            get(admin::list_endpoints).post(admin::create_endpoint),
        )
        .route(
            "/api/endpoints/{name}",
            get(admin::get_endpoint)
                .patch(admin::update_endpoint)
                .put(admin::update_endpoint)
                .delete(admin::delete_endpoint),
        )
        .route("/api/endpoints/{name}/test", post(admin::test_endpoint))
        .route("/api/endpoints/{name}/models", get(admin::endpoint_models))
        .route("/api/keys", get(admin::list_keys).post(admin::create_key))
        .route("/api/keys/{id}", axum::routing::delete(admin::revoke_key))
        .route("/api/config/reload", post(admin::reload_config))
        .layer(DefaultBodyLimit::max(ADMIN_BODY_LIMIT))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::admin_layer,
        ));
    Router::new()
        .route("/", get(console_placeholder))
        .route("/healthz", get(healthz))
        .route("/v1/chat/completions", post(pipeline::chat_completions))
        .route("/v1/messages", post(pipeline::messages))
        .route("/v1/responses", post(pipeline::responses))
        .route(
            "/v1/responses/{id}",
            get(responses_door::get).delete(responses_door::delete),
        )
        .route(
            "/v1/responses/{id}/input_items",
            get(responses_door::input_items),
        )
        .route("/v1/responses/{id}/cancel", post(responses_door::cancel))
        .route(
            "/v1/messages/count_tokens",
            post(count_tokens::count_tokens),
        )
        .route("/v1/embeddings", post(passthrough_routes::embeddings))
        .route("/v1/completions", post(passthrough_routes::completions))
        .route("/v1/models", get(models_door::list))
        .route(
            "/v1/models/{*id}",
            get(models_door::get).post(gemini_door::post),
        )
        .route("/v1beta/models", get(models_door::list_gemini))
        .route(
            "/v1beta/models/{*id}",
            get(models_door::get_gemini).post(gemini_door::post),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .merge(admin)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(guard, guard::check))
        .with_state(state)
}

async fn healthz() -> Response {
    json(StatusCode::OK, &json!({"status": "ok"}))
}

/// A route modelgate does not serve, answered in the format of the client
/// that asked, with the likely mistake named.
async fn not_found(method: Method, uri: http::Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let anthropic = path.ends_with("/messages")
        || path.ends_with("/messages/count_tokens")
        || headers.contains_key("anthropic-version");
    let format = if path.starts_with("/v1beta/") || headers.contains_key("x-goog-api-client") {
        Format::Gemini
    } else if anthropic {
        Format::Anthropic
    } else {
        Format::OpenAiChat
    };
    let served = "modelgate serves /v1/chat/completions, /v1/messages, /v1/responses, /v1beta/models/MODEL:generateContent, /v1/embeddings, /v1/completions, /v1/models and the admin API under /api";
    let message = if let Some(rest) = path.strip_prefix("/v1/v1/") {
        let hint = if anthropic {
            "Anthropic clients add `/v1` themselves: set their base URL without it, e.g. ANTHROPIC_BASE_URL=http://127.0.0.1:4000"
        } else {
            "the client's base URL ends in `/v1` and the client added another; use http://127.0.0.1:4000/v1 once"
        };
        format!("no route `{path}`: `/v1` is doubled ({hint}; the route is `/v1/{rest}`)")
    } else if path.starts_with("/v1/")
        || path.starts_with("/api/")
        || matches!(path, "/chat/completions" | "/messages" | "/models")
    {
        let missing_v1 = if path.starts_with("/v1/") || path.starts_with("/api/") {
            String::new()
        } else {
            format!(" (did you mean `/v1{path}`? the base URL needs `/v1`)")
        };
        format!("no route `{method} {path}`{missing_v1}; {served}")
    } else {
        format!("no route `{method} {path}`; {served}")
    };
    respond::error(
        format,
        &GatewayError::not_found(message).with_code("route_not_found"),
    )
}

async fn console_placeholder() -> impl IntoResponse {
    Html(concat!(
        "<!doctype html><html><head><meta charset=utf-8><title>modelgate</title></head>",
        "<body><h1>modelgate</h1><p>The gateway is running. Point any OpenAI client at ",
        "<code>/v1</code>. The web console is coming; meanwhile use the <code>modelgate</code> CLI.</p>",
        "</body></html>"
    ))
}

/// Serves until ctrl-c / SIGTERM (or until this future is dropped), then
/// lets open requests finish for at most `server.drain_timeout`; a second
/// signal ends at once. Either way it returns, and the caller flushes the
/// usage recorded so far. Refuses to start with a weak admin token.
///
/// `workers` threads serve, each with its own single-threaded runtime
/// accepting from the one listener. A connection, the requests on it, the
/// upstream connections they use (clients are per thread, see
/// `modelgate_upstream::client`) and every chunk of their streams stay on
/// the thread that accepted it: no request wakes another thread, which on
/// a small machine costs more than the request's own work (bench/README.md).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    workers: usize,
) -> std::io::Result<()> {
    auth::validate_admin_token(&state.settings.admin_token)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let bind = listener.local_addr()?;
    // Model lists are fetched now and kept fresh while serving (not by
    // one-shot CLI commands, which share this state without serving).
    Catalogue::spawn_refresher(Arc::downgrade(&state));
    let listener = listener.into_std()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (ended_tx, mut ended) = tokio::sync::mpsc::unbounded_channel();
    for index in 0..workers.max(1) {
        let listener = listener.try_clone()?;
        let state = state.clone();
        let stopped = stopped.clone();
        let ended_tx = ended_tx.clone();
        std::thread::Builder::new()
            .name(format!("modelgate-worker-{index}"))
            .spawn(move || {
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .and_then(|runtime| {
                        runtime.block_on(serve_worker(listener, bind, state, stopped))
                    });
                let _ = ended_tx.send(result);
            })?;
    }
    drop(ended_tx);
    // The workers hold the socket now: once they stop accepting, it closes.
    drop(listener);
    let mut signals = Signals::new();
    let mut hangup = Hangup::new();
    // A worker ending before the signal failed (its runtime or listener):
    // stop the others and report it. SIGHUP reloads the config file.
    let early = loop {
        tokio::select! {
            () = signals.next() => break None,
            result = ended.recv() => break result,
            () = hangup.next() => match state.reload().await {
                Ok(done) => tracing::info!("{done}"),
                Err(e) => tracing::warn!("could not reload the configuration: {e}"),
            },
        }
    };
    let _ = stop.send(true);
    let mut outcome = early.unwrap_or(Ok(()));
    let drain = state.file.load().server.drain_timeout.0;
    tracing::info!(
        "shutting down: open requests may finish within {} (server.drain_timeout); a second signal stops at once",
        modelgate_upstream::errors::fmt_duration(drain)
    );
    let deadline = tokio::time::sleep(drain);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            result = ended.recv() => match result {
                Some(result) => {
                    if outcome.is_ok() {
                        outcome = result;
                    }
                }
                None => break,
            },
            () = &mut deadline => {
                tracing::warn!(
                    "{} stream(s) still open after the drain timeout ({}) are cut off; raise `server.drain_timeout` to give them longer",
                    state.streams.count(),
                    modelgate_upstream::errors::fmt_duration(drain)
                );
                state.streams.cut_all(CUT_WAIT).await;
                break;
            }
            () = signals.next() => {
                tracing::warn!(
                    "second signal: stopping now; {} open stream(s) are cut off",
                    state.streams.count()
                );
                state.streams.cut_all(CUT_WAIT).await;
                break;
            }
        }
    }
    outcome
}

/// One serving thread's accept loop.
async fn serve_worker(
    listener: std::net::TcpListener,
    bind: SocketAddr,
    state: Arc<AppState>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    // Without TCP_NODELAY a response written in two pieces waits for the
    // client's delayed ACK (40 ms) on every keep-alive request.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        router_for(state, Some(bind)).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        // A dropped sender (the serving future went away) stops it too.
        let _ = stopped.wait_for(|stop| *stop).await;
    })
    .await
}

/// ctrl-c and SIGTERM, listened for from start to end: once tokio handles a
/// signal it no longer stops the process, so a second one must be awaited
/// here too.
struct Signals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

/// SIGHUP, the signal to reload the configuration.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Self {
        Self {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok(),
        }
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(s) = self.signal.as_mut() {
            s.recv().await;
            return;
        }
        std::future::pending::<()>().await;
    }
}

impl Signals {
    fn new() -> Self {
        Self {
            #[cfg(unix)]
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .ok(),
        }
    }

    async fn next(&mut self) {
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async {
            match self.terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
    }
}
