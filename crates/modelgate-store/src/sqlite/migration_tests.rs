//! Opening stores that older versions wrote, and master key passphrases.

use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::*;
use crate::suite;
use crate::test_support::TempDir;

fn key(b: u8) -> MasterKey {
    MasterKey::from_bytes([b; 32])
}

const PASSPHRASE: &str = "correct horse battery staple";

fn passphrase(p: &str) -> MasterKeySource {
    MasterKeySource::from_env_value(p).expect("passphrase")
}

/// The key modelgate used to derive from a passphrase: one SHA-256.
fn sha256_key(p: &str) -> MasterKey {
    MasterKey::from_bytes(Sha256::digest(p.as_bytes()).into())
}

async fn open(
    dir: &TempDir,
    master: impl Into<MasterKeySource>,
) -> Result<SqliteStore, StoreError> {
    SqliteStore::open(&DataDir::open(dir.path()).expect("data dir"), master).await
}

/// Secrets sealed the way modelgate did before they were bound to the base
/// URL: a `v1` envelope with the AAD `endpoint:<name>`.
fn v1_envelope(key: &MasterKey, name: &str, api_key: &str) -> String {
    let plaintext = json!({ "api_keys": [api_key], "headers": {} }).to_string();
    let sealed = key
        .seal(plaintext.as_bytes(), format!("endpoint:{name}").as_bytes())
        .expect("seal");
    sealed.replacen("v2:", "v1:", 1)
}

async fn insert_raw(store: &SqliteStore, name: &str, secrets: &str) {
    sqlx::query(
        "INSERT INTO endpoints (name, spec, settings, secrets, created_at, updated_at) \
         VALUES (?, 'openai-chat-completions', ?, ?, 0, 0)",
    )
    .bind(name)
    .bind(json!({ "base_url": "http://localhost:11434/v1" }).to_string())
    .bind(secrets)
    .execute(&store.pool)
    .await
    .expect("insert");
}

async fn raw_secrets(store: &SqliteStore, name: &str) -> String {
    sqlx::query_scalar("SELECT secrets FROM endpoints WHERE name = ?")
        .bind(name)
        .fetch_one(&store.pool)
        .await
        .expect("secrets")
}

async fn meta(store: &SqliteStore, key: &str) -> Option<String> {
    sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(key)
        .fetch_optional(&store.pool)
        .await
        .expect("meta")
}

/// A data directory as modelgate left it before schema 2: no `meta` table,
/// and `endpoints` (name → api key) sealed as `v1` under `key`.
async fn legacy_store(dir: &TempDir, key: &MasterKey, endpoints: &[(&str, &str)]) {
    let store = open(dir, key.clone()).await.expect("open");
    sqlx::raw_sql("DROP TABLE meta; DELETE FROM schema_migrations WHERE version > 1")
        .execute(&store.pool)
        .await
        .expect("downgrade");
    for (name, api_key) in endpoints {
        insert_raw(&store, name, &v1_envelope(key, name, api_key)).await;
    }
    store.close().await;
}

#[tokio::test]
async fn v1_store_is_migrated_then_v1_is_refused() {
    let dir = TempDir::new("v1");
    legacy_store(
        &dir,
        &key(1),
        &[("a", "sk-a-0123456789"), ("b", "sk-b-0123456789")],
    )
    .await;
    let old_a = v1_envelope(&key(1), "a", "sk-a-0123456789");

    let store = open(&dir, key(1)).await.expect("open migrates");
    for (name, api_key) in [("a", "sk-a-0123456789"), ("b", "sk-b-0123456789")] {
        let ep = store
            .get_endpoint(name)
            .await
            .expect("get")
            .expect("exists");
        assert_eq!(ep.keys(), [api_key]);
        assert_eq!(ep.base_url, "http://localhost:11434/v1");
        let sealed = raw_secrets(&store, name).await;
        assert!(
            sealed.starts_with(&format!("v2:{}:", key(1).key_id())),
            "{sealed}"
        );
    }

    // A v1 value written now (by hand: modelgate no longer writes them) is
    // refused, by reads and by the next open's migration alike.
    insert_raw(&store, "c", &v1_envelope(&key(1), "c", "sk-c-0123456789")).await;
    let err = store
        .get_endpoint("c")
        .await
        .expect_err("v1 after migration");
    assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");
    assert!(err.to_string().contains("old v1 format"), "{err}");
    // The old value of `a`, put back with a new base URL: re-migrating it
    // would bind its key to the attacker's host.
    sqlx::query("UPDATE endpoints SET secrets = ?, settings = ? WHERE name = 'a'")
        .bind(&old_a)
        .bind(json!({ "base_url": "https://attacker.example/v1" }).to_string())
        .execute(&store.pool)
        .await
        .expect("replay");
    store.close().await;

    let store = open(&dir, key(1)).await.expect("reopen");
    let listing = store.list_endpoints().await.expect("list");
    let unreadable: Vec<&str> = listing.unreadable.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(unreadable, ["a", "c"]);
    let readable: Vec<&str> = listing.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(readable, ["b"]);
    assert!(raw_secrets(&store, "a").await.starts_with("v1:"));
    store.close().await;
}

