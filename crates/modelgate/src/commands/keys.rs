//! `modelgate keys create|list|revoke`.

use anyhow::Result;
use http::Method;
use serde_json::json;

use crate::cli::{Global, KeysCommand};
use modelgate_upstream::endpoint::percent_encode;

use crate::conn::Conn;
use crate::table;

pub async fn run(global: &Global, command: &KeysCommand) -> Result<()> {
    let conn = Conn::open(global).await?;
    match command {
        KeysCommand::Create { name } => {
            let key = conn
                .admin(Method::POST, "/api/keys", Some(&json!({"name": name})))
                .await?;
            if global.json {
                println!("{key}");
            } else {
                println!("{}", key["token"].as_str().unwrap_or_default());
                eprintln!(
                    "created gateway key `{}` ({}); it is shown only once, store it now",
                    name,
                    key["id"].as_str().unwrap_or_default()
                );
            }
        }
        KeysCommand::List => {
            let list = conn.admin(Method::GET, "/api/keys", None).await?;
            if global.json {
                println!("{list}");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list["keys"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| {
                    vec![
                        k["id"].as_str().unwrap_or_default().to_owned(),
                        k["name"].as_str().unwrap_or_default().to_owned(),
                        format!("{}…", k["prefix"].as_str().unwrap_or_default()),
                        if k["active"].as_bool() == Some(true) {
                            "active"
                        } else {
                            "revoked"
                        }
                        .to_owned(),
                    ]
                })
                .collect();
            table::print(&["ID", "NAME", "KEY", "STATUS"], &rows);
        }
        KeysCommand::Revoke { id } => {
            conn.admin(
                Method::DELETE,
                &format!("/api/keys/{}", percent_encode(id)),
                None,
            )
            .await?;
            println!("revoked {id}");
        }
    }
    Ok(())
}
