use std::sync::Arc;

use serde_json::json;

use super::migrate::{self, MIGRATIONS};
use super::*;
use crate::suite;
use crate::test_support::TempDir;

fn key(b: u8) -> MasterKey {
    MasterKey::from_bytes([b; 32])
}

async fn memory() -> SqliteStore {
    SqliteStore::open_in_memory(key(1))
        .await
        .expect("in-memory store")
}

async fn on_disk(dir: &TempDir, master: MasterKey) -> Result<SqliteStore, StoreError> {
    SqliteStore::open(&DataDir::open(dir.path()).expect("data dir"), master).await
}

/// Runs each case of the shared suite on a fresh in-memory database (used
/// as a trait object, as the server does) and on a fresh file (WAL, pool).
macro_rules! suite_cases {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $case() {
            let store: Arc<dyn Store> = Arc::new(memory().await);
            suite::$case(store.as_ref()).await;
            let dir = TempDir::new(stringify!($case));
            let store = on_disk(&dir, key(1)).await.expect("open");
            suite::$case(&store).await;
            store.close().await;
        }
    )*};
}

suite_cases!(
    endpoint_crud,
    endpoint_round_trip_normalizes_keys,
    endpoints_listed_sorted,
    gateway_keys,
    usage_summary,
    update_with_edits_atomically,
    update_with_returns_normalized_and_refuses,
    usage_strings_are_bounded,
    recent_usage_is_newest_first,
);

#[tokio::test]
async fn database_files_hold_no_plaintext_secrets() {
    let dir = TempDir::new("plaintext");
    let store = on_disk(&dir, key(1)).await.expect("open");
    let ep = suite::endpoint(json!({
        "name": "secretive",
        "spec": "openai-chat-completions",
        "base_url": "http://visible-base-url.example/v1",
        "api_keys": ["sk-live-PLAINTEXT-KEY-0001", "sk-live-PLAINTEXT-KEY-0002"],
        "headers": { "authorization": "Bearer HEADER-SECRET-0003" },
    }));
    store.create_endpoint(&ep).await.expect("create");
    let token = store.create_gateway_key("ci").await.expect("key").token;

    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let path = dir.path().join(format!("modelgate.db{suffix}"));
        bytes.extend(std::fs::read(&path).unwrap_or_default());
    }
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    // The search works: non-secret settings are stored in clear.
    assert!(
        contains("visible-base-url.example"),
        "search found nothing at all"
    );
    for secret in [
        "PLAINTEXT-KEY-0001",
        "PLAINTEXT-KEY-0002",
        "HEADER-SECRET-0003",
        &token,
    ] {
        assert!(!contains(secret), "`{secret}` found in the database files");
    }
    // And they are still readable through the store.
    let got = store
        .get_endpoint("secretive")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.api_keys, ep.api_keys);
    assert_eq!(got.headers, ep.headers);
    store.close().await;
}

#[tokio::test]
async fn sealed_secrets_cannot_move_to_another_row() {
    let store = memory().await;
    store
        .create_endpoint(&suite::simple("a", "sk-a-aaaaaaaaaaaa"))
        .await
        .expect("a");
    store
        .create_endpoint(&suite::simple("b", "sk-b-bbbbbbbbbbbb"))
        .await
        .expect("b");
    sqlx::query("UPDATE endpoints SET secrets = (SELECT secrets FROM endpoints WHERE name = 'a') WHERE name = 'b'")
        .execute(&store.pool)
        .await
        .expect("swap");
    let err = store
        .get_endpoint("b")
        .await
        .expect_err("moved secret")
        .to_string();
    assert!(
        err.contains("endpoint `b`") && err.contains("do not decrypt"),
        "{err}"
    );
    assert!(!err.contains("sk-a-"), "{err}");
    let a = store
        .get_endpoint("a")
        .await
        .expect("a still fine")
        .expect("exists");
    assert_eq!(a.api_keys, vec!["sk-a-aaaaaaaaaaaa"]);
}

#[tokio::test]
async fn reopening_with_another_master_key_says_so() {
    let dir = TempDir::new("wrongkey");
    let store = on_disk(&dir, key(1)).await.expect("open");
    store
        .create_endpoint(&suite::simple("e", "sk-e-eeeeeeeeeeee"))
        .await
        .expect("create");
    store.close().await;
    // Refused when the store opens, before anything is sealed under the
    // wrong key; the right key still works afterwards.
    let err = on_disk(&dir, key(2))
        .await
        .expect_err("wrong key")
        .to_string();
    assert!(err.contains("wrong master key"), "{err}");
    assert!(
        err.contains(&format!("encrypted with master key {}", key(1).key_id())),
        "{err}"
    );
    assert!(
        err.contains(&format!("gives master key {}", key(2).key_id())),
        "{err}"
    );
    let store = on_disk(&dir, key(1)).await.expect("right key");
    assert!(store.get_endpoint("e").await.expect("get").is_some());
    store.close().await;
}

