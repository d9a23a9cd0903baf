//! Logging: `tracing` events to stderr, one line each, in the order they happened.
//!
//! The standard crates do all of it; this module only chooses:
//! - the format: `tracing-subscriber`'s default (`pretty`: `2026-11-28T07:13:45.123456Z  INFO
//!   target: message k=v …`) or its JSON, one object per line with the event's fields at the
//!   top level beside `timestamp`, `level` and `target` (`json`); spans are not printed, the
//!   emulator logs events only; colours only when stderr is a terminal;
//! - the level: `RUST_LOG`, else `info`;
//! - the writer: `tracing-appender`'s non-blocking one. The thread that logs formats its line
//!   and sends it down one channel; a writer thread writes the lines in the order they were
//!   sent, so a line logged after another (the next request's, on any thread) comes after it.
//!   Not lossy: when [`PENDING_LINES`] are waiting, the thread logging waits for room, so no
//!   line is dropped. The writer thread buffers what it takes and writes when the channel is
//!   empty: one `write` per burst of lines, and no line held once the writer has caught up.
//!
//! The per-request line is `rpc::handle`'s `info!` event, target `ecs_emulator::rpc`.

use crate::config::LogFormat;
use std::io::{BufWriter, IsTerminal as _};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Lines that may wait for the writer thread (about 1 MiB of request lines). The channel's
/// slots are allocated and touched up front, so its default of 128,000 would hold ~4 MiB of
/// memory at idle.
pub const PENDING_LINES: usize = 4096;

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
        .finish(BufWriter::new(std::io::stderr()));
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
