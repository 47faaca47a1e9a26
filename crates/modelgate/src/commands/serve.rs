//! `modelgate serve`.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{Global, ServeArgs};
use crate::local;

pub async fn run(global: &Global, args: &ServeArgs) -> Result<()> {
    let loopback = args.listen.ip().is_loopback();
    let state = local::open_state(global, args.require_keys || !loopback).await?;
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
    modelgate_server::app::serve(listener, state.clone()).await?;
    state.usage.flush().await;
    Ok(())
}
