//! The `modelgate` command.

mod cli;
mod commands;
mod conn;
mod error;
mod local;
mod server_file;
mod table;

use std::process::ExitCode;

/// mimalloc: the request path allocates and frees many small buffers on
/// every serving thread; measured in bench/README.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let json = cli.command.wants_json(&cli.early);
    init_logging(matches!(cli.command, Command::Serve(_)));
    // One thread here: `serve` starts its own serving threads (one
    // runtime each); this one only waits for signals and writes usage.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error::report(
                &anyhow::anyhow!("cannot start the async runtime: {e}"),
                json,
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            error::report(&e, json);
            ExitCode::FAILURE
        }
    }
}

/// A command line clap refused. Help and version are printed as usual;
/// a usage error is JSON when `--json` is among the arguments (clap could
/// not tell us which command it belongs to), with clap's exit code (2).
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let wants_json = args.iter().any(|a| a == "--json");
    if let Some(message) = old_flag_form(&args) {
        if wants_json {
            println!("{}", error::usage_json(&message));
        } else {
            eprintln!("error: {message}");
        }
        return ExitCode::from(2);
    }
    if wants_json
        && !matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        )
    {
        let text = e.render().to_string();
        let message = text
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned();
        println!("{}", error::usage_json(&message));
        return ExitCode::from(2);
    }
    // Prints to stdout or stderr as clap decides.
    let _ = e.print();
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// `--direct true` / `--fetch-models false`: the form earlier versions
/// took, which clap now reports as a stray argument.
fn old_flag_form(args: &[String]) -> Option<String> {
    args.windows(2).find_map(|pair| {
        let flag = pair[0].as_str();
        let value = pair[1].as_str();
        let is_bool = value == "true" || value == "false";
        let plain = flag == "--direct" || flag == "--fetch-models";
        (plain && is_bool).then(|| {
            let name = flag.trim_start_matches("--");
            let wanted = if value == "true" {
                format!("{flag} (the opposite is --no-{name})")
            } else {
                format!("--no-{name}")
            };
            format!("`{flag} {value}`: {flag} takes no value; write {wanted}")
        })
    })
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    let early = &cli.early;
    match &cli.command {
        Command::Serve(args) => commands::serve::run(g, early, args).await?,
        Command::Endpoints { client, command } => {
            return commands::endpoints::run(g, &client.merged(early), command).await;
        }
        Command::Models { client, endpoint } => {
            return commands::models::run(g, &client.merged(early), endpoint.as_deref()).await;
        }
        Command::Chat(args) => {
            let mut args = args.clone();
            args.client = args.client.merged(early);
            commands::chat::run(g, &args).await?;
        }
        Command::Keys { client, command } => {
            commands::keys::run(g, &client.merged(early), command).await?;
        }
        Command::Config { output, command } => {
            let output = cli::OutputArgs {
                json: output.json || early.json,
            };
            commands::config::run(g, output, command)?;
        }
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
