//! The HTTP/1.1 server: accepts connections and serves each with hyper under the emulator's
//! limits (`wire.md` §1), then stops gracefully.
//!
//! - Connections are spread over one lane per CPU: a single-threaded runtime on its own
//!   thread (the first lane is the caller's, which also accepts), each connection served
//!   wholly on the lane it was given, in turn. A request then never changes threads: no work
//!   stealing, no wake-ups across cores, and what a request allocates is freed where it was
//!   allocated (BENCHMARKS.md measures the difference).
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
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, oneshot, watch};

/// The largest request head hyper buffers (request line and headers); past it, hyper's bare
/// 431. (A buffer per connection: this times `--max-connections` bounds their memory.)
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Header fields hyper parses; past it, hyper's bare 431. Between the gateway's own limit (64)
/// and this, the answer is `RequestHeaderFieldsTooLarge` in the envelope.
pub const MAX_HEAD_FIELDS: usize = 1024;

/// Serves `listener` until `stop` turns true, then lets open connections finish their
/// requests (the caller bounds how long that may take). Call it on a single-threaded
/// runtime: that thread is the first lane.
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
    let mut lanes = Lanes::start(lane_count());
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
                let watcher = graceful.watcher();
                let http = http.clone();
                lanes.serve(io.into_inner(), move |io| async move {
                    let _ = watcher.watch(http.serve_connection(io, service)).await;
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

/// One lane per CPU the process may use (`available_parallelism` follows cgroup quotas).
fn lane_count() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The runtimes connections are served on: the caller's, then one thread each for the rest.
/// Dropping it stops the extra lanes (their runtimes drop what still runs on them).
struct Lanes {
    handles: Vec<Handle>,
    next: usize,
    /// Dropped with the lanes: each extra lane runs until its sender is gone.
    _stops: Vec<oneshot::Sender<()>>,
}

impl Lanes {
    /// The current runtime's lane, plus `count - 1` threads with a runtime each (fewer if the
    /// system refuses threads: the lanes that started serve everything).
    fn start(count: usize) -> Self {
        let mut handles = vec![Handle::current()];
        let mut stops = Vec::new();
        for lane in 1..count {
            let (stop, stopped) = oneshot::channel::<()>();
            let (started, handle) = std::sync::mpsc::channel();
            let spawned = std::thread::Builder::new()
                .name(format!("lane-{lane}"))
                .spawn(move || {
                    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    if started.send(runtime.handle().clone()).is_ok() {
                        let _ = runtime.block_on(stopped);
                    }
                });
            match spawned.ok().and_then(|_| handle.recv().ok()) {
                Some(handle) => {
                    handles.push(handle);
                    stops.push(stop);
                }
                None => {
                    tracing::warn!(lane, "cannot start a serving thread; serving on fewer");
                    break;
                }
            }
        }
        Self {
            handles,
            next: 0,
            _stops: stops,
        }
    }

    /// Serves `stream` on the next lane, in turn, with `serve` run on that lane's runtime.
    fn serve<F, Fut>(&mut self, stream: TcpStream, serve: F)
    where
        F: FnOnce(TokioIo<TcpStream>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let lane = self.next;
        self.next = (lane + 1) % self.handles.len();
        if lane == 0 {
            // The accepting lane: the stream is registered with this runtime already.
            tokio::spawn(serve(TokioIo::new(stream)));
            return;
        }
        // Another lane: the stream moves to that runtime's reactor.
        match stream.into_std() {
            Ok(stream) => {
                self.handles[lane].spawn(async move {
                    match TcpStream::from_std(stream) {
                        Ok(stream) => serve(TokioIo::new(stream)).await,
                        Err(cause) => tracing::warn!(%cause, "cannot move a connection"),
                    }
                });
            }
            Err(cause) => tracing::warn!(%cause, "cannot move a connection"),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Connections go to the lanes in turn, each served on its lane's own thread, and a
    /// moved connection still works there.
    #[test]
    fn connections_are_dealt_to_the_lanes_in_turn() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let mut lanes = Lanes::start(3);
            assert_eq!(lanes.handles.len(), 3);
            let (served, mut threads) = tokio::sync::mpsc::unbounded_channel();
            let mut clients = Vec::new();
            for _ in 0..6 {
                clients.push(tokio::net::TcpStream::connect(address).await.unwrap());
                let (stream, _) = listener.accept().await.unwrap();
                let served = served.clone();
                lanes.serve(stream, move |io| async move {
                    use tokio::io::AsyncWriteExt;
                    let mut stream = io.into_inner();
                    stream.write_all(b"served").await.unwrap();
                    let name = std::thread::current().name().map(str::to_owned);
                    served.send(name).unwrap();
                });
            }
            let mut names = Vec::new();
            for _ in 0..6 {
                names.push(threads.recv().await.unwrap().unwrap_or_default());
            }
            for mut client in clients {
                use tokio::io::AsyncReadExt;
                let mut answer = [0u8; 6];
                client.read_exact(&mut answer).await.unwrap();
                assert_eq!(&answer, b"served");
            }
            names.sort();
            let main = std::thread::current().name().unwrap_or_default().to_owned();
            let mut expected = vec![main.clone(), main, "lane-1".into(), "lane-1".into()];
            expected.extend(["lane-2".into(), "lane-2".into()]);
            expected.sort();
            assert_eq!(names, expected);
        });
    }
}
