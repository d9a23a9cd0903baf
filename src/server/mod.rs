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
//! - A request's head must arrive within `--request-timeout` of the connection opening or its
//!   previous answer, else the connection is closed (no answer is possible before a request
//!   exists); the body has the same time again, else `RequestTimeout` (`rpc`, `admin`). Heads
//!   are timed by a [`Watchdog`] thread that looks at every connection a few times per
//!   timeout, not by a timer per request: a pending timer makes every idle wait of a serving
//!   thread arm a kernel timer, which on this virtual machine cost about as much as the rest
//!   of the kernel's work for a request (BENCHMARKS.md).
//! - The listener is also a proxy for the Alibaba Cloud API hosts (`proxy`,
//!   `endpoints.md` §2): a `CONNECT` it accepts becomes, once its `200` is written, a tunnel
//!   in which the emulator terminates TLS itself (`tls`) and serves HTTP/1.1 with the same
//!   service, on the same task, holding the connection's place and timed by its [`Head`] —
//!   the handshake too. `--tls-listen` connections begin with the same handshake. Graceful
//!   stop is this module's own (hyper-util's cannot watch a connection that upgrades): each
//!   connection asks hyper to finish when `stop` turns true, and the server waits until every
//!   place is given back.
//! - A head over [`MAX_HEAD_BYTES`] gets hyper's own bare 431, as does one with more than
//!   [`MAX_HEAD_FIELDS`] header fields; within those, the gateway's tighter limits answer in
//!   the envelope (`protocol::parse::check_headers`).

mod bare;
mod proxy;

