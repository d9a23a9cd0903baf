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

/// The state to start from: the state file's (its snapshot with its log replayed; a corrupt
/// one stops the start, and is never overwritten) if it has a snapshot, else the fixture,
/// which then becomes its first snapshot. Also answers the document's text, which `reset`
/// parses again (held instead of a second copy of the state: a tenth of its size in memory, and
/// nothing at all for the built-in fixture), and the state file, readied for appending.
pub fn load_state(
    state_file: Option<&std::path::Path>,
    fixtures: Option<&std::path::Path>,
) -> Result<Loaded, String> {
    let Some(path) = state_file else {
        let (document, text) = load_boot(fixtures)?;
        return Ok((document, text, None));
    };
    let (opening, found) = store::Opening::read(path, true)?;
    let (document, text) = match found {
        Some(found) => found,
        None => load_boot(fixtures)?,
    };
    let file = opening.prepare(&document)?;
    Ok((document, text, Some(std::sync::Arc::new(file))))
}

/// What `load_state` answers: the state, its text, and the state file if there is one.
pub type Loaded = (
    store::model::StateDocument,
    store::BootText,
    Option<std::sync::Arc<store::StateFile>>,
);

/// The fixture at `fixtures`, or the built-in one, with its text.
fn load_boot(
    fixtures: Option<&std::path::Path>,
) -> Result<(store::model::StateDocument, store::BootText), String> {
    match fixtures {
        None => Ok((load_fixture(None)?, DEFAULT_FIXTURE.as_bytes().into())),
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let document =
                store::parse_document(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((document, bytes.into()))
        }
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