#[tokio::test]
async fn a_wrong_key_is_refused_even_before_any_endpoint_exists() {
    let dir = TempDir::new("wrongkey-empty");
    on_disk(&dir, key(1)).await.expect("open").close().await;
    let err = on_disk(&dir, key(2)).await.expect_err("wrong key");
    assert!(err.to_string().contains("wrong master key"), "{err}");
}

#[tokio::test]
async fn migrations_apply_once_and_survive_reopen() {
    let dir = TempDir::new("migrate");
    let store = on_disk(&dir, key(1)).await.expect("open");
    store
        .create_endpoint(&suite::simple("kept", "sk-k-kkkkkkkkkkkk"))
        .await
        .expect("create");
    store.close().await;
    let store = on_disk(&dir, key(1)).await.expect("reopen");
    assert_eq!(
        migrate::current_version(&store.pool)
            .await
            .expect("version"),
        migrate::latest()
    );
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(&store.pool)
        .await
        .expect("count");
    assert_eq!(applied, i64::try_from(MIGRATIONS.len()).expect("len"));
    assert!(store.get_endpoint("kept").await.expect("get").is_some());
    store.close().await;
}

#[tokio::test]
async fn database_from_a_newer_binary_is_refused() {
    let dir = TempDir::new("newer");
    let store = on_disk(&dir, key(1)).await.expect("open");
    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)")
        .bind(migrate::latest() + 1)
        .execute(&store.pool)
        .await
        .expect("insert");
    store.close().await;
    let err = on_disk(&dir, key(1)).await.expect_err("newer schema");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, known } if found == known + 1),
        "{err}"
    );
    assert!(
        err.to_string().contains("written by a newer modelgate"),
        "{err}"
    );
}

#[test]
fn migrations_are_ordered_and_unique() {
    assert!(MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(MIGRATIONS[0].0, 1);
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

/// Every file in `dir` (recursively) is 0600 and every directory 0700;
/// returns the file names seen.
fn assert_private(dir: &std::path::Path) -> Vec<String> {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            assert_eq!(mode(&path), 0o700, "{name}");
            seen.extend(assert_private(&path));
        } else {
            assert_eq!(mode(&path), 0o600, "{name} has mode {:o}", mode(&path));
            seen.push(name);
        }
    }
    seen
}

#[tokio::test]
async fn new_data_directory_files_are_private() {
    let tmp = TempDir::new("modes");
    let data_dir = DataDir::open(tmp.path().join("data")).expect("data dir");
    let master = MasterKey::load_or_create(data_dir.path(), None).expect("key");
    data_dir.admin_token().expect("admin token");
    let store = SqliteStore::open(&data_dir, master).await.expect("open");
    // A write, so that the WAL and shared-memory files exist.
    store
        .create_endpoint(&suite::simple("e", "sk-e-eeeeeeeeeeee"))
        .await
        .expect("create");
    assert_eq!(mode(data_dir.path()), 0o700);
    let mut seen = assert_private(data_dir.path());
    seen.sort();
    assert_eq!(
        seen,
        [
            "admin.token",
            "master.key",
            "modelgate.db",
            "modelgate.db-shm",
            "modelgate.db-wal"
        ]
    );
    store.close().await;
}

#[tokio::test]
async fn existing_database_files_are_tightened_on_open() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = TempDir::new("tighten");
    let data_dir = DataDir::open(tmp.path().join("data")).expect("data dir");
    let store = SqliteStore::open(&data_dir, key(1)).await.expect("open");
    store
        .create_endpoint(&suite::simple("e", "sk-e-eeeeeeeeeeee"))
        .await
        .expect("create");
    // As an older modelgate left them (SQLite's default 0644), with the
    // store still open so the WAL files exist too.
    for suffix in ["", "-wal", "-shm"] {
        let path = data_dir.path().join(format!("modelgate.db{suffix}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let second = SqliteStore::open(&data_dir, key(1)).await.expect("reopen");
    let seen = assert_private(data_dir.path());
    assert!(seen.contains(&"modelgate.db-wal".to_owned()), "{seen:?}");
    assert!(second.get_endpoint("e").await.expect("get").is_some());
    second.close().await;
    store.close().await;
}

/// Changes one stored setting of endpoint `name` behind the store's back.
async fn tamper(store: &SqliteStore, name: &str, path: &str, value: serde_json::Value) {
    sqlx::query("UPDATE endpoints SET settings = json_set(settings, ?, json(?)) WHERE name = ?")
        .bind(path)
        .bind(value.to_string())
        .bind(name)
        .execute(&store.pool)
        .await
        .expect("tamper");
}

#[tokio::test]
async fn an_azure_endpoint_is_bound_to_the_resource_it_names() {
    let dir = TempDir::new("azure-binding");
    let store = on_disk(&dir, key(1)).await.expect("open");
    let ep = suite::endpoint(json!({
        "name": "az", "spec": "azure", "resource_name": "my-res", "api_key": "azure-key-0123456789",
    }));
    store.create_endpoint(&ep).await.expect("create");
    let got = store
        .get_endpoint("az")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.resource_name.as_deref(), Some("my-res"));
    assert_eq!(got.keys(), ["azure-key-0123456789"]);
    // Another resource name would send the key elsewhere: it does not decrypt.
    tamper(&store, "az", "$.resource_name", json!("attacker-res")).await;
    let err = store.get_endpoint("az").await.expect_err("tampered");
    assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");
    tamper(&store, "az", "$.resource_name", json!("my-res")).await;
    let got = store
        .get_endpoint("az")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.keys(), ["azure-key-0123456789"]);
    store.close().await;
}

