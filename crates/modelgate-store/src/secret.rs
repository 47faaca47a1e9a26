//! Encryption at rest for upstream credentials.
//!
//! Every secret is sealed with XChaCha20-Poly1305 under a 32-byte master key
//! into a text envelope `v2:<key_id>:<base64 nonce>:<base64 ciphertext>`.
//! The nonce is 24 random bytes: with XChaCha's 192-bit nonces random nonces
//! are safe at any volume, so no counter has to be kept anywhere. The key id
//! lets a wrong key be reported as such instead of as "corrupted data", and
//! lets a store tell which key sealed a value (see [`crate::master_key`]).
//!
//! The version names the *binding* the sealer used, the envelope layout is
//! the same for both:
//! - `v1`: written before modelgate bound secrets to where they are sent
//!   (the store used the AAD `endpoint:<name>`). [`MasterKey::open`] refuses
//!   it; only the migration a store runs when it is opened reads it, and
//!   reseals it as `v2`. Changing `v2` to `v1` in a row gains nothing: the
//!   migration opens a `v1` envelope with the old AAD, which fails for a
//!   value sealed with the new one.
//! - `v2`: the AAD is the caller's current binding (for endpoint secrets:
//!   name, spec, base URL and `direct_endpoint`, see `codec.rs`).
//!
//! We use `chacha20poly1305` 0.10 (the `aead` 0.5 API) on purpose: the 0.11
//! generation (aead 0.6) changed its APIs, and the rest of the RustCrypto
//! crates here (`sha2` 0.10, `argon2` 0.5 with `blake2` 0.10) are of the
//! same generation.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroize as _;

use crate::StoreError;
use crate::master_key::MasterKeySource;

/// The environment variable that supplies the master key.
pub const MASTER_KEY_ENV: &str = "MODELGATE_MASTER_KEY";
/// The file in the data directory that holds a generated master key.
pub const MASTER_KEY_FILE: &str = "master.key";

const NONCE_LEN: usize = 24;

/// The 32-byte key that encrypts secrets at rest.
///
/// Its `Debug` output shows only the key id, never the bytes; the bytes are
/// wiped from memory when it is dropped.
#[derive(Clone)]
pub struct MasterKey {
    key: [u8; 32],
    id: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("key_id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl MasterKey {
    /// A key from raw bytes.
    pub fn from_bytes(key: [u8; 32]) -> Self {
        let id = hex(&Sha256::digest(key))[..8].to_owned();
        Self { key, id }
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, StoreError> {
        Ok(Self::from_bytes(random_bytes()?))
    }

    /// A raw master key: from `env_value` (the value of
    /// `MODELGATE_MASTER_KEY`) when given, else from `data_dir/master.key`,
    /// else a new random key written there. See
    /// [`MasterKeySource::load_or_create`], which this wraps.
    ///
    /// A passphrase is refused here: its key is derived with a salt kept in
    /// the database, so it can only be turned into a key by the store. Pass
    /// a [`MasterKeySource`] to the store to accept passphrases.
    pub fn load_or_create(data_dir: &Path, env_value: Option<&str>) -> Result<Self, StoreError> {
        MasterKeySource::load_or_create(data_dir, env_value)?
            .into_raw_key()
            .ok_or_else(|| {
                StoreError::Crypto(format!(
                    "{MASTER_KEY_ENV} holds a passphrase, whose key is derived with the \
                     salt in the store's database: open the store with a MasterKeySource, \
                     or set {MASTER_KEY_ENV} to a random key (`openssl rand -base64 32`)"
                ))
            })
    }

    /// The key id: the first 8 hex characters of the SHA-256 of the key.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// Encrypts `plaintext` into a `v2` envelope, binding it to `aad` (what
    /// the value belongs to, so a sealed value moved elsewhere fails to open).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<String, StoreError> {
        let nonce: [u8; NONCE_LEN] = random_bytes()?;
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            // Only fails on absurd lengths; the error carries no detail anyway.
            .map_err(|_| StoreError::Crypto("encryption failed".to_owned()))?;
        Ok(format!(
            "{}:{}:{}:{}",
            EnvelopeVersion::V2.as_str(),
            self.id,
            STANDARD.encode(nonce),
            STANDARD.encode(ciphertext)
        ))
    }

    /// Decrypts a `v2` envelope made by [`MasterKey::seal`] with the same
    /// `aad`. A `v1` envelope is refused: see the module docs.
    pub fn open(&self, envelope: &str, aad: &[u8]) -> Result<Vec<u8>, StoreError> {
        let parsed = Envelope::parse(envelope)?;
        if parsed.version != EnvelopeVersion::V2 {
            return Err(StoreError::Crypto(V1_REFUSED.to_owned()));
        }
        self.open_parsed(&parsed, aad).map_err(|e| e.into_error(""))
    }

    /// Decrypts an envelope of either version; the caller decides which
    /// versions it accepts and with which AAD.
    pub(crate) fn open_parsed(
        &self,
        envelope: &Envelope<'_>,
        aad: &[u8],
    ) -> Result<Vec<u8>, OpenFailure> {
        if envelope.key_id != self.id {
            return Err(OpenFailure::WrongKey {
                sealed_with: envelope.key_id.to_owned(),
                current: self.id.clone(),
            });
        }
        self.cipher()
            .decrypt(
                XNonce::from_slice(&envelope.nonce),
                Payload {
                    msg: &envelope.ciphertext,
                    aad,
                },
            )
            .map_err(|_| OpenFailure::Rejected)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }
}

/// Why [`MasterKey::open`] refuses a `v1` envelope outside the migration.
const V1_REFUSED: &str = "the value is sealed in the old v1 format, which is only read while \
     a store is migrated when it opens; a v1 value found later was written outside modelgate";

/// Which binding an envelope was sealed with; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EnvelopeVersion {
    V1,
    V2,
}

