//! The SQLite store: one file in the data directory, zero set-up.

use std::collections::BTreeMap;
use std::str::FromStr as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use modelgate_config::EndpointConfig;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use crate::secret::{hex, random_bytes};
use crate::{
    DataDir, GatewayKey, MasterKey, NewGatewayKey, Store, StoreError, UsageRecord, UsageSummaryRow,
    hash_gateway_token,
};

mod migrate;
#[cfg(test)]
mod tests;

/// The store backed by `modelgate.db` in the data directory.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    master: MasterKey,
}

impl SqliteStore {
    /// Opens (creating if missing) the database in the data directory and
    /// brings its schema up to date.
    pub async fn open(data_dir: &DataDir, master: MasterKey) -> Result<Self, StoreError> {
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
        Self::init(pool, master).await
    }

    /// A private in-memory database, for tests.
    pub async fn open_in_memory(master: MasterKey) -> Result<Self, StoreError> {
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
        Self::init(pool, master).await
    }

    async fn init(pool: SqlitePool, master: MasterKey) -> Result<Self, StoreError> {
        migrate::run(&pool).await?;
        Ok(Self { pool, master })
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn encode_endpoint(&self, ep: &EndpointConfig) -> Result<EncodedEndpoint, StoreError> {
        let mut settings = match serde_json::to_value(ep) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => {
                return Err(StoreError::Corrupt(
                    "endpoint did not serialize to an object".into(),
                ));
            }
        };
        // Name and spec have their own columns; credentials go to `secrets`.
        for field in ["name", "spec", "api_key", "api_keys", "headers"] {
            settings.remove(field);
        }
        let secrets = Secrets {
            api_keys: ep.keys().into_iter().map(str::to_owned).collect(),
            headers: ep.headers.clone(),
        };
        let plaintext = serde_json::to_vec(&secrets)
            .map_err(|e| StoreError::Corrupt(format!("serializing secrets: {e}")))?;
        Ok(EncodedEndpoint {
            spec: ep.spec.id(),
            settings: serde_json::Value::Object(settings).to_string(),
            secrets: self.master.seal(&plaintext, &endpoint_aad(&ep.name))?,
        })
    }

    fn decode_endpoint(&self, row: &SqliteRow) -> Result<EndpointConfig, StoreError> {
        let name: String = row.try_get("name").map_err(db("reading endpoint"))?;
        let spec: String = row.try_get("spec").map_err(db("reading endpoint"))?;
        let settings: String = row.try_get("settings").map_err(db("reading endpoint"))?;
        let sealed: String = row.try_get("secrets").map_err(db("reading endpoint"))?;
        let corrupt =
            |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("endpoint `{name}`: {e}"));
        let mut map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&settings).map_err(|e| corrupt(&e))?;
        let plaintext = self
            .master
            .open(&sealed, &endpoint_aad(&name))
            .map_err(|e| StoreError::Crypto(format!("secrets of endpoint `{name}`: {e}")))?;
        let secrets: Secrets = serde_json::from_slice(&plaintext).map_err(|e| corrupt(&e))?;
        map.insert("name".into(), name.clone().into());
        map.insert("spec".into(), spec.into());
        let mut ep: EndpointConfig =
            serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| corrupt(&e))?;
        // Normalized: every key in `api_keys`, the first being the primary.
        ep.api_key = None;
        ep.api_keys = secrets.api_keys;
        ep.headers = secrets.headers;
        Ok(ep)
    }
}

/// What is encrypted for an endpoint. Headers are included because they
/// often carry credentials (`x-api-key`, `Authorization`).
#[derive(Serialize, Deserialize)]
struct Secrets {
    api_keys: Vec<String>,
    headers: BTreeMap<String, String>,
}

struct EncodedEndpoint {
    spec: &'static str,
    settings: String,
    secrets: String,
}

/// Binds an endpoint's sealed secrets to its row: copied to another
/// endpoint, they fail to decrypt instead of silently moving credentials.
fn endpoint_aad(name: &str) -> Vec<u8> {
    format!("endpoint:{name}").into_bytes()
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
    async fn list_endpoints(&self) -> Result<Vec<EndpointConfig>, StoreError> {
        sqlx::query("SELECT name, spec, settings, secrets FROM endpoints ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing endpoints"))?
            .iter()
            .map(|row| self.decode_endpoint(row))
            .collect()
    }

    async fn get_endpoint(&self, name: &str) -> Result<Option<EndpointConfig>, StoreError> {
        sqlx::query("SELECT name, spec, settings, secrets FROM endpoints WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading endpoint"))?
            .map(|row| self.decode_endpoint(&row))
            .transpose()
    }

    async fn create_endpoint(&self, ep: &EndpointConfig) -> Result<(), StoreError> {
        let enc = self.encode_endpoint(ep)?;
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
        let enc = self.encode_endpoint(ep)?;
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
                    .push_bind(&r.endpoint)
                    .push_bind(&r.model)
                    .push_bind(&r.caller)
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
