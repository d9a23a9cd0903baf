//! Opening the state file: its lock, the snapshot, the log(s) replayed onto it, and the files
//! readied for appending. Nothing is written until everything read was found sound: a corrupt
//! snapshot or log stops the start, naming the file and the byte offset, and is left as it was.

use super::{Paths, frame, write_atomically};
use crate::store::BootText;
use crate::store::change::{Change, Replay};
use crate::store::model::StateDocument;
use crate::store::validate::{parse_document_in_one_pass, validate};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The state file, read at start and not yet readied (`prepare`).
pub struct Opening {
    paths: Paths,
    lock: Option<File>,
    /// The snapshot's size; `None` when there is none yet.
    snapshot_len: Option<u64>,
    /// Where the log's whole records end, when there is a log.
    log_valid: Option<u64>,
    /// A compaction was cut short: the log it rotated out is still there.
    old_log: bool,
}

/// The files the writer appends to (`persist::Log`), locked until the process exits.
pub struct Files {
    pub(super) paths: Paths,
    pub(super) log: File,
    pub(super) log_len: u64,
    pub(super) snapshot_len: u64,
    pub(super) _lock: Option<File>,
}

/// `--state-file`, opened and readied: what `Store` writes to.
pub struct StateFile {
    path: PathBuf,
    files: std::sync::Mutex<Option<Files>>,
}

impl std::fmt::Debug for StateFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateFile({})", self.path.display())
    }
}

impl StateFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The files, for the one store that writes them.
    pub(super) fn take(&self) -> Option<Files> {
        crate::striped::lock(&self.files).take()
    }
}

fn refusal(path: &Path, what: impl std::fmt::Display) -> String {
    format!(
        "state file {}: {what}; refusing to start and leaving the files untouched",
        path.display()
    )
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| refusal(path, e))
}

impl Opening {
    /// Reads the state file at `path`: the state it holds (snapshot, then each record of the
    /// log), or `None` when there is no snapshot yet. With `exclusive`, first takes
    /// `PATH.lock`, so two processes never write one state file.
    pub fn read(
        path: &Path,
        exclusive: bool,
    ) -> Result<(Self, Option<(StateDocument, BootText)>), String> {
        let paths = Paths::of(path);
        let lock = match exclusive {
            true => Some(take_lock(&paths.lock)?),
            false => None,
        };
        let mut opening = Self {
            lock,
            snapshot_len: None,
            log_valid: None,
            old_log: paths.old_log.exists(),
            paths,
        };
        if !opening.paths.snapshot.exists() {
            if opening.old_log || opening.paths.log.exists() {
                return Err(refusal(
                    &opening.paths.log,
                    "a log without its snapshot beside it",
                ));
            }
            return Ok((opening, None));
        }
        let bytes = read(&opening.paths.snapshot)?;
        opening.snapshot_len = Some(bytes.len() as u64);
        let document = parse_document_in_one_pass(&bytes).map_err(|e| {
            refusal(
                &opening.paths.snapshot,
                format!("the snapshot is not a valid state document ({e})"),
            )
        })?;
        let mut replay = Replay::new(document);
        let mut replayed = 0usize;
        if opening.old_log {
            let log = read(&opening.paths.old_log)?;
            replayed += replay_log(&opening.paths.old_log, &log, false, &mut replay)?.0;
        }
        if opening.paths.log.exists() {
            let log = read(&opening.paths.log)?;
            let (count, valid) = replay_log(&opening.paths.log, &log, true, &mut replay)?;
            replayed += count;
            opening.log_valid = Some(valid);
        }
        let document = replay.finish();
        if replayed == 0 {
            return Ok((opening, Some((document, bytes.into()))));
        }
        validate(&document).map_err(|e| {
            refusal(
                &opening.paths.log,
                format!("the log replayed gives an invalid state ({e})"),
            )
        })?;
        let text = serde_json::to_vec(&document).unwrap_or_default();
        Ok((opening, Some((document, text.into()))))
    }