use crate::app::{self, App};
use crate::error::{ApiError, ErrorCode};
use crate::hosts::TunnelHost;
use crate::rpc;
use axum::http::{HeaderValue, Request, header};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use proxy::Admission;
use rustls::ServerConfig;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{Notify, Semaphore, oneshot, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The largest request head hyper buffers (request line and headers); past it, hyper's bare
/// 431. (A buffer per connection: this times `--max-connections` bounds their memory.)
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Header fields hyper parses; past it, hyper's bare 431. Between the gateway's own limit (64)
/// and this, the answer is `RequestHeaderFieldsTooLarge` in the envelope.
pub const MAX_HEAD_FIELDS: usize = 1024;

/// Serves `listener` (and `tls`, `--tls-listen`: a listener whose connections begin with a
/// TLS handshake, and its configuration) until `stop` turns true, then lets open connections
/// finish their requests (the caller bounds how long that may take). Call it on a
/// single-threaded runtime: that thread is the first lane.
pub async fn run(
    listener: TcpListener,
    tls: Option<(TcpListener, Arc<ServerConfig>)>,
    app: Arc<App>,
    stop: watch::Receiver<bool>,
) {
    let router = app::build(app.clone());
    let max_connections = app.settings.max_connections;
    let connections = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEAD_FIELDS);
    let watchdog = Watchdog::start(app.settings.request_timeout);
    let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
    let own = listener.local_addr().unwrap_or(unspecified);
    let tls_own = tls
        .as_ref()
        .and_then(|(listener, _)| listener.local_addr().ok())
        .unwrap_or(unspecified);
    let mut stopping = stop.clone();
    let stopping = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stopping);
    let mut lanes = Lanes::start(lane_count());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted.map(|(stream, _)| (stream, own, None)),
            accepted = accept(tls.as_ref().map(|(listener, _)| listener)) => accepted
                .map(|stream| (stream, tls_own, tls.as_ref().map(|(_, config)| config.clone()))),
            () = &mut stopping => break,
        };
        let (stream, own, tls) = match accepted {
            Ok(accepted) => accepted,
            Err(cause) => {
                // Out of file descriptors, or a connection reset before it was accepted:
                // wait a moment rather than spin.
                tracing::warn!(%cause, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match connections.clone().try_acquire_owned() {
            Ok(permit) => {
                let connection = Connection {
                    app: app.clone(),
                    router: router.for_connection(),
                    http: http.clone(),
                    head: watchdog.watch(),
                    own,
                    stop: stop.clone(),
                };
                lanes.serve(stream, move |io| async move {
                    connection.serve(io.into_inner(), tls).await;
                    // A tunnel holds its connection's place until it closes.
                    drop(permit);
                });
            }
            Err(_) => {
                // Rare, and served at once: hyper's own head timer is enough here (and a
                // timer bounds the TLS handshake first, for `--tls-listen`).
                let mut once = http.clone();
                once.keep_alive(false)
                    .timer(TokioTimer::new())
                    .header_read_timeout(app.settings.request_timeout);
                let watcher = graceful.watcher();
                let app = app.clone();
                tokio::spawn(async move {
                    match tls {
                        None => serve_busy(stream, &once, watcher, app).await,
                        Some(config) => {
                            let handshake = TlsAcceptor::from(config).accept(stream);
                            let timeout = app.settings.request_timeout;
                            if let Ok(Ok(stream)) = tokio::time::timeout(timeout, handshake).await {
                                serve_busy(stream, &once, watcher, app).await;
                            }
                        }
                    }
                });
            }
        }
    }
    drop(listener);
    drop(tls);
    // Every served connection holds a place until it ends: all places back, all ended.
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    tokio::join!(graceful.shutdown(), async {
        let _ = connections.acquire_many(all).await;
    });
}

/// Answers every request on `io` with [`busy`].
async fn serve_busy<I>(io: I, http: &http1::Builder, watcher: Watcher, app: Arc<App>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(bare::Enveloping::new(io, app.clone()));
    let busy = hyper::service::service_fn(move |request| {
        let answer = busy(&app, request);
        async move { Ok::<_, Infallible>(answer) }
    });
    let _ = watcher.watch(http.serve_connection(io, busy)).await;
}

/// The next connection on `listener`; never, without one.
async fn accept(listener: Option<&TcpListener>) -> std::io::Result<TcpStream> {
    match listener {
        Some(listener) => listener.accept().await.map(|(stream, _)| stream),
        None => std::future::pending().await,
    }
}

/// A connection with a place, and what serving it takes.
struct Connection {
    app: Arc<App>,
    router: app::Http,
    http: http1::Builder,
    head: Arc<Head>,
    /// The address of the listener it came to (requests naming it are the emulator's own).
    own: SocketAddr,
    stop: watch::Receiver<bool>,
}

/// A `CONNECT` answered `200`: the connection, once hyper hands it over, and the host.
type Upgrade = (hyper::upgrade::OnUpgrade, String);

impl Connection {
    /// Serves the connection (after its TLS handshake, for `--tls-listen`), then the tunnel
    /// it became, if a `CONNECT` made one.
    async fn serve(self, stream: TcpStream, tls: Option<Arc<ServerConfig>>) {
        let upgrade = match tls {
            None => self.http(stream, None).await,
            Some(config) => match self.handshake(config, stream).await {
                Some(stream) => self.http(stream, None).await,
                None => return,
            },
        };
        if let Some((upgrade, host)) = upgrade {
            self.tunnel(upgrade, host).await;
        }
    }

    /// A TLS handshake, within the head's time (a client that stops in the middle of one is
    /// cut like a slow head), and not past the server's stop.
    async fn handshake<I>(&self, config: Arc<ServerConfig>, io: I) -> Option<TlsStream<I>>
    where
        I: AsyncRead + AsyncWrite + Unpin,
    {
        let mut stop = self.stop.clone();
        tokio::select! {
            accepted = TlsAcceptor::from(config).accept(io) => accepted
                .inspect_err(|cause| tracing::debug!(%cause, "TLS handshake failed"))
                .ok(),
            () = self.head.expired.notified() => None,
            _ = stop.wait_for(|stop| *stop) => None,
        }
    }

    /// The tunnel to `host`: TLS with the CA's certificate for `host`, then HTTP/1.1 through
    /// the same pipeline, requests taking `host` as theirs when they name none.
    async fn tunnel(&self, upgrade: hyper::upgrade::OnUpgrade, host: String) {
        let Some(tls) = self.app.tls() else { return };
        let config = match tls.for_tunnel(&host) {
            Ok(config) => config,
            Err(cause) => {
                tracing::warn!(%cause, %host, "cannot make the tunnel's certificate");
                return;
            }
        };
        let upgraded = tokio::select! {
            upgraded = upgrade => match upgraded {
                Ok(upgraded) => upgraded,
                Err(_) => return,
            },
            () = self.head.expired.notified() => return,
        };
        if let Some(stream) = self.handshake(config, TokioIo::new(upgraded)).await {
            self.http(stream, Some(host.into())).await;
        }
    }

    /// HTTP/1.1 on `io` until it closes, its head is late or the server stops (then the
    /// request being served is finished first); `tunnel`: the host of the tunnel it is in.
    /// Answers the tunnel a `CONNECT` asked for, once its `200` is written.
    async fn http<I>(&self, io: I, tunnel: Option<Arc<str>>) -> Option<Upgrade>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let upgrade = Arc::new(Mutex::new(None));
        let service = Timed {
            inner: self.router.clone(),
            head: Arc::clone(&self.head),
            app: Arc::clone(&self.app),
            own: self.own,
            tunnel,
            upgrade: Arc::clone(&upgrade),
        };
        let io = TokioIo::new(bare::Enveloping::new(io, self.app.clone()));
        let connection = self.http.serve_connection(io, service).with_upgrades();
        tokio::pin!(connection);
        let mut stop = self.stop.clone();
        let mut stopping = false;
        loop {
            tokio::select! {
                _ = connection.as_mut() => break,
                // Dropping the connection closes it.
                () = self.head.expired.notified() => return None,
                _ = stop.wait_for(|stop| *stop), if !stopping => {
                    connection.as_mut().graceful_shutdown();
                    stopping = true;
                }
            }
        }
        let upgrade = upgrade.lock().unwrap_or_else(|p| p.into_inner()).take();
        upgrade.filter(|_| !stopping)
    }
}

