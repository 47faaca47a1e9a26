//! Where the master key comes from, and how a passphrase becomes one.
//!
//! A raw key (32 random bytes, from `MODELGATE_MASTER_KEY` or the data
//! directory's `master.key`) is used as is. A passphrase is stretched with
//! **Argon2id** and a random salt, so that guessing it offline costs what
//! Argon2id costs per guess instead of one SHA-256.
//!
//! The salt and the Argon2id parameters live **in the database** (the
//! store's `meta` table), not in the data directory: several gateways
//! sharing one PostgreSQL database share the passphrase and the database,
//! not a directory. So a passphrase can only be turned into a key once the
//! database is open, which is why stores take a [`MasterKeySource`] and not
//! a [`MasterKey`].
//!
//! Stores written before this kept secrets under `SHA-256(passphrase)`. That
//! key is still computed (the "legacy" key of a [`Keyring`]) so the store
//! can reseal those secrets under the Argon2id key when it opens; envelopes
//! carry the id of the key that sealed them, which is how they are found.
//!
//! Argon2 crate: `argon2` 0.5, not 0.6. 0.6 belongs to RustCrypto's new
//! generation (digest 0.11, blake2 0.11) while this crate uses
//! `chacha20poly1305` 0.10 and `sha2` 0.10 (digest 0.10); 0.5's `blake2`
//! 0.10 shares their `digest`, so nothing is compiled twice.

use std::fmt;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize as _, Zeroizing};

use crate::StoreError;
use crate::data_dir::read_or_create_private_file;
use crate::secret::{
    MASTER_KEY_ENV, MASTER_KEY_FILE, MasterKey, encode_raw_key, parse_raw_key, random_bytes,
};

/// Where the master key comes from; give it to a store's `open`.
///
/// `Debug` never shows the passphrase or key bytes.
pub struct MasterKeySource {
    kind: Kind,
    origin: Origin,
}

enum Kind {
    Key(MasterKey),
    Passphrase(Zeroizing<String>),
}

/// Where the source was read from, to say so in errors.
#[derive(Debug, Clone)]
enum Origin {
    Env,
    File(PathBuf),
    Given,
}

impl fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MasterKeySource");
        match &self.kind {
            Kind::Key(key) => d.field("key", key),
            Kind::Passphrase(_) => d.field("passphrase", &"<redacted>"),
        };
        d.field("origin", &self.origin).finish()
    }
}

impl From<MasterKey> for MasterKeySource {
    fn from(key: MasterKey) -> Self {
        Self {
            kind: Kind::Key(key),
            origin: Origin::Given,
        }
    }
}

