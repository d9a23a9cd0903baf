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
mod writer;

pub use recover::{Opening, StateFile, compact, dump};

use super::change::Change;
use super::{World, lock};
use crate::error::{ApiError, ErrorCode};
use recover::Files;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, RwLock};
use writer::Writer;

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
