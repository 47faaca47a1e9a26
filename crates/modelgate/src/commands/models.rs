//! `modelgate models`: every model of every endpoint, fetched live where
//! the endpoint lists its models, else the configured ones.
//!
//! An endpoint *failed* when it ended with no model and a reason: its list
//! could not be fetched and none is configured, or the admin call failed.
//! The command exits non-zero when every endpoint failed (there is nothing
//! to choose from), and says so; some failing among working ones is
//! reported per endpoint on stderr. No endpoints at all is not a failure.
//!
//! `--json`: `{"endpoints": [LISTING...]}`, a listing being the admin API's
//! (`endpoint`, `source`, `models`, `note`) or `{endpoint, models: [],
//! error}`; when every endpoint failed, a top-level `error` is added.

use std::process::ExitCode;

use anyhow::Result;
use http::Method;
use serde_json::{Value, json};

use crate::cli::{ClientArgs, Global};
use crate::conn::Conn;
use crate::error::CliError;
use crate::table;
use modelgate_upstream::endpoint::percent_encode;

pub async fn run(global: &Global, client: &ClientArgs, only: Option<&str>) -> Result<ExitCode> {
    let conn = Conn::open(global, client).await?;
    let names: Vec<String> = match only {
        Some(name) => vec![name.to_owned()],
        None => conn.admin(Method::GET, "/api/endpoints", None).await?["endpoints"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect(),
    };
    let mut all = Vec::new();
    for name in &names {
        let path = format!("/api/endpoints/{}/models", percent_encode(name));
        all.push(match conn.admin(Method::GET, &path, None).await {
            Ok(listing) => listing,
            Err(e) => {
                json!({"endpoint": name, "models": [], "error": {"message": format!("{e:#}")}})
            }
        });
    }
    let failed = all.iter().filter(|l| failed(l)).count();
    let every_one_failed = !all.is_empty() && failed == all.len();
    let failure = every_one_failed.then(|| {
        CliError::new(format!(
            "no endpoint could list its models ({failed} tried); the reasons are above, and `modelgate endpoints test NAME` checks an endpoint"
        ))
        .with_code("no_models")
    });

    if client.output.json {
        let mut out = json!({ "endpoints": all });
        if let Some(f) = &failure {
            out["error"] = json!({"message": f.message, "code": "no_models"});
        }
        println!("{out}");
        return Ok(if failure.is_some() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }

    let mut rows = Vec::new();
    for listing in &all {
        let endpoint = listing["endpoint"].as_str().unwrap_or_default();
        for model in listing["models"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            rows.push(vec![
                format!("{endpoint}/{model}"),
                listing["source"].as_str().unwrap_or_default().to_owned(),
            ]);
        }
        if let Some(note) = reason(listing) {
            eprintln!("{endpoint}: {note}");
        }
    }
    if let Some(f) = failure {
        return Err(f.into());
    }
    if names.is_empty() {
        println!(
            "no endpoints yet; add one with `modelgate endpoints add NAME --spec openai-chat-completions --base-url URL`"
        );
    } else if rows.is_empty() {
        println!("no models found");
    } else {
        table::print(&["MODEL", "FROM"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// Why an endpoint's list is not the endpoint's own.
fn reason(listing: &Value) -> Option<&str> {
    listing["note"]
        .as_str()
        .or_else(|| listing["error"]["message"].as_str())
}

fn failed(listing: &Value) -> bool {
    let empty = listing["models"].as_array().is_none_or(Vec::is_empty);
    empty && reason(listing).is_some()
}
