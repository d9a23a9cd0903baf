//! `--state-file PATH`: a snapshot and an append-only change log beside it, so that a change
//! costs what it changed, not what the state holds.
//!
//! Files (all in PATH's folder):
//! - `PATH`: the snapshot, the state document exactly as `GET /_emulator/state` gives it
//!   (pretty-printed), readable and editable by a person;
//! - `PATH.log`: one record per change since the snapshot, framed as `frame` says (length,
//!   CRC-32s, JSON payload: a [`Change`], at entity granularity — `change`);
//! - `PATH.log.old`: only while a compaction runs, the log it rotated out;
//! - `PATH.lock`: held locked by the one process that writes the files.
//!
//! Writing: a committed change is serialized by its transaction, under its account's lock,
//! then queued with its sequence number (the store's change count, the journal's `stateSeq`),
//! taken under the queue's lock, so the log holds records in the order of their numbers. One
//! writer thread takes whatever is queued, writes it in one `write`, `fdatasync`s once and then
//! publishes the highest number written (group commit): each answer waits for the number of
//! the change it made or saw (`Log::durable`), so nothing is answered before it is on disk,
//! and concurrent writers share fsyncs. A write that fails stops all writing (fail-stop: an
//! fsync error leaves the file's contents unknown); every answer that waits then fails.
//!
//! Replacing everything (`PUT /_emulator/state`, reset, snapshot restore) queues a `Replace`
//! record holding the whole new document; the writer starts a new log with it (written aside,
//! fsynced, renamed over `PATH.log`), so no record of the old state can follow it, and asks for
//! a compaction, which writes the new snapshot. Records of the world that was replaced, made
//! after it, are dropped (`epoch`): the replace wiped them.
//!
//! Compaction, when the log outgrows the snapshot (and 64 KiB), runs beside the writes: under
//! the admin lock, a `Rotate` is queued (the writer renames `PATH.log` to `PATH.log.old` and
//! starts a new one) and the state is dumped account by account; the dump holds every record
//! before the rotation and maybe some after. It is written to a temporary file and fsynced,
//! then the writer renames it over `PATH` and removes `PATH.log.old`. A crash at any point
//! leaves a snapshot plus the logs still there, and replaying them onto it is right: records
//! set entities rather than adjust them, so the ones the snapshot already holds change nothing
//! (`change`). The cost of a compaction is paid once per snapshot's worth of log.
//!
//! Start-up (`recover`) reads the snapshot, replays `PATH.log.old` if there, then `PATH.log`;
//! a torn last record of `PATH.log` (a crash mid-write) is dropped and cut off; anything else
//! damaged stops the start, naming the file and the offset, and nothing is written.

mod frame;
mod recover;

pub use recover::{Opening, StateFile, compact, dump};

use super::change::Change;
use super::{World, lock};
use crate::error::{ApiError, ErrorCode};
use recover::Files;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, RwLock};

/// A log shorter than this is never compacted: a small state would be rewritten all the time.
const COMPACT_AT_LEAST: u64 = 64 * 1024;

/// The files of a state file at `PATH`.
#[derive(Debug, Clone)]
pub struct Paths {
    pub snapshot: PathBuf,
    pub log: PathBuf,
    pub old_log: PathBuf,
    pub lock: PathBuf,
    folder: PathBuf,
    name: String,
}

impl Paths {
    pub fn of(path: &Path) -> Self {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let beside = |suffix: &str| folder.join(format!("{name}{suffix}"));
        Self {
            snapshot: path.to_path_buf(),
            log: beside(".log"),
            old_log: beside(".log.old"),
            lock: beside(".lock"),
            folder,
            name,
        }
    }

    /// A temporary file beside the others (one writer holds the lock: fixed names suffice).
    fn temporary(&self, what: &str) -> PathBuf {
        self.folder.join(format!(".{}.{what}.tmp", self.name))
    }
}

