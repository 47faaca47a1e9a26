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

/// Serves until ctrl-c / SIGTERM, then lets open requests finish.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    let app = router(state);
    // Without TCP_NODELAY a response written in two pieces waits for the
    // client's delayed ACK (40 ms) on every keep-alive request.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
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
