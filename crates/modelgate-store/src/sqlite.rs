//! The SQLite store: one file in the data directory, zero set-up.

use std::str::FromStr as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use modelgate_config::EndpointConfig;
use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use crate::codec::{self, StoredRow};
use crate::secret::{hex, random_bytes};
use crate::{
    DataDir, EndpointEdit, EndpointListing, GatewayKey, MasterKey, MasterKeySource, NewGatewayKey,
    Store, StoreError, USAGE_TEXT_MAX_BYTES, UnreadableEndpoint, UsageRecord, UsageSummaryRow,
    hash_gateway_token,
};

mod migrate;
#[cfg(test)]
mod migration_tests;
#[cfg(test)]
mod tests;
mod unlock;

/// The store backed by `modelgate.db` in the data directory.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    master: MasterKey,
}

impl SqliteStore {
    /// Opens (creating if missing) the database in the data directory,
    /// brings its schema up to date and unlocks it with `master` (a
    /// [`MasterKey`] or a [`MasterKeySource`]).
    ///
    /// The database and its `-wal`/`-shm` companions are made private
    /// (mode 0600), like the master key: new ones are created so, and
    /// existing ones are tightened.
    ///
    /// Fails with [`StoreError::Crypto`] when the key is not the one the
    /// store's secrets are sealed under. Migrates what older versions
    /// wrote (see the crate docs).
    pub async fn open(
        data_dir: &DataDir,
        master: impl Into<MasterKeySource>,
    ) -> Result<Self, StoreError> {
        // SQLite creates the -wal and -shm files with the mode of the
        // database file, so a private database keeps them private too.
        data_dir.create_private_db_file()?;
        data_dir.tighten_db_files();
        let options = SqliteConnectOptions::new()
            .filename(data_dir.db_path())
            .create_if_missing(true)
            // WAL lets readers (the console, usage summaries) run while the
            // usage writer commits; NORMAL sync is the usual WAL pairing.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db(&format!("opening {}", data_dir.db_path().display())))?;
        let store = Self::init(pool, master.into()).await;
        // Files the connection created before the database file was private
        // (an old database being opened) are tightened now.
        data_dir.tighten_db_files();
        store
    }

    /// A private in-memory database, for tests.
    pub async fn open_in_memory(master: impl Into<MasterKeySource>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(db("configuring in-memory database"))?
            .foreign_keys(true);
        // An in-memory database lives as long as a connection to it: keep
        // exactly one, forever.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(db("opening in-memory database"))?;
        Self::init(pool, master.into()).await
    }