/// `bytes` as the content of `path`: written to `temporary`, fsynced, renamed over `path`,
/// the folder fsynced. A crash leaves the old content or the new, never a mix.
fn write_atomically(path: &Path, temporary: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_synced(temporary, bytes)?;
    std::fs::rename(temporary, path)?;
    sync_folder(&Paths::of(path).folder)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn sync_folder(folder: &Path) -> std::io::Result<()> {
    File::open(folder)?.sync_all()
}

/// How far the log is on disk: every change numbered up to `seq` is durable.
#[derive(Debug, Clone, Copy, Default)]
struct Durable {
    seq: u64,
    /// A write failed: nothing more is written (see the module's doc).
    failed: bool,
}

enum Item {
    /// A change record (`None`: it could not be encoded, which stops the writes).
    Append {
        seq: u64,
        epoch: u64,
        frame: Option<Vec<u8>>,
    },
    /// Everything replaced: a new log starting with this record.
    Replace {
        seq: u64,
        epoch: u64,
        frame: Option<Vec<u8>>,
    },
    /// Compaction's cut: later records go to a new log.
    Rotate,
    /// Compaction's snapshot, written and fsynced at `temporary`, dumped in `epoch`.
    Install {
        epoch: u64,
        temporary: PathBuf,
        len: u64,
    },
}

/// What compaction dumps: the store's current world, under its admin lock.
#[derive(Clone)]
pub(super) struct Sources {
    pub current: Arc<RwLock<Arc<World>>>,
    pub control: Arc<Mutex<()>>,
}

struct Shared {
    queue: Mutex<Vec<Item>>,
    wake: Condvar,
    durable: tokio::sync::watch::Sender<Durable>,
    sources: OnceLock<Sources>,
}

impl Shared {
    fn push(&self, item: Item) {
        lock(&self.queue).push(item);
        self.wake.notify_one();
    }
}

/// The store's side of the state file: queue changes, wait for them to be durable.
pub(super) struct Log {
    shared: Arc<Shared>,
}

/// The framed record of `payload`; `None` when it cannot be (over 4 GiB).
pub(super) fn encode(payload: &impl serde::Serialize) -> Option<Vec<u8>> {
    let json = serde_json::to_vec(payload).ok()?;
    let mut out = Vec::with_capacity(frame::HEADER + json.len());
    frame::encode(&json, &mut out)?;
    Some(out)
}

impl Log {
    /// Starts the writer thread on `file`'s files; `None` if they were taken already.
    pub fn start(file: &StateFile) -> Option<Self> {
        let files = file.take()?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            durable: tokio::sync::watch::Sender::new(Durable::default()),
            sources: OnceLock::new(),
        });
        let writer = Writer {
            shared: shared.clone(),
            epoch: 0,
            compacting: false,
            want_compaction: false,
            failed: false,
            files,
        };
        let spawned = std::thread::Builder::new()
            .name("state-file".into())
            .spawn(move || writer.run());
        if let Err(cause) = spawned {
            tracing::error!(%cause, "cannot start the state file's writer");
            shared.durable.send_modify(|d| d.failed = true);
        }
        Some(Self { shared })
    }

    /// Lets compaction reach the store's world.
    pub fn attach(&self, sources: Sources) {
        let _ = self.shared.sources.set(sources);
    }

    /// Queues `change`, made in `epoch`; answers its number (taken from `mutations`).
    pub fn append(&self, mutations: &AtomicU64, epoch: u64, change: &Change) -> u64 {
        let frame = encode(change);
        let mut queue = lock(&self.shared.queue);
        let seq = mutations.fetch_add(1, Ordering::AcqRel) + 1;
        queue.push(Item::Append { seq, epoch, frame });
        drop(queue);
        self.shared.wake.notify_one();
        seq
    }

    /// Queues the replacement of everything by `frame` (a `Change::Replace`, `encode`d) as the
    /// world of `epoch`; `swap` puts that world in place, under the queue's lock, so that no
    /// record of the new world can be queued before it.
    pub fn replace(
        &self,
        mutations: &AtomicU64,
        epoch: u64,
        frame: Option<Vec<u8>>,
        swap: impl FnOnce(),
    ) -> u64 {
        let mut queue = lock(&self.shared.queue);
        swap();
        let seq = mutations.fetch_add(1, Ordering::AcqRel) + 1;
        queue.push(Item::Replace { seq, epoch, frame });
        drop(queue);
        self.shared.wake.notify_one();
        seq
    }

    /// Whether the change numbered `seq` is on disk (or never will be: a write failed).
    pub fn is_durable(&self, seq: u64) -> bool {
        let durable = *self.shared.durable.borrow();
        durable.seq >= seq && !durable.failed
    }

    /// Waits until the change numbered `seq` (and every one before it) is on disk.
    pub async fn durable(&self, seq: u64) -> Result<(), ApiError> {
        let done = |d: &Durable| d.failed || d.seq >= seq;
        let now = *self.shared.durable.borrow();
        let reached = if done(&now) {
            now
        } else {
            let mut receiver = self.shared.durable.subscribe();
            match receiver.wait_for(done).await {
                Ok(durable) => *durable,
                Err(_) => Durable {
                    seq: 0,
                    failed: true,
                },
            }
        };
        match reached.failed {
            false => Ok(()),
            true => Err(ApiError::new(ErrorCode::InternalError)),
        }
    }
}

/// The writer thread's state.
struct Writer {
    shared: Arc<Shared>,
    files: Files,
    /// Records of an older world than this were wiped by a replace since.
    epoch: u64,
    compacting: bool,
    want_compaction: bool,
    failed: bool,
}

