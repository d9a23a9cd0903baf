//! `--state-file`: the whole state written after every change, before the answer is sent.
//! Each write goes to a temporary file beside the target, is fsynced, then renamed over it
//! (and the folder fsynced), so a `kill -9` at any moment leaves either the previous or the
//! new state, never a torn file, and no acknowledged change is lost.

use super::model::StateDocument;
use crate::error::{ApiError, ErrorCode};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct StateFile {
    path: PathBuf,
    /// One write at a time; each takes its snapshot of the state inside, so the last write
    /// holds every change acknowledged before it.
    serial: tokio::sync::Mutex<()>,
}

impl StateFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            serial: tokio::sync::Mutex::new(()),
        }
    }

    /// Writes the state `dump` gives; a failure is logged and answered as `InternalError`.
    pub async fn write(&self, dump: impl FnOnce() -> StateDocument) -> Result<(), ApiError> {
        let _serial = self.serial.lock().await;
        let bytes =
            serde_json::to_vec_pretty(&dump()).map_err(|cause| internal(&self.path, &cause))?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &bytes))
            .await
            .map_err(|cause| internal(&self.path, &cause))?
            .map_err(|cause| internal(&self.path, &cause))
    }
}

fn internal(path: &Path, cause: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(path = %path.display(), %cause, "writing the state file failed");
    ApiError::new(ErrorCode::InternalError)
}

/// Temp file, fsync, rename, fsync of the folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)?;
    std::fs::File::open(&folder)?.sync_all()
}