#[tokio::test]
async fn a_vertex_service_account_is_sealed_and_bound_to_its_location() {
    let dir = TempDir::new("vertex-binding");
    let store = on_disk(&dir, key(1)).await.expect("open");
    let credentials =
        r#"{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nMIIsecret\n"}"#;
    let ep = suite::endpoint(json!({
        "name": "vx", "spec": "google-vertex", "project_id": "my-project-123",
        "location": "us-east5", "credentials": credentials,
    }));
    store.create_endpoint(&ep).await.expect("create");
    let settings: String = sqlx::query_scalar("SELECT settings FROM endpoints WHERE name = 'vx'")
        .fetch_one(&store.pool)
        .await
        .expect("row");
    assert!(
        !settings.contains("MIIsecret") && !settings.contains("credentials"),
        "the service account is not stored in clear: {settings}"
    );
    let got = store
        .get_endpoint("vx")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.credentials.as_deref(), Some(credentials));
    tamper(&store, "vx", "$.location", json!("attacker-region")).await;
    let err = store.get_endpoint("vx").await.expect_err("tampered");
    assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");
    store.close().await;
}

#[tokio::test]
async fn a_changed_base_url_makes_the_endpoint_unreadable_not_the_store() {
    let dir = TempDir::new("tamper");
    let store = on_disk(&dir, key(1)).await.expect("open");
    for name in ["a", "b"] {
        store
            .create_endpoint(&suite::simple(name, "sk-live-0123456789"))
            .await
            .expect("create");
    }
    tamper(
        &store,
        "a",
        "$.base_url",
        json!("https://attacker.example/v1"),
    )
    .await;

    let err = store.get_endpoint("a").await.expect_err("tampered");
    assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");
    let msg = err.to_string();
    for want in [
        "endpoint `a`",
        "bound to its base URL",
        "changed outside modelgate",
        "re-add its keys",
    ] {
        assert!(msg.contains(want), "`{want}` missing: {msg}");
    }
    assert!(!msg.contains("sk-live"), "{msg}");

    // The listing keeps going: `b` is usable, `a` is reported with what is
    // known of it, without keys.
    let listing = store.list_endpoints().await.expect("list");
    let names: Vec<&str> = listing.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["b"]);
    assert_eq!(listing.unreadable.len(), 1);
    let bad = &listing.unreadable[0];
    assert_eq!(bad.name, "a");
    assert_eq!(bad.error.to_string(), msg);
    let config = bad.config.as_ref().expect("settings still parse");
    assert_eq!(config.base_url, "https://attacker.example/v1");
    assert!(config.keys().is_empty());

    // Reopening does not "repair" it by resealing under the new base URL.
    store.close().await;
    let store = on_disk(&dir, key(1)).await.expect("reopen");
    assert!(store.get_endpoint("a").await.is_err());
    assert!(store.get_endpoint("b").await.expect("b").is_some());
    // Putting the base URL back restores it: nothing was lost.
    tamper(
        &store,
        "a",
        "$.base_url",
        json!("http://localhost:11434/v1"),
    )
    .await;
    let a = store.get_endpoint("a").await.expect("a").expect("exists");
    assert_eq!(a.keys(), ["sk-live-0123456789"]);
    store.close().await;
}

#[tokio::test]
async fn spec_and_direct_endpoint_are_bound_too() {
    let store = memory().await;
    for name in ["spec", "direct"] {
        store
            .create_endpoint(&suite::simple(name, "sk-live-0123456789"))
            .await
            .expect("create");
    }
    sqlx::query("UPDATE endpoints SET spec = 'anthropic' WHERE name = 'spec'")
        .execute(&store.pool)
        .await
        .expect("tamper spec");
    tamper(&store, "direct", "$.direct_endpoint", json!(true)).await;
    for name in ["spec", "direct"] {
        let err = store.get_endpoint(name).await.expect_err(name).to_string();
        assert!(err.contains("do not decrypt"), "{err}");
    }
    // Settings that do not decide where keys go stay editable by hand.
    store
        .create_endpoint(&suite::simple("free", "sk-live-0123456789"))
        .await
        .expect("create");
    tamper(&store, "free", "$.description", json!("edited by hand")).await;
    let free = store
        .get_endpoint("free")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(free.description.as_deref(), Some("edited by hand"));
}