impl MasterKeySource {
    /// The source the value of `MODELGATE_MASTER_KEY` names.
    ///
    /// Surrounding whitespace is ignored. The value is a raw key when it is
    /// 64 hex characters or base64 (standard or URL-safe, padded or not) of
    /// exactly 32 bytes; any other non-empty value is a passphrase.
    pub fn from_env_value(value: &str) -> Result<Self, StoreError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(StoreError::Crypto(format!(
                "{MASTER_KEY_ENV} is set but empty: unset it to use the key file in the data \
                 directory, or set it to a random key (`openssl rand -base64 32`)"
            )));
        }
        let kind = match parse_raw_key(value) {
            Some(key) => Kind::Key(key),
            None => Kind::Passphrase(Zeroizing::new(value.to_owned())),
        };
        Ok(Self {
            kind,
            origin: Origin::Env,
        })
    }

    /// The master key source: `env_value` (the value of
    /// `MODELGATE_MASTER_KEY`, passed in so that callers and tests decide
    /// where it comes from) when given, else the key in
    /// `data_dir/master.key`, else a new random key written there (base64,
    /// mode 0600). Creating the file is atomic with respect to other
    /// processes, so two gateways starting at once agree on one key.
    pub fn load_or_create(data_dir: &Path, env_value: Option<&str>) -> Result<Self, StoreError> {
        if let Some(value) = env_value {
            return Self::from_env_value(value);
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        let generated = MasterKey::generate()?;
        let text = read_or_create_private_file(&path, || encode_raw_key(&generated))?;
        // The file must hold a key, not a passphrase: a passphrase there would
        // mean someone edited it by hand and likely broke it.
        let key = parse_raw_key(&text).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} does not hold a 32-byte key (base64 or 64 hex characters); \
                 restore it from a backup, or set {MASTER_KEY_ENV}",
                path.display()
            ))
        })?;
        Ok(Self {
            kind: Kind::Key(key),
            origin: Origin::File(path),
        })
    }

    /// Whether the key is derived from a passphrase.
    pub fn is_passphrase(&self) -> bool {
        matches!(self.kind, Kind::Passphrase(_))
    }

    /// The raw key, `None` for a passphrase.
    pub(crate) fn into_raw_key(self) -> Option<MasterKey> {
        match self.kind {
            Kind::Key(key) => Some(key),
            Kind::Passphrase(_) => None,
        }
    }

    /// Says where the key came from, for error messages.
    fn describe(&self) -> String {
        match (&self.kind, &self.origin) {
            (Kind::Passphrase(_), _) => format!("the passphrase in {MASTER_KEY_ENV}"),
            (Kind::Key(_), Origin::Env) => format!("the key in {MASTER_KEY_ENV}"),
            (Kind::Key(_), Origin::File(path)) => format!("the key file {}", path.display()),
            (Kind::Key(_), Origin::Given) => "the master key given".to_owned(),
        }
    }

    /// The keys to open a store with. `kdf` is the store's passphrase
    /// parameters, required for a passphrase and ignored for a raw key.
    ///
    /// Slow for a passphrase (that is the point of Argon2id): call it from
    /// a blocking thread. Warns, through `tracing`, that a passphrase is in
    /// use, once per call: stores call it once, when they open.
    pub(crate) fn unlock(&self, kdf: Option<&KdfParams>) -> Result<Keyring, StoreError> {
        let (current, legacy) = match &self.kind {
            Kind::Key(key) => (key.clone(), None),
            Kind::Passphrase(passphrase) => {
                tracing::warn!(
                    "{MASTER_KEY_ENV} holds a passphrase: the master key is derived from it \
                     with Argon2id, and is only as strong as the passphrase. A random key is \
                     stronger: generate one with `openssl rand -base64 32` and set \
                     {MASTER_KEY_ENV} to it for new data directories (this store's secrets \
                     stay sealed under the passphrase)"
                );
                let kdf = kdf.ok_or_else(|| {
                    StoreError::Corrupt("the store has no passphrase parameters".to_owned())
                })?;
                (
                    kdf.derive(passphrase)?,
                    Some(legacy_passphrase_key(passphrase)),
                )
            }
        };
        Ok(Keyring {
            current,
            legacy,
            origin: self.describe(),
        })
    }
}

/// The key modelgate derived from a passphrase before Argon2id: one
/// unsalted SHA-256. Only used to migrate stores sealed under it.
fn legacy_passphrase_key(passphrase: &str) -> MasterKey {
    let mut digest: [u8; 32] = Sha256::digest(passphrase.as_bytes()).into();
    let key = MasterKey::from_bytes(digest);
    digest.zeroize();
    key
}

/// The keys a store is opened with.
#[derive(Debug)]
pub(crate) struct Keyring {
    /// Seals everything and opens everything current.
    pub current: MasterKey,
    /// `SHA-256(passphrase)`, for migrating stores sealed under it.
    pub legacy: Option<MasterKey>,
    /// Where `current` came from, for error messages.
    origin: String,
}

impl Keyring {
    /// The key with this id, if the keyring has it.
    pub fn key_for(&self, key_id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.legacy)
            .find(|k| k.key_id() == key_id)
    }

    /// Checks that this keyring is the store's: `recorded` is the key id the
    /// store recorded when it was last opened (`None` for a store from
    /// before that was recorded), `sealed_with` the key ids on its sealed
    /// values.
    ///
    /// Refusing here, when the store opens, turns a mistyped passphrase or a
    /// swapped key file into one clear error instead of every endpoint
    /// failing later, and stops secrets from being written under a key that
    /// cannot read the rest.
    pub fn check(&self, recorded: Option<&str>, sealed_with: &[&str]) -> Result<(), StoreError> {
        let found = match recorded {
            Some(id) if self.key_for(id).is_some() => return Ok(()),
            Some(id) => id,
            None if sealed_with.is_empty() => return Ok(()),
            None if sealed_with.iter().any(|id| self.key_for(id).is_some()) => return Ok(()),
            None => sealed_with[0],
        };
        let hint = if self.legacy.is_some() {
            " (a mistyped passphrase gives another key)"
        } else {
            ""
        };
        Err(StoreError::Crypto(format!(
            "wrong master key: this store's secrets are encrypted with master key {found}, \
             but {} gives master key {}{hint}. Set {MASTER_KEY_ENV} to the key or passphrase \
             that encrypted them (or unset it if they were encrypted with the data \
             directory's {MASTER_KEY_FILE}, and restore that file from a backup)",
            self.origin,
            self.current.key_id()
        )))
    }
}

