//! `modelgate models`: every model of every endpoint, fetched live where
//! the endpoint lists its models, else the configured ones.

use anyhow::Result;
use http::Method;
use serde_json::{Value, json};

use crate::cli::Global;
use modelgate_upstream::endpoint::percent_encode;

use crate::conn::Conn;
use crate::table;

pub async fn run(global: &Global, only: Option<&str>) -> Result<()> {
    let conn = Conn::open(global).await?;
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
        all.push(conn.admin(Method::GET, &path, None).await?);
    }
    if global.json {
        println!("{}", json!({ "endpoints": all }));
        return Ok(());
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
        if let Some(note) = listing["note"].as_str() {
            eprintln!("{endpoint}: {note}");
        }
    }
    if rows.is_empty() {
        println!("no models found");
    } else {
        table::print(&["MODEL", "FROM"], &rows);
    }
    Ok(())
}
