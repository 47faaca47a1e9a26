//! The `modelgate` command.

mod cli;
mod commands;
mod conn;
mod local;
mod table;

use std::process::ExitCode;

/// mimalloc: the request path allocates and frees many small buffers on
/// every serving thread; measured in bench/README.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Serve(_)));
    // One thread here: `serve` starts its own serving threads (one
    // runtime each); this one only waits for signals and writes usage.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    match &cli.command {
        Command::Serve(args) => commands::serve::run(g, args).await?,
        Command::Endpoints(c) => return commands::endpoints::run(g, c).await,
        Command::Models { endpoint } => commands::models::run(g, endpoint.as_deref()).await?,
        Command::Chat(args) => commands::chat::run(g, args).await?,
        Command::Keys(c) => commands::keys::run(g, c).await?,
        Command::Config(c) => commands::config::run(g, c)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Logs go to stderr; `MODELGATE_LOG` (or `RUST_LOG`) sets the filter.
/// The server logs at info, other commands only warnings.
fn init_logging(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = std::env::var("MODELGATE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default.to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
