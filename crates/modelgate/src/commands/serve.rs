//! `modelgate serve`.
//!
//! Once listening, the server announces its address in
//! `DATA_DIR/server.json` (see [`crate::server_file`]) so client commands on
//! the same data directory reach it, and removes the file as soon as it
//! starts shutting down (a client then works on the store directly instead
//! of reaching a server that no longer accepts).

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::cli::{EarlyClientArgs, Global, ServeArgs};
use crate::local;
use crate::server_file::{self, Announcement, Found};

pub async fn run(global: &Global, early: &EarlyClientArgs, args: &ServeArgs) -> Result<()> {
    if let Some(flag) = early.first_given() {
        bail!("{flag} is for the client commands (endpoints, models, chat, keys), not for `serve`");
    }
    let admin_token = args.admin_token.as_deref().or(early.admin_token.as_deref());
    let state = local::open_state(global, admin_token, keys_required(args)).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another server using it? choose another with --listen",
                args.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let endpoints = state.snapshot.load().routes.len();
    tracing::info!(
        "{endpoints} endpoint(s); gateway keys {}; admin token in {}",
        if state.settings.require_keys {
            "required"
        } else {
            "optional (loopback)"
        },
        global.data_dir.join("admin.token").display()
    );
    let announcement = announce(global, addr).await;
    // The one line scripts and tests wait for (port 0 picks a free port).
    println!("modelgate listening on http://{addr}");
    std::io::stdout().flush().ok();
    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    if let Some(announcement) = &announcement {
        let announcement = announcement.clone();
        tokio::spawn(async move {
            shutdown_requested().await;
            announcement.remove();
        });
    }
    let served = modelgate_server::app::serve(listener, state.clone(), workers).await;
    drop(announcement);
    served?;
    state.usage.flush().await;
    Ok(())
}

/// Writes `server.json`; a failure is logged, not fatal: the gateway
/// serves as well without it, clients just need `--server`.
async fn announce(global: &Global, addr: std::net::SocketAddr) -> Option<Arc<Announcement>> {
    let url = server_file::client_url(addr);
    if let Found::Running { url: other, file } = server_file::find(&global.data_dir).await {
        tracing::warn!(
            "another modelgate server at {other} is announced in {}; client commands on this data directory will now use this one",
            file.display()
        );
    }
    match Announcement::write(&global.data_dir, &url) {
        Ok(a) => Some(Arc::new(a)),
        Err(e) => {
            tracing::warn!(
                "cannot write {}: {e}; client commands need --server {url} to reach this server",
                server_file::path(&global.data_dir).display()
            );
            None
        }
    }
}

/// The first ctrl-c or SIGTERM; the server gets the same signals and
/// drains on its own.
async fn shutdown_requested() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Gateway keys are required on any address but loopback: a gateway that
/// others can reach must not spend its upstream keys for strangers.
fn keys_required(args: &ServeArgs) -> bool {
    args.require_keys || !args.listen.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(listen: &str, require_keys: bool) -> ServeArgs {
        ServeArgs {
            listen: listen.parse().unwrap(),
            require_keys,
            workers: None,
            admin_token: None,
        }
    }

    #[test]
    fn keys_are_required_beyond_loopback_or_when_asked() {
        assert!(!keys_required(&args("127.0.0.1:4000", false)));
        assert!(!keys_required(&args("[::1]:4000", false)));
        assert!(keys_required(&args("127.0.0.1:4000", true)));
        assert!(keys_required(&args("0.0.0.0:4000", false)));
        assert!(keys_required(&args("192.168.1.5:4000", false)));
    }
}
