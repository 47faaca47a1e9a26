//! Command-line arguments.
//!
//! Flags that only make sense for a client of the gateway (`--server`,
//! `--admin-token`, `--gateway-key`, `--json`) live on the client commands
//! (`endpoints`, `models`, `chat`, `keys`), so `serve --help` shows only what
//! configures the server. They are also accepted, hidden, before the
//! command (`modelgate --server URL endpoints list`), as earlier versions
//! documented them as global.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::endpoint_settings::{parse_spec, parse_unset_field};

#[derive(Debug, Parser)]
#[command(
    name = "modelgate",
    version,
    about = "One gateway from any application to any model, anywhere.",
    long_about = "modelgate serves the OpenAI and Anthropic APIs in front of custom endpoints \
                  (local servers, gateways, clouds). The client commands (endpoints, models, \
                  chat, keys) talk to a running server: the one given by --server / \
                  MODELGATE_URL, else the one `serve` announced in the data directory \
                  (server.json). With no server running they work directly on the config file \
                  and the data directory."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(flatten)]
    pub early: EarlyClientArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// What every command, the server included, reads.
#[derive(Debug, Args)]
#[command(next_help_heading = "Files")]
pub struct Global {
    /// Configuration file (YAML). Default: ./modelgate.yaml when it exists.
    #[arg(long, global = true, env = "MODELGATE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite store, master key, admin token, and the
    /// running server's address in server.json).
    #[arg(
        long,
        global = true,
        env = "MODELGATE_DATA_DIR",
        value_name = "DIR",
        default_value = "./modelgate-data"
    )]
    pub data_dir: PathBuf,
}

/// The client flags written before the command, as in earlier versions:
/// hidden, no environment fallback (the command's own flags read it).
#[derive(Debug, Args, Default)]
pub struct EarlyClientArgs {
    #[arg(long = "server", hide = true, value_name = "URL")]
    pub server: Option<String>,
    #[arg(long = "admin-token", hide = true, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    #[arg(long = "gateway-key", hide = true, value_name = "KEY")]
    pub gateway_key: Option<String>,
    #[arg(long = "json", hide = true)]
    pub json: bool,
}

impl EarlyClientArgs {
    /// The first of these flags that is set, for `serve`'s refusal.
    pub fn first_given(&self) -> Option<&'static str> {
        if self.server.is_some() {
            Some("--server")
        } else if self.gateway_key.is_some() {
            Some("--gateway-key")
        } else if self.json {
            Some("--json")
        } else {
            None
        }
    }
}

/// How a client command reaches the gateway, and how it prints.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Server connection")]
pub struct ClientArgs {
    /// URL of the running modelgate server, e.g. http://127.0.0.1:4000 (a
    /// trailing /v1 is fine). Default: the server that `serve` announced in
    /// the data directory, else none (work on the data directory directly).
    #[arg(long, global = true, env = "MODELGATE_URL", value_name = "URL")]
    pub server: Option<String>,
    /// Admin token of that server (default: the data directory's admin.token).
    #[arg(
        long,
        global = true,
        env = "MODELGATE_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
    /// Gateway key sent with model requests, when the server requires one
    /// (create it with `modelgate keys create NAME`).
    #[arg(
        long,
        global = true,
        env = "MODELGATE_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub gateway_key: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl ClientArgs {
    /// These flags, completed by the ones written before the command.
    pub fn merged(&self, early: &EarlyClientArgs) -> ClientArgs {
        ClientArgs {
            server: early.server.clone().or_else(|| self.server.clone()),
            admin_token: early
                .admin_token
                .clone()
                .or_else(|| self.admin_token.clone()),
            gateway_key: early
                .gateway_key
                .clone()
                .or_else(|| self.gateway_key.clone()),
            output: OutputArgs {
                json: self.output.json || early.json,
            },
        }
    }
}

