//! Logging: `tracing` to stderr, human-readable or JSON; `RUST_LOG` overrides the level.
//! Lines are written by a background thread (`tracing-appender`), so a request never waits
//! on the terminal; the guard flushes what is queued when `main` ends.

use crate::config::LogFormat;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Installs the subscriber; keep the guard alive until the process ends.
pub fn init(format: LogFormat) -> WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(8192)
        .finish(std::io::stderr());
    // Colours only for a terminal: escape codes are noise in files and CI logs (and cost time).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    guard
}
