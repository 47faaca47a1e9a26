//! `modelgate endpoints list|add|update|rm|test`.
//!
//! `add` and `update` check the endpoint after writing it (the same
//! `POST /api/endpoints/{name}/test` as `endpoints test`) and print a
//! warning per key that fails, with its hint, unless `--no-check`. A failing
//! check does not undo the write and does not fail the command: the
//! endpoint may be set up before its server runs, and the write is what was
//! asked; `endpoints test` is the command whose exit code is the verdict.
//!
//! `--json` output: `list` → `{"endpoints": [...]}`; `add` →
//! `{"endpoint": {...}, "check": REPORT|null}`; `update` → the same plus
//! `"changed": bool`; `rm` → `{"deleted": NAME}`; `test` → the report
//! (`{"endpoint", "ok", "results": [{"key", "verdict", "status", "hint"}]}`).

use std::process::ExitCode;

use anyhow::{Result, bail};
use http::Method;
use serde_json::{Value, json};

use crate::cli::{ClientArgs, EndpointArgs, EndpointsCommand, Global};
use crate::commands::endpoint_settings::{add_body, has_changes, update_patch};
use crate::conn::Conn;
use crate::table;
use modelgate_upstream::endpoint::percent_encode;

pub async fn run(
    global: &Global,
    client: &ClientArgs,
    command: &EndpointsCommand,
) -> Result<ExitCode> {
    let json = client.output.json;
    // Checked before anything is opened, so a no-op touches nothing.
    if let EndpointsCommand::Update(args) = command
        && !has_changes(args)
    {
        bail!(
            "nothing to change for endpoint `{}`: give the settings to change (e.g. --base-url URL, --api-key KEY, --unset FIELD); `modelgate endpoints update --help` lists them",
            args.name
        );
    }
    let conn = Conn::open(global, client).await?;
    match command {
        EndpointsCommand::List => list(json, &conn).await?,
        EndpointsCommand::Add(args) => add(json, &conn, args).await?,
        EndpointsCommand::Update(args) => update(json, &conn, args).await?,
        EndpointsCommand::Rm { name } => {
            let deleted = conn
                .admin(Method::DELETE, &endpoint_path(name), None)
                .await?;
            if json {
                println!("{deleted}");
            } else {
                println!("deleted endpoint {name}");
            }
        }
        EndpointsCommand::Test { name } => return test(json, &conn, name).await,
    }
    Ok(ExitCode::SUCCESS)
}

fn endpoint_path(name: &str) -> String {
    format!("/api/endpoints/{}", percent_encode(name))
}

async fn add(json: bool, conn: &Conn, args: &EndpointArgs) -> Result<()> {
    let body = add_body(args)?;
    let created = conn
        .admin(Method::POST, "/api/endpoints", Some(&body))
        .await?;
    if !json {
        print_one(&created, "added");
    }
    let check = check_after_write(json, conn, args).await;
    if json {
        println!("{}", json!({"endpoint": created, "check": check}));
    }
    Ok(())
}

async fn update(json: bool, conn: &Conn, args: &EndpointArgs) -> Result<()> {
    let path = endpoint_path(&args.name);
    let before = conn.admin(Method::GET, &path, None).await?;
    let patch = update_patch(args, &before)?;
    let after = conn.admin(Method::PATCH, &path, Some(&patch)).await?;
    // Keys show masked, so a new key can look like the old one: a given key
    // counts as a change.
    let changed = patch.get("api_keys").is_some_and(|k| !k.is_null()) || before != after;
    if !changed {
        if json {
            println!(
                "{}",
                json!({"endpoint": after, "changed": false, "check": null})
            );
        } else {
            println!(
                "endpoint {} unchanged: it already had these settings",
                args.name
            );
        }
        return Ok(());
    }
    if !json {
        print_one(&after, "updated");
    }
    let check = check_after_write(json, conn, args).await;
    if json {
        println!(
            "{}",
            json!({"endpoint": after, "changed": true, "check": check})
        );
    }
    Ok(())
}

fn print_one(endpoint: &Value, verb: &str) {
    println!(
        "{verb} endpoint {} ({}, {})",
        endpoint["name"].as_str().unwrap_or_default(),
        endpoint["spec"].as_str().unwrap_or_default(),
        shown_base_url(endpoint)
    );
}

