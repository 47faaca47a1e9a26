//! The `modelgate` binary: contract of `endpoints test`, config errors,
//! `chat` streaming (JSON events, cut streams, gateway keys), and `serve`
//! start-up. Shared helpers for `cli_usability`.

use std::path::Path;
use std::process::Stdio;

use modelgate_testkit::{FakeUpstream, Reply, openai};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// The binary in `dir`, on the data directory `dir/data`, with no server
/// or config named by the environment.
pub fn modelgate(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_modelgate"));
    cmd.current_dir(dir)
        .env_remove("MODELGATE_URL")
        .env_remove("MODELGATE_API_KEY")
        .env_remove("MODELGATE_ADMIN_TOKEN")
        .env_remove("MODELGATE_CONFIG")
        .env_remove("MODELGATE_MASTER_KEY")
        .env("MODELGATE_DATA_DIR", dir.join("data"))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

pub async fn run(dir: &Path, args: &[&str]) -> Run {
    let out = modelgate(dir)
        .args(args)
        .output()
        .await
        .expect("run modelgate");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("modelgate.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_test_prints_a_verdict_per_key_and_exits_by_them() {
    let upstream = FakeUpstream::start(|req| match req.bearer() {
        Some("sk-good-key-00001") => Reply::json(200, &openai::model_list(&["m"])),
        _ => openai::error(401, "bad key", "invalid_request_error", "invalid_api_key"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(
        dir.path(),
        &format!(
            "endpoints:\n  - name: mixed\n    spec: openai-chat-completions\n    base_url: {0}\n    api_keys: [sk-good-key-00001, sk-bad-key-000002]\n  - name: good\n    spec: openai-chat-completions\n    base_url: {0}\n    api_key: sk-good-key-00001\n",
            upstream.url("/v1")
        ),
    );
    let mixed = run(
        dir.path(),
        &["endpoints", "test", "mixed", "--config", &file],
    )
    .await;
    assert_eq!(mixed.code, 1, "{}{}", mixed.stdout, mixed.stderr);
    let lines: Vec<&str> = mixed.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", mixed.stdout);
    assert!(
        lines[0].starts_with("KEY") && lines[0].contains("VERDICT") && lines[0].contains("HINT"),
        "a header row: {}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("sk-…0001") && lines[1].contains(" ok "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("sk-…0002") && lines[2].contains(" invalid "),
        "{}",
        lines[2]
    );
    assert!(!mixed.stdout.contains("sk-good-key"), "keys masked");

    let good = run(
        dir.path(),
        &["endpoints", "test", "good", "--config", &file],
    )
    .await;
    assert_eq!(good.code, 0, "{}{}", good.stdout, good.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn config_errors_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(
        dir.path(),
        "endpoints:\n  - name: local\n    spec: openai-chat-completions\n    base_ur: http://localhost:11434/v1\n",
    );
    let check = run(dir.path(), &["config", "check", "--config", &file]).await;
    assert_eq!(check.code, 1);
    assert!(
        check.stderr.contains(&format!("{file}:4:")),
        "{}",
        check.stderr
    );
    assert!(
        check.stderr.contains("did you mean `base_url`"),
        "{}",
        check.stderr
    );

    let good = write_config(
        dir.path(),
        "endpoints:\n  - name: local\n    spec: openai-chat-completions\n    base_url: http://localhost:11434/v1\n    api_key: ${MODELGATE_TEST_UNSET_KEY}\n",
    );
    let check = run(dir.path(), &["config", "check", "--config", &good]).await;
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check.stdout.contains("MODELGATE_TEST_UNSET_KEY"),
        "missing variables are warned about: {}",
        check.stdout
    );

    let schema = run(dir.path(), &["config", "schema"]).await;
    let schema: serde_json::Value = serde_json::from_str(&schema.stdout).unwrap();
    assert!(schema.to_string().contains("openai-chat-completions"));
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_streams_the_answer_without_a_server() {
    let upstream = FakeUpstream::start(|req| {
        assert_eq!(req.json()["stream"], true);
        Reply::sse(openai::text_stream("m", &["Hello", ", ", "world"], false))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(
        dir.path(),
        &format!(
            "endpoints:\n  - name: local\n    spec: openai-chat-completions\n    base_url: {}\n",
            upstream.url("/v1")
        ),
    );
    let chat = run(
        dir.path(),
        &[
            "chat",
            "-m",
            "local/llama3",
            "--system",
            "be brief",
            "--max-tokens",
            "20",
            "hi",
            "--config",
            &file,
        ],
    )
    .await;
    assert_eq!(chat.code, 0, "{}", chat.stderr);
    assert_eq!(chat.stdout, "Hello, world\n");
    let sent = upstream.last().json();
    assert_eq!(sent["messages"][0]["role"], "system");
    assert_eq!(sent["max_tokens"], 20);

    // The message may come on standard input.
    let mut child = modelgate(dir.path())
        .args(["chat", "-m", "local/llama3", "--config", &file])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from stdin")
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    assert_eq!(
        upstream.last().json()["messages"][0]["content"],
        "from stdin"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_added_by_the_cli_persist_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let add = run(
        dir.path(),
        &[
            "endpoints",
            "add",
            "ollama",
            "--spec",
            "openai-chat-completions",
            "--base-url",
            "http://localhost:11434/v1/",
            "--api-key",
            "sk-cli-secret-00042",
            "--model",
            "llama3",
            "--no-check",
        ],
    )
    .await;
    assert_eq!(add.code, 0, "{}", add.stderr);
    let list = run(dir.path(), &["endpoints", "list", "--json"]).await;
    let list: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list["endpoints"][0]["name"], "ollama");
    assert_eq!(
        list["endpoints"][0]["base_url"],
        "http://localhost:11434/v1"
    );
    assert_eq!(list["endpoints"][0]["api_keys"][0], "sk-…0042");
    let shadow = run(
        dir.path(),
        &[
            "endpoints",
            "add",
            "openai",
            "--spec",
            "openai-chat-completions",
            "--base-url",
            "http://x",
        ],
    )
    .await;
    assert_eq!(shadow.code, 1);
    assert!(shadow.stderr.contains("built-in"), "{}", shadow.stderr);
    let rm = run(dir.path(), &["endpoints", "rm", "ollama"]).await;
    assert_eq!(rm.code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_announces_its_address_and_answers_healthz() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = modelgate(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines
        .next_line()
        .await
        .unwrap()
        .expect("serve prints its address");
    let url = line
        .strip_prefix("modelgate listening on ")
        .expect(&line)
        .to_owned();
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(dir.path().join("data/admin.token").exists());
    child.kill().await.unwrap();
}

/// SIGTERM stops new work but lets an open stream finish, on every
/// serving thread, and the process then exits cleanly.
#[tokio::test(flavor = "multi_thread")]
async fn serve_finishes_open_streams_on_sigterm_then_exits() {
    let (chunks, rx) = tokio::sync::mpsc::channel(8);
    let rx = std::sync::Mutex::new(Some(rx));
    let upstream =
        FakeUpstream::start(move |_| Reply::Stream(rx.lock().unwrap().take().expect("one stream")))
            .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(
        dir.path(),
        &format!(
            "endpoints:\n  - name: slow\n    spec: openai-chat-completions\n    base_url: {}\n    api_key: sk-slow-key-000001\n    models: {{fetch: false}}\n",
            upstream.url("/v1")
        ),
    );
    let mut child = modelgate(dir.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "3",
            "--config",
            &file,
        ])
        .env("MODELGATE_LOG", "info")
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
    let url = line.strip_prefix("modelgate listening on ").expect(&line);
    let mut logs = BufReader::new(child.stderr.take().unwrap()).lines();

    let pieces: Vec<String> = ["Hello", " from", " a", " stream"]
        .iter()
        .map(|p| openai::chunk("m", serde_json::json!({"content": p}), None))
        .collect();
    chunks.send(pieces[0].clone().into()).await.unwrap();
    let mut response = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .json(&serde_json::json!({"model": "slow/m", "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = String::from_utf8(response.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(body.contains("Hello"), "{body}");

    let pid = child.id().expect("running").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    // Shutdown has begun before the rest of the stream is sent.
    while let Some(log) = logs.next_line().await.unwrap() {
        if log.contains("shutting down") {
            break;
        }
    }
    for piece in &pieces[1..] {
        chunks.send(piece.clone().into()).await.unwrap();
    }
    chunks
        .send(openai::chunk("m", serde_json::json!({}), Some("stop")).into())
        .await
        .unwrap();
    chunks.send("data: [DONE]\n\n".into()).await.unwrap();
    drop(chunks);
    while let Some(more) = response.chunk().await.unwrap() {
        body.push_str(&String::from_utf8_lossy(&more));
    }
    assert!(body.contains(" stream"), "{body}");
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    let status = child.wait().await.unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_names_the_gateway_key_flag_when_keys_are_required() {
    let upstream =
        FakeUpstream::start(|_| Reply::sse(openai::text_stream("m", &["hi"], false))).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(
        dir.path(),
        &format!(
            "auth: {{require_keys: true}}\nendpoints:\n  - name: local\n    spec: openai-chat-completions\n    base_url: {}\n",
            upstream.url("/v1")
        ),
    );
    let chat = run(
        dir.path(),
        &["chat", "-m", "local/m", "hi", "--config", &file],
    )
    .await;
    assert_eq!(chat.code, 1);
    assert!(chat.stderr.contains("--gateway-key"), "{}", chat.stderr);
    assert!(chat.stderr.contains("MODELGATE_API_KEY"), "{}", chat.stderr);
    assert_eq!(upstream.hits(), 0);

    // With a key created by the CLI, the same chat goes through.
    let key = run(dir.path(), &["keys", "create", "me", "--config", &file]).await;
    assert_eq!(key.code, 0, "{}", key.stderr);
    assert!(
        key.stderr.contains("gateway keys are required"),
        "{}",
        key.stderr
    );
    let token = key.stdout.trim();
    let chat = run(
        dir.path(),
        &[
            "chat",
            "-m",
            "local/m",
            "hi",
            "--config",
            &file,
            "--gateway-key",
            token,
        ],
    )
    .await;
    assert_eq!(chat.code, 0, "{}", chat.stderr);
    assert_eq!(chat.stdout, "hi\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_reports_a_stream_cut_mid_answer() {
    // A chunk of the answer, then the upstream closes: no finish, no [DONE].
    let upstream = FakeUpstream::start(|_| {
        Reply::sse(openai::chunk("m", json!({"content": "partial"}), None))
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(
        dir.path(),
        &format!(
            "endpoints:\n  - name: local\n    spec: openai-chat-completions\n    base_url: {}\n",
            upstream.url("/v1")
        ),
    );
    let chat = run(
        dir.path(),
        &["chat", "-m", "local/m", "hi", "--config", &file],
    )
    .await;
    assert_eq!(chat.code, 1, "{}{}", chat.stdout, chat.stderr);
    assert_eq!(chat.stdout, "partial\n");
    assert!(chat.stderr.contains("stream_truncated"), "{}", chat.stderr);

    let chat = run(
        dir.path(),
        &["chat", "-m", "local/m", "hi", "--config", &file, "--json"],
    )
    .await;
    assert_eq!(chat.code, 1);
    let lines: Vec<Value> = chat
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines[0]["choices"][0]["delta"]["content"], "partial");
    assert_eq!(lines.last().unwrap()["error"]["code"], "stream_truncated");
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_json_prints_one_event_per_line() {
    let upstream =
        FakeUpstream::start(|_| Reply::sse(openai::text_stream("m", &["a", "b"], false))).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(
        dir.path(),
        &format!(
            "endpoints:\n  - name: local\n    spec: openai-chat-completions\n    base_url: {}\n",
            upstream.url("/v1")
        ),
    );
    let chat = run(
        dir.path(),
        &["chat", "-m", "local/m", "hi", "--config", &file, "--json"],
    )
    .await;
    assert_eq!(chat.code, 0, "{}", chat.stderr);
    let events: Vec<Value> = chat
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let text: String = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "ab");
    assert_eq!(
        events.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
}