impl EnvelopeVersion {
    fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// A parsed envelope; the ciphertext is not yet authenticated.
pub(crate) struct Envelope<'a> {
    pub version: EnvelopeVersion,
    pub key_id: &'a str,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
}

impl<'a> Envelope<'a> {
    /// Parses `<version>:<key id>:<nonce>:<ciphertext>`.
    pub fn parse(envelope: &'a str) -> Result<Self, StoreError> {
        let malformed =
            |what: &str| StoreError::Crypto(format!("malformed encrypted value: {what}"));
        let mut parts = envelope.split(':');
        let (Some(version), Some(key_id), Some(nonce), Some(ciphertext), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(malformed("expected v2:<key id>:<nonce>:<ciphertext>"));
        };
        let version = match version {
            "v1" => EnvelopeVersion::V1,
            "v2" => EnvelopeVersion::V2,
            other => {
                return Err(malformed(&format!(
                    "unknown envelope version `{other}` (written by a newer modelgate?)"
                )));
            }
        };
        // Key ids are 8 hex characters; anything else was not written by
        // modelgate, and must not reach error messages and logs as is.
        if key_id.len() != 8 || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed("bad key id"));
        }
        let nonce = STANDARD
            .decode(nonce)
            .ok()
            .and_then(|n| <[u8; NONCE_LEN]>::try_from(n).ok())
            .ok_or_else(|| malformed("bad nonce"))?;
        let ciphertext = STANDARD
            .decode(ciphertext)
            .map_err(|_| malformed("bad base64 ciphertext"))?;
        Ok(Self {
            version,
            key_id,
            nonce,
            ciphertext,
        })
    }
}

/// Why an envelope did not open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpenFailure {
    /// Sealed under another master key.
    WrongKey {
        sealed_with: String,
        current: String,
    },
    /// The key is right but the ciphertext or the AAD is not what was
    /// sealed: the value or what it is bound to was changed.
    Rejected,
}

impl OpenFailure {
    /// The error a caller reports; `rejected_means` explains what a
    /// [`OpenFailure::Rejected`] means where the caller knows the binding.
    pub fn into_error(self, rejected_means: &str) -> StoreError {
        match self {
            Self::WrongKey {
                sealed_with,
                current,
            } => StoreError::Crypto(format!(
                "encrypted with master key {sealed_with}, but the current master key is \
                 {current}: set {MASTER_KEY_ENV} to the key that encrypted it"
            )),
            Self::Rejected if rejected_means.is_empty() => StoreError::Crypto(
                "decryption failed (data corrupted or wrong master key)".to_owned(),
            ),
            Self::Rejected => StoreError::Crypto(rejected_means.to_owned()),
        }
    }
}

/// A raw key written as 64 hex characters or as base64 of exactly 32 bytes.
pub(crate) fn parse_raw_key(s: &str) -> Option<MasterKey> {
    let s = s.trim();
    let mut bytes = unhex(s).or_else(|| {
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(s).ok())
    })?;
    let key = <[u8; 32]>::try_from(bytes.as_slice())
        .ok()
        .map(MasterKey::from_bytes);
    bytes.zeroize();
    key
}