/// How a passphrase is stretched for one store: Argon2id parameters and
/// salt, kept in the database so that every instance sharing it derives
/// the same key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KdfParams {
    /// Always `argon2id`.
    alg: String,
    /// Argon2 version, 19 (0x13).
    version: u32,
    /// Memory in KiB.
    m_kib: u32,
    /// Iterations.
    t_cost: u32,
    /// Lanes.
    p_cost: u32,
    /// Base64 of 16 random bytes.
    salt: String,
}

/// The `meta` row that holds a store's [`KdfParams`].
pub(crate) const KDF_META_KEY: &str = "master_key_kdf";
/// The `meta` row that holds the id of the key the store is sealed under.
pub(crate) const KEY_ID_META_KEY: &str = "master_key_id";

/// Parameters for new stores: RFC 9106's second recommended option
/// (64 MiB, 3 passes), stronger than OWASP's floor (19 MiB, 2 passes). It
/// costs a fraction of a second once per start, and the parameters are
/// stored with the salt, so they can be raised later without breaking
/// existing stores. One lane: the `argon2` crate computes lanes one after
/// the other, so more lanes would only slow the start.
const NEW_M_KIB: u32 = 64 * 1024;
const NEW_T_COST: u32 = 3;
const NEW_P_COST: u32 = 1;

/// Stored parameters beyond these are refused rather than run: a database
/// edited by someone else must not make every start allocate gigabytes.
const MAX_M_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;

impl KdfParams {
    /// Fresh parameters with a random salt.
    pub fn generate() -> Result<Self, StoreError> {
        Ok(Self {
            alg: "argon2id".to_owned(),
            version: 0x13,
            m_kib: NEW_M_KIB,
            t_cost: NEW_T_COST,
            p_cost: NEW_P_COST,
            salt: STANDARD.encode(random_bytes::<16>()?),
        })
    }

    /// The text stored in the `meta` table.
    pub fn to_meta(&self) -> Result<String, StoreError> {
        serde_json::to_string(self)
            .map_err(|e| StoreError::Corrupt(format!("serializing passphrase parameters: {e}")))
    }

    /// Parses and bounds-checks the text stored in the `meta` table.
    pub fn from_meta(text: &str) -> Result<Self, StoreError> {
        let corrupt = |what: String| {
            StoreError::Corrupt(format!(
                "the store's passphrase parameters (meta `{KDF_META_KEY}`) {what}"
            ))
        };
        let params: Self =
            serde_json::from_str(text).map_err(|e| corrupt(format!("do not parse: {e}")))?;
        if params.alg != "argon2id" || params.version != 0x13 {
            return Err(corrupt(format!(
                "name {} version {}, which this modelgate does not know (written by a newer one?)",
                params.alg, params.version
            )));
        }
        if params.m_kib > MAX_M_KIB || params.t_cost > MAX_T_COST || params.p_cost > MAX_P_COST {
            return Err(corrupt(format!(
                "ask for m={} KiB, t={}, p={}, beyond the limits (m ≤ {MAX_M_KIB}, \
                 t ≤ {MAX_T_COST}, p ≤ {MAX_P_COST})",
                params.m_kib, params.t_cost, params.p_cost
            )));
        }
        Ok(params)
    }

    /// The salt's bytes.
    fn salt(&self) -> Result<Vec<u8>, StoreError> {
        STANDARD
            .decode(&self.salt)
            .ok()
            .filter(|s| s.len() >= 8)
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "the store's passphrase salt (meta `{KDF_META_KEY}`) is not base64 of at \
                     least 8 bytes"
                ))
            })
    }

    /// The Argon2id key for `passphrase`.
    fn derive(&self, passphrase: &str) -> Result<MasterKey, StoreError> {
        let params = Params::new(self.m_kib, self.t_cost, self.p_cost, Some(32)).map_err(|e| {
            StoreError::Corrupt(format!(
                "the store's passphrase parameters (meta `{KDF_META_KEY}`) are invalid: {e}"
            ))
        })?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), &self.salt()?, out.as_mut())
            .map_err(|e| {
                StoreError::Crypto(format!("deriving the key from the passphrase: {e}"))
            })?;
        Ok(MasterKey::from_bytes(*out))
    }
}

#[cfg(test)]
#[path = "master_key_tests.rs"]
mod tests;
