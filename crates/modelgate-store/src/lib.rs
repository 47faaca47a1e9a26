//! Persistent state for modelgate: endpoints created at run time, gateway
//! keys, usage records.
//!
//! Callers hold an `Arc<dyn Store>`; [`SqliteStore`] is the default
//! implementation and a PostgreSQL one can follow without changing them, so
//! everything SQL-dialect-specific stays in `sqlite.rs`.
//!
//! Upstream credentials (endpoint API keys and headers) are encrypted at rest
//! with a [`MasterKey`] (see [`secret`]), bound to where they are sent (see
//! `codec.rs`). The key comes from a [`MasterKeySource`]: a raw key, or a
//! passphrase stretched with Argon2id and a salt kept in the database (see
//! [`master_key`]). Gateway tokens are stored only as SHA-256 hashes: they
//! are 256-bit random values, so a fast hash is enough.
//!
//! Opening a store migrates what older versions wrote: secrets bound only to
//! the endpoint's name, and secrets sealed under `SHA-256(passphrase)`, are
//! resealed in one transaction.
//!
//! Crypto crates: `chacha20poly1305` 0.10 (the `aead` 0.5 API), `sha2` 0.10
//! and `argon2` 0.5 are used deliberately over the 0.11 / 0.6 generation,
//! whose APIs changed.

use std::fmt;
use std::path::PathBuf;

use modelgate_config::EndpointConfig;
use sha2::{Digest, Sha256};

mod codec;
pub mod data_dir;
pub mod master_key;
pub mod secret;
mod sqlite;
#[cfg(test)]
mod suite;

pub use data_dir::DataDir;
pub use master_key::MasterKeySource;
pub use modelgate_protocol::secret::mask_secret;
pub use secret::MasterKey;
pub use sqlite::SqliteStore;

/// What a store keeps. Object-safe: use it as `Arc<dyn Store>`.
///
/// Endpoints read back are normalized: all keys are in `api_keys` (the first
/// is the primary) and `api_key` is `None`, whichever of the two they were
/// written with. [`EndpointConfig::keys`] gives the same order either way.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Every stored endpoint, in two lists sorted by name: those whose
    /// secrets decrypt, and those whose row cannot be read (see
    /// [`EndpointListing`]).
    /// One bad row does not fail the listing: the gateway builds its
    /// routing table from it, and one tampered row must not take every
    /// other endpoint down with it.
    async fn list_endpoints(&self) -> Result<EndpointListing, StoreError>;
    /// One endpoint, secrets decrypted. An endpoint whose secrets do not
    /// decrypt is an error ([`StoreError::Crypto`], naming the endpoint).
    async fn get_endpoint(&self, name: &str) -> Result<Option<EndpointConfig>, StoreError>;
    /// Adds an endpoint; [`StoreError::AlreadyExists`] when the name is taken.
    async fn create_endpoint(&self, ep: &EndpointConfig) -> Result<(), StoreError>;
    /// Replaces the whole record of the endpoint named `ep.name` (keys too,
    /// which is how keys are rotated); [`StoreError::NotFound`] when absent.
    async fn update_endpoint(&self, ep: &EndpointConfig) -> Result<(), StoreError>;
    /// Reads the endpoint, applies `edit` and writes the result, as one
    /// transaction: no other write to the store can come in between, so
    /// two concurrent edits both land. Returns the endpoint as stored
    /// (normalized, as read back).
    ///
    /// `edit` runs while the store is locked for writing: keep it quick and
    /// free of I/O. An `Err(message)` from it aborts the update and comes
    /// back as [`StoreError::Rejected`] with that message (for the admin
    /// API, a 400). The edit cannot rename the endpoint
    /// ([`StoreError::Rejected`]); [`StoreError::NotFound`] when it does not
    /// exist.
    async fn update_endpoint_with(
        &self,
        name: &str,
        edit: EndpointEdit,
    ) -> Result<EndpointConfig, StoreError>;
    /// Removes an endpoint; `true` when it existed.
    async fn delete_endpoint(&self, name: &str) -> Result<bool, StoreError>;

    /// Creates a gateway key. The name must be unique among keys that are
    /// not revoked ([`StoreError::AlreadyExists`]). The token is in the
    /// result and nowhere else: only its hash is stored.
    async fn create_gateway_key(&self, name: &str) -> Result<NewGatewayKey, StoreError>;
    /// Every gateway key, revoked ones included, oldest first.
    async fn list_gateway_keys(&self) -> Result<Vec<GatewayKey>, StoreError>;
    /// Revokes the active key with this id, or else the active key with this
    /// name; `false` when there is none (revoking twice is not an error).
    async fn revoke_gateway_key(&self, id_or_name: &str) -> Result<bool, StoreError>;

    /// Stores a batch of usage records in one transaction.
    async fn record_usage(&self, batch: &[UsageRecord]) -> Result<(), StoreError>;
    /// Totals per endpoint and model, sorted by endpoint then model.
    async fn usage_summary(&self) -> Result<Vec<UsageSummaryRow>, StoreError>;
    /// The latest `limit` records, newest first (what happened, request by
    /// request: the console's request log and tests read it).
    async fn recent_usage(&self, limit: u32) -> Result<Vec<UsageRecord>, StoreError>;
}

