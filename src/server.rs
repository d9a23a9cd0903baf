//! The HTTP/1.1 server: accepts connections and serves each with hyper under the emulator's
//! limits (`wire.md` §1), then stops gracefully.
//!
//! - At most `--max-connections` connections are served. Past the bound a new connection is
//!   still accepted, but every request on it is answered `ServiceUnavailable` in the API's
//!   envelope with `connection: close` — a client gets a clear, retryable answer instead of a
//!   connection left waiting in the accept queue.
//! - A request's head must arrive within `--request-timeout`, else hyper closes the connection
//!   (no answer is possible before a request exists); the body has the same time again, else
//!   `RequestTimeout` (`rpc`, `admin`).
//! - A head over [`MAX_HEAD_BYTES`] gets hyper's own bare 431, as does one with more than
//!   [`MAX_HEAD_FIELDS`] header fields; within those, the gateway's tighter limits answer in
//!   the envelope (`protocol::parse::check_headers`).

use crate::actions::Product;
use crate::app::{self, App};
use crate::error::{ApiError, ErrorCode};
use crate::protocol::{Format, Scheme, encode};
use axum::http::{HeaderValue, Request, header};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// The largest request head hyper buffers (request line and headers); past it, hyper's bare
/// 431. (A buffer per connection: this times `--max-connections` bounds their memory.)
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Header fields hyper parses; past it, hyper's bare 431. Between the gateway's own limit (64)
/// and this, the answer is `RequestHeaderFieldsTooLarge` in the envelope.
pub const MAX_HEAD_FIELDS: usize = 1024;

/// Serves `listener` until `stop` turns true, then lets open connections finish their
/// requests (the caller bounds how long that may take).
pub async fn run(listener: TcpListener, app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let router = app::build(app.clone());
    let connections = Arc::new(Semaphore::new(app.settings.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(app.settings.request_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEAD_FIELDS);
    let stopping = async move {
        let _ = stop.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stopping);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(cause) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a moment rather than spin.
                    tracing::warn!(%cause, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut stopping => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
        match connections.clone().try_acquire_owned() {
            Ok(permit) => {
                let service = TowerToHyperService::new(router.clone());
                let connection = graceful.watch(http.serve_connection(io, service));
                tokio::spawn(async move {
                    let _ = connection.await;
                    drop(permit);
                });
            }
            Err(_) => {
                let app = app.clone();
                let busy = hyper::service::service_fn(move |request| {
                    let answer = busy(&app, &request);
                    async move { Ok::<_, Infallible>(answer) }
                });
                let mut once = http.clone();
                once.keep_alive(false);
                let connection = graceful.watch(once.serve_connection(io, busy));
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The answer to a request on a connection past the bound: `ServiceUnavailable`, in the
/// format the request asks for, and the connection closes.
fn busy(app: &App, request: &Request<Incoming>) -> Response {
    let scheme = Scheme::of(request.headers());
    let format = Format::hint(request.uri().query(), scheme);
    let request_id = app.ids.request_id();
    let error = ApiError::new(ErrorCode::ServiceUnavailable);
    let mut response = encode::error(
        format,
        Product::Ecs,
        &app.settings.default_region,
        &request_id,
        &error,
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