impl Writer {
    fn run(mut self) {
        loop {
            let items = {
                let mut queue = lock(&self.shared.queue);
                while queue.is_empty() {
                    // The store is gone (a test's, say): nothing can be queued any more.
                    if Arc::strong_count(&self.shared) == 1 {
                        return;
                    }
                    queue = self
                        .shared
                        .wake
                        .wait_timeout(queue, std::time::Duration::from_secs(1))
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .0;
                }
                std::mem::take(&mut *queue)
            };
            let mut buffer = Vec::new();
            let mut last = None;
            for item in items {
                match item {
                    Item::Append { seq, epoch, frame } => {
                        last = Some(seq);
                        match frame {
                            _ if epoch < self.epoch => {}
                            Some(frame) => buffer.extend_from_slice(&frame),
                            None => self.fail("a change record could not be encoded"),
                        }
                    }
                    Item::Replace { seq, epoch, frame } => {
                        last = Some(seq);
                        buffer.clear();
                        self.epoch = epoch;
                        match frame {
                            Some(frame) => self.restart_log(&frame),
                            None => self.fail("the replacing document could not be encoded"),
                        }
                    }
                    Item::Rotate => {
                        self.flush(&mut buffer);
                        self.rotate();
                    }
                    Item::Install {
                        epoch,
                        temporary,
                        len,
                    } => self.install(epoch, &temporary, len),
                }
            }
            self.flush(&mut buffer);
            if let Some(seq) = last {
                let failed = self.failed;
                self.shared.durable.send_modify(|d| {
                    d.seq = seq;
                    d.failed |= failed;
                });
            }
            self.maybe_compact();
        }
    }

    fn fail(&mut self, cause: impl std::fmt::Display) {
        if !self.failed {
            tracing::error!(
                path = %self.files.paths.log.display(), %cause,
                "writing the state file failed: no more changes are written, and each answer that needs one is InternalError"
            );
        }
        self.failed = true;
    }

    fn check(&mut self, result: std::io::Result<()>) {
        if let Err(cause) = result {
            self.fail(cause);
        }
    }

    /// Writes `buffer` to the log and fsyncs it.
    fn flush(&mut self, buffer: &mut Vec<u8>) {
        if buffer.is_empty() || self.failed {
            buffer.clear();
            return;
        }
        let result = self
            .files
            .log
            .write_all(buffer)
            .and_then(|()| self.files.log.sync_data());
        self.files.log_len += buffer.len() as u64;
        buffer.clear();
        self.check(result);
    }

    fn reopen_log(&mut self) -> std::io::Result<()> {
        self.files.log = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.files.paths.log)?;
        Ok(())
    }

    /// A new log holding `frame` only, in place of the current one and of a rotated one.
    fn restart_log(&mut self, frame: &[u8]) {
        if self.failed {
            return;
        }
        let paths = self.files.paths.clone();
        let result = write_atomically(&paths.log, &paths.temporary("log"), frame)
            .and_then(|()| match std::fs::remove_file(&paths.old_log) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => sync_folder(&paths.folder),
            })
            .and_then(|()| self.reopen_log());
        self.files.log_len = frame.len() as u64;
        self.want_compaction = true;
        self.check(result);
    }

    fn rotate(&mut self) {
        if self.failed {
            return;
        }
        let paths = self.files.paths.clone();
        let result = std::fs::rename(&paths.log, &paths.old_log)
            .and_then(|()| File::create(&paths.log).map(drop))
            .and_then(|()| sync_folder(&paths.folder))
            .and_then(|()| self.reopen_log());
        self.files.log_len = 0;
        self.check(result);
    }

    fn install(&mut self, epoch: u64, temporary: &Path, len: u64) {
        self.compacting = false;
        if self.failed || epoch != self.epoch {
            // A replace came after the dump: its own log holds the state.
            let _ = std::fs::remove_file(temporary);
            return;
        }
        let paths = self.files.paths.clone();
        let result = std::fs::rename(temporary, &paths.snapshot)
            .and_then(|()| sync_folder(&paths.folder))
            .and_then(|()| match std::fs::remove_file(&paths.old_log) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => sync_folder(&paths.folder),
            });
        self.files.snapshot_len = len;
        self.check(result);
    }

    fn maybe_compact(&mut self) {
        let outgrown = self.files.log_len > self.files.snapshot_len.max(COMPACT_AT_LEAST);
        if self.compacting || self.failed || !(outgrown || self.want_compaction) {
            return;
        }
        let Some(sources) = self.shared.sources.get().cloned() else {
            return;
        };
        self.compacting = true;
        self.want_compaction = false;
        let (shared, paths) = (self.shared.clone(), self.files.paths.clone());
        let spawned = std::thread::Builder::new()
            .name("state-compaction".into())
            .spawn(move || compact_live(&shared, &sources, &paths));
        if let Err(cause) = spawned {
            // `compacting` stays set: the log only grows, and is still right.
            tracing::error!(%cause, "cannot start a compaction of the state file");
        }
    }
}

/// The compaction thread: the cut, the dump, the snapshot written aside (see the module doc).
fn compact_live(shared: &Shared, sources: &Sources, paths: &Paths) {
    let (epoch, document) = {
        let _control = lock(&sources.control);
        let world = sources
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        shared.push(Item::Rotate);
        (world.epoch, world.dump())
    };
    let temporary = paths.temporary("compact");
    let written = serde_json::to_vec_pretty(&document)
        .map_err(std::io::Error::other)
        .and_then(|bytes| write_synced(&temporary, &bytes).map(|()| bytes.len() as u64));
    drop(document);
    match written {
        Ok(len) => shared.push(Item::Install {
            epoch,
            temporary,
            len,
        }),
        // `compacting` stays set, so the rotated log is never rotated over.
        Err(cause) => tracing::error!(%cause, "compacting the state file failed"),
    }
}