/// The change [`Store::update_endpoint_with`] applies to an endpoint: the
/// stored endpoint in, the one to store out, or why the change is refused.
pub type EndpointEdit = Box<dyn FnOnce(EndpointConfig) -> Result<EndpointConfig, String> + Send>;

/// What [`Store::list_endpoints`] returns.
#[derive(Debug, Default)]
pub struct EndpointListing {
    /// Endpoints whose secrets decrypted, sorted by name.
    pub endpoints: Vec<EndpointConfig>,
    /// Endpoints whose row could not be read, sorted by name.
    pub unreadable: Vec<UnreadableEndpoint>,
}

/// A stored endpoint that cannot be used: its secrets do not decrypt (the
/// row was changed outside modelgate, or is corrupt) or its settings do not
/// parse. Callers show it as unusable, with `error`, rather than hide it.
#[derive(Debug)]
pub struct UnreadableEndpoint {
    pub name: String,
    /// Its settings without secrets (no keys, no headers), when they parse.
    pub config: Option<EndpointConfig>,
    /// What is wrong, and what to do; never a secret.
    pub error: StoreError,
}

/// A gateway key as stored: no token, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayKey {
    /// `key_` + 12 hex characters.
    pub id: String,
    pub name: String,
    /// The token's first 8 characters (e.g. `mg-AbCdE`), to recognise it.
    pub prefix: String,
    /// Hex SHA-256 of the whole token; see [`hash_gateway_token`].
    pub hash: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` while the key is active.
    pub revoked_at: Option<i64>,
}

impl GatewayKey {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A key just created, with the token that is shown once.
#[derive(Clone)]
pub struct NewGatewayKey {
    pub key: GatewayKey,
    /// `mg-` + base64url (no padding) of 32 random bytes.
    pub token: String,
}

impl fmt::Debug for NewGatewayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewGatewayKey")
            .field("key", &self.key)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The hash under which a gateway token is stored: hex SHA-256. Callers
/// hash the presented token and compare hashes, never tokens.
pub fn hash_gateway_token(token: &str) -> String {
    secret::hex(&Sha256::digest(token.as_bytes()))
}

/// The longest endpoint, model or caller string a usage record keeps, in
/// bytes: they come from clients, and a usage row must stay small.
pub const USAGE_TEXT_MAX_BYTES: usize = 256;

/// One request, as recorded for usage accounting. Strings longer than
/// [`USAGE_TEXT_MAX_BYTES`] are cut (on a character boundary) when stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRecord {
    /// Unix milliseconds.
    pub at: i64,
    pub endpoint: String,
    pub model: String,
    /// The gateway key id, when the caller used one.
    pub caller: Option<String>,
    /// The HTTP status returned to the client.
    pub status: u16,
    pub stream: bool,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cached_tokens: Option<u64>,
    pub latency_ms: u64,
}

/// Usage totals for one endpoint and model. Unknown token counts add 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageSummaryRow {
    pub endpoint: String,
    pub model: String,
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
}

/// Why a store operation failed. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} `{name}` already exists")]
    AlreadyExists { what: &'static str, name: String },
    #[error("{what} `{name}` not found")]
    NotFound { what: &'static str, name: String },
    #[error("{0}")]
    Crypto(String),
    #[error("database error: {0}")]
    Database(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The edit given to [`Store::update_endpoint_with`] refused the
    /// endpoint; the message is the edit's.
    #[error("{0}")]
    Rejected(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "the data directory was written by a newer modelgate (schema version {found}, this \
         binary knows up to {known}): upgrade modelgate, or use another data directory"
    )]
    SchemaTooNew { found: i64, known: i64 },
}

/// Helpers shared by the unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory under the system temp dir, removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(label: &str) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let path = std::env::temp_dir().join(format!(
                "modelgate-store-{label}-{}-{n}-{nanos}",
                std::process::id()
            ));
            std::fs::create_dir_all(&path).expect("create temp dir");
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_hex_sha256() {
        assert_eq!(
            hash_gateway_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn new_gateway_key_debug_redacts_token() {
        let k = NewGatewayKey {
            key: GatewayKey {
                id: "key_000000000000".into(),
                name: "ci".into(),
                prefix: "mg-AbCdE".into(),
                hash: hash_gateway_token("mg-AbCdEfGh"),
                created_at: 0,
                revoked_at: None,
            },
            token: "mg-AbCdEfGh".into(),
        };
        let dbg = format!("{k:?}");
        assert!(!dbg.contains("mg-AbCdEfGh"), "{dbg}");
        assert!(
            dbg.contains("<redacted>") && dbg.contains("key_000000000000"),
            "{dbg}"
        );
    }
}
