//! `modelgate serve`.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{Global, ServeArgs};
use crate::local;

pub async fn run(global: &Global, args: &ServeArgs) -> Result<()> {
    let state = local::open_state(global, keys_required(args)).await?;
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
    // The one line scripts and tests wait for (port 0 picks a free port).
    println!("modelgate listening on http://{addr}");
    std::io::stdout().flush().ok();
    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        usize::from,
    );
    modelgate_server::app::serve(listener, state.clone(), workers).await?;
    state.usage.flush().await;
    Ok(())
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
