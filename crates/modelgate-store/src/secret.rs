//! Encryption at rest for upstream credentials.
//!
//! Every secret is sealed with XChaCha20-Poly1305 under a 32-byte master key
//! into a text envelope `v1:<key_id>:<base64 nonce>:<base64 ciphertext>`.
//! The nonce is 24 random bytes: with XChaCha's 192-bit nonces random nonces
//! are safe at any volume, so no counter has to be kept anywhere. The key id
//! lets a wrong key be reported as such instead of as "corrupted data", and
//! leaves room for key rotation later.
//!
//! We use `chacha20poly1305` 0.10 (the `aead` 0.5 API) on purpose: the 0.11
//! generation (aead 0.6) changed its APIs, and the rest of the RustCrypto
//! crates here (`sha2` 0.10) are of the same generation.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::data_dir::read_or_create_private_file;

/// The environment variable that supplies the master key.
pub const MASTER_KEY_ENV: &str = "MODELGATE_MASTER_KEY";
/// The file in the data directory that holds a generated master key.
pub const MASTER_KEY_FILE: &str = "master.key";

const ENVELOPE_VERSION: &str = "v1";
const NONCE_LEN: usize = 24;

/// The 32-byte key that encrypts secrets at rest.
///
/// Its `Debug` output shows only the key id, never the bytes.
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

    /// The key from the value of `MODELGATE_MASTER_KEY`.
    ///
    /// Surrounding whitespace is ignored. The value is taken as the raw key
    /// when it is 64 hex characters or base64 (standard or URL-safe, padded
    /// or not) of exactly 32 bytes. Any other non-empty value is a
    /// passphrase, and the key is its SHA-256: convenient, but only as
    /// strong as the passphrase, since no slow key-derivation is applied.
    pub fn from_env_value(value: &str) -> Result<Self, StoreError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(StoreError::Crypto(format!(
                "{MASTER_KEY_ENV} is set but empty: unset it to use the key file in the data \
                 directory, or set it to 64 hex characters, base64 of 32 bytes, or a passphrase"
            )));
        }
        Ok(parse_raw_key(value).unwrap_or_else(|| Self::from_bytes(Sha256::digest(value).into())))
    }

    /// The master key: from `env_value` (the value of `MODELGATE_MASTER_KEY`,
    /// passed in so that callers and tests decide where it comes from) when
    /// given, else from `data_dir/master.key`, else a new random key written
    /// there (base64, mode 0600). Creating the file is atomic with respect to
    /// other processes, so two gateways starting at once agree on one key.
    pub fn load_or_create(data_dir: &Path, env_value: Option<&str>) -> Result<Self, StoreError> {
        if let Some(value) = env_value {
            return Self::from_env_value(value);
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        let generated = Self::generate()?;
        let text = read_or_create_private_file(&path, || STANDARD.encode(generated.key))?;
        // The file must hold a key, not a passphrase: a passphrase there would
        // mean someone edited it by hand and likely broke it.
        parse_raw_key(&text).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} does not hold a 32-byte key (base64 or 64 hex characters); \
                 restore it from a backup, or set {MASTER_KEY_ENV}",
                path.display()
            ))
        })
    }

    /// The key id: the first 8 hex characters of the SHA-256 of the key.
    pub fn key_id(&self) -> &str {
        &self.id
    }

    /// Encrypts `plaintext`, binding it to `aad` (e.g. the row it belongs
    /// to, so a sealed value copied to another row fails to open).
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
            "{ENVELOPE_VERSION}:{}:{}:{}",
            self.id,
            STANDARD.encode(nonce),
            STANDARD.encode(ciphertext)
        ))
    }

    /// Decrypts an envelope made by [`MasterKey::seal`] with the same `aad`.
    pub fn open(&self, envelope: &str, aad: &[u8]) -> Result<Vec<u8>, StoreError> {
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
            return Err(malformed("expected v1:<key id>:<nonce>:<ciphertext>"));
        };
        if version != ENVELOPE_VERSION {
            return Err(malformed(&format!(
                "unknown envelope version `{version}` (written by a newer modelgate?)"
            )));
        }
        if key_id != self.id {
            return Err(StoreError::Crypto(format!(
                "encrypted with master key {key_id}, but the current master key is {}: \
                 set {MASTER_KEY_ENV} to the key that encrypted it",
                self.id
            )));
        }
        let nonce = STANDARD
            .decode(nonce)
            .ok()
            .filter(|n| n.len() == NONCE_LEN)
            .ok_or_else(|| malformed("bad nonce"))?;
        let ciphertext = STANDARD
            .decode(ciphertext)
            .map_err(|_| malformed("bad base64 ciphertext"))?;
        self.cipher()
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad,
                },
            )
            .map_err(|_| {
                StoreError::Crypto(
                    "decryption failed (data corrupted or wrong master key)".to_owned(),
                )
            })
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }
}

