//! Talking to modelgate: over HTTP to a running server, or to the same
//! application in this process when no server runs. Both paths send the
//! same HTTP requests, so the CLI behaves the same either way.
//!
//! Which server: `--server` / `MODELGATE_URL`, else the one `serve`
//! announced in the data directory (`server.json`, see [`server_file`]),
//! saying so on stderr, else none.

use std::path::PathBuf;
use std::pin::Pin;

use anyhow::{Context, Result, bail};
use axum::Router;
use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http::{Method, Request, header};
use serde_json::Value;
use tower::ServiceExt;

use crate::cli::{ClientArgs, Global};
use crate::error::CliError;
use crate::local;
use crate::server_file::{self, Found};

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

pub enum Conn {
    Remote {
        http: reqwest::Client,
        base: String,
        admin_token: Option<String>,
        /// Where the admin token came from when no flag gave it, for the
        /// hint on a 401: the server may use another data directory.
        token_file: Option<PathBuf>,
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

/// `--server` as given, made a base URL: `http://` added when there is no
/// scheme, a trailing `/` or `/v1` (the URL OpenAI clients are given) removed.
pub fn normalize_server_url(given: &str) -> Result<String> {
    let trimmed = given.trim();
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let mut base = with_scheme.trim_end_matches('/');
    if let Some(stripped) = base.strip_suffix("/v1") {
        base = stripped.trim_end_matches('/');
    }
    match reqwest::Url::parse(base) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(base.to_owned())
        }
        _ => bail!(
            "--server / MODELGATE_URL: `{given}` is not a server URL; give one like http://127.0.0.1:4000"
        ),
    }
}

impl Conn {
    pub async fn open(global: &Global, client: &ClientArgs) -> Result<Self> {
        let server = match &client.server {
            Some(given) => Some(normalize_server_url(given)?),
            None => discovered(global).await,
        };
        if let Some(base) = server {
            let (admin_token, token_file) = match &client.admin_token {
                Some(token) => (Some(token.clone()), None),
                None => {
                    let file = global.data_dir.join("admin.token");
                    let token = std::fs::read_to_string(&file)
                        .ok()
                        .map(|t| t.trim().to_owned());
                    (token, Some(file))
                }
            };
            return Ok(Conn::Remote {
                http: reqwest::Client::new(),
                base,
                admin_token,
                token_file,
                api_key: client.gateway_key.clone(),
            });
        }
        let state = local::open_state(global, client.admin_token.as_deref(), false).await?;
        Ok(Conn::Local {
            admin_token: state.settings.admin_token.clone(),
            router: modelgate_server::app::router(state),
            api_key: client.gateway_key.clone(),
        })
    }

    pub fn is_remote(&self) -> bool {
        matches!(self, Conn::Remote { .. })
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
                ..
            } => {
                let mut request = http.request(method, format!("{base}{path}"));
                let token = match auth {
                    Auth::Admin => Some(admin_token.as_deref().ok_or_else(|| {
                        CliError::new(format!(
                            "the admin API of {base} needs its admin token: pass --admin-token or set MODELGATE_ADMIN_TOKEN (the server keeps it in its data directory, file admin.token; pass that directory with --data-dir)"
                        ))
                        .with_code("missing_admin_token")
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
    /// server's own message (and code), with a hint where the CLI knows more.
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let (status, value) = self
            .send(Auth::Admin, method, path, body)
            .await?
            .json()
            .await?;
        if !(200..300).contains(&status) {
            return Err(self.failure(Auth::Admin, status, &value).into());
        }
        Ok(value)
    }

    /// The error of a non-2xx answer, with what the user can do about a
    /// rejected credential.
    pub fn failure(&self, auth: Auth, status: u16, body: &Value) -> CliError {
        let error = CliError::from_reply(status, body);
        if status != 401 {
            return error;
        }
        match (auth, self) {
            // `invalid_api_key` is the gateway's own check; a 401 about the
            // upstream's keys (`upstream_keys_exhausted`) is not the CLI's.
            (Auth::Gateway, _) if error.code.as_deref() == Some("invalid_api_key") => {
                let sent = match self {
                    Conn::Remote { api_key, .. } | Conn::Local { api_key, .. } => {
                        api_key.is_some()
                    }
                };
                if sent {
                    error.with_hint(
                        "The CLI sent the key of --gateway-key / MODELGATE_API_KEY; check it with `modelgate keys list`",
                    )
                } else {
                    error.with_hint(
                        "The CLI sent no gateway key: pass one with --gateway-key KEY or set MODELGATE_API_KEY (create one with `modelgate keys create NAME`)",
                    )
                }
            }
            (
                Auth::Admin,
                Conn::Remote {
                    base,
                    token_file: Some(file),
                    ..
                },
            ) => error.with_hint(&format!(
                "The CLI used the token in {}; if the server at {base} uses another data directory, pass it with --data-dir, or pass --admin-token",
                file.display()
            )),
            _ => error,
        }
    }
}

/// The server announced in the data directory, said on stderr.
async fn discovered(global: &Global) -> Option<String> {
    match server_file::find(&global.data_dir).await {
        Found::Nothing => None,
        Found::Running { url, file } => {
            eprintln!(
                "using the modelgate server at {url} (from {})",
                file.display()
            );
            Some(url)
        }
        Found::Silent { url, pid, file } => {
            eprintln!(
                "warning: {} names a modelgate server (pid {pid}) at {url} that does not answer; working on the data directory directly. A running server sees such changes only at its next start: pass --server URL to reach it.",
                file.display()
            );
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_normalized() {
        for given in [
            "http://127.0.0.1:4000",
            "http://127.0.0.1:4000/",
            "http://127.0.0.1:4000/v1",
            "http://127.0.0.1:4000/v1/",
            " 127.0.0.1:4000/v1 ",
        ] {
            assert_eq!(
                normalize_server_url(given).unwrap(),
                "http://127.0.0.1:4000",
                "{given}"
            );
        }
        assert_eq!(
            normalize_server_url("https://gw.example.com/modelgate/v1").unwrap(),
            "https://gw.example.com/modelgate"
        );
        assert!(normalize_server_url("ftp://x").is_err());
        assert!(normalize_server_url("http://").is_err());
    }
}
