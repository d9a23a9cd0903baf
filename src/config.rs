//! Command-line flags, each with its `ECS_EMULATOR_*` environment twin (`spec/README.md`).

use crate::auth::AuthMode;
use clap::{Parser, ValueEnum};
use std::path::PathBuf;

/// A local emulator of Alibaba Cloud's ECS API (disk default encryption, DescribeRegions).
#[derive(Debug, Clone, Parser)]
#[command(name = "ecs-emulator", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "ECS_EMULATOR_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// A state document to boot from, instead of the built-in default fixture.
    #[arg(long, env = "ECS_EMULATOR_FIXTURES")]
    pub fixtures: Option<PathBuf>,

    /// How requests are authenticated: `strict` verifies signatures, timestamps (±15 min)
    /// and nonces; `verify` signatures only (to replay recorded requests); `off` nothing.
    #[arg(long, env = "ECS_EMULATOR_AUTH", value_enum, default_value_t = AuthMode::Strict)]
    pub auth: AuthMode,

    /// Region used by KMS requests that name none.
    #[arg(
        long,
        env = "ECS_EMULATOR_DEFAULT_REGION",
        default_value = "cn-hangzhou"
    )]
    pub default_region: String,

    /// A state file: loaded at start if it exists, rewritten (atomically) after every change.
    #[arg(long, env = "ECS_EMULATOR_STATE_FILE")]
    pub state_file: Option<PathBuf>,

    /// Seed for request ids, key ids and generated credentials (deterministic runs).
    #[arg(long, env = "ECS_EMULATOR_SEED")]
    pub seed: Option<u64>,

    /// Bearer token every admin call but health must carry.
    #[arg(long, env = "ECS_EMULATOR_ADMIN_TOKEN")]
    pub admin_token: Option<String>,

    /// How many requests the journal (`GET /_emulator/requests`) keeps.
    #[arg(long, env = "ECS_EMULATOR_JOURNAL_CAPACITY", default_value_t = 1000)]
    pub journal_capacity: usize,

    /// Log output: human-readable lines or one JSON object per line.
    #[arg(long, env = "ECS_EMULATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}