    async fn init(pool: SqlitePool, source: MasterKeySource) -> Result<Self, StoreError> {
        migrate::run(&pool).await?;
        let master = unlock::unlock(&pool, source).await?;
        Ok(Self { pool, master })
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Every endpoint row, in no order.
const SELECT_ENDPOINTS: &str = "SELECT name, spec, settings, secrets FROM endpoints";
const SELECT_ENDPOINTS_SORTED: &str =
    "SELECT name, spec, settings, secrets FROM endpoints ORDER BY name";
const SELECT_ENDPOINT: &str = "SELECT name, spec, settings, secrets FROM endpoints WHERE name = ?";

fn stored_row(row: &SqliteRow) -> Result<StoredRow, StoreError> {
    let get = |column: &str| -> Result<String, StoreError> {
        row.try_get(column).map_err(db("reading endpoint"))
    };
    Ok(StoredRow {
        name: get("name")?,
        spec: get("spec")?,
        settings: get("settings")?,
        secrets: get("secrets")?,
    })
}

/// At most `max` bytes of `s`, cut on a character boundary.
fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Maps a sqlx error to [`StoreError::Database`] with what was being done.
/// sqlx error messages carry no bound values, so no secret can leak here.
fn db(context: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| StoreError::Database(format!("{context}: {e}"))
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// SQLite integers are signed; counts beyond i64 saturate.
fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn gateway_key_from_row(row: &SqliteRow) -> Result<GatewayKey, sqlx::Error> {
    Ok(GatewayKey {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        hash: row.try_get("hash")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn list_endpoints(&self) -> Result<EndpointListing, StoreError> {
        let rows = sqlx::query(SELECT_ENDPOINTS_SORTED)
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing endpoints"))?;
        let mut listing = EndpointListing::default();
        for row in &rows {
            let row = stored_row(row)?;
            match codec::decode_endpoint(&self.master, &row) {
                Ok(ep) => listing.endpoints.push(ep),
                Err(error) => listing.unreadable.push(UnreadableEndpoint {
                    config: codec::decode_without_secrets(&row).ok(),
                    name: row.name,
                    error,
                }),
            }
        }
        Ok(listing)
    }

    async fn get_endpoint(&self, name: &str) -> Result<Option<EndpointConfig>, StoreError> {
        let row = sqlx::query(SELECT_ENDPOINT)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading endpoint"))?;
        row.map(|row| codec::decode_endpoint(&self.master, &stored_row(&row)?))
            .transpose()
    }

    async fn create_endpoint(&self, ep: &EndpointConfig) -> Result<(), StoreError> {
        let enc = codec::encode_endpoint(&self.master, ep)?;
        let now = now_secs();
        let result = sqlx::query(
            "INSERT INTO endpoints (name, spec, settings, secrets, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&ep.name)
        .bind(enc.spec)
        .bind(&enc.settings)
        .bind(&enc.secrets)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists {
                what: "endpoint",
                name: ep.name.clone(),
            }),
            Err(e) => Err(db("creating endpoint")(e)),
        }
    }

    async fn update_endpoint(&self, ep: &EndpointConfig) -> Result<(), StoreError> {
        let enc = codec::encode_endpoint(&self.master, ep)?;
        let done = sqlx::query(
            "UPDATE endpoints SET spec = ?, settings = ?, secrets = ?, updated_at = ? \
             WHERE name = ?",
        )
        .bind(enc.spec)
        .bind(&enc.settings)
        .bind(&enc.secrets)
        .bind(now_secs())
        .bind(&ep.name)
        .execute(&self.pool)
        .await
        .map_err(db("updating endpoint"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "endpoint",
                name: ep.name.clone(),
            });
        }
        Ok(())
    }

    async fn update_endpoint_with(
        &self,
        name: &str,
        edit: EndpointEdit,
    ) -> Result<EndpointConfig, StoreError> {
        // IMMEDIATE takes the write lock before the read: a second writer
        // waits here (busy timeout) instead of reading the row this one is
        // about to replace and overwriting its change.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db("updating endpoint"))?;
        let row = sqlx::query(SELECT_ENDPOINT)
            .bind(name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("reading endpoint"))?
            .ok_or_else(|| StoreError::NotFound {
                what: "endpoint",
                name: name.to_owned(),
            })?;
        let current = codec::decode_endpoint(&self.master, &stored_row(&row)?)?;
        let edited = edit(current).map_err(StoreError::Rejected)?;
        if edited.name != name {
            return Err(StoreError::Rejected(format!(
                "an endpoint cannot be renamed (`{name}` to `{}`): create one with the new \
                 name and delete this one",
                edited.name
            )));
        }
        let enc = codec::encode_endpoint(&self.master, &edited)?;
        sqlx::query(
            "UPDATE endpoints SET spec = ?, settings = ?, secrets = ?, updated_at = ? \
             WHERE name = ?",
        )
        .bind(enc.spec)
        .bind(&enc.settings)
        .bind(&enc.secrets)
        .bind(now_secs())
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(db("updating endpoint"))?;
        tx.commit().await.map_err(db("updating endpoint"))?;
        // What a later read returns (normalized keys), from what was written.
        codec::decode_endpoint(
            &self.master,
            &StoredRow {
                name: name.to_owned(),
                spec: enc.spec.to_owned(),
                settings: enc.settings,
                secrets: enc.secrets,
            },
        )
    }

    async fn delete_endpoint(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM endpoints WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(db("deleting endpoint"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_gateway_key(&self, name: &str) -> Result<NewGatewayKey, StoreError> {
        let token = format!("mg-{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?));
        let key = GatewayKey {
            id: format!("key_{}", hex(&random_bytes::<6>()?)),
            name: name.to_owned(),
            prefix: token.chars().take(8).collect(),
            hash: hash_gateway_token(&token),
            created_at: now_secs(),
            revoked_at: None,
        };
        let result = sqlx::query(
            "INSERT INTO gateway_keys (id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.hash)
        .bind(key.created_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(NewGatewayKey { key, token }),
            // The only unique constraint that can realistically fire is the
            // active-name index (id and hash are random).
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists {
                what: "gateway key",
                name: name.to_owned(),
            }),
            Err(e) => Err(db("creating gateway key")(e)),
        }
    }

    async fn list_gateway_keys(&self) -> Result<Vec<GatewayKey>, StoreError> {
        sqlx::query(
            "SELECT id, name, prefix, hash, created_at, revoked_at FROM gateway_keys \
             ORDER BY created_at, rowid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing gateway keys"))?
        .iter()
        .map(gateway_key_from_row)
        .collect::<Result<_, _>>()
        .map_err(db("reading gateway keys"))
    }

    async fn revoke_gateway_key(&self, id_or_name: &str) -> Result<bool, StoreError> {
        // By id first, so a key whose name looks like another key's id
        // cannot shadow it.
        for sql in [
            "UPDATE gateway_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            "UPDATE gateway_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
        ] {
            let done = sqlx::query(sql)
                .bind(now_secs())
                .bind(id_or_name)
                .execute(&self.pool)
                .await
                .map_err(db("revoking gateway key"))?;
            if done.rows_affected() > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn record_usage(&self, batch: &[UsageRecord]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // One transaction per batch, and one statement per 100 rows: each
        // statement is a round trip to SQLite's worker thread, and a thread
        // wake-up per row cost more CPU than the rest of a request.
        let mut tx = self.pool.begin().await.map_err(db("recording usage"))?;
        for rows in batch.chunks(100) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO usage (at, endpoint, model, caller, status, stream, input_tokens, \
                 output_tokens, cached_tokens, latency_ms) ",
            );
            insert.push_values(rows, |mut row, r| {
                row.push_bind(r.at)
                    .push_bind(truncate_utf8(&r.endpoint, USAGE_TEXT_MAX_BYTES))
                    .push_bind(truncate_utf8(&r.model, USAGE_TEXT_MAX_BYTES))
                    .push_bind(
                        r.caller
                            .as_deref()
                            .map(|c| truncate_utf8(c, USAGE_TEXT_MAX_BYTES)),
                    )
                    .push_bind(i64::from(r.status))
                    .push_bind(r.stream)
                    .push_bind(r.input_tokens.map(to_i64))
                    .push_bind(r.output_tokens.map(to_i64))
                    .push_bind(r.cached_tokens.map(to_i64))
                    .push_bind(to_i64(r.latency_ms));
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(db("recording usage"))?;
        }
        tx.commit().await.map_err(db("recording usage"))
    }

    async fn recent_usage(&self, limit: u32) -> Result<Vec<UsageRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, endpoint, model, caller, status, stream, input_tokens, output_tokens, \
             cached_tokens, latency_ms FROM usage ORDER BY at DESC, rowid DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading usage"))?;
        let optional = |v: Option<i64>| v.map(to_u64);
        rows.iter()
            .map(|row| {
                Ok(UsageRecord {
                    at: row.try_get("at")?,
                    endpoint: row.try_get("endpoint")?,
                    model: row.try_get("model")?,
                    caller: row.try_get("caller")?,
                    status: u16::try_from(row.try_get::<i64, _>("status")?).unwrap_or(0),
                    stream: row.try_get("stream")?,
                    input_tokens: optional(row.try_get("input_tokens")?),
                    output_tokens: optional(row.try_get("output_tokens")?),
                    cached_tokens: optional(row.try_get("cached_tokens")?),
                    latency_ms: to_u64(row.try_get("latency_ms")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db("reading usage"))
    }

    async fn usage_summary(&self) -> Result<Vec<UsageSummaryRow>, StoreError> {
        let rows = sqlx::query(
            // TOTAL (a float, NULLs count as 0) cast back to an integer
            // saturates, where SUM would fail with "integer overflow" and one
            // bogus record would break every summary after it.
            "SELECT endpoint, model, COUNT(*) AS requests, \
             CAST(TOTAL(input_tokens) AS INTEGER) AS input_tokens, \
             CAST(TOTAL(output_tokens) AS INTEGER) AS output_tokens, \
             CAST(TOTAL(cached_tokens) AS INTEGER) AS cached_tokens \
             FROM usage GROUP BY endpoint, model ORDER BY endpoint, model",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db("summarizing usage"))?;
        rows.iter()
            .map(|row| {
                Ok(UsageSummaryRow {
                    endpoint: row.try_get("endpoint")?,
                    model: row.try_get("model")?,
                    requests: to_u64(row.try_get("requests")?),
                    input_tokens: to_u64(row.try_get("input_tokens")?),
                    output_tokens: to_u64(row.try_get("output_tokens")?),
                    cached_tokens: to_u64(row.try_get("cached_tokens")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db("summarizing usage"))
    }
}