/// A raw key written as 64 hex characters or as base64 of exactly 32 bytes.
fn parse_raw_key(s: &str) -> Option<MasterKey> {
    let s = s.trim();
    let bytes = unhex(s).or_else(|| {
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(s).ok())
    })?;
    Some(MasterKey::from_bytes(bytes.try_into().ok()?))
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
        assert_eq!(parts[0], "v1");
        assert_eq!(parts[1], k.key_id());
        assert_eq!(STANDARD.decode(parts[2]).expect("nonce").len(), 24);
        assert!(!env.contains("sk-secret"));
        assert_eq!(k.open(&env, b"endpoint:a").expect("open"), b"sk-secret");
        // Random nonces: the same plaintext seals differently each time.
        assert_ne!(env, k.seal(b"sk-secret", b"endpoint:a").expect("seal"));
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
        assert!(k.open("v1:abc", b"").is_err());
        assert!(k.open(&env.replacen("v1", "v9", 1), b"").is_err());
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let k = MasterKey::from_env_value(&"ab".repeat(32)).expect("hex");
        let dbg = format!("{k:?}");
        assert!(dbg.contains(k.key_id()));
        assert!(
            !dbg.contains("171") && !dbg.contains("ab, ab") && !dbg.contains("abab"),
            "{dbg}"
        );
    }

    #[test]
    fn env_value_forms() {
        let raw = [7u8; 32];
        let want = MasterKey::from_bytes(raw).key_id().to_owned();
        let hexed = hex(&raw);
        assert_eq!(
            MasterKey::from_env_value(&hexed).expect("hex").key_id(),
            want
        );
        assert_eq!(
            MasterKey::from_env_value(&hexed.to_uppercase())
                .expect("HEX")
                .key_id(),
            want
        );
        let b64 = STANDARD.encode(raw);
        assert_eq!(
            MasterKey::from_env_value(&format!(" {b64}\n"))
                .expect("b64")
                .key_id(),
            want
        );
        let b64url = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(
            MasterKey::from_env_value(&b64url).expect("b64url").key_id(),
            want
        );
        // A passphrase is hashed; base64 of the wrong length is a passphrase too.
        let pass = MasterKey::from_env_value("correct horse battery staple").expect("pass");
        let hashed: [u8; 32] = Sha256::digest("correct horse battery staple").into();
        assert_eq!(pass.key_id(), MasterKey::from_bytes(hashed).key_id());
        let short = STANDARD.encode([7u8; 16]);
        let hashed: [u8; 32] = Sha256::digest(&short).into();
        assert_eq!(
            MasterKey::from_env_value(&short).expect("short").key_id(),
            MasterKey::from_bytes(hashed).key_id()
        );
        assert!(MasterKey::from_env_value("  ").is_err());
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
        // The env value wins over the file.
        let from_env = MasterKey::load_or_create(dir.path(), Some("pass")).expect("env");
        assert_ne!(from_env.key_id(), first.key_id());
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
