//! Logging: `tracing` to stderr, one line per event, human-readable or JSON; `RUST_LOG`
//! overrides the level (default `info`).
//!
//! Cheap on the request path, because every RPC request logs a line:
//! - lines are formatted by [`Line`], which writes the fields as they come (no `Debug`
//!   quoting, no per-field allocation) after a timestamp whose date and time of day are
//!   formatted once a second per thread;
//! - lines are appended to their thread's buffer (`striped`: no memory the serving threads
//!   share), which a background thread writes to stderr in batches, [`FLUSH_DELAY`] after the
//!   first line of a batch: one `write` per batch instead of one per line, and no thread
//!   wake-up per line. A request never waits on the terminal unless [`MAX_PENDING`] bytes are
//!   already waiting in its thread's buffer, and then it writes them itself (nothing is
//!   dropped). [`Flush`], dropped at the end of `main`, writes what is pending.
//!
//! - the per-request line ([`rpc`]) skips `tracing`'s field machinery when the server's
//!   subscriber is installed: it is formatted straight into the batch, byte for byte what the
//!   subscriber would write (a test holds them equal), after the same level filter. That was a
//!   third of the line's cost (BENCHMARKS.md).
//!
//! Spans are not printed: the emulator logs events only.

use crate::config::LogFormat;
use crate::striped::{Striped, lock};
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// How long the writer thread lets a batch gather after its first line.
pub const FLUSH_DELAY: Duration = Duration::from_millis(10);
/// Past this many pending bytes, the thread logging writes the batch itself.
pub const MAX_PENDING: usize = 1 << 20;

/// Installs the subscriber; keep the guard alive until the process ends.
pub fn init(format: LogFormat) -> Flush {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let batch = Arc::new(Batch::new(Box::new(|bytes| {
        let _ = std::io::stderr().lock().write_all(bytes);
    })));
    let writer = {
        let batch = Arc::clone(&batch);
        std::thread::Builder::new()
            .name("log-writer".to_owned())
            .spawn(move || batch.run())
            .ok()
    };
    // Colours only for a terminal: escape codes are noise in files and CI logs.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let line = Line {
        json: format == LogFormat::Json,
        ansi,
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BatchWriter(Arc::clone(&batch)))
        .event_format(line)
        .try_init()
        .is_ok();
    if installed {
        let _ = DIRECT.set(Direct {
            batch: Arc::clone(&batch),
            line,
        });
    }
    Flush { batch, writer }
}

/// Writes what is pending when dropped, and stops the writer thread.
pub struct Flush {
    batch: Arc<Batch>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Flush {
    fn drop(&mut self) {
        self.batch.closed.store(true, Ordering::Release);
        self.batch.wake();
        match self.writer.take() {
            Some(writer) => {
                let _ = writer.join();
            }
            None => self.batch.write_all(),
        }
    }
}

/// Lines waiting to be written, one buffer per thread (`striped`): appending a line writes
/// no memory another core shares. The writer thread takes every buffer in turn, so within one
/// batch the lines of one thread keep their order, and the lines of different threads (a
/// `FLUSH_DELAY` apart at most) come thread by thread.
struct Batch {
    pending: Striped<Mutex<Vec<u8>>>,
    /// Set when a buffer gets its first line; the writer thread waits for it.
    started: Mutex<bool>,
    ready: Condvar,
    closed: AtomicBool,
    /// Held while a batch is written, taken before the buffers are released: batches reach
    /// the sink in the order they were taken.
    output: Mutex<()>,
    sink: Sink,
}

/// Where batches go: stderr, or a buffer in tests.
type Sink = Box<dyn Fn(&[u8]) + Send + Sync>;

impl Batch {
    fn new(sink: Sink) -> Self {
        Self {
            pending: Striped::new(|| Mutex::new(Vec::new())),
            started: Mutex::new(false),
            ready: Condvar::new(),
            closed: AtomicBool::new(false),
            output: Mutex::default(),
            sink,
        }
    }

    fn append(&self, line: &[u8]) {
        let mut pending = lock(self.pending.local());
        let was_empty = pending.is_empty();
        pending.extend_from_slice(line);
        if pending.len() > MAX_PENDING || self.closed.load(Ordering::Acquire) {
            let bytes = std::mem::take(&mut *pending);
            let output = lock(&self.output);
            drop(pending);
            (self.sink)(&bytes);
            drop(output);
        } else if was_empty {
            drop(pending);
            self.wake();
        }
    }

