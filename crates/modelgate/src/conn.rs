//! Talking to modelgate: over HTTP to a running server, or to the same
//! application in this process when no server is configured. Both paths send
//! the same HTTP requests, so the CLI behaves the same either way.

use std::pin::Pin;

use anyhow::{Context, Result, anyhow, bail};
use axum::Router;
use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http::{Method, Request, header};
use serde_json::Value;
use tower::ServiceExt;

use crate::cli::Global;
use crate::local;

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

pub enum Conn {
    Remote {
        http: reqwest::Client,
        base: String,
        admin_token: Option<String>,
        api_key: Option<String>,
    },
    Local {
        router: Router,
        admin_token: String,
        api_key: Option<String>,
    },
}

/// Which credential a request carries.
#[derive(Clone, Copy)]
pub enum Auth {
    Admin,
    Gateway,
}

pub struct Reply {
    pub status: u16,
    pub body: ByteStream,
}

impl Reply {
    pub async fn json(self) -> Result<(u16, Value)> {
        let bytes: Vec<Bytes> = self.body.try_collect().await?;
        let bytes = bytes.concat();
        let value = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "the server answered HTTP {} with something that is not JSON",
                self.status
            )
        })?;
        Ok((self.status, value))
    }
}

impl Conn {
    pub async fn open(global: &Global) -> Result<Self> {
        if let Some(server) = &global.server {
            let admin_token = global.admin_token.clone().or_else(|| {
                std::fs::read_to_string(global.data_dir.join("admin.token"))
                    .ok()
                    .map(|t| t.trim().to_owned())
            });
            return Ok(Conn::Remote {
                http: reqwest::Client::new(),
                base: server.trim_end_matches('/').to_owned(),
                admin_token,
                api_key: global.gateway_key.clone(),
            });
        }
        let state = local::open_state(global, false).await?;
        Ok(Conn::Local {
            admin_token: state.settings.admin_token.clone(),
            router: modelgate_server::app::router(state),
            api_key: global.gateway_key.clone(),
        })
    }

    pub async fn send(
        &self,
        auth: Auth,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply> {
        match self {
            Conn::Remote {
                http,
                base,
                admin_token,
                api_key,
            } => {
                let mut request = http.request(method, format!("{base}{path}"));
                let token = match auth {
                    Auth::Admin => Some(admin_token.as_deref().ok_or_else(|| {
                        anyhow!("the admin API needs a token: pass --admin-token or set MODELGATE_ADMIN_TOKEN (the server keeps it in its data directory, file admin.token)")
                    })?),
                    Auth::Gateway => api_key.as_deref(),
                };
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = body {
                    request = request.json(body);
                }
                let response = request.send().await.with_context(|| {
                    format!("cannot reach the modelgate server at {base}; is it running?")
                })?;
                let status = response.status().as_u16();
                let body = response.bytes_stream().map_err(anyhow::Error::from);
                Ok(Reply {
                    status,
                    body: Box::pin(body),
                })
            }
            Conn::Local {
                router,
                admin_token,
                api_key,
            } => {
                let mut request = Request::builder().method(method).uri(path);
                let token = match auth {
                    Auth::Admin => Some(admin_token.as_str()),
                    Auth::Gateway => api_key.as_deref(),
                };
                if let Some(token) = token {
                    request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
                }
                let body = match body {
                    Some(v) => {
                        request = request.header(header::CONTENT_TYPE, "application/json");
                        axum::body::Body::from(serde_json::to_vec(v)?)
                    }
                    None => axum::body::Body::empty(),
                };
                let response = router.clone().oneshot(request.body(body)?).await?;
                let status = response.status().as_u16();
                let body = response
                    .into_body()
                    .into_data_stream()
                    .map_err(anyhow::Error::from);
                Ok(Reply {
                    status,
                    body: Box::pin(body),
                })
            }
        }
    }

    /// An admin call whose answer must be a success; errors become the
    /// server's own message.
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let (status, value) = self
            .send(Auth::Admin, method, path, body)
            .await?
            .json()
            .await?;
        if !(200..300).contains(&status) {
            bail!(
                "{}",
                error_message(&value).unwrap_or_else(|| format!("HTTP {status}"))
            );
        }
        Ok(value)
    }
}

/// The message of an `{"error": {"message": ...}}` body.
pub fn error_message(value: &Value) -> Option<String> {
    value
        .get("error")?
        .get("message")?
        .as_str()
        .map(str::to_owned)
}
