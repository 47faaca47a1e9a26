//! `modelgate keys create|list|revoke`.
//!
//! `create` prints the key alone on stdout (scripts capture it) and, on
//! stderr, whether the server enforces keys right now (the admin API's
//! `keys_required`; nothing is said when the server does not tell).

use anyhow::Result;
use http::Method;
use serde_json::{Value, json};

use crate::cli::{ClientArgs, Global, KeysCommand};
use modelgate_upstream::endpoint::percent_encode;

use crate::conn::Conn;
use crate::table;

pub async fn run(global: &Global, client: &ClientArgs, command: &KeysCommand) -> Result<()> {
    let json = client.output.json;
    let conn = Conn::open(global, client).await?;
    match command {
        KeysCommand::Create { name } => {
            let key = conn
                .admin(Method::POST, "/api/keys", Some(&json!({"name": name})))
                .await?;
            if json {
                println!("{key}");
            } else {
                println!("{}", key["token"].as_str().unwrap_or_default());
                eprintln!(
                    "created gateway key `{}` ({}); it is shown only once, store it now",
                    name,
                    key["id"].as_str().unwrap_or_default()
                );
                if let Some(note) = enforcement_note(&key, conn.is_remote()) {
                    eprintln!("{note}");
                }
            }
        }
        KeysCommand::List => {
            let list = conn.admin(Method::GET, "/api/keys", None).await?;
            if json {
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
            if rows.is_empty() {
                println!("no gateway keys yet; create one with `modelgate keys create NAME`");
            } else {
                table::print(&["ID", "NAME", "KEY", "STATUS"], &rows);
            }
        }
        KeysCommand::Revoke { id } => {
            let revoked = conn
                .admin(
                    Method::DELETE,
                    &format!("/api/keys/{}", percent_encode(id)),
                    None,
                )
                .await?;
            if json {
                println!("{revoked}");
            } else {
                println!("revoked {id}");
            }
        }
    }
    Ok(())
}

/// Whether callers must present a key now. Without a running server the
/// answer comes from the config file alone, while `serve` may still turn
/// keys on (`--require-keys`, a non-loopback address): say that instead of
/// a "no" that may not hold.
fn enforcement_note(created: &Value, remote: bool) -> Option<&'static str> {
    let required = created.get("keys_required")?.as_bool()?;
    Some(match (required, remote) {
        (true, _) => {
            "gateway keys are required: callers send it as `Authorization: Bearer mg-…` (or x-api-key)"
        }
        (false, true) => {
            "this server does not require gateway keys now (loopback, no --require-keys): the key only labels usage until keys are required"
        }
        (false, false) => {
            "gateway keys are required once `serve` runs with --require-keys, `auth.require_keys: true` or on a non-loopback address; until then the key only labels usage"
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_nothing_when_the_server_does_not_tell() {
        assert_eq!(enforcement_note(&json!({"token": "mg-x"}), true), None);
        assert!(
            enforcement_note(&json!({"keys_required": true}), false)
                .is_some_and(|n| n.contains("are required"))
        );
        assert!(
            enforcement_note(&json!({"keys_required": false}), true)
                .is_some_and(|n| n.contains("does not require"))
        );
    }
}