/// The base URL as the admin API shows it, or for an azure endpoint placed
/// by its resource name alone, the URL that name stands for.
fn shown_base_url(endpoint: &Value) -> String {
    let base = endpoint["base_url"].as_str().unwrap_or_default();
    match endpoint["resource_name"].as_str() {
        Some(resource) if base.is_empty() => modelgate_config::azure_resource_url(resource),
        _ => base.to_owned(),
    }
}

/// The key check after a write; warnings on stderr. Returns the report for
/// `--json` (`{"error": ...}` when the check itself could not run).
async fn check_after_write(json: bool, conn: &Conn, args: &EndpointArgs) -> Value {
    if args.no_check {
        return Value::Null;
    }
    let name = &args.name;
    let path = format!("{}/test", endpoint_path(name));
    let report = match conn.admin(Method::POST, &path, None).await {
        Ok(report) => report,
        Err(e) => {
            if !json {
                eprintln!("warning: could not check endpoint {name}: {e:#}");
            }
            return json!({"error": {"message": format!("{e:#}")}});
        }
    };
    if json {
        return report;
    }
    let results = report["results"].as_array().cloned().unwrap_or_default();
    let failed: Vec<&Value> = results.iter().filter(|r| r["verdict"] != "ok").collect();
    if failed.is_empty() {
        eprintln!(
            "checked endpoint {name}: it answers and accepts its {}",
            if results.len() == 1 { "key" } else { "keys" }
        );
        return report;
    }
    for r in &failed {
        let status = r["status"]
            .as_u64()
            .map(|s| format!(" (HTTP {s})"))
            .unwrap_or_default();
        eprintln!(
            "warning: {}: {}{status}: {}",
            r["key"].as_str().unwrap_or("key"),
            r["verdict"].as_str().unwrap_or("error"),
            r["hint"].as_str().unwrap_or_default(),
        );
    }
    eprintln!(
        "the endpoint is saved; fix it with `modelgate endpoints update {name} ...`, then `modelgate endpoints test {name}`"
    );
    report
}

async fn list(json: bool, conn: &Conn) -> Result<()> {
    let list = conn.admin(Method::GET, "/api/endpoints", None).await?;
    if json {
        println!("{list}");
        return Ok(());
    }
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let rows: Vec<Vec<String>> = list["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|ep| {
            let keys: Vec<String> = ep["api_keys"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            vec![
                text(&ep["name"]),
                text(&ep["spec"]),
                shown_base_url(ep),
                if keys.is_empty() {
                    "-".to_owned()
                } else {
                    keys.join(",")
                },
                text(&ep["source"]),
                text(&ep["status"]),
            ]
        })
        .collect();
    if rows.is_empty() {
        println!(
            "no endpoints yet; add one with `modelgate endpoints add NAME --spec openai-chat-completions --base-url URL`"
        );
        return Ok(());
    }
    table::print(
        &["NAME", "SPEC", "BASE URL", "KEYS", "SOURCE", "STATUS"],
        &rows,
    );
    Ok(())
}

/// A table with one row per key; success only when every key is ok.
async fn test(json: bool, conn: &Conn, name: &str) -> Result<ExitCode> {
    let path = format!("{}/test", endpoint_path(name));
    let report = conn.admin(Method::POST, &path, None).await?;
    if json {
        println!("{report}");
    } else {
        let rows: Vec<Vec<String>> = report["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                vec![
                    r["key"].as_str().unwrap_or_default().to_owned(),
                    r["verdict"].as_str().unwrap_or_default().to_owned(),
                    r["status"]
                        .as_u64()
                        .map_or_else(|| "-".to_owned(), |s| s.to_string()),
                    r["hint"].as_str().unwrap_or_default().to_owned(),
                ]
            })
            .collect();
        table::print(&["KEY", "VERDICT", "HTTP", "HINT"], &rows);
    }
    Ok(if report["ok"].as_bool() == Some(true) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_azure_endpoint_shows_the_url_of_its_resource() {
        let by_name = json!({"spec": "azure", "base_url": "", "resource_name": "my-res"});
        assert_eq!(shown_base_url(&by_name), "https://my-res.openai.azure.com");
        let by_url = json!({"spec": "azure", "base_url": "https://apim.example.com/team"});
        assert_eq!(shown_base_url(&by_url), "https://apim.example.com/team");
    }
}
