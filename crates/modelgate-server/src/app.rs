//! The HTTP application: routes, and serving it until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use http::StatusCode;
use modelgate_protocol::GatewayError;
use serde_json::json;

use crate::respond::{json, openai_error};
use crate::state::AppState;
use crate::{admin, count_tokens, models_door, pipeline};

/// Requests carry base64 images and long contexts: well above axum's 2 MB default.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(console_placeholder))
        .route("/healthz", get(healthz))
        .route("/v1/chat/completions", post(pipeline::chat_completions))
        .route("/v1/messages", post(pipeline::messages))
        .route(
            "/v1/messages/count_tokens",
            post(count_tokens::count_tokens),
        )
        .route("/v1/models", get(models_door::list))
        .route("/v1/models/{*id}", get(models_door::get))
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
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn healthz() -> Response {
    json(StatusCode::OK, &json!({"status": "ok"}))
}

async fn not_found(uri: http::Uri) -> Response {
    openai_error(
        &GatewayError::not_found(format!(
            "no route `{}`; modelgate serves /v1/chat/completions, /v1/messages, /v1/models and the admin API under /api",
            uri.path()
        ))
        .with_code("route_not_found"),
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
/// lets open requests finish.
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
                    .and_then(|runtime| runtime.block_on(serve_worker(listener, state, stopped)));
                let _ = ended_tx.send(result);
            })?;
    }
    drop(ended_tx);
    // The workers hold the socket now: once they stop accepting, it closes.
    drop(listener);
    // A worker ending before the signal failed (its runtime or listener):
    // stop the others and report it.
    let early = tokio::select! {
        () = shutdown_signal() => None,
        result = ended.recv() => result,
    };
    let _ = stop.send(true);
    let mut outcome = early.unwrap_or(Ok(()));
    while let Some(result) = ended.recv().await {
        if outcome.is_ok() {
            outcome = result;
        }
    }
    outcome
}

/// One serving thread's accept loop.
async fn serve_worker(
    listener: std::net::TcpListener,
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
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        // A dropped sender (the serving future went away) stops it too.
        let _ = stopped.wait_for(|stop| *stop).await;
    })
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
