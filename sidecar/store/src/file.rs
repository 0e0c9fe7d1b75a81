//! Files and directories: an export (or organization file) at a path, or a directory of exports
//! (every `*.json` file in it, one account each, read in name order).
//!
//! Watching is by polling: each poll compares every file's modification time and length with the
//! last poll's, and reads only when they differ (the watcher then compares the content too). Polling
//! sees Kubernetes ConfigMap updates (an atomic swap of a symlinked directory), network file systems
//! and editors that replace files, where inotify-style events are easy to miss, and it needs no extra
//! crate; the cost is up to one poll interval of delay.

use super::LoadError;
use super::{BoxFuture, Documents, Loader};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a poll compares: each file with its modification time and length.
type Fingerprint = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// A file or a directory of files.
#[derive(Debug)]
pub struct FileLoader {
    path: PathBuf,
    last: Option<Fingerprint>,
}

impl FileLoader {
    /// Reads `path`: a file, or a directory of `*.json` files.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileLoader {
            path: path.into(),
            last: None,
        }
    }

    fn read_error(&self, path: &Path, e: &std::io::Error) -> LoadError {
        LoadError::Read {
            source_name: path.display().to_string(),
            message: e.to_string(),
        }
    }

    fn files(&self) -> Result<Vec<PathBuf>, LoadError> {
        let meta = std::fs::metadata(&self.path).map_err(|e| self.read_error(&self.path, &e))?;
        if !meta.is_dir() {
            return Ok(vec![self.path.clone()]);
        }
        let mut files = Vec::new();
        let entries = std::fs::read_dir(&self.path).map_err(|e| self.read_error(&self.path, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| self.read_error(&self.path, &e))?;
            let p = entry.path();
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden && p.extension().is_some_and(|x| x == "json") && p.is_file() {
                files.push(p);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(LoadError::Read {
                source_name: self.path.display().to_string(),
                message: "the directory has no *.json file".into(),
            });
        }
        Ok(files)
    }

    fn fingerprint(&self) -> Result<Fingerprint, LoadError> {
        self.files()?
            .into_iter()
            .map(|p| {
                let m = std::fs::metadata(&p).map_err(|e| self.read_error(&p, &e))?;
                Ok((p, m.modified().ok(), m.len()))
            })
            .collect()
    }

    /// Reads every file now.
    pub fn read_all(&self) -> Result<Documents, LoadError> {
        self.files()?
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).map_err(|e| self.read_error(&p, &e))?;
                Ok((p.display().to_string(), text))
            })
            .collect()
    }

    fn poll_blocking(&mut self) -> Result<Option<Documents>, LoadError> {
        let fp = self.fingerprint()?;
        if self.last.as_ref() == Some(&fp) {
            return Ok(None);
        }
        let docs = self.read_all()?;
        self.last = Some(fp);
        Ok(Some(docs))
    }
}

impl Loader for FileLoader {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Option<Documents>, LoadError>> {
        // Small local reads: done inline rather than on a blocking thread.
        Box::pin(async move { self.poll_blocking() })
    }
}