    fn wake(&self) {
        *lock(&self.started) = true;
        self.ready.notify_one();
    }

    /// Takes every thread's pending lines and writes them as one batch.
    fn write_all(&self) {
        let output = lock(&self.output);
        let mut bytes = Vec::new();
        for pending in self.pending.iter() {
            let mut pending = lock(pending);
            if bytes.is_empty() {
                bytes = std::mem::take(&mut *pending);
            } else {
                bytes.append(&mut pending);
            }
        }
        if !bytes.is_empty() {
            (self.sink)(&bytes);
        }
        drop(output);
    }

    /// The writer thread: waits for a first line, lets the batch gather, writes it.
    fn run(&self) {
        loop {
            let mut started = lock(&self.started);
            while !*started && !self.closed.load(Ordering::Acquire) {
                started = self.ready.wait(started).unwrap_or_else(|p| p.into_inner());
            }
            // Cleared before the buffers are taken: a line appended after is in this batch
            // or wakes the next.
            *started = false;
            drop(started);
            let closed = self.closed.load(Ordering::Acquire);
            if !closed {
                std::thread::sleep(FLUSH_DELAY);
            }
            self.write_all();
            if closed {
                return;
            }
        }
    }
}

/// The subscriber's writer: every formatted line is one `write`, appended to the batch.
struct BatchWriter(Arc<Batch>);

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = &'a Batch;

    fn make_writer(&'a self) -> Self::Writer {
        &self.0
    }
}

impl std::io::Write for &Batch {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.append(line);
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The line format. Pretty: `2026-11-28T07:13:45.123456Z  INFO target: message k=v …`;
/// JSON: one object per line with `timestamp`, `level`, `target`, `message` and the fields.
#[derive(Debug, Clone, Copy)]
struct Line {
    json: bool,
    ansi: bool,
}

impl Line {
    /// Everything before the fields: the timestamp, level and target.
    fn head(self, out: &mut impl fmt::Write, level: &Level, target: &str) -> fmt::Result {
        let name = level_name(level);
        if self.json {
            out.write_str("{\"timestamp\":\"")?;
            write_timestamp(out)?;
            write!(out, "\",\"level\":\"{name}\",\"target\":")?;
            write_json_str(out, target)
        } else {
            write_timestamp(out)?;
            match self.ansi {
                false => write!(out, " {name:>5} ")?,
                true => write!(out, " {}{name:>5}\x1b[0m ", colour(level))?,
            }
            out.write_str(target)?;
            out.write_char(':')
        }
    }

    /// One field: ` message`, ` k=v` (pretty) or `,"k":v` (JSON); `value` writes the value.
    fn field<W: fmt::Write>(
        self,
        out: &mut W,
        name: &str,
        value: impl FnOnce(&mut W, bool) -> fmt::Result,
    ) -> fmt::Result {
        // `write_str` pieces, not `write!`: this runs for every field of every request's line.
        if self.json {
            out.write_str(",\"")?;
            out.write_str(name)?;
            out.write_str("\":")?;
        } else if name == "message" {
            out.write_char(' ')?;
        } else {
            out.write_char(' ')?;
            out.write_str(name)?;
            out.write_char('=')?;
        }
        value(out, self.json)
    }

    fn field_str(self, out: &mut impl fmt::Write, name: &str, value: &str) -> fmt::Result {
        self.field(out, name, |out, json| match json {
            true => write_json_str(out, value),
            false => out.write_str(value),
        })
    }

    fn field_u64(self, out: &mut impl fmt::Write, name: &str, value: u64) -> fmt::Result {
        self.field(out, name, |out, _| write!(out, "{value}"))
    }

    /// The whole per-request line, as the subscriber formats the `tracing` event of [`rpc`].
    fn write_rpc(self, out: &mut impl fmt::Write, f: &RpcLine<'_>) -> fmt::Result {
        self.head(out, &Level::INFO, "ecs_emulator::rpc")?;
        self.field(out, "message", |out, json| match json {
            true => out.write_str("\"rpc\""),
            false => out.write_str("rpc"),
        })?;
        self.field_str(out, "request_id", f.request_id)?;
        self.field_str(out, "action", f.action)?;
        self.field_str(out, "account", f.account)?;
        self.field_str(out, "principal", f.principal)?;
        self.field_u64(out, "status", u64::from(f.status))?;
        self.field_str(out, "code", f.code)?;
        self.field_u64(out, "latency_us", f.latency_us)?;
        self.end(out)
    }

