//! ecs-emulator: Alibaba Cloud's ECS RPC API, answered locally and exactly.
//!
//! The request flow, top to bottom:
//! - `app::build` sends `/_emulator/…` to `admin` and everything else to `rpc::handle`;
//! - `rpc` runs the pipeline: method → size/encoding (`protocol::parse`) → route by
//!   (Version, Action) (`actions`) within the product the host names (`hosts`) → authenticate and authorize (`auth`) → faults →
//!   the action's parse and apply (`actions::*`) → encode (`protocol::encode`);
//! - actions read typed input through `protocol::Params` and change state only through
//!   `store`, which owns it (per-account transactions);
//! - every error is built from `error`'s one catalogue.
#![forbid(unsafe_code)]

pub mod actions;
pub mod admin;
pub mod app;
pub mod auth;
pub mod commands;
pub mod config;
pub mod error;
pub mod faults;
pub mod hosts;
pub mod ids;
pub mod journal;
pub mod protocol;
pub mod rpc;
pub mod server;
pub mod store;
pub mod striped;
pub mod telemetry;
pub mod tls;

/// The built-in default fixture (`fixtures/default.json`), compiled in so the binary needs no
/// files beside it.
pub const DEFAULT_FIXTURE: &str = include_str!("../fixtures/default.json");

/// The state to start from: the state file if it exists (a corrupt one stops the start, and is
/// never overwritten), else the fixture. Also answers the document's text, which `reset`
/// parses again (held instead of a second copy of the state: a tenth of its size in memory, and
/// nothing at all for the built-in fixture).
pub fn load_state(
    state_file: Option<&std::path::Path>,
    fixtures: Option<&std::path::Path>,
) -> Result<(store::model::StateDocument, store::BootText), String> {
    match state_file {
        Some(path) if path.exists() => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let document = store::parse_document(&bytes).map_err(|e| {
                format!(
                    "state file {} is not a valid state document ({e}); refusing to start and leaving it untouched",
                    path.display()
                )
            })?;
            Ok((document, bytes.into()))
        }
        _ => match fixtures {
            None => Ok((load_fixture(None)?, DEFAULT_FIXTURE.as_bytes().into())),
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let document = store::parse_document(&bytes)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Ok((document, bytes.into()))
            }
        },
    }
}

/// Loads the boot state: `path` if given, else the built-in fixture; validated, with the JSON
/// path of any error.
pub fn load_fixture(path: Option<&std::path::Path>) -> Result<store::model::StateDocument, String> {
    match path {
        None => store::parse_document(DEFAULT_FIXTURE.as_bytes())
            .map_err(|e| format!("built-in fixture: {e}")),
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            store::parse_document(&bytes).map_err(|e| format!("{}: {e}", path.display()))
        }
    }
}
