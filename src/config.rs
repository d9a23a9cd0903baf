//! Command-line flags, each with its `ECS_EMULATOR_*` environment twin (`spec/README.md`).

use crate::auth::AuthMode;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// A local emulator of Alibaba Cloud's ECS API (disk default encryption, regions, zones and
/// cloud disks) and the KMS keys it uses.
#[derive(Debug, Clone, Parser)]
#[command(name = "ecs-emulator", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do; `serve` when none is given.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Exit 0 when the server at --listen answers ready, non-zero within 2 s otherwise.
    Healthcheck,
    /// Sign and send one RPC call, print the status and the body; exit 1 on an API error.
    Call(CallArgs),
    /// Print ready-to-paste endpoint and credential settings for the SDKs and the aliyun CLI
    /// (`--proxy`: the proxy and CA settings that keep the real hostnames instead).
    Env(EnvArgs),
    /// Print the emulator's CA certificate (PEM), creating the CA in --ca-dir when absent.
    Ca(CaArgs),
    /// Print hosts-file lines that send every Alibaba Cloud API host of the state's regions
    /// to the emulator.
    Hosts(HostsArgs),
    /// Work on the --state-file offline: compact it, or print the state it holds.
    State(StateArgs),
}

/// `ecs-emulator ca`.
#[derive(Debug, Clone, Args)]
pub struct CaArgs {
    /// Print the path of ca.pem instead of its contents.
    #[arg(long)]
    pub path: bool,
}

/// `ecs-emulator hosts`.
#[derive(Debug, Clone, Args)]
pub struct HostsArgs {
    /// The address the names resolve to.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: std::net::IpAddr,
}

/// `ecs-emulator state compact|dump --state-file PATH`.
#[derive(Debug, Clone, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub action: StateAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum StateAction {
    /// Replay the log into a fresh snapshot (written atomically) and empty the log; refused
    /// while a server uses the file.
    Compact,
    /// Print the state the file holds (snapshot and log), as `GET /_emulator/state` would.
    Dump,
}

/// `ecs-emulator call ACTION Key=Value…`.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// The action, e.g. ModifyDiskDefaultKMSKeyId.
    pub action: String,
    /// Parameters as Key=Value (e.g. RegionId=cn-hangzhou KMSKeyId=alias/demo).
    pub params: Vec<String>,
    /// The server to call (default: http://<--listen>).
    #[arg(long, env = "ECS_EMULATOR_ENDPOINT")]
    pub endpoint: Option<String>,
    /// API version: 2014-05-26 (ECS) or 2016-01-20 (KMS).
    #[arg(long, env = "ECS_EMULATOR_API_VERSION", default_value = "2014-05-26")]
    pub api_version: String,
    /// Sign with V2 (HMAC-SHA1, parameters) instead of V3 (ACS3-HMAC-SHA256, header).
    #[arg(long)]
    pub v2: bool,
    /// AccessKeyId (default: the default account's). Real credentials are never read from
    /// the environment.
    #[arg(long, env = "ECS_EMULATOR_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,
    /// AccessKeySecret (default: the default account's).
    #[arg(long, env = "ECS_EMULATOR_ACCESS_KEY_SECRET")]
    pub access_key_secret: Option<String>,
    /// An STS security token to send with the key pair.
    #[arg(long, env = "ECS_EMULATOR_SECURITY_TOKEN")]
    pub security_token: Option<String>,
}

/// `ecs-emulator env`.
#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// The server to point at (default: http://<--listen>).
    #[arg(long, env = "ECS_EMULATOR_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Print the proxy settings (HTTPS_PROXY, HTTP_PROXY) and the CA variables of every
    /// client family instead: clients keep the real hostnames (README, "Testing code that
    /// hard-codes Alibaba Cloud endpoints").
    #[arg(long)]
    pub proxy: bool,
}

/// The server's settings; every flag has its `ECS_EMULATOR_*` twin.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on (and, for the other subcommands, where the server is).
    #[arg(
        long,
        global = true,
        env = "ECS_EMULATOR_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: String,

    /// A state document to boot from, instead of the built-in default fixture.
    #[arg(long, global = true, env = "ECS_EMULATOR_FIXTURES")]
    pub fixtures: Option<PathBuf>,

    /// How requests are authenticated: `strict` verifies signatures, timestamps (±15 min)
    /// and nonces; `verify` signatures only (to replay recorded requests); `off` nothing.
    #[arg(long, global = true, env = "ECS_EMULATOR_AUTH", value_enum, default_value_t = AuthMode::Strict)]
    pub auth: AuthMode,

    /// Region used by KMS requests that name none.
    #[arg(
        long,
        env = "ECS_EMULATOR_DEFAULT_REGION",
        default_value = "cn-hangzhou"
    )]
    pub default_region: String,

    /// A state file: loaded at start if it exists (a snapshot, PATH, and a change log,
    /// PATH.log), each change appended to the log before it is answered.
    #[arg(long, global = true, env = "ECS_EMULATOR_STATE_FILE")]
    pub state_file: Option<PathBuf>,

    /// Seed for request ids, key ids and generated credentials (deterministic runs).
    #[arg(long, global = true, env = "ECS_EMULATOR_SEED")]
    pub seed: Option<u64>,

    /// Bearer token every admin call but health must carry.
    #[arg(long, global = true, env = "ECS_EMULATOR_ADMIN_TOKEN")]
    pub admin_token: Option<String>,

    /// How many requests the journal (`GET /_emulator/requests`) keeps.
    #[arg(
        long,
        global = true,
        env = "ECS_EMULATOR_JOURNAL_CAPACITY",
        default_value_t = 1000
    )]
    pub journal_capacity: usize,

    /// Open connections served at once; past it, requests on a new connection are answered
    /// `ServiceUnavailable` (503) and the connection closed.
    #[arg(
        long,
        global = true,
        env = "ECS_EMULATOR_MAX_CONNECTIONS",
        default_value_t = 1024
    )]
    pub max_connections: usize,

    /// Seconds a request's head may take to arrive (else the connection is closed), and its
    /// body after it (else `RequestTimeout`, 408).
    #[arg(
        long,
        global = true,
        env = "ECS_EMULATOR_REQUEST_TIMEOUT",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub request_timeout: u64,

    /// Where the emulator's certificate authority is kept (ca.pem, ca-key.pem); created
    /// there when absent. Default: the platform's data folder (~/.local/share/ecs-emulator).
    #[arg(long, global = true, env = "ECS_EMULATOR_CA_DIR")]
    pub ca_dir: Option<PathBuf>,

    /// Also serve HTTPS directly on this address, with a certificate of the emulator's CA for
    /// localhost, 127.0.0.1, ::1, *.aliyuncs.com and *.<region>.aliyuncs.com of each region.
    #[arg(long, global = true, env = "ECS_EMULATOR_TLS_LISTEN")]
    pub tls_listen: Option<String>,

    /// Log output: human-readable lines or one JSON object per line.
    #[arg(long, global = true, env = "ECS_EMULATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

impl Config {
    /// `--ca-dir`, or its default.
    pub fn ca_dir(&self) -> PathBuf {
        self.ca_dir
            .clone()
            .unwrap_or_else(crate::tls::ca::default_dir)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}
