//! The CLI's first hour: the real binary finds a running server on its data
//! directory, speaks JSON on request (errors too), clears settings, checks
//! endpoints after writing them, and explains what to do when it fails.

use std::path::Path;
use std::process::Stdio;

use modelgate_testkit::{FakeUpstream, Reply, openai};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::cli::{Run, modelgate, run, write_config};

/// `serve --listen 127.0.0.1:0` on `dir/data`; its URL once it listens.
async fn serve(dir: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = modelgate(dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    (child, url)
}

/// SIGTERM, then the exit status.
async fn stop(mut child: Child) -> std::process::ExitStatus {
    let pid = child.id().expect("running").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    child.wait().await.unwrap()
}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", run.stdout, run.stderr))
}

fn admin_token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("data/admin.token"))
        .unwrap()
        .trim()
        .to_owned()
}

async fn add_local(dir: &Path, base_url: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "endpoints",
        "add",
        "local",
        "--spec",
        "openai-chat-completions",
        "--base-url",
        base_url,
    ];
    args.extend_from_slice(extra);
    run(dir, &args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn client_commands_use_the_server_running_on_their_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (server, url) = serve(dir.path(), &[]).await;
    let file = dir.path().join("data/server.json");
    let announced: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(announced["url"], url.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // No MODELGATE_URL: the CLI finds the server and says so.
    let add = add_local(
        dir.path(),
        "http://127.0.0.1:9/v1",
        &["--model", "m", "--no-fetch-models", "--no-check"],
    )
    .await;
    assert_eq!(add.code, 0, "{}{}", add.stdout, add.stderr);
    assert!(
        add.stderr.contains(&format!(
            "using the modelgate server at {url} (from {})",
            file.display()
        )),
        "{}",
        add.stderr
    );

    // The running server has it at once, for clients and the admin API.
    let http = reqwest::Client::new();
    let models: Value = http
        .get(format!("{url}/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(models.to_string().contains("local/m"), "{models}");
    let listed: Value = http
        .get(format!("{url}/api/endpoints"))
        .bearer_auth(admin_token(dir.path()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["endpoints"][0]["name"], "local", "{listed}");

    // --server takes the URL OpenAI clients are given, /v1 and all.
    let list = run(
        dir.path(),
        &[
            "endpoints",
            "list",
            "--json",
            "--server",
            &format!("{url}/v1/"),
        ],
    )
    .await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_eq!(json_of(&list)["endpoints"][0]["name"], "local");
    assert!(
        !list.stderr.contains("using the modelgate server"),
        "{}",
        list.stderr
    );

    // A clean exit takes the announcement away.
    assert!(stop(server).await.success());
    assert!(!file.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_server_file_does_not_break_commands() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    // A server killed without cleaning up: its process is gone.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    let file = dir.path().join("data/server.json");
    std::fs::write(
        &file,
        json!({"url": format!("http://{closed}"), "pid": dead_pid}).to_string(),
    )
    .unwrap();
    let list = run(dir.path(), &["endpoints", "list"]).await;
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains("no endpoints yet"), "{}", list.stdout);
    assert!(list.stderr.is_empty(), "{}", list.stderr);

    // A live process that does not answer: a warning, and the work is done.
    std::fs::write(
        &file,
        json!({"url": format!("http://{closed}"), "pid": std::process::id()}).to_string(),
    )
    .unwrap();
    let add = add_local(dir.path(), "http://127.0.0.1:9/v1", &["--no-check"]).await;
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(add.stderr.contains("does not answer"), "{}", add.stderr);

    std::fs::write(&file, "garbage").unwrap();
    let list = run(dir.path(), &["endpoints", "list", "--json"]).await;
    assert_eq!(json_of(&list)["endpoints"][0]["name"], "local");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_covers_results_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let add = add_local(
        dir.path(),
        "http://127.0.0.1:9/v1",
        &["--no-check", "--json"],
    )
    .await;
    assert_eq!(add.code, 0, "{}", add.stderr);
    let added = json_of(&add);
    assert_eq!(added["endpoint"]["name"], "local");
    assert_eq!(added["check"], Value::Null);

    let rm = run(dir.path(), &["endpoints", "rm", "local", "--json"]).await;
    assert_eq!(rm.code, 0, "{}", rm.stderr);
    assert_eq!(json_of(&rm), json!({"deleted": "local"}));

    // An error from the server: JSON on stdout, its code kept, exit 1.
    let again = run(dir.path(), &["endpoints", "rm", "local", "--json"]).await;
    assert_eq!(again.code, 1);
    let error = json_of(&again);
    assert_eq!(error["error"]["code"], "endpoint_not_found", "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("local")
    );

    // An error of the CLI itself, and a usage error (before or after the command).
    let nothing = run(dir.path(), &["endpoints", "update", "local", "--json"]).await;
    assert_eq!(nothing.code, 1);
    assert!(
        json_of(&nothing)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing to change")
    );
    let usage = run(
        dir.path(),
        &[
            "--json",
            "endpoints",
            "add",
            "x",
            "--spec",
            "openai-chat",
            "--base-url",
            "http://h",
        ],
    )
    .await;
    assert_eq!(usage.code, 2, "{}{}", usage.stdout, usage.stderr);
    assert!(
        json_of(&usage)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `openai-chat-completions`")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mistyped_spec_is_caught_with_a_suggestion_and_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let add = run(
        dir.path(),
        &[
            "endpoints",
            "add",
            "x",
            "--spec",
            "antropic",
            "--base-url",
            "http://h",
        ],
    )
    .await;
    assert_eq!(add.code, 2);
    assert!(
        add.stderr.contains("did you mean `anthropic`?"),
        "{}",
        add.stderr
    );
    for spec in [
        "openai-chat-completions",
        "openai-responses",
        "google",
        "azure",
        "amazon-bedrock",
        "google-vertex",
    ] {
        assert!(add.stderr.contains(spec), "{}", add.stderr);
    }
    assert!(!dir.path().join("data").exists(), "nothing was opened");
}

#[tokio::test(flavor = "multi_thread")]
async fn update_clears_settings_and_says_when_nothing_changed() {
    let dir = tempfile::tempdir().unwrap();
    let add = add_local(
        dir.path(),
        "http://127.0.0.1:9/v1",
        &[
            "--api-key",
            "sk-local-key-0001",
            "--header",
            "x-team=ml",
            "--description",
            "the box under the desk",
            "--tag",
            "gpu",
            "--model",
            "m",
            "--direct",
            "--no-fetch-models",
            "--add-param",
            r#"stop="\n""#,
            "--no-check",
        ],
    )
    .await;
    assert_eq!(add.code, 0, "{}", add.stderr);
    let show = || async {
        let list = run(dir.path(), &["endpoints", "list", "--json"]).await;
        json_of(&list)["endpoints"][0].clone()
    };
    let ep = show().await;
    assert_eq!(ep["direct_endpoint"], true, "{ep}");
    assert_eq!(
        ep["models"],
        json!({"default": ["m"], "fetch": false}),
        "{ep}"
    );
    assert_eq!(ep["add_params"]["stop"], "\n", "{ep}");

    // Nothing given: refused before anything is opened or sent.
    let nothing = run(dir.path(), &["endpoints", "update", "local"]).await;
    assert_eq!(nothing.code, 1);
    assert!(
        nothing.stderr.contains("nothing to change"),
        "{}",
        nothing.stderr
    );

    let update = run(
        dir.path(),
        &[
            "endpoints",
            "update",
            "local",
            "--unset",
            "headers",
            "--unset",
            "description",
            "--unset",
            "tags",
            "--unset",
            "add-params",
            "--no-api-key",
            "--no-direct",
            "--fetch-models",
            "--no-check",
        ],
    )
    .await;
    assert_eq!(update.code, 0, "{}", update.stderr);
    assert!(
        update.stdout.contains("updated endpoint local"),
        "{}",
        update.stdout
    );
    let ep = show().await;
    for cleared in [
        "headers",
        "description",
        "tags",
        "add_params",
        "direct_endpoint",
    ] {
        assert!(ep.get(cleared).is_none(), "{cleared}: {ep}");
    }
    assert_eq!(ep["api_keys"], json!([]), "{ep}");
    // --fetch-models kept the listed model.
    assert_eq!(
        ep["models"],
        json!({"default": ["m"], "fetch": true}),
        "{ep}"
    );

    let same = run(
        dir.path(),
        &[
            "endpoints",
            "update",
            "local",
            "--unset",
            "description",
            "--no-check",
        ],
    )
    .await;
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(same.stdout.contains("unchanged"), "{}", same.stdout);
    let same = run(
        dir.path(),
        &["endpoints", "update", "local", "--fetch-models", "--json"],
    )
    .await;
    assert_eq!(json_of(&same)["changed"], false);

    let typo = run(
        dir.path(),
        &["endpoints", "update", "local", "--unset", "header"],
    )
    .await;
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr.contains("did you mean `headers`"),
        "{}",
        typo.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn add_params_are_json_and_a_bare_word_says_how_to_quote() {
    let dir = tempfile::tempdir().unwrap();
    let add = add_local(
        dir.path(),
        "http://127.0.0.1:9/v1",
        &["--add-param", "mode=fast", "--no-check"],
    )
    .await;
    assert_eq!(add.code, 1);
    assert!(
        add.stderr.contains(r#"--add-param 'mode="fast"'"#),
        "{}",
        add.stderr
    );
    assert!(add.stderr.contains("is not JSON"), "{}", add.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn add_and_update_check_the_endpoint_and_warn_without_failing() {
    let upstream = FakeUpstream::start(|req| match req.bearer() {
        Some("sk-good-key-00001") => Reply::json(200, &openai::model_list(&["m"])),
        _ => openai::error(401, "bad key", "invalid_request_error", "invalid_api_key"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let base = upstream.url("/v1");
    let add = add_local(dir.path(), &base, &["--api-key", "sk-bad-key-000002"]).await;
    assert_eq!(
        add.code, 0,
        "a failing check keeps the write: {}",
        add.stderr
    );
    assert!(
        add.stdout.contains("added endpoint local"),
        "{}",
        add.stdout
    );
    assert!(
        add.stderr.contains("warning: sk-…0002: invalid (HTTP 401)"),
        "{}",
        add.stderr
    );
    assert!(!add.stderr.contains("sk-bad-key"), "keys masked");
    assert_eq!(upstream.hits(), 1);

    let update = run(
        dir.path(),
        &[
            "endpoints",
            "update",
            "local",
            "--api-key",
            "sk-good-key-00001",
            "--json",
        ],
    )
    .await;
    assert_eq!(update.code, 0, "{}", update.stderr);
    let out = json_of(&update);
    assert_eq!(out["changed"], true);
    assert_eq!(out["check"]["ok"], true, "{out}");
    // The key test lists the models, then probes the chat route.
    assert_eq!(upstream.hits(), 3);

    let unchecked = run(
        dir.path(),
        &[
            "endpoints",
            "update",
            "local",
            "--description",
            "x",
            "--no-check",
        ],
    )
    .await;
    assert_eq!(unchecked.code, 0, "{}", unchecked.stderr);
    assert_eq!(upstream.hits(), 3, "--no-check sends nothing upstream");
}

#[tokio::test(flavor = "multi_thread")]
async fn models_fails_when_no_endpoint_can_list() {
    let broken = FakeUpstream::start(|_| Reply::text(500, "boom")).await;
    let working = FakeUpstream::start(|_| Reply::json(200, &openai::model_list(&["m"]))).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_config(
        dir.path(),
        &format!(
            "endpoints:\n  - name: broken\n    spec: openai-chat-completions\n    base_url: {}\n",
            broken.url("/v1")
        ),
    );
    let models = run(dir.path(), &["models", "--config", &file]).await;
    assert_eq!(models.code, 1, "{}{}", models.stdout, models.stderr);
    assert!(models.stderr.contains("broken: "), "{}", models.stderr);
    assert!(
        models.stderr.contains("no endpoint could list its models"),
        "{}",
        models.stderr
    );
    let json = run(dir.path(), &["models", "--config", &file, "--json"]).await;
    assert_eq!(json.code, 1);
    assert_eq!(json_of(&json)["error"]["code"], "no_models");

    let file = write_config(
        dir.path(),
        &format!(
            "endpoints:\n  - name: broken\n    spec: openai-chat-completions\n    base_url: {}\n  - name: working\n    spec: openai-chat-completions\n    base_url: {}\n",
            broken.url("/v1"),
            working.url("/v1")
        ),
    );
    let models = run(dir.path(), &["models", "--config", &file]).await;
    assert_eq!(models.code, 0, "{}", models.stderr);
    assert!(models.stdout.starts_with("MODEL"), "{}", models.stdout);
    assert!(models.stdout.contains("working/m"), "{}", models.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_create_says_whether_the_running_server_enforces_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = serve(dir.path(), &[]).await;
    let open = run(dir.path(), &["keys", "create", "laptop"]).await;
    assert_eq!(open.code, 0, "{}", open.stderr);
    assert!(open.stdout.trim().starts_with("mg-"), "{}", open.stdout);
    assert!(
        open.stderr.contains("does not require gateway keys"),
        "{}",
        open.stderr
    );
    assert!(stop(server).await.success());

    let (server, _) = serve(dir.path(), &["--require-keys"]).await;
    let closed = run(dir.path(), &["keys", "create", "ci"]).await;
    assert!(
        closed.stderr.contains("gateway keys are required"),
        "{}",
        closed.stderr
    );
    assert!(stop(server).await.success());
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_help_shows_only_server_flags() {
    let dir = tempfile::tempdir().unwrap();
    let help = run(dir.path(), &["serve", "--help"]).await;
    assert_eq!(help.code, 0);
    for client_only in ["--server", "--gateway-key", "--json"] {
        assert!(!help.stdout.contains(client_only), "{}", help.stdout);
    }
    assert!(help.stdout.contains("--listen"), "{}", help.stdout);
    let refused = run(dir.path(), &["--server", "http://x", "serve"]).await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("not for `serve`"),
        "{}",
        refused.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn boolean_settings_are_plain_flags_and_the_old_form_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let old = add_local(
        dir.path(),
        "http://127.0.0.1:9/v1",
        &["--fetch-models", "false"],
    )
    .await;
    assert_eq!(old.code, 2);
    assert!(
        old.stderr.contains("write --no-fetch-models"),
        "{}",
        old.stderr
    );
    let old = add_local(dir.path(), "http://127.0.0.1:9/v1", &["--direct", "true"]).await;
    assert_eq!(old.code, 2);
    assert!(old.stderr.contains("write --direct"), "{}", old.stderr);
}