#[tokio::test]
async fn sha256_passphrase_store_is_migrated_to_argon2id() {
    let dir = TempDir::new("legacy-pass");
    let legacy = sha256_key(PASSPHRASE);
    legacy_store(&dir, &legacy, &[("a", "sk-a-0123456789")]).await;

    let store = open(&dir, passphrase(PASSPHRASE))
        .await
        .expect("open migrates");
    let a = store.get_endpoint("a").await.expect("get").expect("exists");
    assert_eq!(a.keys(), ["sk-a-0123456789"]);
    let sealed = raw_secrets(&store, "a").await;
    assert!(sealed.starts_with("v2:"), "{sealed}");
    assert!(
        !sealed.contains(legacy.key_id()),
        "still under the SHA-256 key"
    );
    let kdf = meta(&store, "master_key_kdf").await.expect("salt stored");
    assert!(kdf.contains("argon2id"), "{kdf}");
    store.close().await;

    let store = open(&dir, passphrase(PASSPHRASE)).await.expect("reopen");
    assert!(store.get_endpoint("a").await.expect("get").is_some());
    store.close().await;
    // The SHA-256 key no longer opens the store.
    let err = open(&dir, legacy).await.expect_err("legacy key");
    assert!(err.to_string().contains("wrong master key"), "{err}");
}

#[tokio::test]
async fn passphrase_store_round_trip_and_wrong_passphrase() {
    let dir = TempDir::new("pass");
    let store = open(&dir, passphrase(PASSPHRASE)).await.expect("create");
    store
        .create_endpoint(&suite::simple("e", "sk-e-0123456789"))
        .await
        .expect("create endpoint");
    store.close().await;

    let store = open(&dir, passphrase(&format!("  {PASSPHRASE}\n")))
        .await
        .expect("reopen, whitespace ignored");
    let e = store.get_endpoint("e").await.expect("get").expect("exists");
    assert_eq!(e.keys(), ["sk-e-0123456789"]);
    store.close().await;

    let err = open(&dir, passphrase("correct horse battery stapler"))
        .await
        .expect_err("wrong passphrase");
    assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("wrong master key"), "{msg}");
    assert!(msg.contains("mistyped passphrase"), "{msg}");
    assert!(msg.contains("MODELGATE_MASTER_KEY"), "{msg}");
    assert!(!msg.contains("stapler"), "{msg}");
}

#[tokio::test]
async fn passphrase_salt_is_random_per_store() {
    let (one, two) = (TempDir::new("salt1"), TempDir::new("salt2"));
    let a = open(&one, passphrase(PASSPHRASE)).await.expect("a");
    let b = open(&two, passphrase(PASSPHRASE)).await.expect("b");
    let (kdf_a, kdf_b) = (
        meta(&a, "master_key_kdf").await,
        meta(&b, "master_key_kdf").await,
    );
    assert!(kdf_a.is_some() && kdf_b.is_some());
    assert_ne!(kdf_a, kdf_b);
    // So the same passphrase gives each store its own key.
    assert_ne!(a.master.key_id(), b.master.key_id());
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn stores_opened_together_agree_on_one_salt() {
    let dir = TempDir::new("salt-race");
    let (a, b) = tokio::join!(
        open(&dir, passphrase(PASSPHRASE)),
        open(&dir, passphrase(PASSPHRASE))
    );
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_eq!(a.master.key_id(), b.master.key_id());
    a.close().await;
    b.close().await;
}
