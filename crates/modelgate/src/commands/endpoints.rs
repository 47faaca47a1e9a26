//! `modelgate endpoints list|add|update|rm|test`.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use http::Method;
use serde_json::{Map, Value, json};

use crate::cli::{EndpointArgs, EndpointsCommand, Global};
use modelgate_upstream::endpoint::percent_encode;

use crate::conn::Conn;
use crate::table;

pub async fn run(global: &Global, command: &EndpointsCommand) -> Result<ExitCode> {
    let conn = Conn::open(global).await?;
    match command {
        EndpointsCommand::List => list(global, &conn).await?,
        EndpointsCommand::Add(args) => {
            let body = settings(args, true)?;
            let created = conn
                .admin(Method::POST, "/api/endpoints", Some(&body))
                .await?;
            print_one(global, &created, "added");
        }
        EndpointsCommand::Update(args) => {
            let body = settings(args, false)?;
            let path = format!("/api/endpoints/{}", percent_encode(&args.name));
            let updated = conn.admin(Method::PATCH, &path, Some(&body)).await?;
            print_one(global, &updated, "updated");
        }
        EndpointsCommand::Rm { name } => {
            conn.admin(
                Method::DELETE,
                &format!("/api/endpoints/{}", percent_encode(name)),
                None,
            )
            .await?;
            println!("deleted endpoint {name}");
        }
        EndpointsCommand::Test { name } => return test(global, &conn, name).await,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_one(global: &Global, endpoint: &Value, verb: &str) {
    if global.json {
        println!("{endpoint}");
    } else {
        println!(
            "{verb} endpoint {} ({}, {})",
            endpoint["name"].as_str().unwrap_or_default(),
            endpoint["spec"].as_str().unwrap_or_default(),
            endpoint["base_url"].as_str().unwrap_or_default()
        );
    }
}

async fn list(global: &Global, conn: &Conn) -> Result<()> {
    let list = conn.admin(Method::GET, "/api/endpoints", None).await?;
    if global.json {
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
                text(&ep["base_url"]),
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

/// One line per key: `KEY  VERDICT  HINT`; success only when every key is ok.
async fn test(global: &Global, conn: &Conn, name: &str) -> Result<ExitCode> {
    let path = format!("/api/endpoints/{}/test", percent_encode(name));
    let report = conn.admin(Method::POST, &path, None).await?;
    if global.json {
        println!("{report}");
    } else {
        let results = report["results"].as_array().cloned().unwrap_or_default();
        let width = results
            .iter()
            .map(|r| r["key"].as_str().unwrap_or_default().chars().count())
            .max()
            .unwrap_or(0);
        for r in &results {
            let status = r["status"]
                .as_u64()
                .map(|s| format!(" (HTTP {s})"))
                .unwrap_or_default();
            println!(
                "{:<width$}  {:<13}  {}{status}",
                r["key"].as_str().unwrap_or_default(),
                r["verdict"].as_str().unwrap_or_default(),
                r["hint"].as_str().unwrap_or_default(),
            );
        }
    }
    Ok(if report["ok"].as_bool() == Some(true) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The JSON body of an add (all given settings) or update (only the given ones).
fn settings(args: &EndpointArgs, creating: bool) -> Result<Value> {
    let mut body = Map::new();
    body.insert("name".into(), json!(args.name));
    if creating && (args.spec.is_none() || args.base_url.is_none()) {
        bail!(
            "an endpoint needs --spec and --base-url, e.g. --spec openai-chat-completions --base-url http://localhost:11434/v1"
        );
    }
    let mut put = |key: &str, value: Value| {
        body.insert(key.into(), value);
    };
    if let Some(spec) = &args.spec {
        put("spec", json!(spec));
    }
    if let Some(url) = &args.base_url {
        put("base_url", json!(url));
    }
    if let Some(direct) = args.direct {
        put("direct_endpoint", json!(direct));
    }
    if !args.api_keys.is_empty() {
        put("api_keys", json!(args.api_keys));
    }
    if !args.models.is_empty() || args.fetch_models.is_some() {
        let mut models = Map::new();
        models.insert("default".into(), json!(args.models));
        models.insert(
            "fetch".into(),
            json!(args.fetch_models.unwrap_or(args.models.is_empty())),
        );
        put("models", Value::Object(models));
    }
    if !args.model_map.is_empty() {
        put(
            "model_map",
            Value::Object(pairs(&args.model_map, "--map", |v| Ok(json!(v)))?),
        );
    }
    if !args.headers.is_empty() {
        put(
            "headers",
            Value::Object(pairs(&args.headers, "--header", |v| Ok(json!(v)))?),
        );
    }
    if !args.add_params.is_empty() {
        let parse = |v: &str| serde_json::from_str(v).or_else(|_| Ok::<_, anyhow::Error>(json!(v)));
        put(
            "add_params",
            Value::Object(pairs(&args.add_params, "--add-param", parse)?),
        );
    }
    if !args.drop_params.is_empty() {
        put("drop_params", json!(args.drop_params));
    }
    if let Some(d) = &args.description {
        put("description", json!(d));
    }
    if !args.tags.is_empty() {
        put("tags", json!(args.tags));
    }
    Ok(Value::Object(body))
}

/// `K=V` arguments as a JSON object. A value that is not JSON is a string.
fn pairs(
    items: &[String],
    flag: &str,
    value: impl Fn(&str) -> Result<Value>,
) -> Result<Map<String, Value>> {
    let mut map = Map::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .with_context(|| format!("{flag} takes KEY=VALUE, got `{item}`"))?;
        map.insert(k.trim().to_owned(), value(v)?);
    }
    Ok(map)
}
