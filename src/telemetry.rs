//! Logging: `tracing` events to stderr, one line each, in the order they happened.
//!
//! The standard crates do nearly all of it; this module chooses:
//! - the format: `tracing-subscriber`'s default (`pretty`: `2026-11-28T07:13:45.123456Z  INFO
//!   target: message k=v …`) or its JSON, one object per line with the event's fields at the
//!   top level beside `timestamp`, `level` and `target` (`json`); spans are not printed, the
//!   emulator logs events only; colours only when stderr is a terminal;
//! - the level: `RUST_LOG`, else `info`;
//! - the writer: `tracing-appender`'s non-blocking one. The thread that logs formats its line
//!   and sends it down one channel; a writer thread writes the lines in the order they were
//!   sent, so a line logged after another (the next request's, on any thread) comes after it.
//!   Not lossy: when [`PENDING_LINES`] are waiting, the thread logging waits for room, so no
//!   line is dropped. Dropping [`init`]'s guard writes what is waiting.
//!
//! What it adds is [`Paced`]: the writer thread pauses after each write, so that under load
//! lines gather in the channel instead of waking the writer one or two at a time.
//!
//! The per-request line is `rpc::handle`'s `info!` event, target `ecs_emulator::rpc`.

use crate::config::LogFormat;
use std::io::{BufWriter, IsTerminal as _, Stderr, Write};
use std::time::Duration;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Lines that may wait for the writer thread (about 1 MiB of request lines). The channel's
/// slots are allocated and written up front, 32 bytes each: the default of 128,000 would hold
/// 4 MB from the start.
const PENDING_LINES: usize = 4096;

/// How long the writer thread pauses after writing what it had taken.
pub const WRITE_PAUSE: Duration = Duration::from_millis(10);

/// Installs the subscriber. Keep the guard until the process ends: dropping it writes the
/// lines still waiting.
pub fn init(format: LogFormat) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a terminal: escape codes are noise in files and CI logs.
    let ansi = std::io::stderr().is_terminal();
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(PENDING_LINES)
        .thread_name("log-writer")
        .finish(Paced(BufWriter::with_capacity(1 << 16, std::io::stderr())));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    // Already installed (only ever by a test) is fine: events go to that subscriber.
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    guard
}

/// Buffered stderr whose `flush` then pauses for [`WRITE_PAUSE`]. The writer thread flushes
/// whenever it has emptied the channel, then waits on it, and every line sent to a waiting
/// writer wakes it: under load that was 0.3 `write`s and a wake-up of the writer per request.
/// With the pause, lines sent meanwhile wait without waking anyone and are written together:
/// a line after a quiet spell is still written at once, under load at most a pause late.
/// Measured (`bench/alternate.py` on a busy machine, BENCHMARKS.md): the pause gives 1.05×
/// the throughput without it (median of 52 paired rounds, 95% interval 1.01–1.07) and
/// server CPU per request 19.1 µs instead of 24.8 (the hand-written writer before: 18.2).
struct Paced(BufWriter<Stderr>);

impl Write for Paced {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.0.write(line)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        std::thread::sleep(WRITE_PAUSE);
        Ok(())
    }
}
