//! The application: shared state, and the router that sends `/_emulator/…` to the control
//! plane and everything else to the RPC pipeline (which answers unknown paths and methods in
//! the API's own envelope).

use crate::auth::{AuthMode, NonceCache};
use crate::ids::Ids;
use crate::store::Store;
use crate::store::model::StateDocument;
use crate::{admin, rpc};
use axum::Router;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Largest RPC request body accepted (`wire.md` §1).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// RPC requests handled at once; past it, `ServiceUnavailable` (`wire.md` §1).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// Runtime settings the pipeline reads.
#[derive(Debug, Clone)]
pub struct Settings {
    pub auth: AuthMode,
    pub default_region: String,
    pub body_limit: usize,
    pub max_in_flight: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            auth: AuthMode::Strict,
            default_region: "cn-hangzhou".to_owned(),
            body_limit: DEFAULT_BODY_LIMIT,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// What every request handler shares.
pub struct App {
    pub store: Store,
    pub ids: Arc<Ids>,
    pub settings: Settings,
    pub in_flight: Arc<Semaphore>,
    /// Nonces seen under `--auth strict`.
    pub nonces: NonceCache,
}

impl App {
    /// An application over `state` (already validated), which is also what reset returns to.
    pub fn new(state: StateDocument, settings: Settings) -> Arc<Self> {
        let ids = Arc::new(Ids);
        Arc::new(Self {
            store: Store::new(state, ids.clone()),
            ids,
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            nonces: NonceCache::default(),
            settings,
        })
    }
}

/// The router used by `main` and by the tests.
pub fn build(app: Arc<App>) -> Router {
    Router::new()
        .nest("/_emulator", admin::router())
        .fallback(rpc::handle)
        .with_state(app)
}
