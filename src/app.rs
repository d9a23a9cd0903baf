//! The application: shared state, and the router that sends `/_emulator/…` to the control
//! plane and everything else to the RPC pipeline (which answers unknown paths and methods in
//! the API's own envelope).

use crate::auth::{AuthMode, NonceCache};
use crate::faults::Faults;
use crate::ids::Ids;
use crate::journal::Journal;
use crate::store::model::StateDocument;
use crate::store::{BootText, Store};
use crate::striped::Padded;
use crate::tls::Tls;
use crate::{admin, rpc};
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::response::Response;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tower::ServiceExt;

/// Largest RPC request body accepted (`wire.md` §1).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// RPC requests handled at once; past it, `ServiceUnavailable` (`wire.md` §1).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;
/// Open connections served by default; past it, `ServiceUnavailable` (`wire.md` §1).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// How long a request's head, then its body, may take to arrive by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests the journal keeps by default (`control-plane.md` §4).
pub const DEFAULT_JOURNAL_CAPACITY: usize = 1000;

/// Runtime settings the pipeline reads.
#[derive(Debug, Clone)]
pub struct Settings {
    pub auth: AuthMode,
    pub default_region: String,
    pub body_limit: usize,
    pub max_in_flight: usize,
    /// `--max-connections`: open connections served; past it, each request on a new
    /// connection is answered `ServiceUnavailable` and the connection closed.
    pub max_connections: usize,
    /// `--request-timeout`: the head must arrive within it (else the connection is closed),
    /// then the body (else `RequestTimeout`).
    pub request_timeout: Duration,
    /// `--admin-token`: required as `Authorization: Bearer …` on admin calls but health.
    pub admin_token: Option<String>,
    /// `--journal-capacity`: how many requests the journal keeps.
    pub journal_capacity: usize,
    /// `--seed`: generated values come from a generator seeded with it.
    pub seed: Option<u64>,
    /// `--state-file`, opened and readied (`load_state`): where every change is logged.
    pub state_file: Option<Arc<crate::store::StateFile>>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            auth: AuthMode::Strict,
            default_region: "cn-hangzhou".to_owned(),
            body_limit: DEFAULT_BODY_LIMIT,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            admin_token: None,
            journal_capacity: DEFAULT_JOURNAL_CAPACITY,
            seed: None,
            state_file: None,
        }
    }
}

/// What every request handler shares.
pub struct App {
    pub store: Store,
    pub ids: Arc<Ids>,
    pub settings: Settings,
    pub in_flight: InFlight,
    /// Nonces seen under `--auth strict`.
    pub nonces: NonceCache,
    pub journal: Journal,
    pub faults: Faults,
    /// The CA and TLS configurations (`tls`), installed once by `main` before serving; an
    /// in-process app has none (then `CONNECT` is refused and `/_emulator/ca.pem` is a 404).
    tls: OnceLock<Tls>,
}

impl App {
    /// An application over `state` (already validated), which is also what reset returns to.
    pub fn new(state: StateDocument, settings: Settings) -> Arc<Self> {
        let text = serde_json::to_vec(&state).unwrap_or_default().into();
        Self::with_text(state, text, settings)
    }

    /// As `new`, given the JSON text `state` was parsed from (see `load_state`).
    pub fn with_text(state: StateDocument, text: BootText, settings: Settings) -> Arc<Self> {
        let ids = Arc::new(settings.seed.map_or_else(Ids::default, Ids::seeded));
        Arc::new(Self {
            store: Store::with_text(state, text, ids.clone(), settings.state_file.as_deref()),
            ids,
            in_flight: InFlight::new(settings.max_in_flight),
            nonces: NonceCache::default(),
            journal: Journal::new(settings.journal_capacity),
            faults: Faults::new(settings.seed),
            settings,
            tls: OnceLock::new(),
        })
    }

    /// Installs the CA; only the first call counts.
    pub fn install_tls(&self, tls: Tls) {
        let _ = self.tls.set(tls);
    }

    /// The CA and TLS configurations, once installed.
    pub fn tls(&self) -> Option<&Tls> {
        self.tls.get()
    }
}