    /// Readies the files for appending, `document` being the state they hold (or, with no
    /// snapshot yet, the boot state, written as the first snapshot): an interrupted compaction
    /// is finished, a torn tail cut off.
    pub fn prepare(self, document: &StateDocument) -> Result<StateFile, String> {
        let paths = self.paths;
        let failed = |e: std::io::Error| format!("state file {}: {e}", paths.snapshot.display());
        for temporary in ["log", "compact", "snapshot"] {
            let _ = std::fs::remove_file(paths.temporary(temporary));
        }
        let mut snapshot_len = self.snapshot_len.unwrap_or(0);
        if self.snapshot_len.is_none() || self.old_log {
            let bytes = serde_json::to_vec_pretty(document).map_err(|e| e.to_string())?;
            write_atomically(&paths.snapshot, &paths.temporary("snapshot"), &bytes)
                .map_err(failed)?;
            snapshot_len = bytes.len() as u64;
            write_atomically(&paths.log, &paths.temporary("log"), b"").map_err(failed)?;
            if self.old_log {
                std::fs::remove_file(&paths.old_log).map_err(failed)?;
            }
        }
        let log = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&paths.log)
            .map_err(failed)?;
        let log_len = log.metadata().map_err(failed)?.len();
        let valid = match self.log_valid {
            Some(valid) if !self.old_log => valid,
            _ => log_len,
        };
        if valid < log_len {
            tracing::warn!(
                log = %paths.log.display(), torn_at = valid, "the log ends in a torn record (a crash mid-write): it is cut there"
            );
            log.set_len(valid).map_err(failed)?;
            log.sync_all().map_err(failed)?;
        }
        super::sync_folder(&paths.folder).map_err(failed)?;
        Ok(StateFile {
            path: paths.snapshot.clone(),
            files: std::sync::Mutex::new(Some(Files {
                paths,
                log,
                log_len: valid,
                snapshot_len,
                _lock: self.lock,
            })),
        })
    }
}

/// Replays the records of `log` (the file at `path`); answers how many, and where the whole
/// ones end. A torn tail is accepted where `last`: the newest log's end.
fn replay_log(
    path: &Path,
    log: &[u8],
    last: bool,
    replay: &mut Replay,
) -> Result<(usize, u64), String> {
    let scanned = frame::scan(log).map_err(|c| {
        refusal(
            path,
            format!("corrupt record at byte offset {}: {}", c.offset, c.why),
        )
    })?;
    if scanned.torn && !last {
        return Err(refusal(
            path,
            format!("torn record at byte offset {}", scanned.valid),
        ));
    }
    for (offset, payload) in &scanned.records {
        let change: Change = serde_json::from_slice(payload).map_err(|e| {
            refusal(
                path,
                format!("unreadable record at byte offset {offset} ({e})"),
            )
        })?;
        replay.apply(change).map_err(|e| {
            refusal(
                path,
                format!("record at byte offset {offset} does not apply ({e})"),
            )
        })?;
    }
    Ok((scanned.records.len(), scanned.valid))
}

fn take_lock(path: &Path) -> Result<File, String> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| format!("state file lock {}: {e}", path.display()))?;
    file.try_lock().map_err(|_| {
        format!(
            "state file lock {}: another ecs-emulator process holds it; refusing to start",
            path.display()
        )
    })?;
    Ok(file)
}

/// `ecs-emulator state compact`: replays the log into a fresh snapshot (atomically) and
/// empties the log. Answers the snapshot's size in bytes.
pub fn compact(path: &Path) -> Result<u64, String> {
    let (opening, found) = Opening::read(path, true)?;
    let Some((document, _)) = found else {
        return Err(format!("state file {}: no snapshot there", path.display()));
    };
    let paths = &opening.paths;
    let failed = |e: std::io::Error| format!("state file {}: {e}", paths.snapshot.display());
    let bytes = serde_json::to_vec_pretty(&document).map_err(|e| e.to_string())?;
    write_atomically(&paths.snapshot, &paths.temporary("snapshot"), &bytes).map_err(failed)?;
    write_atomically(&paths.log, &paths.temporary("log"), b"").map_err(failed)?;
    if opening.old_log {
        std::fs::remove_file(&paths.old_log).map_err(failed)?;
        super::sync_folder(&paths.folder).map_err(failed)?;
    }
    Ok(bytes.len() as u64)
}

/// `ecs-emulator state dump`: the state the file holds (snapshot and log), as a document.
/// Reads only, and takes no lock: it may run beside the server.
pub fn dump(path: &Path) -> Result<StateDocument, String> {
    match Opening::read(path, false)? {
        (_, Some((document, _))) => Ok(document),
        (_, None) => Err(format!("state file {}: no snapshot there", path.display())),
    }
}
