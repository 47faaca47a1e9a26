//! Turning the master key source into the store's key, and migrating what
//! older versions sealed, when the store opens.

use sqlx::sqlite::SqlitePool;

use super::{SELECT_ENDPOINTS, db, stored_row};
use crate::codec::{self, RowMigration};
use crate::master_key::{KDF_META_KEY, KEY_ID_META_KEY, KdfParams, Keyring};
use crate::{MasterKey, MasterKeySource, StoreError};

/// The key the store's secrets are sealed under, after checking that
/// `source` is the store's key and resealing every secret that is not yet
/// `v2` under it, in one transaction.
pub(super) async fn unlock(
    pool: &SqlitePool,
    source: MasterKeySource,
) -> Result<MasterKey, StoreError> {
    let kdf = if source.is_passphrase() {
        Some(kdf_params(pool).await?)
    } else {
        None
    };
    // Argon2id takes a fraction of a second of CPU: not on the runtime's
    // worker threads.
    let keys = tokio::task::spawn_blocking(move || source.unlock(kdf.as_ref()))
        .await
        .map_err(|e| StoreError::Crypto(format!("deriving the master key failed: {e}")))??;
    reseal(pool, &keys).await?;
    Ok(keys.current)
}

/// The store's passphrase parameters, created with a random salt on first
/// use. `INSERT OR IGNORE` makes two processes starting together agree on
/// one salt: the loser reads the winner's.
async fn kdf_params(pool: &SqlitePool) -> Result<KdfParams, StoreError> {
    sqlx::query("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)")
        .bind(KDF_META_KEY)
        .bind(KdfParams::generate()?.to_meta()?)
        .execute(pool)
        .await
        .map_err(db("storing the passphrase salt"))?;
    let text: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(KDF_META_KEY)
        .fetch_one(pool)
        .await
        .map_err(db("reading the passphrase salt"))?;
    KdfParams::from_meta(&text)
}

/// Checks the key against the store and reseals old secrets, all under the
/// write lock so that no other process writes in between.
async fn reseal(pool: &SqlitePool, keys: &Keyring) -> Result<(), StoreError> {
    let context = "migrating sealed secrets";
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(db(context))?;
    let recorded: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(KEY_ID_META_KEY)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db(context))?;
    let rows = sqlx::query(SELECT_ENDPOINTS)
        .fetch_all(&mut *tx)
        .await
        .map_err(db(context))?
        .iter()
        .map(stored_row)
        .collect::<Result<Vec<_>, _>>()?;
    let sealed_with: Vec<&str> = rows
        .iter()
        .filter_map(|r| codec::sealed_with(&r.secrets))
        .collect();
    keys.check(recorded.as_deref(), &sealed_with)?;
    let format: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(codec::FORMAT_META_KEY)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db(context))?;
    let accept_old = format.as_deref() != Some(codec::CURRENT_FORMAT);

    let mut resealed = 0usize;
    for row in &rows {
        match codec::migrate_row(keys, row, accept_old) {
            RowMigration::Current => {}
            RowMigration::Resealed(secrets) => {
                sqlx::query("UPDATE endpoints SET secrets = ? WHERE name = ?")
                    .bind(&secrets)
                    .bind(&row.name)
                    .execute(&mut *tx)
                    .await
                    .map_err(db(context))?;
                resealed += 1;
            }
            // Left as it is: reading the endpoint reports it, and the other
            // endpoints stay usable.
            RowMigration::Unreadable(e) => {
                tracing::warn!(endpoint = %row.name, "stored endpoint is unusable: {e}");
            }
        }
    }
    for (key, value, was) in [
        (KEY_ID_META_KEY, keys.current.key_id(), &recorded),
        (codec::FORMAT_META_KEY, codec::CURRENT_FORMAT, &format),
    ] {
        if was.as_deref() != Some(value) {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES (?, ?) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(db(context))?;
        }
    }
    tx.commit().await.map_err(db(context))?;
    if resealed > 0 {
        tracing::info!(
            endpoints = resealed,
            "resealed stored endpoint secrets in the current format"
        );
    }
    Ok(())
}
