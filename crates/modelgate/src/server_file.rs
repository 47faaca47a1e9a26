//! `DATA_DIR/server.json`: where the server running on a data directory
//! listens, so client commands reach it instead of changing the store
//! behind its back (a running server reads the store only when it starts).
//!
//! `serve` writes `{"url": ..., "pid": ...}` (mode 0600, written whole
//! through a rename, so a reader never sees half a file) once it listens,
//! and removes it when it shuts down, if the file still names it. A server
//! killed without a chance to clean up leaves a stale file behind; clients
//! trust the file only when its process is alive (checked in `/proc` where
//! there is one) **and** its URL answers `/healthz`, so a stale file neither
//! breaks a command nor sends it to another server that reused the port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub const FILE_NAME: &str = "server.json";

/// How long a client waits for `/healthz` of an announced server. It runs
/// on this machine (the file is in a local directory), so a live server
/// answers in milliseconds; a wedged one must not stall every command.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announced {
    pub url: String,
    pub pid: u32,
}

/// What a client found in the data directory.
#[derive(Debug, PartialEq)]
pub enum Found {
    /// No file, an unreadable one, or one left by a server that is gone.
    Nothing,
    /// A live server that answers.
    Running { url: String, file: PathBuf },
    /// The process is alive but the URL does not answer (starting, wedged,
    /// or a reused pid): the caller warns and works without it.
    Silent {
        url: String,
        pid: u32,
        file: PathBuf,
    },
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// The URL clients use for a listening address: an unspecified address
/// (`0.0.0.0`, `::`) is reached over loopback.
pub fn client_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// The file of a running server; removed on drop if it still names this
/// process (another server may have announced itself since).
#[derive(Debug)]
pub struct Announcement {
    file: PathBuf,
    pid: u32,
}

impl Announcement {
    pub fn write(data_dir: &Path, url: &str) -> std::io::Result<Self> {
        let pid = std::process::id();
        let file = path(data_dir);
        let body = serde_json::to_vec_pretty(&Announced {
            url: url.to_owned(),
            pid,
        })?;
        let temp = data_dir.join(format!(".{FILE_NAME}.{pid}.tmp"));
        write_private(&temp, &body)?;
        std::fs::rename(&temp, &file).inspect_err(|_| {
            let _ = std::fs::remove_file(&temp);
        })?;
        Ok(Self { file, pid })
    }

    pub fn remove(&self) {
        if read(&self.file).is_some_and(|a| a.pid == self.pid) {
            let _ = std::fs::remove_file(&self.file);
        }
    }
}

impl Drop for Announcement {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(unix)]
fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(body)
}

#[cfg(not(unix))]
fn write_private(path: &Path, body: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, body)
}

fn read(file: &Path) -> Option<Announced> {
    let text = std::fs::read(file).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Whether process `pid` exists. Where `/proc` is missing (not Linux) this
/// cannot be told without `unsafe`, so the answer is "maybe" and the
/// `/healthz` probe decides alone.
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

async fn answers_health(url: &str) -> bool {
    let Ok(http) = reqwest::Client::builder().timeout(HEALTH_TIMEOUT).build() else {
        return false;
    };
    http.get(format!("{url}/healthz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// The server announced in `data_dir`, if it is really there.
pub async fn find(data_dir: &Path) -> Found {
    let file = path(data_dir);
    let Some(announced) = read(&file) else {
        return Found::Nothing;
    };
    if !process_alive(announced.pid) {
        return Found::Nothing;
    }
    if answers_health(&announced.url).await {
        Found::Running {
            url: announced.url,
            file,
        }
    } else {
        Found::Silent {
            url: announced.url,
            pid: announced.pid,
            file,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_are_reached_over_loopback() {
        assert_eq!(
            client_url("0.0.0.0:4000".parse().unwrap()),
            "http://127.0.0.1:4000"
        );
        assert_eq!(
            client_url("[::]:4000".parse().unwrap()),
            "http://[::1]:4000"
        );
        assert_eq!(
            client_url("192.168.1.5:80".parse().unwrap()),
            "http://192.168.1.5:80"
        );
    }

    #[tokio::test]
    async fn written_private_removed_on_drop_and_garbage_is_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let announcement = Announcement::write(dir.path(), "http://127.0.0.1:9").unwrap();
        let file = path(dir.path());
        let read_back = read(&file).unwrap();
        assert_eq!(read_back.pid, std::process::id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // This process is alive but nothing answers on port 9.
        assert!(matches!(find(dir.path()).await, Found::Silent { .. }));
        drop(announcement);
        assert!(!file.exists());
        assert_eq!(find(dir.path()).await, Found::Nothing);

        std::fs::write(&file, "{not json").unwrap();
        assert_eq!(find(dir.path()).await, Found::Nothing);
    }

    #[test]
    fn a_file_rewritten_by_another_server_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mine = Announcement::write(dir.path(), "http://127.0.0.1:9").unwrap();
        let other = Announced {
            url: "http://127.0.0.1:10".into(),
            pid: std::process::id() + 1,
        };
        std::fs::write(path(dir.path()), serde_json::to_vec(&other).unwrap()).unwrap();
        drop(mine);
        assert_eq!(read(&path(dir.path())), Some(other));
    }
}