    /// Everything after the fields.
    fn end(self, out: &mut impl fmt::Write) -> fmt::Result {
        if self.json {
            out.write_str("}\n")
        } else {
            out.write_char('\n')
        }
    }
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _context: &FmtContext<'_, S, N>,
        mut out: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        self.head(&mut out, metadata.level(), metadata.target())?;
        let mut fields = Fields {
            out: &mut out,
            line: *self,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        self.end(&mut out)
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

fn colour(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "\x1b[31m",
        Level::WARN => "\x1b[33m",
        Level::INFO => "\x1b[32m",
        Level::DEBUG => "\x1b[34m",
        Level::TRACE => "\x1b[35m",
    }
}

/// Writes each field as it is visited.
struct Fields<'w, 'o> {
    out: &'w mut Writer<'o>,
    line: Line,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// Runs `write` unless an earlier field failed.
    fn write(&mut self, write: impl FnOnce(Line, &mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = write(self.line, &mut *self.out);
        }
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.write(|line, out| line.field_str(out, field.name(), value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.write(|line, out| line.field_u64(out, field.name(), value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.write(|line, out| line.field(out, field.name(), |out, _| write!(out, "{value}")));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.write(|line, out| line.field(out, field.name(), |out, _| write!(out, "{value}")));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(|line, out| {
            line.field(out, field.name(), |out, json| match json {
                true => {
                    out.write_char('"')?;
                    write!(JsonEscaped(&mut *out), "{value:?}")?;
                    out.write_char('"')
                }
                false => write!(out, "{value:?}"),
            })
        });
    }
}

/// The per-request line's fields.
#[derive(Debug)]
pub struct RpcLine<'a> {
    pub request_id: &'a str,
    pub action: &'a str,
    pub account: &'a str,
    pub principal: &'a str,
    pub status: u16,
    pub code: &'a str,
    pub latency_us: u64,
}

/// Where [`rpc`] writes without `tracing`: set by [`init`] with the subscriber it installs.
static DIRECT: std::sync::OnceLock<Direct> = std::sync::OnceLock::new();

struct Direct {
    batch: Arc<Batch>,
    line: Line,
}

thread_local! {
    /// The line being formatted on this thread (its capacity kept between lines).
    static RPC_LINE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Logs the per-request line: INFO, target `ecs_emulator::rpc`, message `rpc`. Under the
/// server's own subscriber it is formatted straight into the batch; otherwise (the library
/// in tests, another subscriber) it is an ordinary `tracing` event, with the same fields.
/// So a layer added to [`init`]'s subscriber would not see these lines: route it here too.
pub fn rpc(fields: &RpcLine<'_>) {
    if !tracing::enabled!(target: "ecs_emulator::rpc", Level::INFO) {
        return;
    }
    match DIRECT.get() {
        Some(direct) => RPC_LINE.with_borrow_mut(|text| {
            text.clear();
            if direct.line.write_rpc(text, fields).is_ok() {
                direct.batch.append(text.as_bytes());
            }
        }),
        None => tracing::info!(
            target: "ecs_emulator::rpc",
            request_id = fields.request_id,
            action = fields.action,
            account = fields.account,
            principal = fields.principal,
            status = fields.status,
            code = fields.code,
            latency_us = fields.latency_us,
            "rpc"
        ),
    }
}

fn write_json_str(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    JsonEscaped(&mut *out).write_str(text)?;
    out.write_char('"')
}

/// A writer that escapes what passes through it as the inside of a JSON string.
struct JsonEscaped<W>(W);

impl<W: fmt::Write> fmt::Write for JsonEscaped<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut plain = 0;
        for (i, c) in text.char_indices() {
            let escape = match c {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                c if (c as u32) < 0x20 => "",
                _ => continue,
            };
            self.0.write_str(&text[plain..i])?;
            match escape {
                "" => write!(self.0, "\\u{:04x}", c as u32)?,
                escape => self.0.write_str(escape)?,
            }
            plain = i + c.len_utf8();
        }
        self.0.write_str(&text[plain..])
    }
}

thread_local! {
    /// The second last formatted on this thread, and its `YYYY-MM-DDTHH:MM:SS`.
    static SECOND: std::cell::RefCell<(u64, String)> = const {
        std::cell::RefCell::new((u64::MAX, String::new()))
    };
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, UTC.
fn write_timestamp(out: &mut impl fmt::Write) -> fmt::Result {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != seconds {
            *cached = seconds;
            text.clear();
            let at = i64::try_from(seconds)
                .ok()
                .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let _ = write!(
                text,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second()
            );
        }
        write!(out, "{text}.{:06}Z", now.subsec_micros())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        write_json_str(&mut out, "a\"b\\c\nd\u{1}é").unwrap();
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let mut out = String::new();
        write_timestamp(&mut out).unwrap();
        assert_eq!(out.len(), "2026-11-28T07:13:45.123456Z".len(), "{out}");
        time::OffsetDateTime::parse(&out, &time::format_description::well_known::Rfc3339).unwrap();
    }

    /// A writer for a test subscriber: everything into one shared buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The direct per-request line is byte for byte the subscriber's line for the `tracing`
    /// event `rpc` sends without it, timestamps aside, in every format.
    #[test]
    fn the_direct_rpc_line_is_the_subscribers_line() {
        let fields = RpcLine {
            request_id: "4D771760-AAED-426A-BD69-2F4C0E7A1418",
            action: "ModifyDiskDefaultKMSKeyId",
            account: "1234567890123456",
            principal: "alice \"q\"",
            status: 403,
            code: "Forbidden.RAM",
            latency_us: 57,
        };
        for (json, ansi) in [(false, false), (false, true), (true, false)] {
            let line = Line { json, ansi };
            let captured = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(captured.clone())
                .event_format(line)
                .finish();
            tracing::subscriber::with_default(subscriber, || rpc(&fields));
            let through_tracing = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
            let mut direct = String::new();
            line.write_rpc(&mut direct, &fields).unwrap();
            let stamp = "2026-11-28T07:13:45.123456Z".len();
            let skip = if json {
                stamp + r#"{"timestamp":""#.len()
            } else {
                stamp
            };
            assert_eq!(
                direct[skip..],
                through_tracing[skip..],
                "json {json}, ansi {ansi}"
            );
            assert!(direct.ends_with('\n'));
            if json {
                let parsed: serde_json::Value = serde_json::from_str(&direct).unwrap();
                assert_eq!(parsed["status"], 403);
                assert_eq!(parsed["principal"], "alice \"q\"");
                assert_eq!(parsed["message"], "rpc");
                assert_eq!(parsed["target"], "ecs_emulator::rpc");
            }
        }
    }

    /// A batch writing into a buffer, its writer thread running, and the guard that stops it.
    fn capturing_batch() -> (Arc<Mutex<Vec<u8>>>, Arc<Batch>, Flush) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&written);
        let batch = Arc::new(Batch::new(Box::new(move |bytes| {
            sink.lock().unwrap().extend_from_slice(bytes)
        })));
        let flush = Flush {
            batch: Arc::clone(&batch),
            writer: Some(std::thread::spawn({
                let batch = Arc::clone(&batch);
                move || batch.run()
            })),
        };
        (written, batch, flush)
    }