/// Times the heads of all connections from one thread of its own (see the module's notes).
struct Watchdog {
    epoch: Instant,
    timeout_ms: u64,
    heads: Mutex<Vec<Weak<Head>>>,
}

/// A connection as the watchdog sees it.
struct Head {
    epoch: Instant,
    /// When the connection began waiting for a request head (when it opened, or when its last
    /// answer was ready), in [`millis`] since the watchdog's epoch; 0 while a request is served.
    waiting_since: AtomicU64,
    /// Notified when the head did not arrive in time.
    expired: Notify,
}

/// Milliseconds since `epoch`, plus one (0 means "not waiting").
fn millis(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis())
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

impl Watchdog {
    /// Starts the thread, which ends when the watchdog is dropped.
    fn start(timeout: Duration) -> Arc<Self> {
        let watchdog = Arc::new(Self {
            epoch: Instant::now(),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            heads: Mutex::default(),
        });
        // A few looks per timeout: a head is cut at most an eighth of it (≤ 250 ms) late.
        let period = (timeout / 8).clamp(Duration::from_millis(10), Duration::from_millis(250));
        let weak = Arc::downgrade(&watchdog);
        let spawned = std::thread::Builder::new()
            .name("head-watchdog".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(period);
                    match weak.upgrade() {
                        Some(watchdog) => watchdog.sweep(),
                        None => return,
                    }
                }
            });
        if let Err(cause) = spawned {
            tracing::warn!(%cause, "cannot start the head watchdog: slow heads are not cut");
        }
        watchdog
    }

    fn heads(&self) -> std::sync::MutexGuard<'_, Vec<Weak<Head>>> {
        self.heads.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection, waiting for its first head from now.
    fn watch(&self) -> Arc<Head> {
        let head = Arc::new(Head {
            epoch: self.epoch,
            waiting_since: AtomicU64::new(millis(self.epoch)),
            expired: Notify::new(),
        });
        self.heads().push(Arc::downgrade(&head));
        head
    }

    /// Forgets closed connections; tells those waiting too long for a head.
    fn sweep(&self) {
        let now = millis(self.epoch);
        self.heads().retain(|head| {
            let Some(head) = head.upgrade() else {
                return false;
            };
            let since = head.waiting_since.load(Ordering::Relaxed);
            if since != 0 && now.saturating_sub(since) >= self.timeout_ms {
                head.expired.notify_one();
            }
            true
        });
    }
}

/// The connection's service: its [`Head`] is not waiting while a request is served, and waits
/// again from the moment the answer is ready. Proxy requests are told apart first (`proxy`).
struct Timed {
    inner: app::Http,
    head: Arc<Head>,
    app: Arc<App>,
    own: SocketAddr,
    /// The host of the tunnel this connection is in.
    tunnel: Option<Arc<str>>,
    /// Where a `CONNECT` answered `200` leaves its tunnel for [`Connection::http`].
    upgrade: Arc<Mutex<Option<Upgrade>>>,
}

impl hyper::service::Service<Request<Incoming>> for Timed {
    type Response = Response;
    type Error = Infallible;
    type Future = Served;

    fn call(&self, mut request: Request<Incoming>) -> Served {
        self.head.waiting_since.store(0, Ordering::Relaxed);
        let tunnelled = self.tunnel.is_some();
        let answer = match proxy::admit(request.method(), request.uri(), self.own, tunnelled) {
            Admission::Serve => {
                if let Some(host) = &self.tunnel {
                    request
                        .extensions_mut()
                        .insert(TunnelHost(Arc::clone(host)));
                }
                self.inner.answer(request)
            }
            Admission::Tunnel(host) if self.app.tls().is_some() => {
                let upgrade = hyper::upgrade::on(&mut request);
                *self.upgrade.lock().unwrap_or_else(|p| p.into_inner()) = Some((upgrade, host));
                answered(proxy::tunnel_opened())
            }
            Admission::Tunnel(asked) | Admission::Refuse(asked) => answered(proxy::refusal(&asked)),
        };
        Served {
            answer,
            head: Arc::clone(&self.head),
        }
    }
}

/// An answer already made.
fn answered(response: Response) -> app::Answer {
    Box::pin(std::future::ready(Ok(response)))
}

/// A request being served.
struct Served {
    answer: app::Answer,
    head: Arc<Head>,
}

impl Future for Served {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let answer = self.answer.as_mut().poll(cx);
        if answer.is_ready() {
            let head = &self.head;
            head.waiting_since
                .store(millis(head.epoch), Ordering::Relaxed);
        }
        answer
    }
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
/// format the request asks for, journaled and logged like every RPC request (an admin path's
/// is answered the same, and not journaled: the journal holds RPC requests); the connection
/// closes.
fn busy(app: &App, request: Request<Incoming>) -> Response {
    let (head, _) = request.into_parts();
    let error = ApiError::new(ErrorCode::ServiceUnavailable);
    let mut response = match app::is_admin(head.uri.path()) {
        false => rpc::refuse(app, &head, error),
        true => rpc::refusal(app, &head, &error),
    };
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