/// RPC requests being answered, bounded by [`Settings::max_in_flight`]: past the bound a
/// request is refused at once, never queued. A counter rather than a semaphore: nothing ever
/// waits for a place, and a semaphore's release also takes its waiters' lock, which every
/// serving thread shares.
pub struct InFlight {
    limit: usize,
    count: Padded<AtomicUsize>,
}

/// A place among the requests in flight, given back when dropped.
pub struct Place<'a>(&'a AtomicUsize);

impl InFlight {
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            count: Padded(AtomicUsize::new(0)),
        }
    }

    /// A place, if fewer than the limit are in flight.
    pub fn enter(&self) -> Option<Place<'_>> {
        self.count
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |count| {
                (count < self.limit).then_some(count + 1)
            })
            .ok()
            .map(|_| Place(&self.count))
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

/// The whole HTTP surface, used by the server and by the tests: `/_emulator` and below go to
/// the control plane's router, everything else straight to the RPC pipeline — no route
/// matching, boxed handler or request extensions on the hot path.
///
/// Clones share one handle; [`Http::for_connection`] makes a handle of its own. Every answer
/// holds the handle it came from, and taking it is an atomic increment of the handle's count:
/// a handle per connection keeps that count on the connection's own thread, where one shared
/// by all would move its cache line between cores on every request (BENCHMARKS.md).
#[derive(Clone)]
pub struct Http {
    shared: Arc<Surface>,
}

struct Surface {
    app: Arc<App>,
    admin: Router,
}

/// The service `main` serves and the tests drive, over `app`.
pub fn build(app: Arc<App>) -> Http {
    let admin = Router::new()
        .nest("/_emulator", admin::router(app.clone()))
        .fallback(admin::unknown)
        .with_state(app.clone());
    Http {
        shared: Arc::new(Surface { app, admin }),
    }
}

/// `/_emulator` and what is below it: the control plane's (what its router does not know,
/// `/_emulator/` itself included, is its 404).
pub(crate) fn is_admin(path: &str) -> bool {
    path.strip_prefix("/_emulator")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// An answer being made.
pub type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl Http {
    /// The same service, as a handle of its own (for one connection).
    pub fn for_connection(&self) -> Self {
        Self {
            shared: Arc::new(Surface {
                app: Arc::clone(&self.shared.app),
                admin: self.shared.admin.clone(),
            }),
        }
    }

    /// Answers `request` (the service's `call`, which needs no exclusive access).
    pub fn answer<B>(&self, request: Request<B>) -> Answer
    where
        B: HttpBody<Data = Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let request = request.map(Body::new);
        if is_admin(request.uri().path()) {
            Box::pin(self.shared.admin.clone().oneshot(request))
        } else {
            let shared = Arc::clone(&self.shared);
            Box::pin(async move { Ok(rpc::handle(&shared.app, request).await) })
        }
    }
}

impl<B> tower::Service<Request<B>> for Http
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Answer {
        self.answer(request)
    }
}

#[cfg(test)]
mod tests {
    use super::{InFlight, is_admin};

    #[test]
    fn places_in_flight_are_bounded_and_given_back() {
        let in_flight = InFlight::new(2);
        let first = in_flight.enter().expect("a first place");
        let second = in_flight.enter().expect("a second place");
        assert!(in_flight.enter().is_none(), "past the limit");
        drop(first);
        let third = in_flight
            .enter()
            .expect("a place given back is taken again");
        assert!(in_flight.enter().is_none());
        drop((second, third));
        assert!(in_flight.enter().is_some());
        assert!(InFlight::new(0).enter().is_none());
    }

    #[test]
    fn only_the_control_plane_prefix_goes_to_the_router() {
        for path in [
            "/_emulator",
            "/_emulator/",
            "/_emulator/state",
            "/_emulator//x",
        ] {
            assert!(is_admin(path), "{path}");
        }
        for path in ["/", "/_emulatorx", "/_emulator%2F", "/x/_emulator", ""] {
            assert!(!is_admin(path), "{path}");
        }
    }
}