    #[test]
    fn batches_reach_the_sink_in_order_and_nothing_is_lost() {
        let (written, batch, flush) = capturing_batch();
        let big = vec![b'x'; MAX_PENDING / 2 + 1];
        batch.append(&big);
        batch.append(&big); // past the bound: the caller writes the batch itself
        assert_eq!(written.lock().unwrap().len(), 2 * big.len());
        for i in 0..1000 {
            batch.append(format!("{i}\n").as_bytes());
        }
        drop(flush);
        let written = written.lock().unwrap();
        let lines: Vec<&[u8]> = written[2 * big.len()..].split(|b| *b == b'\n').collect();
        assert_eq!(lines.len(), 1001);
        for (i, line) in lines[..1000].iter().enumerate() {
            assert_eq!(*line, i.to_string().as_bytes());
        }
    }

    /// Lines from several threads: all written, each thread's in its order.
    #[test]
    fn every_threads_lines_are_written_in_their_order() {
        let (written, batch, flush) = capturing_batch();
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let batch = &batch;
                scope.spawn(move || {
                    for i in 0..2000 {
                        batch.append(format!("{thread} {i}\n").as_bytes());
                        if i % 500 == 0 {
                            std::thread::sleep(FLUSH_DELAY);
                        }
                    }
                });
            }
        });
        drop(flush);
        let written = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        let mut next = [0; 4];
        for line in written.lines() {
            let (thread, i) = line.split_once(' ').unwrap();
            let thread: usize = thread.parse().unwrap();
            assert_eq!(
                i,
                next[thread].to_string(),
                "thread {thread}'s lines in order"
            );
            next[thread] += 1;
        }
        assert_eq!(next, [2000; 4]);
    }
}
