//! `modelgate config check|schema`.

use anyhow::{Result, bail};

use crate::cli::{ConfigCommand, Global, OutputArgs};
use crate::local;

pub fn run(global: &Global, output: OutputArgs, command: &ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&modelgate_config::json_schema())?
            );
            Ok(())
        }
        ConfigCommand::Check => check(global, output.json),
    }
}

/// Loads and validates the file, then resolves every endpoint's `${VAR}`s
/// as the server would, so a missing variable shows up now, not at use.
fn check(global: &Global, json: bool) -> Result<()> {
    let Some(path) = local::config_path(global) else {
        bail!(
            "no configuration file: pass --config FILE or set MODELGATE_CONFIG (or create ./modelgate.yaml)"
        );
    };
    let (file, _) = local::load_config(global)?;
    let mut problems = Vec::new();
    for ep in &file.endpoints {
        if let Err(e) = ep.resolve(&modelgate_config::env_lookup) {
            problems.push(e.to_string());
        } else if !ep.spec.is_supported() {
            problems.push(format!(
                "endpoint `{}`: spec `{}` is accepted but not yet supported by this version",
                ep.name, ep.spec
            ));
        }
    }
    if json {
        println!(
            "{}",
            serde_json::json!({"file": path.display().to_string(), "endpoints": file.endpoints.len(), "warnings": problems})
        );
    } else {
        println!(
            "{}: ok, {} endpoint(s)",
            path.display(),
            file.endpoints.len()
        );
        for p in &problems {
            println!("warning: {p}");
        }
    }
    Ok(())
}