/// Base64 of a key's bytes, as the key file holds it.
pub(crate) fn encode_raw_key(key: &MasterKey) -> String {
    STANDARD.encode(key.key)
}

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Crypto(format!("the system random source failed: {e}")))?;
    Ok(buf)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Decodes exactly 64 hex characters (32 bytes); anything else is `None`.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    fn key(b: u8) -> MasterKey {
        MasterKey::from_bytes([b; 32])
    }

    #[test]
    fn seal_open_round_trip_and_envelope_shape() {
        let k = key(1);
        let env = k.seal(b"sk-secret", b"endpoint:a").expect("seal");
        let parts: Vec<&str> = env.split(':').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "v2");
        assert_eq!(parts[1], k.key_id());
        assert_eq!(STANDARD.decode(parts[2]).expect("nonce").len(), 24);
        assert!(!env.contains("sk-secret"));
        assert_eq!(k.open(&env, b"endpoint:a").expect("open"), b"sk-secret");
        // Random nonces: the same plaintext seals differently each time.
        assert_ne!(env, k.seal(b"sk-secret", b"endpoint:a").expect("seal"));
    }

    #[test]
    fn v1_envelope_is_refused_by_open_but_parses_for_the_migration() {
        let k = key(1);
        let v2 = k.seal(b"sk-secret", b"endpoint:a").expect("seal");
        let v1 = v2.replacen("v2:", "v1:", 1);
        let err = k.open(&v1, b"endpoint:a").expect_err("v1").to_string();
        assert!(err.contains("old v1 format"), "{err}");
        let parsed = Envelope::parse(&v1).expect("parse");
        assert_eq!(parsed.version, EnvelopeVersion::V1);
        assert_eq!(
            k.open_parsed(&parsed, b"endpoint:a")
                .expect("migration reads"),
            b"sk-secret"
        );
    }

    #[test]
    fn key_id_is_sha256_prefix() {
        let k = key(0);
        assert_eq!(k.key_id(), &hex(&Sha256::digest([0u8; 32]))[..8]);
        assert_eq!(k.key_id().len(), 8);
        assert_ne!(k.key_id(), key(1).key_id());
    }

    #[test]
    fn wrong_key_names_both_key_ids() {
        let env = key(1).seal(b"x", b"").expect("seal");
        let err = key(2).open(&env, b"").expect_err("wrong key").to_string();
        assert!(
            err.contains(&format!("encrypted with master key {}", key(1).key_id())),
            "{err}"
        );
        assert!(
            err.contains(&format!("current master key is {}", key(2).key_id())),
            "{err}"
        );
        assert!(err.contains("MODELGATE_MASTER_KEY"), "{err}");
    }

    #[test]
    fn tampered_ciphertext_and_wrong_aad_fail() {
        let k = key(3);
        let env = k.seal(b"top secret", b"endpoint:a").expect("seal");
        let (head, ct) = env.rsplit_once(':').expect("envelope");
        let mut bytes = STANDARD.decode(ct).expect("b64");
        bytes[0] ^= 1;
        let tampered = format!("{head}:{}", STANDARD.encode(bytes));
        let err = k
            .open(&tampered, b"endpoint:a")
            .expect_err("tampered")
            .to_string();
        assert!(
            err.contains("decryption failed (data corrupted or wrong master key)"),
            "{err}"
        );
        let err = k.open(&env, b"endpoint:b").expect_err("aad").to_string();
        assert!(err.contains("decryption failed"), "{err}");
        assert!(k.open("v2:abc", b"").is_err());
        let bad_id = env.replacen(k.key_id(), "not\nhex", 1);
        let err = k.open(&bad_id, b"").expect_err("key id").to_string();
        assert!(
            err.contains("bad key id") && !err.contains("not\nhex"),
            "{err}"
        );
        assert!(k.open(&env.replacen("v2", "v9", 1), b"").is_err());
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let k = MasterKey::from_bytes([0xab; 32]);
        let dbg = format!("{k:?}");
        assert!(dbg.contains(k.key_id()));
        assert!(
            !dbg.contains("171") && !dbg.contains("ab, ab") && !dbg.contains("abab"),
            "{dbg}"
        );
    }

    #[test]
    fn key_file_created_once_with_mode_0600_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("masterkey");
        let first = MasterKey::load_or_create(dir.path(), None).expect("create");
        let path = dir.path().join(MASTER_KEY_FILE);
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(STANDARD.decode(text.trim()).expect("b64").len(), 32);
        let second = MasterKey::load_or_create(dir.path(), None).expect("reuse");
        assert_eq!(first.key_id(), second.key_id());
        let env = first.seal(b"x", b"").expect("seal");
        assert_eq!(second.open(&env, b"").expect("open"), b"x");
        // A raw key in the env value wins over the file.
        let raw = hex(&[9u8; 32]);
        let from_env = MasterKey::load_or_create(dir.path(), Some(&raw)).expect("env");
        assert_eq!(from_env.key_id(), key(9).key_id());
        // A passphrase needs the store's salt: not a key on its own.
        let err = MasterKey::load_or_create(dir.path(), Some("a passphrase"))
            .expect_err("passphrase")
            .to_string();
        assert!(
            err.contains("passphrase") && err.contains("openssl rand -base64 32"),
            "{err}"
        );
    }

    #[test]
    fn loose_key_file_is_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("loosekey");
        let first = MasterKey::load_or_create(dir.path(), None).expect("create");
        let path = dir.path().join(MASTER_KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let again = MasterKey::load_or_create(dir.path(), None).expect("reuse");
        assert_eq!(again.key_id(), first.key_id());
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn hand_edited_key_file_is_refused() {
        let dir = TempDir::new("badkey");
        std::fs::write(dir.path().join(MASTER_KEY_FILE), "not a key\n").expect("write");
        let err = MasterKey::load_or_create(dir.path(), None)
            .expect_err("bad")
            .to_string();
        assert!(err.contains("does not hold a 32-byte key"), "{err}");
    }
}
