//! The data directory: where the SQLite database, the generated master key
//! and the generated admin token live.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::StoreError;
use crate::secret::random_bytes;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "modelgate.db";
/// The file holding the generated admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

/// The data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    path: PathBuf,
}

impl DataDir {
    /// Opens the directory, creating it (and missing parents) with mode 0700
    /// when it does not exist. An existing directory's mode is left alone:
    /// the operator may have chosen it on purpose.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&path)
            .map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(Self { path })
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the SQLite database lives.
    pub fn db_path(&self) -> PathBuf {
        self.path.join(DB_FILE)
    }

    /// Creates the database file, empty, with mode 0600 when it does not
    /// exist, so that SQLite (which would create it 0644) and the `-wal` and
    /// `-shm` files it makes with the database's mode are private.
    pub(crate) fn create_private_db_file(&self) -> Result<(), StoreError> {
        let path = self.db_path();
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Makes the database and its companions (`-wal`, `-shm`, `-journal`)
    /// that exist mode 0600, for data directories made by older versions.
    ///
    /// A file that cannot be changed (owned by another user) is reported as
    /// a warning, not an error: the store still works, and refusing to
    /// start over a mode would take the gateway down for no attack.
    pub(crate) fn tighten_db_files(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            make_private(&self.path.join(format!("{DB_FILE}{suffix}")));
        }
    }

    /// The admin token from `admin.token`, generated on first use
    /// (`mga-` + base64url of 32 random bytes, file mode 0600). The
    /// `MODELGATE_ADMIN_TOKEN` override is the caller's business.
    pub fn admin_token(&self) -> Result<String, StoreError> {
        let generated: [u8; 32] = random_bytes()?;
        read_or_create_private_file(&self.path.join(ADMIN_TOKEN_FILE), || {
            format!("mga-{}", URL_SAFE_NO_PAD.encode(generated))
        })
    }
}

/// Sets an existing file's mode to 0600 when group or others have any
/// access; a missing file is fine, a failure is logged.
fn make_private(path: &Path) {
    let mode = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions().mode(),
        Err(e) if e.kind() == ErrorKind::NotFound => return,
        Err(e) => {
            tracing::warn!("cannot check the mode of {}: {e}", path.display());
            return;
        }
    };
    if mode & 0o077 == 0 {
        return;
    }
    if let Err(e) = std::fs::set_permissions(path, Permissions::from_mode(0o600)) {
        tracing::warn!(
            "{} is readable by other users (mode {:o}) and could not be made private: {e}; \
             run `chmod 600` on it as its owner",
            path.display(),
            mode & 0o777
        );
    }
}

/// Reads the trimmed contents of `path`; when it does not exist, creates it
/// with mode 0600 holding `make()` and returns that. An existing file that
/// others can read is made 0600 (see [`make_private`]).
///
/// `create_new` makes creation atomic: when two processes race, one wins and
/// the other reads the winner's value instead of overwriting it. The loser
/// may see the file before its contents are written, so an empty file is
/// re-read for a short while before it is reported.
pub(crate) fn read_or_create_private_file(
    path: &Path,
    make: impl FnOnce() -> String,
) -> Result<String, StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_owned(),
        source,
    };
    let mut make = Some(make);
    for _ in 0..40 {
        match std::fs::read_to_string(path) {
            Ok(text) if !text.trim().is_empty() => {
                make_private(path);
                return Ok(text.trim().to_owned());
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(25)),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let mut file = match OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                {
                    Ok(file) => file,
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(io(e)),
                };
                let value = make.take().map(|f| f()).unwrap_or_default();
                file.write_all(format!("{value}\n").as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(io)?;
                return Ok(value);
            }
            Err(e) => return Err(io(e)),
        }
    }
    Err(StoreError::Corrupt(format!(
        "{} is empty; if nothing was ever encrypted or authenticated with it, delete it \
         and a new one will be generated",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempDir;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("meta").permissions().mode() & 0o777
    }

    #[test]
    fn open_creates_private_dir_and_names_files() {
        let tmp = TempDir::new("datadir");
        let dd = DataDir::open(tmp.path().join("a/b")).expect("open");
        assert!(dd.path().is_dir());
        assert_eq!(mode(dd.path()), 0o700);
        assert_eq!(dd.db_path(), tmp.path().join("a/b/modelgate.db"));
        // Opening again is fine.
        DataDir::open(dd.path()).expect("reopen");
    }

    #[test]
    fn admin_token_generated_once_with_mode_0600() {
        let tmp = TempDir::new("admintoken");
        let dd = DataDir::open(tmp.path()).expect("open");
        let token = dd.admin_token().expect("token");
        assert!(token.starts_with("mga-"), "{token}");
        assert_eq!(token.len(), 4 + 43);
        let bytes = URL_SAFE_NO_PAD.decode(&token[4..]).expect("b64url");
        assert_eq!(bytes.len(), 32);
        assert_eq!(mode(&tmp.path().join(ADMIN_TOKEN_FILE)), 0o600);
        assert_eq!(dd.admin_token().expect("again"), token);
    }

    #[test]
    fn empty_file_is_reported_not_overwritten() {
        let tmp = TempDir::new("emptyfile");
        let path = tmp.path().join("x");
        std::fs::write(&path, "").expect("write");
        let err = read_or_create_private_file(&path, || "new".into()).expect_err("empty");
        assert!(err.to_string().contains("is empty"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "");
    }
}