#[derive(Debug, Args, Clone, Copy, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Print JSON instead of text: one object (chat: one per line), errors
    /// too, as {"error": {"message": ...}} on standard output.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve(ServeArgs),
    /// Manage endpoints.
    Endpoints {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: EndpointsCommand,
    },
    /// List every model of every endpoint.
    Models {
        /// Only this endpoint.
        #[arg(long, value_name = "NAME")]
        endpoint: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Chat with a model; the answer streams to the terminal.
    Chat(ChatArgs),
    /// Manage gateway keys (the keys callers present to modelgate).
    Keys {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check or describe the configuration file.
    Config {
        #[command(flatten)]
        output: OutputArgs,
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

impl Command {
    /// Whether errors are to be printed as JSON.
    pub fn wants_json(&self, early: &EarlyClientArgs) -> bool {
        early.json
            || match self {
                Command::Serve(_) => false,
                Command::Endpoints { client, .. }
                | Command::Models { client, .. }
                | Command::Keys { client, .. } => client.output.json,
                Command::Chat(args) => args.client.output.json,
                Command::Config { output, .. } => output.json,
            }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        env = "MODELGATE_LISTEN",
        default_value = "127.0.0.1:4000",
        value_name = "HOST:PORT"
    )]
    pub listen: SocketAddr,
    /// Require gateway keys even on a loopback address.
    #[arg(long)]
    pub require_keys: bool,
    /// Serving threads, each with its own runtime and upstream connections
    /// [default: the number of CPUs].
    #[arg(long, env = "MODELGATE_WORKERS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,
    /// Admin token the server accepts on /api (default: the data directory's
    /// admin.token, generated on first start).
    #[arg(
        long,
        env = "MODELGATE_ADMIN_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EndpointsCommand {
    /// List endpoints.
    List,
    /// Add an endpoint to the store, then check that it answers and accepts its keys.
    Add(EndpointArgs),
    /// Change an endpoint (only the given settings change), then check it again.
    Update(EndpointArgs),
    /// Delete an endpoint (the upstream is not contacted).
    Rm {
        /// Name of the endpoint to delete.
        name: String,
    },
    /// Test each key of an endpoint.
    Test {
        /// Name of the endpoint to test.
        name: String,
    },
}

/// The settings of `endpoints add` and `endpoints update`.
///
/// On `update`, a flag that takes a list or a map (`--api-key`, `--header`,
/// `--map`, `--add-param`, `--drop-param`, `--tag`, `--model`) replaces that
/// whole setting; `--unset FIELD` clears one.
#[derive(Debug, Args)]
pub struct EndpointArgs {
    /// Endpoint name; clients address its models as NAME/MODEL.
    pub name: String,
    /// API spec: openai-chat-completions, openai-responses, anthropic,
    /// google, azure, amazon-bedrock or google-vertex.
    #[arg(long, value_name = "SPEC", value_parser = parse_spec)]
    pub spec: Option<String>,
    /// Base URL, e.g. http://localhost:11434/v1.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// The base URL is the full operation URL (nothing is appended to it).
    #[arg(long, overrides_with = "no_direct")]
    pub direct: bool,
    /// The base URL is a base: operation paths are appended (the default).
    #[arg(long, overrides_with = "direct")]
    pub no_direct: bool,
    /// API key; repeat for fallback keys (replaces every key on update).
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_keys: Vec<String>,
    /// Remove every API key (for servers that need none).
    #[arg(long, conflicts_with = "api_keys")]
    pub no_api_key: bool,
    /// A model id to list; repeatable (replaces the list on update).
    #[arg(long = "model", value_name = "ID")]
    pub models: Vec<String>,
    /// Fetch the endpoint's own model list (the default, except for
    /// direct endpoints).
    #[arg(long, overrides_with = "no_fetch_models")]
    pub fetch_models: bool,
    /// Do not fetch the endpoint's model list; only --model ids are listed.
    #[arg(long, overrides_with = "fetch_models")]
    pub no_fetch_models: bool,
    /// PUBLIC=UPSTREAM model id mapping; repeatable.
    #[arg(long = "map", value_name = "PUBLIC=UPSTREAM")]
    pub model_map: Vec<String>,
    /// NAME=VALUE header sent upstream; repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
    /// KEY=JSON body field added to every request; repeatable. The value is
    /// JSON: quote strings, e.g. --add-param 'stop="\n"'.
    #[arg(long = "add-param", value_name = "KEY=JSON")]
    pub add_params: Vec<String>,
    /// Body field removed from every request; repeatable.
    #[arg(long = "drop-param", value_name = "KEY")]
    pub drop_params: Vec<String>,
    /// Free text shown in listings.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Label; repeatable.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Clear a setting (update only); repeatable. FIELD: headers, models,
    /// models.default, models.fetch, models.max_tokens, model_map,
    /// add_params, drop_params, description, tags, timeouts,
    /// timeouts.connect, timeouts.first_byte, timeouts.idle,
    /// default_max_tokens, reasoning_format, reasoning_key, direct_endpoint.
    #[arg(long = "unset", value_name = "FIELD", value_parser = parse_unset_field)]
    pub unset: Vec<String>,
    /// Do not check the endpoint (its keys and spec) after writing it.
    #[arg(long)]
    pub no_check: bool,
}

impl EndpointArgs {
    /// `--direct` / `--no-direct`, when either was given.
    pub fn direct(&self) -> Option<bool> {
        flag_pair(self.direct, self.no_direct)
    }

    /// `--fetch-models` / `--no-fetch-models`, when either was given.
    pub fn fetch_models(&self) -> Option<bool> {
        flag_pair(self.fetch_models, self.no_fetch_models)
    }
}

/// A `--x` / `--no-x` pair (the last one given wins, see `overrides_with`).
fn flag_pair(yes: bool, no: bool) -> Option<bool> {
    match (yes, no) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

#[derive(Debug, Args, Clone)]
pub struct ChatArgs {
    /// Model, as ENDPOINT/MODEL or a bare id.
    #[arg(short, long, value_name = "MODEL")]
    pub model: String,
    /// The message; read from standard input when absent.
    pub message: Option<String>,
    /// System prompt sent before the message.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Longest answer, in tokens.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u64>,
    /// Sampling temperature, e.g. 0.2.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    // Last: a flattened group's help heading carries over to what follows.
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a gateway key; the key is printed once.
    Create {
        /// A name for the key, e.g. the client or person that uses it.
        name: String,
    },
    /// List gateway keys.
    List,
    /// Revoke a gateway key by id or name.
    Revoke {
        /// The key's id or name (`modelgate keys list` shows them).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration file.
    Check,
    /// Print the JSON Schema of the configuration file.
    Schema,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn walk(cmd: &clap::Command, path: &str, found: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if ["help", "version"].contains(&id) || arg.is_hide_set() {
                continue;
            }
            if arg.get_help().is_none() {
                found.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() {
                found.push(format!("{path} {}: no about", sub.get_name()));
            }
            walk(sub, &format!("{path} {}", sub.get_name()), found);
        }
    }

    #[test]
    fn every_flag_of_every_command_has_help() {
        let mut cmd = Cli::command();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "modelgate", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    #[test]
    fn serve_shows_no_client_flags() {
        let mut cmd = Cli::command();
        cmd.build();
        let serve = cmd.find_subcommand("serve").unwrap();
        let shown: Vec<&str> = serve
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long())
            .collect();
        for client_only in ["server", "gateway-key", "json"] {
            assert!(!shown.contains(&client_only), "{shown:?}");
        }
        let help = serve.clone().render_long_help().to_string();
        assert!(!help.contains("--server"), "{help}");
        assert!(!help.contains("--json"), "{help}");
    }

    #[test]
    fn client_flags_are_accepted_before_and_after_the_command() {
        let after = Cli::try_parse_from([
            "modelgate",
            "endpoints",
            "list",
            "--json",
            "--server",
            "http://h:1",
        ])
        .unwrap();
        let before = Cli::try_parse_from([
            "modelgate",
            "--json",
            "--server",
            "http://h:1",
            "endpoints",
            "list",
        ])
        .unwrap();
        for cli in [after, before] {
            assert!(cli.command.wants_json(&cli.early));
            let Command::Endpoints { client, .. } = &cli.command else {
                panic!("endpoints")
            };
            let merged = client.merged(&cli.early);
            assert_eq!(merged.server.as_deref(), Some("http://h:1"));
            assert!(merged.output.json);
        }
    }

    #[test]
    fn paired_flags_take_the_last_one() {
        let parse = |args: &[&str]| {
            let mut all = vec!["modelgate", "endpoints", "update", "x"];
            all.extend_from_slice(args);
            let cli = Cli::try_parse_from(all).unwrap();
            let Command::Endpoints {
                command: EndpointsCommand::Update(a),
                ..
            } = cli.command
            else {
                panic!("update")
            };
            (a.direct(), a.fetch_models())
        };
        assert_eq!(parse(&[]), (None, None));
        assert_eq!(
            parse(&["--direct", "--no-fetch-models"]),
            (Some(true), Some(false))
        );
        assert_eq!(
            parse(&[
                "--direct",
                "--no-direct",
                "--no-fetch-models",
                "--fetch-models"
            ]),
            (Some(false), Some(true))
        );
    }
}
