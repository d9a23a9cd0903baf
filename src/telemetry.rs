//! Logging: `tracing` to stderr, one line per event, human-readable or JSON; `RUST_LOG`
//! overrides the level (default `info`).
//!
//! Cheap on the request path, because every RPC request logs a line:
//! - lines are formatted by [`Line`], which writes the fields as they come (no `Debug`
//!   quoting, no per-field allocation) after a timestamp whose date and time of day are
//!   formatted once a second per thread;
//! - lines are appended to a shared buffer that a background thread writes to stderr in
//!   batches, [`FLUSH_DELAY`] after the first line of a batch: one `write` per batch instead of
//!   one per line, and no thread wake-up per line. A request never waits on the terminal unless
//!   [`MAX_PENDING`] bytes are already waiting, and then it writes them itself (nothing is
//!   dropped). [`Flush`], dropped at the end of `main`, writes what is pending.
//!
//! Spans are not printed: the emulator logs events only.

use crate::config::LogFormat;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
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
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BatchWriter(Arc::clone(&batch)))
        .event_format(Line {
            json: format == LogFormat::Json,
            ansi,
        })
        .init();
    Flush { batch, writer }
}

/// Writes what is pending when dropped, and stops the writer thread.
pub struct Flush {
    batch: Arc<Batch>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Flush {
    fn drop(&mut self) {
        self.batch.pending().closed = true;
        self.batch.ready.notify_one();
        match self.writer.take() {
            Some(writer) => {
                let _ = writer.join();
            }
            None => self.batch.write_out(self.batch.pending()),
        }
    }
}

struct Batch {
    pending: Mutex<Pending>,
    ready: Condvar,
    /// Held while a batch is written, taken before `pending` is released: batches reach
    /// stderr in the order they were taken.
    output: Mutex<()>,
    sink: Sink,
}

/// Where batches go: stderr, or a buffer in tests.
type Sink = Box<dyn Fn(&[u8]) + Send + Sync>;

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    closed: bool,
}

impl Batch {
    fn new(sink: Sink) -> Self {
        Self {
            pending: Mutex::default(),
            ready: Condvar::new(),
            output: Mutex::default(),
            sink,
        }
    }

    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn append(&self, line: &[u8]) {
        let mut pending = self.pending();
        let was_empty = pending.bytes.is_empty();
        pending.bytes.extend_from_slice(line);
        if pending.bytes.len() > MAX_PENDING || pending.closed {
            self.write_out(pending);
        } else if was_empty {
            drop(pending);
            self.ready.notify_one();
        }
    }

    /// Takes the pending bytes and writes them (releasing `pending` before the write).
    fn write_out(&self, mut pending: MutexGuard<'_, Pending>) {
        let bytes = std::mem::take(&mut pending.bytes);
        let output = self.output.lock().unwrap_or_else(|p| p.into_inner());
        drop(pending);
        if !bytes.is_empty() {
            (self.sink)(&bytes);
        }
        drop(output);
    }

    /// The writer thread: waits for a first line, lets the batch gather, writes it.
    fn run(&self) {
        loop {
            let mut pending = self.pending();
            while pending.bytes.is_empty() && !pending.closed {
                pending = self.ready.wait(pending).unwrap_or_else(|p| p.into_inner());
            }
            if !pending.closed {
                drop(pending);
                std::thread::sleep(FLUSH_DELAY);
                pending = self.pending();
            }
            let closed = pending.closed;
            self.write_out(pending);
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
struct Line {
    json: bool,
    ansi: bool,
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
        let level = level_name(metadata.level());
        let mut fields = Fields {
            out: &mut out,
            json: self.json,
            result: Ok(()),
        };
        if self.json {
            fields.out.write_str("{\"timestamp\":\"")?;
            write_timestamp(fields.out)?;
            write!(fields.out, "\",\"level\":\"{level}\",\"target\":")?;
            write_json_str(fields.out, metadata.target())?;
            event.record(&mut fields);
            fields.result?;
            out.write_str("}\n")
        } else {
            write_timestamp(fields.out)?;
            match (self.ansi, metadata.level()) {
                (false, _) => write!(fields.out, " {level:>5} ")?,
                (true, level) => write!(
                    fields.out,
                    " {}{:>5}\x1b[0m ",
                    colour(level),
                    level_name(level)
                )?,
            }
            fields.out.write_str(metadata.target())?;
            fields.out.write_char(':')?;
            event.record(&mut fields);
            fields.result?;
            out.write_char('\n')
        }
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

/// Writes each field as it is visited: ` message k=v` (pretty) or `,"k":v` (JSON).
struct Fields<'w, 'o> {
    out: &'w mut Writer<'o>,
    json: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>, bool) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let out = &mut *self.out;
        // `write_str` pieces, not `write!`: this runs for every field of every request's line.
        let name = field.name();
        self.result = if self.json {
            out.write_str(",\"")
                .and_then(|()| out.write_str(name))
                .and_then(|()| out.write_str("\":"))
                .and_then(|()| value(out, true))
        } else if name == "message" {
            out.write_char(' ').and_then(|()| value(out, false))
        } else {
            out.write_char(' ')
                .and_then(|()| out.write_str(name))
                .and_then(|()| out.write_char('='))
                .and_then(|()| value(out, false))
        };
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, |out, json| match json {
            true => write_json_str(out, value),
            false => out.write_str(value),
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |out, _| write!(out, "{value}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |out, _| write!(out, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |out, _| write!(out, "{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |out, json| match json {
            true => {
                out.write_char('"')?;
                write!(JsonEscaped(&mut *out), "{value:?}")?;
                out.write_char('"')
            }
            false => write!(out, "{value:?}"),
        });
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

    #[test]
    fn batches_reach_the_sink_in_order_and_nothing_is_lost() {
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
}
