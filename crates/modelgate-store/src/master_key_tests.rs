#![allow(clippy::unwrap_used)]

use super::*;
use crate::secret::hex;

/// Cheap parameters: these tests are about the plumbing, not the cost.
fn cheap(salt: &[u8]) -> KdfParams {
    KdfParams {
        alg: "argon2id".into(),
        version: 0x13,
        m_kib: 64,
        t_cost: 1,
        p_cost: 1,
        salt: STANDARD.encode(salt),
    }
}

fn passphrase(p: &str) -> MasterKeySource {
    let source = MasterKeySource::from_env_value(p).unwrap();
    assert!(source.is_passphrase(), "{p} taken as a raw key");
    source
}

#[test]
fn env_value_forms() {
    let raw = [7u8; 32];
    let want = MasterKey::from_bytes(raw).key_id().to_owned();
    let hexed = hex(&raw);
    let raw_id = |v: &str| {
        MasterKeySource::from_env_value(v)
            .unwrap()
            .into_raw_key()
            .map(|k| k.key_id().to_owned())
    };
    assert_eq!(raw_id(&hexed).as_deref(), Some(want.as_str()));
    assert_eq!(
        raw_id(&hexed.to_uppercase()).as_deref(),
        Some(want.as_str())
    );
    let b64 = STANDARD.encode(raw);
    assert_eq!(raw_id(&format!(" {b64}\n")).as_deref(), Some(want.as_str()));
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    assert_eq!(raw_id(&b64url).as_deref(), Some(want.as_str()));
    // Anything else is a passphrase, base64 of the wrong length included.
    passphrase("correct horse battery staple");
    passphrase(&STANDARD.encode([7u8; 16]));
    let err = MasterKeySource::from_env_value("  ")
        .unwrap_err()
        .to_string();
    assert!(err.contains("is set but empty"), "{err}");
}

#[test]
fn debug_never_shows_the_passphrase() {
    let dbg = format!("{:?}", passphrase("hunter2-but-longer"));
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert!(dbg.contains("<redacted>"), "{dbg}");
}

#[test]
fn generated_params_are_strong_and_salted_at_random() {
    let a = KdfParams::generate().unwrap();
    let b = KdfParams::generate().unwrap();
    assert_ne!(a.salt, b.salt);
    assert_eq!(a.salt().unwrap().len(), 16);
    // At least OWASP's Argon2id floor: 19 MiB, 2 passes.
    assert!(a.m_kib >= 19 * 1024 && a.t_cost >= 2, "{a:?}");
    assert_eq!(KdfParams::from_meta(&a.to_meta().unwrap()).unwrap(), a);
}

#[test]
fn stored_params_are_checked() {
    let mut p = cheap(&[1; 16]);
    p.m_kib = MAX_M_KIB + 1;
    let err = KdfParams::from_meta(&p.to_meta().unwrap()).unwrap_err();
    assert!(err.to_string().contains("beyond the limits"), "{err}");
    let mut p = cheap(&[1; 16]);
    p.alg = "scrypt".into();
    let err = KdfParams::from_meta(&p.to_meta().unwrap()).unwrap_err();
    assert!(err.to_string().contains("does not know"), "{err}");
    assert!(KdfParams::from_meta("{").is_err());
    let mut p = cheap(&[1; 16]);
    p.salt = "!!".into();
    let err = passphrase("pass phrase").unlock(Some(&p)).unwrap_err();
    assert!(err.to_string().contains("salt"), "{err}");
}

#[test]
fn passphrase_key_depends_on_the_salt_and_is_not_the_legacy_hash() {
    let source = passphrase("correct horse battery staple");
    let one = source.unlock(Some(&cheap(&[1; 16]))).unwrap();
    let again = source.unlock(Some(&cheap(&[1; 16]))).unwrap();
    let other_salt = source.unlock(Some(&cheap(&[2; 16]))).unwrap();
    assert_eq!(one.current.key_id(), again.current.key_id());
    assert_ne!(one.current.key_id(), other_salt.current.key_id());
    let legacy: [u8; 32] = Sha256::digest("correct horse battery staple").into();
    let legacy = MasterKey::from_bytes(legacy);
    assert_eq!(one.legacy.as_ref().unwrap().key_id(), legacy.key_id());
    assert_ne!(one.current.key_id(), legacy.key_id());
    // A raw key has no legacy key and needs no parameters.
    let raw = MasterKeySource::from(MasterKey::from_bytes([3; 32]))
        .unlock(None)
        .unwrap();
    assert!(raw.legacy.is_none());
    assert!(passphrase("no params").unlock(None).is_err());
}

#[test]
fn keyring_check_refuses_another_key_with_a_clear_error() {
    let keys = passphrase("right passphrase")
        .unlock(Some(&cheap(&[1; 16])))
        .unwrap();
    let current = keys.current.key_id().to_owned();
    let legacy = keys.legacy.as_ref().unwrap().key_id().to_owned();
    keys.check(Some(&current), &[]).unwrap();
    keys.check(None, &[]).unwrap();
    keys.check(None, &[&legacy, "deadbeef"]).unwrap();
    for (recorded, sealed) in [(Some("deadbeef"), vec![]), (None, vec!["deadbeef"])] {
        let err = keys.check(recorded, &sealed).unwrap_err().to_string();
        assert!(err.contains("wrong master key"), "{err}");
        assert!(err.contains("deadbeef") && err.contains(&current), "{err}");
        assert!(err.contains("mistyped passphrase"), "{err}");
        assert!(err.contains("MODELGATE_MASTER_KEY"), "{err}");
        assert!(!err.contains("right passphrase"), "{err}");
    }
}

/// What `f` logs, formatted.
fn logs_of(f: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn a_passphrase_is_warned_about_once_with_the_way_out() {
    let logs = logs_of(|| {
        passphrase("hunter2 hunter2")
            .unlock(Some(&cheap(&[1; 16])))
            .unwrap();
    });
    assert_eq!(logs.matches("WARN").count(), 1, "{logs}");
    assert!(logs.contains("holds a passphrase"), "{logs}");
    assert!(logs.contains("openssl rand -base64 32"), "{logs}");
    assert!(!logs.contains("hunter2"), "{logs}");
    let logs = logs_of(|| {
        MasterKeySource::from(MasterKey::from_bytes([3; 32]))
            .unlock(None)
            .unwrap();
    });
    assert!(logs.is_empty(), "{logs}");
}
