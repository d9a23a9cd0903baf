//! The state file's writer thread: group commit, the log's restarts and rotations, and the
//! compaction thread it starts (see the module above for the design).

use super::{
    COMPACT_AT_LEAST, Files, Item, Paths, Shared, Sources, lock, sync_folder, write_atomically,
    write_synced,
};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The writer thread's state.
pub(super) struct Writer {
    pub(super) shared: Arc<Shared>,
    pub(super) files: Files,
    /// Records of an older world than this were wiped by a replace since.
    pub(super) epoch: u64,
    pub(super) compacting: bool,
    pub(super) want_compaction: bool,
    pub(super) failed: bool,
}

impl Writer {
    pub(super) fn run(mut self) {
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
