//! A fake Google OAuth2 token endpoint and GCE metadata server, for the
//! Vertex AI auth tests.
//!
//! `POST /token` takes the two grants Google's token URI takes, as a form
//! body:
//!
//! - `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with an
//!   `assertion`: an RS256 JWT verified with the public half of
//!   [`TEST_PRIVATE_KEY`]; its `iss` must be [`CLIENT_EMAIL`], its `aud` this
//!   server's own token URL, its `scope` [`SCOPE`] and its `exp` in the
//!   future. Anything else is refused as Google refuses it: HTTP 400
//!   `{"error": "invalid_grant", "error_description": …}`.
//! - `grant_type=refresh_token` with [`CLIENT_ID`], [`CLIENT_SECRET`] and
//!   [`REFRESH_TOKEN`] (an `authorized_user` file, gcloud's ADC).
//!
//! `GET /computeMetadata/v1/instance/service-accounts/default/token` is the
//! metadata server's token, given only with `Metadata-Flavor: Google`.
//!
//! Every token issued is `ya29.fake-N`, N counting from 1 over all three
//! ways, and lives [`FakeGoogleToken::set_expires_in`] seconds (3599 by
//! default, as Google's).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

/// The fake service account's private key (PKCS#8 PEM). Test-only: it was
/// generated for these tests and signs nothing else (`fixtures/README.md`).
pub const TEST_PRIVATE_KEY: &str = include_str!("fixtures/test-sa-key.pem");
/// The public half the fake verifies assertions with.
pub const TEST_PUBLIC_KEY: &str = include_str!("fixtures/test-sa-key.pub.pem");
/// Another test-only key: assertions it signs are refused.
pub const OTHER_PRIVATE_KEY: &str = include_str!("fixtures/test-other-key.pem");

pub const CLIENT_EMAIL: &str = "gateway@test-project.iam.gserviceaccount.com";
pub const PRIVATE_KEY_ID: &str = "0123456789abcdef0123456789abcdef01234567";
pub const PROJECT_ID: &str = "test-project";
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

pub const CLIENT_ID: &str = "123456.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "d-FL95Q19q7MQmFpd7hHD0Ty";
pub const REFRESH_TOKEN: &str = "1//fake-refresh-token-0123456789";

pub const METADATA_TOKEN_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/token";

struct Shared {
    /// This server's token URL: the `aud` an assertion must carry.
    token_uri: String,
    key: DecodingKey,
    issued: AtomicUsize,
    expires_in: AtomicU64,
    requests: AtomicUsize,
    refusals: Mutex<Vec<String>>,
    /// The last assertion's header `kid`.
    last_kid: Mutex<Option<String>>,
}

/// A running fake token endpoint and metadata server. Stops when dropped.
pub struct FakeGoogleToken {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl FakeGoogleToken {
    /// Starts the fake on 127.0.0.1:0.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            token_uri: format!("http://{addr}/token"),
            key: DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes())
                .expect("the test public key is PEM"),
            issued: AtomicUsize::new(0),
            expires_in: AtomicU64::new(3599),
            requests: AtomicUsize::new(0),
            refusals: Mutex::new(Vec::new()),
            last_kid: Mutex::new(None),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route(METADATA_TOKEN_PATH, get(metadata))
            .with_state(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            addr,
            shared,
            _stop: stop,
        }
    }

    /// `http://127.0.0.1:PORT/token`.
    pub fn token_uri(&self) -> String {
        self.shared.token_uri.clone()
    }

    /// `127.0.0.1:PORT`, for `GCE_METADATA_HOST`.
    pub fn metadata_host(&self) -> String {
        self.addr.to_string()
    }

    /// The lifetime of the tokens issued from now on.
    pub fn set_expires_in(&self, seconds: u64) {
        self.shared.expires_in.store(seconds, Ordering::SeqCst);
    }

    /// Tokens issued (successful exchanges).
    pub fn exchanges(&self) -> usize {
        self.shared.issued.load(Ordering::SeqCst)
    }

    /// Whether a token was issued by this fake (for fakes that check the
    /// Bearer token: [`crate::vertex`]).
    pub fn issued_checker(&self) -> impl Fn(&str) -> bool + Send + Sync + 'static {
        let shared = self.shared.clone();
        move |token: &str| {
            token
                .strip_prefix("ya29.fake-")
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n >= 1 && n <= shared.issued.load(Ordering::SeqCst))
        }
    }

    /// Requests received, refused ones included.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Why each refused request was refused, in order.
    pub fn refusals(&self) -> Vec<String> {
        lock(&self.shared.refusals).clone()
    }

    /// The `kid` of the last assertion received.
    pub fn last_kid(&self) -> Option<String> {
        lock(&self.shared.last_kid).clone()
    }

    /// A service-account key file for this server, signed with
    /// [`TEST_PRIVATE_KEY`].
    pub fn service_account_json(&self) -> Value {
        json!({
            "type": "service_account",
            "project_id": PROJECT_ID,
            "private_key_id": PRIVATE_KEY_ID,
            "private_key": TEST_PRIVATE_KEY,
            "client_email": CLIENT_EMAIL,
            "client_id": "112233445566778899000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri(),
            "universe_domain": "googleapis.com",
        })
    }

    /// gcloud's `application_default_credentials.json` for this server.
    pub fn authorized_user_json(&self) -> Value {
        json!({
            "type": "authorized_user",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
            "token_uri": self.token_uri(),
            "quota_project_id": PROJECT_ID,
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let checked = match form.get("grant_type").map(String::as_str) {
        Some(JWT_BEARER) => check_assertion(&shared, &form),
        Some("refresh_token") => check_refresh(&form),
        other => {
            let why = format!("unsupported grant_type {other:?}");
            lock(&shared.refusals).push(why.clone());
            return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", &why);
        }
    };
    match checked {
        Ok(()) => issue(&shared),
        Err(why) => {
            lock(&shared.refusals).push(why.clone());
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &why)
        }
    }
}

fn check_assertion(shared: &Shared, form: &HashMap<String, String>) -> Result<(), String> {
    let assertion = form.get("assertion").ok_or("no assertion")?;
    let header = jsonwebtoken::decode_header(assertion).map_err(|e| format!("header: {e}"))?;
    *lock(&shared.last_kid) = header.kid;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&shared.token_uri]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Value>(assertion, &shared.key, &validation)
        .map_err(|e| format!("Invalid JWT Signature or claims: {e}"))?
        .claims;
    if claims["scope"] != SCOPE {
        return Err(format!("scope {} is not {SCOPE}", claims["scope"]));
    }
    Ok(())
}

fn check_refresh(form: &HashMap<String, String>) -> Result<(), String> {
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return Err("unknown client".into());
    }
    if field("refresh_token") != Some(REFRESH_TOKEN) {
        return Err("Token has been expired or revoked.".into());
    }
    Ok(())
}

async fn metadata(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    if headers.get("metadata-flavor").and_then(|v| v.to_str().ok()) != Some("Google") {
        lock(&shared.refusals).push("no Metadata-Flavor: Google".into());
        return (
            StatusCode::FORBIDDEN,
            "Missing Metadata-Flavor:Google header.",
        )
            .into_response();
    }
    issue(&shared)
}

fn issue(shared: &Shared) -> Response {
    let n = shared.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let body = json!({
        "access_token": format!("ya29.fake-{n}"),
        "expires_in": shared.expires_in.load(Ordering::SeqCst),
        "token_type": "Bearer",
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    (status, axum::Json(body)).into_response()
}
