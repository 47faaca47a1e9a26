//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "modelgate",
    version,
    about = "One gateway from any application to any model, anywhere.",
    long_about = "modelgate serves the OpenAI API in front of custom endpoints (local servers, \
                  gateways, clouds). Commands other than `serve` talk to a running server when \
                  --server / MODELGATE_URL is set, and otherwise work directly on the config file \
                  and the data directory."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Configuration file (YAML). Default: ./modelgate.yaml when it exists.
    #[arg(long, global = true, env = "MODELGATE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite store, master key, admin token).
    #[arg(
        long,
        global = true,
        env = "MODELGATE_DATA_DIR",
        value_name = "DIR",
        default_value = "./modelgate-data"
    )]
    pub data_dir: PathBuf,
    /// URL of a running modelgate server to talk to, e.g. http://127.0.0.1:4000.
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
    /// Gateway key for model requests (`modelgate keys create`).
    #[arg(
        long,
        global = true,
        env = "MODELGATE_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub gateway_key: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve(ServeArgs),
    /// Manage endpoints.
    #[command(subcommand)]
    Endpoints(EndpointsCommand),
    /// List every model of every endpoint.
    Models {
        /// Only this endpoint.
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Chat with a model; the answer streams to the terminal.
    Chat(ChatArgs),
    /// Manage gateway keys (the keys callers present to modelgate).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check or describe the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MODELGATE_LISTEN", default_value = "127.0.0.1:4000")]
    pub listen: SocketAddr,
    /// Require gateway keys even on a loopback address.
    #[arg(long)]
    pub require_keys: bool,
    /// Serving threads, each with its own runtime and upstream connections
    /// [default: the number of CPUs].
    #[arg(long, env = "MODELGATE_WORKERS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum EndpointsCommand {
    /// List endpoints.
    List,
    /// Add an endpoint to the store.
    Add(EndpointArgs),
    /// Change an endpoint (only the given settings change).
    Update(EndpointArgs),
    /// Delete an endpoint (the upstream is not contacted).
    Rm { name: String },
    /// Test each key of an endpoint.
    Test { name: String },
}

#[derive(Debug, Args)]
pub struct EndpointArgs {
    /// Endpoint name; clients address its models as NAME/MODEL.
    pub name: String,
    /// API spec, e.g. openai-chat-completions.
    #[arg(long)]
    pub spec: Option<String>,
    /// Base URL, e.g. http://localhost:11434/v1.
    #[arg(long)]
    pub base_url: Option<String>,
    /// The base URL is the full operation URL.
    #[arg(long)]
    pub direct: Option<bool>,
    /// API key; repeat for fallback keys (replaces all keys on update).
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_keys: Vec<String>,
    /// A model id to list; repeatable.
    #[arg(long = "model", value_name = "ID")]
    pub models: Vec<String>,
    /// Also fetch the model list from the endpoint.
    #[arg(long)]
    pub fetch_models: Option<bool>,
    /// PUBLIC=UPSTREAM model id mapping; repeatable.
    #[arg(long = "map", value_name = "PUBLIC=UPSTREAM")]
    pub model_map: Vec<String>,
    /// NAME=VALUE header sent upstream; repeatable.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
    /// KEY=JSON body field added to every request; repeatable.
    #[arg(long = "add-param", value_name = "KEY=JSON")]
    pub add_params: Vec<String>,
    /// Body field removed from every request; repeatable.
    #[arg(long = "drop-param", value_name = "KEY")]
    pub drop_params: Vec<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Label; repeatable.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Model, as ENDPOINT/MODEL or a bare id.
    #[arg(short, long)]
    pub model: String,
    /// The message; read from standard input when absent.
    pub message: Option<String>,
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long)]
    pub max_tokens: Option<u64>,
    #[arg(long)]
    pub temperature: Option<f64>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a gateway key; the key is printed once.
    Create { name: String },
    /// List gateway keys.
    List,
    /// Revoke a gateway key by id or name.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration file.
    Check,
    /// Print the JSON Schema of the configuration file.
    Schema,
}
