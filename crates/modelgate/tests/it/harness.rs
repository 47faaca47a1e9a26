//! The real gateway on 127.0.0.1:0, over a temporary data directory.

use std::sync::Arc;

use modelgate_server::{AppState, Settings};
use modelgate_store::{DataDir, MasterKey, SqliteStore};
use serde_json::Value;

pub struct Gateway {
    pub url: String,
    pub state: Arc<AppState>,
    pub http: reqwest::Client,
    pub admin_token: String,
    _dir: tempfile::TempDir,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Gateway {
    pub async fn start(yaml: &str) -> Self {
        Self::start_with(yaml, false).await
    }

    /// The gateway over `yaml`. Its endpoints do not fetch model lists unless
    /// the YAML says `fetch: true` (the product's default is to fetch): so a
    /// fake's hit count is the requests the test made.
    pub async fn start_with(yaml: &str, require_keys: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut file =
            modelgate_config::parse_str(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
        for endpoint in &mut file.endpoints {
            endpoint.models.fetch.get_or_insert(false);
        }
        let data_dir = DataDir::open(dir.path()).expect("data dir");
        let master = MasterKey::load_or_create(dir.path(), None).expect("master key");
        let store = SqliteStore::open(&data_dir, master).await.expect("store");
        let settings = Settings {
            require_keys,
            admin_token: "admin-test-token-0123456789abcdef".to_owned(),
            config_path: Some("test.yaml".to_owned()),
        };
        let state = AppState::new(settings, file, Arc::new(store))
            .await
            .expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(modelgate_server::app::serve(listener, state.clone(), 2));
        Self {
            url,
            state,
            http: reqwest::Client::new(),
            admin_token: "admin-test-token-0123456789abcdef".to_owned(),
            _dir: dir,
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .json(body)
            .send()
            .await
            .expect("gateway answers");
        answer(response).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("gateway answers");
        answer(response).await
    }

    /// An admin API call.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.admin_token);
        if let Some(body) = body {
            request = request.json(body);
        }
        answer(request.send().await.expect("gateway answers")).await
    }

    pub async fn chat(&self, model: &str) -> Answer {
        self.post(
            "/v1/chat/completions",
            &serde_json::json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        headers,
        json,
    }
}

/// A YAML endpoint entry for an OpenAI-compatible fake.
pub fn endpoint(name: &str, base_url: &str, extra: &str) -> String {
    format!(
        "  - name: {name}\n    spec: openai-chat-completions\n    base_url: {base_url}\n{extra}"
    )
}

pub fn config(endpoints: &[String]) -> String {
    format!("endpoints:\n{}", endpoints.join(""))
}

/// The error message of an OpenAI error body.
pub fn message(answer: &Answer) -> &str {
    answer.json["error"]["message"].as_str().unwrap_or_default()
}
