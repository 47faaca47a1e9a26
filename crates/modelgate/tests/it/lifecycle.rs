//! The served binary's life: start-up checks, the request log, shutdown
//! with a drain deadline and a second signal, usage flushed either way.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use modelgate_store::{DataDir, MasterKey, SqliteStore, Store};
use modelgate_testkit::{FakeUpstream, Reply, openai};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr};

/// A `modelgate serve` on 127.0.0.1:0 over `dir`, its stderr readable.
struct Served {
    child: Child,
    url: String,
    logs: Lines<BufReader<ChildStderr>>,
}

async fn serve(dir: &Path, yaml: &str) -> Served {
    let config = dir.join("modelgate.yaml");
    std::fs::write(&config, yaml).unwrap();
    let mut child = crate::cli::modelgate(dir)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .env_remove("MODELGATE_LOG")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .next_line()
        .await
        .unwrap()
        .expect("serve prints its address");
    let url = line
        .strip_prefix("modelgate listening on ")
        .expect(&line)
        .to_owned();
    let logs = BufReader::new(child.stderr.take().unwrap()).lines();
    Served { child, url, logs }
}

impl Served {
    /// Reads log lines until one contains `needle`; returns it.
    async fn log_line(&mut self, needle: &str) -> String {
        while let Some(line) = self.logs.next_line().await.unwrap() {
            if line.contains(needle) {
                return line;
            }
        }
        panic!("the log ended without a line containing `{needle}`");
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end (a generous bound only against hangs).
    async fn exit_code(&mut self) -> i32 {
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("the server exits")
            .unwrap()
            .code()
            .unwrap_or(-1)
    }
}

/// A stream whose chunks the test sends (and never ends), behind an
/// endpoint `slow` that does not fetch a model list.
async fn stalled_upstream() -> (FakeUpstream, tokio::sync::mpsc::Sender<bytes::Bytes>) {
    let (chunks, rx) = tokio::sync::mpsc::channel(8);
    let rx = std::sync::Mutex::new(Some(rx));
    let upstream = FakeUpstream::start(move |req| {
        if req.json()["stream"] == true {
            Reply::Stream(rx.lock().unwrap().take().expect("one stream"))
        } else {
            Reply::json(200, &openai::completion("m", "done"))
        }
    })
    .await;
    (upstream, chunks)
}

fn yaml(upstream: &FakeUpstream, server: &str) -> String {
    format!(
        "server:\n{server}endpoints:\n  - name: slow\n    spec: openai-chat-completions\n    base_url: {}\n    models: {{fetch: false}}\n",
        upstream.url("/v1")
    )
}

/// Opens the stream and returns once its first chunk arrived.
async fn open_stream(
    url: &str,
    chunks: &tokio::sync::mpsc::Sender<bytes::Bytes>,
) -> reqwest::Response {
    // A complete request first, so there is usage to flush.
    let done = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .json(&json!({"model": "slow/m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    chunks
        .send(openai::chunk("m", json!({"content": "Hel"}), None).into())
        .await
        .unwrap();
    let mut response = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .json(&json!({"model": "slow/m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.chunk().await.unwrap().is_some());
    response
}

/// The statuses of the usage rows the server wrote, oldest first.
async fn recorded_statuses(dir: &Path) -> Vec<u16> {
    let data = DataDir::open(dir.join("data")).unwrap();
    let master = MasterKey::load_or_create(data.path(), None).unwrap();
    let store = SqliteStore::open(&data, master).await.unwrap();
    let mut rows = store.recent_usage(100).await.unwrap();
    rows.reverse();
    rows.iter().map(|r| r.status).collect()
}

/// Reads what is left of a stream the server cut off at shutdown.
async fn cut_off_stream(mut stream: reqwest::Response) -> String {
    let mut seen = String::new();
    while let Ok(Some(chunk)) = stream.chunk().await {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

/// An open stream gets `server.drain_timeout` to finish; then the server
/// exits anyway, having written the usage of what completed.
#[tokio::test(flavor = "multi_thread")]
async fn shutdown_waits_for_open_streams_only_until_the_drain_deadline() {
    let (upstream, chunks) = stalled_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &yaml(&upstream, "  drain_timeout: 1s\n")).await;
    let stream = open_stream(&served.url, &chunks).await;
    served.signal("TERM");
    served.log_line("drain timeout").await;
    // The client is told, and the stream is recorded as cut (503), beside
    // the request that completed before.
    let rest = cut_off_stream(stream).await;
    assert!(rest.contains("gateway_shutting_down"), "{rest}");
    assert_eq!(served.exit_code().await, 0);
    assert_eq!(recorded_statuses(dir.path()).await, [200, 503]);
}

/// A second signal ends at once, however long the drain timeout is.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_stops_at_once() {
    let (upstream, chunks) = stalled_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &yaml(&upstream, "  drain_timeout: 1h\n")).await;
    let stream = open_stream(&served.url, &chunks).await;
    served.signal("TERM");
    served.log_line("shutting down").await;
    served.signal("INT");
    served.log_line("second signal").await;
    let rest = cut_off_stream(stream).await;
    assert!(rest.contains("gateway_shutting_down"), "{rest}");
    assert_eq!(served.exit_code().await, 0);
    assert_eq!(recorded_statuses(dir.path()).await, [200, 503]);
}

/// One info line per request by default: route, model, endpoint, status,
/// latency and tokens; never the body.
#[tokio::test(flavor = "multi_thread")]
async fn every_request_gets_one_log_line() {
    let upstream =
        FakeUpstream::start(|_| Reply::json(200, &openai::completion("m", "secret answer"))).await;
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &yaml(&upstream, "  drain_timeout: 5s\n")).await;
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", served.url))
        .json(&json!({"model": "slow/m", "messages": [{"role": "user", "content": "secret question"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let line = served.log_line("POST /v1/chat/completions").await;
    for part in [
        "model=m",
        "endpoint=slow",
        "status=200",
        "latency_ms=",
        "input_tokens=10",
        "output_tokens=5",
    ] {
        assert!(line.contains(part), "{part} in {line}");
    }
    assert!(!line.contains("secret"), "{line}");
    let unknown = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", served.url))
        .json(&json!({"model": "nope", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let line = served.log_line("POST /v1/chat/completions").await;
    assert!(line.contains("status=404"), "{line}");
    // Other routes, and requests refused before any handler, too.
    let models = reqwest::get(format!("{}/v1/models", served.url))
        .await
        .unwrap();
    assert_eq!(models.status(), 200);
    let line = served.log_line("GET /v1/models").await;
    assert!(line.contains("status=200"), "{line}");
    let form = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", served.url))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let line = served.log_line("POST /v1/chat/completions").await;
    assert!(line.contains("status=415"), "{line}");
    served.signal("TERM");
    assert_eq!(served.exit_code().await, 0);
}

/// A guessable admin token is refused at start.
#[tokio::test(flavor = "multi_thread")]
async fn a_short_admin_token_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::cli::modelgate(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("MODELGATE_ADMIN_TOKEN", "admin")
        .output()
        .await
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at least 24"), "{stderr}");
}

/// SIGHUP reads the config file again: a new endpoint routes at once; a
/// broken file changes nothing and says why.
#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_the_config_file() {
    let upstream = FakeUpstream::start(|_| Reply::json(200, &openai::completion("m", "hi"))).await;
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &yaml(&upstream, "  drain_timeout: 5s\n")).await;
    let url = served.url.clone();
    let chat = |model: &'static str| {
        reqwest::Client::new()
            .post(format!("{url}/v1/chat/completions"))
            .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    assert_eq!(chat("added/m").await.unwrap().status(), 404);
    let grown = format!(
        "{}  - name: added\n    spec: openai-chat-completions\n    base_url: {}\n",
        yaml(&upstream, "  drain_timeout: 5s\n"),
        upstream.url("/v1")
    );
    std::fs::write(dir.path().join("modelgate.yaml"), grown).unwrap();
    served.signal("HUP");
    let line = served.log_line("reloaded").await;
    assert!(line.contains("2 endpoint(s)"), "{line}");
    assert_eq!(chat("added/m").await.unwrap().status(), 200);

    std::fs::write(dir.path().join("modelgate.yaml"), "endpoints: [oops\n").unwrap();
    served.signal("HUP");
    let line = served.log_line("could not reload").await;
    assert!(
        line.contains("previous configuration stays in use"),
        "{line}"
    );
    assert_eq!(chat("added/m").await.unwrap().status(), 200);
    served.signal("TERM");
    assert_eq!(served.exit_code().await, 0);
}
