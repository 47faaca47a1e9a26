//! Opening the configuration and the store in this process.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use modelgate_config::ConfigFile;
use modelgate_server::{AppState, Settings};
use modelgate_store::{DataDir, MasterKeySource, SqliteStore};

use crate::cli::Global;

/// The config file named by `--config`, or `./modelgate.yaml` when present.
pub fn config_path(global: &Global) -> Option<PathBuf> {
    global.config.clone().or_else(|| {
        let default = Path::new("modelgate.yaml");
        default.exists().then(|| default.to_path_buf())
    })
}

pub fn load_config(global: &Global) -> Result<(ConfigFile, Option<PathBuf>)> {
    match config_path(global) {
        None => Ok((ConfigFile::default(), None)),
        Some(path) => {
            let config = modelgate_config::load_file(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok((config.file, Some(path)))
        }
    }
}

/// The gateway's state over the config file and the data directory.
/// `admin_token` overrides the data directory's `admin.token`.
pub async fn open_state(
    global: &Global,
    admin_token: Option<&str>,
    require_keys: bool,
) -> Result<Arc<AppState>> {
    let (file, path) = load_config(global)?;
    let data_dir = DataDir::open(&global.data_dir)
        .with_context(|| format!("cannot use data directory {}", global.data_dir.display()))?;
    // A raw key or a passphrase; a passphrase becomes a key inside the
    // store, whose database holds its salt.
    let master_env = std::env::var(modelgate_store::secret::MASTER_KEY_ENV).ok();
    let master = MasterKeySource::load_or_create(data_dir.path(), master_env.as_deref())?;
    let store = SqliteStore::open(&data_dir, master).await?;
    let admin_token = match admin_token {
        Some(token) => token.to_owned(),
        None => data_dir.admin_token()?,
    };
    let settings = Settings {
        require_keys: require_keys || file.auth.require_keys,
        admin_token,
        config_path: path.map(|p| p.display().to_string()),
    };
    Ok(AppState::new(settings, file, Arc::new(store)).await?)
}
